import {
  executeSync,
  getDirectiveValues,
  getNamedType,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isAbstractType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  OperationTypeNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLFormattedError,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/*
 * The response, shaped by the client's selection and serialised in one pass. For each operation (and each set of
 * @skip/@include values it is run with) a serializer is generated as JavaScript source, one function per
 * (object type, merged selection), so that the per-request work is property reads and string concatenation: no
 * graphql-js execution, no intermediate response object, no JSON.stringify of the whole.
 *
 * It does what Apollo's `computeResponse` does, with the same results: fields in the client's order under their
 * response names, only what was asked (keys, requires and __typename fetched for planning are dropped), __typename
 * from the data (or the static type), leaf values checked against their type, and nulls in non-null positions
 * propagated to the nearest nullable parent. Those completion errors are reported the way Apollo reports them (its
 * `INVALID_GRAPHQL` code; the executor puts them in `extensions.valueCompletion` unless fetches already failed).
 * A leaf value the API schema cannot represent is nulled with an error in `errors`, as the federation audit
 * expects (Apollo hides it in `valueCompletion` too).
 */

/** What a serializer needs at run time. */
export interface ShapeContext {
  /** Completion errors (nulls in non-null positions, unknown __typename). */
  errors: GraphQLFormattedError[];
  /**
   * Leaf values the API schema cannot represent (an enum value it hides, a string where an Int belongs). Unlike a
   * null, which may be how a subgraph keeps an entity from a caller, such a value is a fault the client is told of.
   */
  invalid: GraphQLFormattedError[];
  /** The current response path, kept only for the errors. */
  p: (string | number)[];
  variables: Record<string, unknown>;
}

/** The data's JSON text, or undefined when a null propagated to the root (the response's `data` is then null). */
export type Serializer = (data: Record<string, unknown>, context: ShapeContext) => string | undefined;

const PROTO_KEYS = new Set(Object.getOwnPropertyNames(Object.prototype));

/** The variables an operation's @skip/@include read: their values select one of its serializers. */
export function conditionVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    const n = node as { kind?: string; name?: { value: string }; arguments?: { value: { kind: string; name?: { value: string } } }[] };
    if (n.kind === Kind.DIRECTIVE && (n.name?.value === 'skip' || n.name?.value === 'include')) {
      for (const argument of n.arguments ?? []) if (argument.value.kind === Kind.VARIABLE && argument.value.name) names.add(argument.value.name.value);
      return;
    }
    for (const [key, value] of Object.entries(n)) if (key !== 'loc' && value && typeof value === 'object') visit(value);
  };
  visit(document.definitions);
  return [...names].sort();
}

/** Compile the serializer of `operation` for these variable values (only its @skip/@include variables matter). */
export function compileSerializer(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): Serializer {
  return new SerializerCompiler(schema, document, variables).compile(operation);
}

