import {
  GraphQLError,
  Kind,
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Lexer,
  parse,
  Source,
  TokenKind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { MAX_PAGE_SIZE } from '../../common/pagination.js';

/**
 * What one document may ask of the gateway. Each limit is checked before any subgraph is called, so a
 * document built to be expensive costs the gateway a parse and a walk of its AST, never a query plan or a
 * fetch. The defaults admit every operation of the client contract (`contract/*.graphql`) with room to spare
 * (the limits test prints the contract's measures with `BENCH_VERBOSE=1`) and the standard introspection query.
 */
export interface DocumentLimits {
  /**
   * Lexical tokens of the document (punctuation, names, values; not whitespace, commas or comments), counted
   * by graphql's own parser, which gives up as soon as the count is passed: the parse of a refused document is
   * the floor of its cost, so this is kept well under what would take milliseconds. Error code `TOO_MANY_TOKENS`.
   * @default 2000
   */
  maxTokens: number;
  /**
   * Deepest field nesting of the operation, through inline and named fragments; `__typename` does not count.
   * The standard introspection query (GraphiQL, Apollo Sandbox, codegen) is 15 deep. Error code `QUERY_TOO_DEEP`.
   * @default 16
   */
  maxDepth: number;
  /**
   * Aliased fields of the operation, a fragment's counted at each of its spreads. Error code `TOO_MANY_ALIASES`.
   * @default 30
   */
  maxAliases: number;
  /**
   * The operation's cost (see `measureOperation`): roughly how many objects it may make the subgraphs produce.
   * Room for the contract at the schema's largest pages (ProductListing with `first: 100` costs 2302).
   * Error code `QUERY_TOO_COMPLEX`.
   * @default 5000
   */
  maxCost: number;
  /**
   * Field selections of the operation once its fragments are expanded (leaves and `__typename` included), which
   * is what the planner and the executor walk. Without fragments a document under the token limit cannot select
   * more; with them, fragments that spread each other twice over select 2^n fields from a few hundred bytes (a
   * "fragment bomb"), which cost is blind to (leaves cost nothing) and which would keep the planner busy for
   * hours. The contract's largest operation selects 83, the standard introspection query a few hundred.
   * Error code `TOO_MANY_FIELDS`.
   * @default 1000
   */
  maxFields: number;
  /**
   * The page size assumed for a list (or connection) field that has no `first` argument.
   * @default 10
   */
  defaultListSize: number;
}

export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = Object.freeze({
  maxTokens: 2000,
  maxDepth: 16,
  maxAliases: 30,
  maxCost: 5000,
  maxFields: 1000,
  defaultListSize: 10,
});

/**
 * Braces, brackets and parentheses open at once, at most. graphql's parser recurses at each of them, several
 * frames a level: about 1,500 nested list brackets, well under the token limit, overflowed the stack (a
 * RangeError, answered 500). The contract nests 8; fields deeper than `maxDepth` are refused after the parse anyway.
 */
export const MAX_NESTING = 128;

/** The deepest nesting of `query`'s first `maxTokens` tokens once it passes {@link MAX_NESTING}; else undefined. */
function nestingOver(query: string, maxTokens: number): number | undefined {
  const lexer = new Lexer(new Source(query));
  let depth = 0;
  try {
    for (let token = lexer.advance(), n = 0; token.kind !== TokenKind.EOF && n <= maxTokens; token = lexer.advance(), n++) {
      if (token.kind === TokenKind.BRACE_L || token.kind === TokenKind.BRACKET_L || token.kind === TokenKind.PAREN_L) {
        if (++depth > MAX_NESTING) return depth;
      } else if (token.kind === TokenKind.BRACE_R || token.kind === TokenKind.BRACKET_R || token.kind === TokenKind.PAREN_R) {
        depth--;
      }
    }
  } catch {
    // A lexical error: the parse that follows reports it, with its location.
  }
  return undefined;
}

/**
 * Parse a client's document under `limits.maxTokens`. A syntax error keeps graphql's message (with its
 * location) under code `GRAPHQL_PARSE_FAILED`; a document over the token limit is `TOO_MANY_TOKENS`; one nested
 * deeper than {@link MAX_NESTING} is `QUERY_TOO_DEEP`, refused before the parser recurses into it.
 */
export function parseWithinLimits(query: string, limits: Pick<DocumentLimits, 'maxTokens'>): DocumentNode | GraphQLError {
  const nesting = nestingOver(query, limits.maxTokens);
  if (nesting !== undefined) {
    return new GraphQLError(`the document nests braces, brackets and parentheses more than ${MAX_NESTING} deep`, { extensions: { code: 'QUERY_TOO_DEEP', limit: MAX_NESTING } });
  }
  try {
    return parse(query, { maxTokens: limits.maxTokens });
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    // graphql aborts at the first token past the limit, so the real count is unknown (and counting it would be
    // the very work the limit is there to avoid): the error states the limit only.
    if (/ tokens\. Parsing aborted\.$/.test(error.message)) {
      return new GraphQLError(`the document has more than ${limits.maxTokens} tokens; at most ${limits.maxTokens} are allowed`, {
        extensions: { code: 'TOO_MANY_TOKENS', limit: limits.maxTokens },
      });
    }
    return new GraphQLError(error.message, {
      ...(error.source ? { source: error.source } : {}),
      ...(error.positions ? { positions: error.positions } : {}),
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
    });
  }
}

export interface OperationMeasure {
  /** Deepest field nesting (`__typename` not counted). */
  depth: number;
  /** Aliased fields, each fragment counted at every spread. */
  aliases: number;
  /** See `measureOperation`. */
  cost: number;
  /** Field selections with the fragments expanded, leaves and `__typename` included. */
  fields: number;
}

/** The extra cost of each root field of a mutation: writes are dearer than reads of the same shape. */
const MUTATION_ROOT_FIELD_COST = 10;
// Products of page sizes saturate instead of reaching Infinity, where 0 × Infinity would make the cost NaN.
const SATURATED = Number.MAX_SAFE_INTEGER;
const mul = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : Math.min(a * b, SATURATED));
const add = (a: number, b: number): number => Math.min(a + b, SATURATED);