class SerializerCompiler {
  private readonly functions: string[] = [];
  private readonly constants: unknown[] = [];
  private readonly memo = new Map<string, string>();
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  private readonly selectionIds = new WeakMap<SelectionSetNode, number>();
  private counter = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly document: DocumentNode,
    private readonly variables: Record<string, unknown>,
  ) {
    for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(definition.name.value, definition);
  }

  compile(operation: OperationDefinitionNode): Serializer {
    const rootType = this.schema.getRootType(operation.operation);
    if (!rootType) throw new Error(`the schema has no ${operation.operation} type`);
    const root = this.objectFunction(rootType, [operation.selectionSet], true, operation);
    const source = `${this.functions.join('\n')}\nreturn ${root};`;
    const helpers = { nn, invalid, badType, introspect: this.introspector(), hasOwn: Object.prototype.hasOwnProperty };
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from the schema and the validated operation: the point of the compiler
    const factory = new Function('K', 'H', `'use strict';\nconst { nn, invalid, badType, introspect, hasOwn } = H;\n${source}`) as (constants: unknown[], helpers: unknown) => Serializer;
    return factory(this.constants, helpers);
  }

  private introspector() {
    const schema = this.schema;
    return (entry: { document: DocumentNode; key: string }, context: ShapeContext): string => {
      const { data } = executeSync({ schema, document: entry.document, variableValues: context.variables });
      return JSON.stringify((data as Record<string, unknown> | null | undefined)?.[entry.key] ?? null);
    };
  }

  private constant(value: unknown): string {
    this.constants.push(value);
    return `K[${this.constants.length - 1}]`;
  }

  private name(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }

  private selectionId(selectionSet: SelectionSetNode): number {
    let id = this.selectionIds.get(selectionSet);
    if (id === undefined) {
      id = this.counter++;
      this.selectionIds.set(selectionSet, id);
    }
    return id;
  }

  private skipped(node: { directives?: readonly unknown[] | undefined }): boolean {
    if (!node.directives?.length) return false;
    const skip = getDirectiveValues(GraphQLSkipDirective, node as never, this.variables);
    if (skip?.if === true) return true;
    const include = getDirectiveValues(GraphQLIncludeDirective, node as never, this.variables);
    return include?.if === false;
  }

  /** Whether a fragment's type condition holds for objects of `type` (an object type, or an abstract one when the data named no object type). */
  private applies(condition: string | undefined, type: GraphQLCompositeType): boolean {
    if (!condition || condition === type.name) return true;
    const conditionType = this.schema.getType(condition);
    if (!conditionType || !isAbstractType(conditionType)) return false;
    return isObjectType(type) ? this.schema.isSubType(conditionType, type) : isAbstractType(type) && this.schema.isSubType(conditionType, type as never);
  }

  /** graphql-js's CollectFields: the fields of `type` under their response names, in order, nodes merged. */
  private collect(type: GraphQLCompositeType, selectionSets: readonly SelectionSetNode[]): Map<string, FieldNode[]> {
    const fields = new Map<string, FieldNode[]>();
    const visited = new Set<string>();
    const walk = (selectionSet: SelectionSetNode): void => {
      for (const selection of selectionSet.selections) {
        if (this.skipped(selection)) continue;
        switch (selection.kind) {
          case Kind.FIELD: {
            const key = selection.alias?.value ?? selection.name.value;
            const list = fields.get(key);
            if (list) list.push(selection);
            else fields.set(key, [selection]);
            break;
          }
          case Kind.INLINE_FRAGMENT:
            if (this.applies(selection.typeCondition?.name.value, type)) walk(selection.selectionSet);
            break;
          case Kind.FRAGMENT_SPREAD: {
            const name = selection.name.value;
            const fragment = this.fragments.get(name);
            if (!fragment || visited.has(name)) break;
            visited.add(name);
            if (this.applies(fragment.typeCondition.name.value, type)) walk(fragment.selectionSet);
            break;
          }
        }
      }
    };
    for (const selectionSet of selectionSets) walk(selectionSet);
    return fields;
  }

  /**
   * The function serialising an object of `type` (an object type; or an abstract type when the data did not name an
   * object type, in which case a selected __typename nulls the object, as Apollo does).
   */
  private objectFunction(type: GraphQLCompositeType, selectionSets: readonly SelectionSetNode[], root = false, operation?: OperationDefinitionNode): string {
    const memoKey = `${type.name}:${selectionSets.map((s) => this.selectionId(s)).join(',')}`;
    const known = this.memo.get(memoKey);
    if (known) return known;
    const fn = this.name('o');
    this.memo.set(memoKey, fn);
    const fields = this.collect(type, selectionSets);
    const lines: string[] = [`function ${fn}(v, c) {`, `  let o = '{', x, r;`];
    let first = true;
    for (const [key, nodes] of fields) {
      const node = nodes[0] as FieldNode;
      const fieldName = node.name.value;
      const prefix = JSON.stringify(`${first ? '' : ','}${JSON.stringify(key)}:`);
      first = false;
      const read = PROTO_KEYS.has(key) ? `(hasOwn.call(v, ${JSON.stringify(key)}) ? v[${JSON.stringify(key)}] : undefined)` : `v[${JSON.stringify(key)}]`;
      if (fieldName === '__typename') {
        if (isObjectType(type)) lines.push(`  o += ${JSON.stringify(`${JSON.parse(prefix) as string}${JSON.stringify(type.name)}`)};`);
        else lines.push(`  return undefined;`);
        continue;
      }
      if (root && (fieldName === '__schema' || fieldName === '__type') && operation) {
        const entry = this.constant({ document: introspectionDocument(node, operation, this.document), key });
        lines.push(`  o += ${prefix} + introspect(${entry}, c);`);
        continue;
      }
      const definition = isObjectType(type) || 'getFields' in type ? (type as GraphQLObjectType).getFields()[fieldName] : undefined;
      if (!definition) {
        // Not a field of this type in the API schema (only reachable through an unresolved abstract type).
        lines.push(`  o += ${prefix} + 'null';`);
        continue;
      }
      const desc = `field ${type.name}.${key}`;
      const fieldType = definition.type;
      const nonNull = isNonNullType(fieldType);
      const inner = nonNull ? fieldType.ofType : fieldType;
      const subSelections = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
      const onNull = nonNull ? `{ c.p.push(${JSON.stringify(key)}); nn(c, ${JSON.stringify(desc)}); c.p.pop(); return undefined; }` : `o += ${prefix} + 'null';`;
      lines.push(`  x = ${read};`);
      if (isScalarType(inner) || isEnumType(inner)) {
        const check = this.leafCheck(inner, 'x');
        const onInvalid = `{ c.p.push(${JSON.stringify(key)}); invalid(c, ${JSON.stringify(desc)}); c.p.pop(); ${nonNull ? 'return undefined;' : `o += ${prefix} + 'null';`} }`;
        lines.push(`  if (x == null) ${onNull}`, `  else if (${check.test}) o += ${prefix} + ${check.emit};`, `  else ${onInvalid}`);
        continue;
      }
      const valueFn = this.valueFunction(inner, subSelections, desc);
      lines.push(
        `  if (x == null) ${onNull}`,
        `  else {`,
        `    c.p.push(${JSON.stringify(key)}); r = ${valueFn}(x, c, ${JSON.stringify(desc)}); c.p.pop();`,
        nonNull ? `    if (r === undefined) return undefined;` : `    if (r === undefined) r = 'null';`,
        `    o += ${prefix} + r;`,
        `  }`,
      );
    }
    lines.push(`  return o + '}';`, `}`);
    this.functions.push(lines.join('\n'));
    return fn;
  }

  private leafCheck(type: GraphQLOutputType, x: string): { test: string; emit: string } {
    const named = getNamedType(type);
    if (isEnumType(named)) return { test: `typeof ${x} === 'string' && ${this.constant(new Set(named.getValues().map((v) => v.name)))}.has(${x})`, emit: `'"' + ${x} + '"'` };
    switch (named.name) {
      case 'String':
        return { test: `typeof ${x} === 'string'`, emit: `JSON.stringify(${x})` };
      case 'ID':
        return { test: `typeof ${x} === 'string' || Number.isInteger(${x})`, emit: `JSON.stringify(${x})` };
      case 'Int':
        return { test: `Number.isInteger(${x})`, emit: `('' + ${x})` };
      case 'Float':
        return { test: `typeof ${x} === 'number' && isFinite(${x})`, emit: `('' + ${x})` };
      case 'Boolean':
        return { test: `typeof ${x} === 'boolean'`, emit: `(${x} ? 'true' : 'false')` };
      default:
        // A custom scalar may be anything.
        return { test: `${x} !== undefined`, emit: `JSON.stringify(${x})` };
    }
  }

  /**
   * A function `(x, c, d) => string | null | undefined` for a non-null value `x` of nullable type `type`: its JSON,
   * or undefined when it is null with an error recorded (`d` describes the position for error messages).
   */
  private valueFunction(type: GraphQLOutputType, selectionSets: readonly SelectionSetNode[], desc: string): string {
    if (isListType(type)) {
      const elementNonNull = isNonNullType(type.ofType);
      const element = elementNonNull ? (type.ofType as { ofType: GraphQLOutputType }).ofType : type.ofType;
      const fn = this.name('l');
      const elementDesc = `array element of type ${String(element)} at index `;
      let elementCode: string;
      if (isScalarType(element) || isEnumType(element)) {
        const check = this.leafCheck(element, 'e');
        elementCode = `if (${check.test}) r = ${check.emit}; else { c.p.push(i); invalid(c, ${JSON.stringify(elementDesc)} + i); c.p.pop(); r = undefined; }`;
      } else {
        const inner = this.valueFunction(element, selectionSets, desc);
        elementCode = `c.p.push(i); r = ${inner}(e, c, i); c.p.pop();`;
      }
      this.functions.push(
        [
          `function ${fn}(x, c, d) {`,
          `  if (!Array.isArray(x)) { invalid(c, typeof d === 'number' ? ${JSON.stringify(`array element of type ${String(type)} at index `)} + d : d); return undefined; }`,
          `  let o = '[', bad = false, r, e;`,
          `  for (let i = 0; i < x.length; i++) {`,
          `    e = x[i];`,
          `    if (e == null) r = null; else { ${elementCode} }`,
          elementNonNull
            ? `    if (r == null) { if (r === null) { c.p.push(i); nn(c, ${JSON.stringify(elementDesc)} + i); c.p.pop(); } bad = true; continue; }`
            : `    if (r == null) r = 'null';`,
          `    o += i === 0 ? r : ',' + r;`,
          `  }`,
          `  return bad ? undefined : o + ']';`,
          `}`,
        ].join('\n'),
      );
      return fn;
    }
    if (isScalarType(type) || isEnumType(type)) {
      const fn = this.name('s');
      const check = this.leafCheck(type, 'x');
      this.functions.push(`function ${fn}(x, c, d) { if (${check.test}) return ${check.emit}; invalid(c, typeof d === 'number' ? ${JSON.stringify(`array element of type ${String(type)} at index `)} + d : d); return undefined; }`);
      return fn;
    }
    if (isObjectType(type)) return this.objectFunction(type, selectionSets);
    if (isAbstractType(type)) {
      const fn = this.name('a');
      const cases = this.schema
        .getPossibleTypes(type)
        .map((possible) => `    case ${JSON.stringify(possible.name)}: return ${this.objectFunction(possible, selectionSets)}(x, c);`);
      const unresolved = this.objectFunction(type, selectionSets);
      this.functions.push(
        [
          `function ${fn}(x, c, d) {`,
          `  const t = x.__typename;`,
          `  switch (t) {`,
          ...cases,
          `  }`,
          // No __typename, or one naming an interface (an @interfaceObject's answer): Apollo shapes by the abstract type.
          `  if (t == null || ${this.constant(this.compositeNames())}.has(t)) return ${unresolved}(x, c);`,
          `  badType(c, typeof d === 'number' ? ${JSON.stringify(`array element of type ${type.name} at index `)} + d : d);`,
          `  return undefined;`,
          `}`,
        ].join('\n'),
      );
      return fn;
    }
    throw new Error(`cannot serialise values of type ${String(type)}`);
  }

  private abstractNames: Set<string> | undefined;

  /** The schema's interface and union names, found once per compilation. */
  private compositeNames(): Set<string> {
    this.abstractNames ??= new Set(
      Object.values(this.schema.getTypeMap())
        .filter((t) => isAbstractType(t))
        .map((t) => t.name),
    );
    return this.abstractNames;
  }
}

function completionError(context: ShapeContext, message: string): void {
  context.errors.push({ message, path: context.p.slice(), extensions: { code: 'INVALID_GRAPHQL' } });
}

function nn(context: ShapeContext, desc: string): void {
  completionError(context, `Cannot return null for non-nullable ${desc}.`);
}

function invalid(context: ShapeContext, desc: string): void {
  context.invalid.push({ message: `Invalid value found for ${desc}.`, path: context.p.slice(), extensions: { code: 'INVALID_GRAPHQL' } });
}

function badType(context: ShapeContext, desc: string): void {
  completionError(context, `Invalid __typename found for object at ${desc}.`);
}

/** A query of one introspection field, with the variables it uses, run against the API schema per request. */
function introspectionDocument(field: FieldNode, operation: OperationDefinitionNode, document: DocumentNode): DocumentNode {
  const fragments = document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
  return {
    kind: Kind.DOCUMENT,
    definitions: [
      { kind: Kind.OPERATION_DEFINITION, operation: OperationTypeNode.QUERY, variableDefinitions: operation.variableDefinitions ?? [], selectionSet: { kind: Kind.SELECTION_SET, selections: [field] } },
      ...fragments,
    ],
  };
}