/** A selection set's measure relative to where it appears: cost at multiplier 1, depth below it. */
interface Tally {
  depth: number;
  aliases: number;
  cost: number;
  /** The cost of a connection's `edges` and `nodes`: once per item of the page its field asks for. */
  pageCost: number;
  /** Known fields at this level (through fragments), excluding introspection: a mutation's root fields. */
  fields: number;
  /** Every field selection at and below this level, fragments expanded. */
  selected: number;
}

const ZERO: Tally = Object.freeze({ depth: 0, aliases: 0, cost: 0, pageCost: 0, fields: 0, selected: 0 });

/**
 * Measure one operation of a document: its depth, its aliases, its cost and its field selections.
 *
 * Cost: every field whose type is an object, interface or union costs 1 times the product of the page sizes of
 * the lists above it; leaf fields cost nothing. A list field's page size is its `first` argument (literal,
 * variable, the variable's default or the argument's default; at least 0), else `defaultListSize`. A field
 * returning a Relay connection (a type whose name ends in `Connection`) takes `first` as a list does, but its
 * page multiplies only the connection's `edges` and `nodes`: `pageInfo` is answered once per connection. Each
 * root field of a mutation costs 10 more. Introspection (`__schema`, `__type`) costs nothing: the gateway
 * answers it from its own schema, and validation's `MaxIntrospectionDepthRule` bounds its nesting.
 *
 * Meant for a document that passed `validate`, but it never throws: an unknown field or fragment adds no cost
 * (its nesting and aliases still count), a fragment cycle is cut, and an operation that cannot be picked
 * measures zero. So it may also run before `validate`, which costs more than this walk for the documents it is
 * there to refuse. A named fragment is measured once and reused at each spread, so the walk is linear in the
 * size of the document even when fragments spread each other many times over.
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown> | undefined,
  limits: Pick<DocumentLimits, 'defaultListSize'>,
): OperationMeasure {
  const operation = pickOperation(document, operationName);
  if (!operation) return { depth: 0, aliases: 0, cost: 0, fields: 0 };
  const root =
    operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  const walker = new Walker(schema, document, operation, variables ?? {}, Math.max(0, limits.defaultListSize));
  const tally = walker.selections(operation.selectionSet, root ?? undefined);
  const surcharge = operation.operation === 'mutation' ? mul(tally.fields, MUTATION_ROOT_FIELD_COST) : 0;
  return { depth: tally.depth, aliases: tally.aliases, cost: add(tally.cost, surcharge), fields: tally.selected };
}

/**
 * The limits `document`'s operation breaks (none: `[]`), one coded error for each, naming the measured value
 * and the limit (`extensions: { code, limit, actual }`). Tokens are `parseWithinLimits`'s to refuse.
 */
export function checkLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown> | undefined,
  limits: DocumentLimits,
): GraphQLError[] {
  const measure = measureOperation(schema, document, operationName, variables, limits);
  const errors: GraphQLError[] = [];
  const over = (code: string, actual: number, limit: number, message: string): void => {
    if (actual > limit) errors.push(new GraphQLError(message, { extensions: { code, limit, actual } }));
  };
  over('QUERY_TOO_DEEP', measure.depth, limits.maxDepth, `the query is ${measure.depth} levels deep; at most ${limits.maxDepth} are allowed`);
  over('TOO_MANY_ALIASES', measure.aliases, limits.maxAliases, `the query has ${measure.aliases} aliases; at most ${limits.maxAliases} are allowed`);
  over('QUERY_TOO_COMPLEX', measure.cost, limits.maxCost, `the query costs ${measure.cost}; at most ${limits.maxCost} is allowed`);
  over('TOO_MANY_FIELDS', measure.fields, limits.maxFields, `the query selects ${measure.fields} fields once its fragments are expanded; at most ${limits.maxFields} are allowed`);
  return errors;
}

function pickOperation(document: DocumentNode, operationName: string | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName) return operations.find((o) => o.name?.value === operationName);
  return operations.length === 1 ? operations[0] : undefined;
}

const isConnection = (type: GraphQLNamedType | undefined): boolean => type !== undefined && type.name.endsWith('Connection');

class Walker {
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  /** Fragment tallies; `null` while a fragment is being measured, which is how a cycle is cut. */
  private readonly measured = new Map<string, Tally | null>();

  constructor(
    private readonly schema: GraphQLSchema,
    document: DocumentNode,
    private readonly operation: OperationDefinitionNode,
    private readonly variables: Record<string, unknown>,
    private readonly defaultListSize: number,
  ) {
    for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(def.name.value, def);
  }

  selections(set: SelectionSetNode, parent: GraphQLNamedType | undefined): Tally {
    let depth = 0;
    let aliases = 0;
    let cost = 0;
    let pageCost = 0;
    let fields = 0;
    let selected = 0;
    const merge = (t: Tally): void => {
      depth = Math.max(depth, t.depth);
      aliases = add(aliases, t.aliases);
      cost = add(cost, t.cost);
      pageCost = add(pageCost, t.pageCost);
      fields = add(fields, t.fields);
      selected = add(selected, t.selected);
    };
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        merge(this.field(selection, parent));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? this.schema.getType(selection.typeCondition.name.value) : parent;
        merge(this.selections(selection.selectionSet, type ?? undefined));
      } else {
        merge(this.fragment(selection.name.value));
      }
    }
    return { depth, aliases, cost, pageCost, fields, selected };
  }

  private fragment(name: string): Tally {
    const known = this.measured.get(name);
    if (known !== undefined) return known ?? ZERO;
    const def = this.fragments.get(name);
    if (!def) return ZERO;
    this.measured.set(name, null);
    const tally = this.selections(def.selectionSet, this.schema.getType(def.typeCondition.name.value) ?? undefined);
    this.measured.set(name, tally);
    return tally;
  }

  private field(node: FieldNode, parent: GraphQLNamedType | undefined): Tally {
    const name = node.name.value;
    const aliases = node.alias ? 1 : 0;
    if (name === '__typename') return { ...ZERO, aliases, selected: 1 };
    const def = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
    const type = def ? getNamedType(def.type) : undefined;
    const composite = def !== undefined && type !== undefined && isCompositeType(type);
    const below = node.selectionSet ? this.selections(node.selectionSet, composite ? type : undefined) : ZERO;
    const tally: Tally = { depth: below.depth + 1, aliases: add(aliases, below.aliases), cost: 0, pageCost: 0, fields: def ? 1 : 0, selected: add(1, below.selected) };
    if (!composite) return tally;
    const list = isListType(isNonNullType(def.type) ? def.type.ofType : def.type);
    let cost: number;
    if (isConnection(type)) {
      // A list of connections has no page size of its own to go by: each connection takes `first`.
      cost = add(1, mul(list ? this.defaultListSize : 1, add(below.cost, mul(this.pageSize(node, def), below.pageCost))));
    } else {
      cost = add(1, mul(list ? this.pageSize(node, def) : 1, add(below.cost, below.pageCost)));
    }
    // A connection's items are its field's page, multiplied there rather than by a page size of their own.
    const item = list && isConnection(parent) && (name === 'edges' || name === 'nodes');
    return item ? { ...tally, pageCost: add(1, add(below.cost, below.pageCost)) } : { ...tally, cost };
  }

  /** A list's or a connection's page: its `first`, else `defaultListSize`. */
  private pageSize(node: FieldNode, def: GraphQLField<unknown, unknown>): number {
    return this.first(node, def) ?? this.defaultListSize;
  }

  private first(node: FieldNode, def: GraphQLField<unknown, unknown>): number | undefined {
    const schemaDefault = def.args.find((a) => a.name === 'first')?.defaultValue;
    const arg = node.arguments?.find((a) => a.name.value === 'first');
    const value = arg ? this.value(arg.value) : undefined;
    return size(value) ?? size(schemaDefault);
  }

  private value(node: ValueNode): unknown {
    if (node.kind === Kind.INT || node.kind === Kind.FLOAT) return Number(node.value);
    if (node.kind !== Kind.VARIABLE) return undefined;
    const name = node.name.value;
    if (this.variables[name] !== undefined) return this.variables[name];
    const declared = this.operation.variableDefinitions?.find((v) => v.variable.name.value === name)?.defaultValue;
    return declared && (declared.kind === Kind.INT || declared.kind === Kind.FLOAT) ? Number(declared.value) : undefined;
  }
}

/**
 * A page never holds more than the graph serves (`MAX_PAGE_SIZE`): a `first` above it is the owning subgraph's to
 * refuse with BAD_USER_INPUT naming the maximum, a clearer answer than a cost that only looks too high.
 */
function size(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(MAX_PAGE_SIZE, Math.max(0, Math.floor(value))) : undefined;
}
