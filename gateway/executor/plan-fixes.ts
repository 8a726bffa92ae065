import type { Operation, Supergraph } from '@apollo/federation-internals';
import type { FetchDataRewrite, FetchNode, PlanNode, QueryPlan, QueryPlanSelectionNode } from '@apollo/query-planner';
import {
  Kind,
  parse,
  print,
  type ArgumentNode,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/*
 * Corrections to Apollo's query plans where its planner is wrong, found by the public federation gateway audit
 * (graphql-hive/federation-gateway-audit; our reproductions: test/support/audit-suites.ts). Each fix rewrites the
 * plan Apollo built, so both executors (ours and Apollo's `executeQueryPlan`) run the corrected plan:
 *
 * 1. Unsatisfiable root fields. A root field that no fetch of the plan asks for (Apollo plans nothing when the
 *    field's type has no object type any subgraph can resolve, e.g. a field that only a non-resolvable
 *    @interfaceObject declares) is marked on the plan: the executor answers `data: null` with an error, instead of
 *    an empty object that looks like an answer.
 * 2. Keys that are `resolvable: false`. An entity fetch whose representations carry only keys the target
 *    subgraph declared non-resolvable is given a resolvable key of that subgraph (and the fetch that produced
 *    the entities asks for the key's fields).
 * 3. @requires of fields with arguments. Apollo's plan feeds a representation from the response name alone, so
 *    two uses of one field with different arguments (the required one and the client's, or two @requires with
 *    different arguments) land on the same key and one overwrites the other. The required variant is fetched
 *    under an alias of its own, and the consuming fetch reads it back under the field's name (a KeyRenamer input
 *    rewrite); a consumer that needs two variants at once is split into one fetch per variant.
 * 4. Members of a union or interface that the planner drops. Under a field of abstract type that several subgraphs
 *    resolve, Apollo keeps only the members all of them have; the client's fragment on a member the fetching
 *    subgraph has is put back into that fetch (with the leaves that subgraph resolves itself).
 */

export interface PlanFixContext {
  supergraph: Supergraph;
  operation: Operation;
  document: DocumentNode;
  operationName?: string | undefined;
}

/** A plan the executor must not run: it answers `data: null` with these errors. */
export interface UnsatisfiablePlan extends QueryPlan {
  unsatisfiable: GraphQLFormattedError[];
}

/** The errors to answer with, without any fetch, when the plan is one that cannot be satisfied. */
export function unsatisfiableErrors(plan: QueryPlan): GraphQLFormattedError[] | undefined {
  const errors = (plan as Partial<UnsatisfiablePlan>).unsatisfiable;
  return errors && errors.length > 0 ? errors : undefined;
}

function markUnsatisfiable(plan: QueryPlan, unsatisfiable: GraphQLFormattedError[]): QueryPlan {
  const marked: UnsatisfiablePlan = { ...plan, unsatisfiable };
  return marked;
}

/** Corrections to Apollo's plan where its planner is wrong (see the federation audit tests). */
export function fixQueryPlan(plan: QueryPlan, context: PlanFixContext): QueryPlan {
  try {
    const unsatisfiable = unsatisfiableRootFields(plan, context);
    if (unsatisfiable.length > 0) return markUnsatisfiable(plan, unsatisfiable);
    if (!plan.node || plan.node.kind === 'Subscription') return plan;
    const index = indexOf(context.supergraph);
    const sites = new PlanSites(plan.node);
    let changed = fixNonResolvableKeys(sites, index);
    changed = fixRequiredArguments(sites, index, context) || changed;
    changed = fixDroppedMembers(sites, index, context) || changed;
    return changed ? { ...plan, node: sites.rebuild() } : plan;
  } catch {
    // A fix that cannot make sense of a plan must not cost the operation: Apollo's plan is still the best we have.
    return plan;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The supergraph, indexed for the fixes: which graph declares which keys and @requires.

interface KeyOf {
  graph: string;
  fields: SelectionSetNode;
  resolvable: boolean;
}

interface SupergraphIndex {
  /** Keys by type name. */
  keys: Map<string, KeyOf[]>;
  /** `join__field` arguments by `Type.field`, per subgraph name. */
  fields: Map<string, Map<string, { requires?: string; external: boolean; type?: string }>>;
  /** Graphs that declare each type (join__type). */
  typeGraphs: Map<string, Set<string>>;
  /** The object types of each union and interface, per graph (join__unionMember, join__implements). */
  members: Map<string, Map<string, Set<string>>>;
  /** Each composite type's fields and the named type each returns. */
  fieldTypes: Map<string, Map<string, string>>;
}

const indexes = new WeakMap<Supergraph, SupergraphIndex>();

function stringArg(directive: DirectiveNode, name: string): string | undefined {
  const value = directive.arguments?.find((a) => a.name.value === name)?.value;
  if (!value) return undefined;
  if (value.kind === Kind.STRING || value.kind === Kind.ENUM) return value.value;
  return undefined;
}

function booleanArg(directive: DirectiveNode, name: string): boolean | undefined {
  const value = directive.arguments?.find((a) => a.name.value === name)?.value;
  return value?.kind === Kind.BOOLEAN ? value.value : undefined;
}

function indexOf(supergraph: Supergraph): SupergraphIndex {
  const cached = indexes.get(supergraph);
  if (cached) return cached;
  const ast = supergraph.schema.toAST();
  const graphNames = new Map<string, string>();
  for (const definition of ast.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const join = value.directives?.find((d) => d.name.value === 'join__graph');
      const name = join ? stringArg(join, 'name') : undefined;
      if (name) graphNames.set(value.name.value, name);
    }
  }
  const index: SupergraphIndex = { keys: new Map(), fields: new Map(), typeGraphs: new Map(), members: new Map(), fieldTypes: new Map() };
  const addMember = (abstract: string, graph: string | undefined, member: string) => {
    if (!graph) return;
    let byGraph = index.members.get(abstract);
    if (!byGraph) index.members.set(abstract, (byGraph = new Map()));
    let members = byGraph.get(graph);
    if (!members) byGraph.set(graph, (members = new Set()));
    members.add(member);
  };
  for (const definition of ast.definitions) {
    if (definition.kind === Kind.UNION_TYPE_DEFINITION) {
      for (const directive of definition.directives ?? []) {
        if (directive.name.value !== 'join__unionMember') continue;
        const member = stringArg(directive, 'member');
        if (member) addMember(definition.name.value, graphNames.get(stringArg(directive, 'graph') ?? ''), member);
      }
      continue;
    }
    if (definition.kind === Kind.OBJECT_TYPE_DEFINITION) {
      for (const directive of definition.directives ?? []) {
        if (directive.name.value !== 'join__implements') continue;
        const implemented = stringArg(directive, 'interface');
        if (implemented) addMember(implemented, graphNames.get(stringArg(directive, 'graph') ?? ''), definition.name.value);
      }
    }
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      definition.kind !== Kind.INTERFACE_TYPE_EXTENSION
    )
      continue;
    const typeName = definition.name.value;
    for (const directive of definition.directives ?? []) {
      if (directive.name.value !== 'join__type') continue;
      const graph = graphNames.get(stringArg(directive, 'graph') ?? '');
      if (!graph) continue;
      let graphs = index.typeGraphs.get(typeName);
      if (!graphs) index.typeGraphs.set(typeName, (graphs = new Set()));
      graphs.add(graph);
      const key = stringArg(directive, 'key');
      if (key === undefined) continue;
      let keys = index.keys.get(typeName);
      if (!keys) index.keys.set(typeName, (keys = []));
      keys.push({ graph, fields: parseFieldSet(key), resolvable: booleanArg(directive, 'resolvable') ?? true });
    }
    let types = index.fieldTypes.get(typeName);
    if (!types) index.fieldTypes.set(typeName, (types = new Map()));
    for (const field of definition.fields ?? []) {
      let named = field.type;
      while (named.kind !== Kind.NAMED_TYPE) named = named.type;
      types.set(field.name.value, named.name.value);
      const byGraph = new Map<string, { requires?: string; external: boolean; type?: string }>();
      for (const directive of field.directives ?? []) {
        if (directive.name.value !== 'join__field') continue;
        const graph = graphNames.get(stringArg(directive, 'graph') ?? '');
        if (!graph) continue;
        const requires = stringArg(directive, 'requires');
        // The field's type in that graph, when it differs from the supergraph's (e.g. an object for a union).
        const type = stringArg(directive, 'type')?.replace(/[[\]!]/g, '');
        byGraph.set(graph, { ...(requires !== undefined ? { requires } : {}), ...(type ? { type } : {}), external: booleanArg(directive, 'external') ?? false });
      }
      index.fields.set(`${typeName}.${field.name.value}`, byGraph);
    }
  }
  indexes.set(supergraph, index);
  return index;
}

/** Whether `graph` resolves `type.field` itself (declares it, and not as @external). */
function resolvesField(index: SupergraphIndex, type: string, field: string, graph: string): boolean {
  if (field === '__typename') return true;
  const joins = index.fields.get(`${type}.${field}`);
  if (!joins || joins.size === 0) return index.typeGraphs.get(type)?.has(graph) ?? false;
  const join = joins.get(graph);
  return !!join && !join.external;
}

// ---------------------------------------------------------------------------------------------------------------
// GraphQL documents, edited as plain mutable objects.

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] };
type MSelectionSet = { kind: Kind.SELECTION_SET; selections: SelectionNode[] };

function parseFieldSet(fields: string): SelectionSetNode {
  const document = parse(`{ ${fields} }`, { noLocation: true });
  return (document.definitions[0] as OperationDefinitionNode).selectionSet;
}

function responseName(field: FieldNode): string {
  return field.alias?.value ?? field.name.value;
}

function valueKey(value: ValueNode): string {
  return print(value);
}

function argumentsKey(args: readonly ArgumentNode[] | undefined): string {
  if (!args || args.length === 0) return '';
  return [...args]
    .map((a) => `${a.name.value}:${valueKey(a.value)}`)
    .sort()
    .join(',');
}

function clone<T>(node: T): T {
  return JSON.parse(JSON.stringify(node)) as T;
}

/** Replace every fragment spread by the fragment's selections, so that an edit stays where it is made. */
function inlineFragments(document: DocumentNode): DocumentNode {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const inlineSet = (set: SelectionSetNode): MSelectionSet => ({
    kind: Kind.SELECTION_SET,
    selections: set.selections.map((selection): SelectionNode => {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (!fragment) return selection;
        return { kind: Kind.INLINE_FRAGMENT, typeCondition: fragment.typeCondition, directives: selection.directives ?? [], selectionSet: inlineSet(fragment.selectionSet) as SelectionSetNode };
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) return { ...selection, selectionSet: inlineSet(selection.selectionSet) as SelectionSetNode };
      return selection.selectionSet ? { ...selection, selectionSet: inlineSet(selection.selectionSet) as SelectionSetNode } : selection;
    }),
  });
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return clone({ kind: Kind.DOCUMENT, definitions: operations.map((op) => ({ ...op, selectionSet: inlineSet(op.selectionSet) })) }) as DocumentNode;
}

/** The fields with response name `name` in `set`, through inline fragments (whatever their type condition). */
function fieldsNamed(set: SelectionSetNode, name: string): FieldNode[] {
  const found: FieldNode[] = [];
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD && responseName(selection) === name) found.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) found.push(...fieldsNamed(selection.selectionSet, name));
  }
  return found;
}

/** The selection sets that `path` (response names; `@` and `... on T` steps skipped) leads to from `sets`. */
function setsAt(sets: SelectionSetNode[], path: readonly string[]): SelectionSetNode[] {
  let current = sets;
  for (const step of path) {
    if (step === '@' || step.startsWith('... on ')) continue;
    const next: SelectionSetNode[] = [];
    for (const set of current) for (const field of fieldsNamed(set, step)) if (field.selectionSet) next.push(field.selectionSet);
    current = next;
    if (current.length === 0) break;
  }
  return current;
}

/** Merge `addition` into `target` (fields by response name, sub-selections recursively). */
function mergeInto(target: MSelectionSet, addition: SelectionSetNode): boolean {
  let changed = false;
  for (const selection of addition.selections) {
    if (selection.kind !== Kind.FIELD) continue;
    const existing = target.selections.find((s): s is FieldNode => s.kind === Kind.FIELD && responseName(s) === responseName(selection) && !s.arguments?.length);
    if (!existing) {
      target.selections.push(clone(selection));
      changed = true;
    } else if (selection.selectionSet) {
      if (!existing.selectionSet) continue;
      changed = mergeInto(existing.selectionSet as unknown as MSelectionSet, selection.selectionSet) || changed;
    }
  }
  return changed;
}

// ---------------------------------------------------------------------------------------------------------------
// The plan's fetches, each with where its data lands, editable and then rebuilt into a plan.

interface Site {
  fetch: FetchNode;
  /** Where the fetch's data lands (its Flatten path), `@` for list elements. */
  path: string[];
  /** The fetch's operation, parsed (fragments inlined) once it is looked into. */
  document?: DocumentNode;
  /** Whether `document` was changed (only then is the operation printed back). */
  edited?: boolean;
  /** Replacements: the fetches that run instead of this one, in parallel. */
  replacedBy?: FetchNode[];
}

class PlanSites {
  readonly sites: Site[] = [];
  private readonly byFetch = new Map<FetchNode, Site>();

  constructor(private readonly root: PlanNode) {
    this.collect(root, []);
  }

  private collect(node: PlanNode, path: string[]): void {
    switch (node.kind) {
      case 'Fetch': {
        const site: Site = { fetch: node, path };
        this.sites.push(site);
        this.byFetch.set(node, site);
        return;
      }
      case 'Flatten':
        return this.collect(node.node, path.concat(node.path.map(String)));
      case 'Sequence':
      case 'Parallel':
        for (const child of node.nodes) this.collect(child, path);
        return;
      case 'Condition':
        if (node.ifClause) this.collect(node.ifClause, path);
        if (node.elseClause) this.collect(node.elseClause, path);
        return;
      default:
        // Defer and Subscription plans are left as Apollo built them.
        return;
    }
  }

  /** The operation of a site, parsed for editing. */
  documentOf(site: Site): DocumentNode {
    site.document ??= inlineFragments(parse(site.fetch.operation, { noLocation: true }));
    return site.document;
  }

  /** The selection sets where a site's data lands at `path` (absolute), or none when it does not reach it. */
  setsOf(site: Site, path: readonly string[], type?: string): SelectionSetNode[] {
    if (site.path.length > path.length) return [];
    for (let i = 0; i < site.path.length; i++) if (site.path[i] !== path[i]) return [];
    const operation = this.documentOf(site).definitions[0] as OperationDefinitionNode;
    if (!site.fetch.requires) return setsAt([operation.selectionSet], path.slice(site.path.length));
    // An entity fetch: its selections are `... on T` fragments of `_entities` (the union allows no bare field).
    const fragments = setsAt([operation.selectionSet], ['_entities']).flatMap((set) =>
      set.selections.flatMap((s) => (s.kind === Kind.INLINE_FRAGMENT && (type === undefined || s.typeCondition?.name.value === type) ? [s.selectionSet] : [])),
    );
    return setsAt(fragments, path.slice(site.path.length));
  }

  rebuild(): PlanNode {
    const build = (node: PlanNode): PlanNode => {
      switch (node.kind) {
        case 'Fetch': {
          const site = this.byFetch.get(node);
          if (!site) return node;
          const fetches = (site.replacedBy ?? [finishFetch(site)]) as PlanNode[];
          return fetches.length === 1 ? (fetches[0] as PlanNode) : { kind: 'Parallel', nodes: fetches };
        }
        case 'Flatten': {
          const inner = build(node.node);
          if (inner.kind === 'Parallel') return { kind: 'Parallel', nodes: inner.nodes.map((n) => ({ ...node, node: n }) as PlanNode) };
          return inner === node.node ? node : { ...node, node: inner };
        }
        case 'Sequence':
        case 'Parallel':
          return { ...node, nodes: node.nodes.map(build) };
        case 'Condition':
          return { ...node, ...(node.ifClause ? { ifClause: build(node.ifClause) } : {}), ...(node.elseClause ? { elseClause: build(node.elseClause) } : {}) };
        default:
          return node;
      }
    };
    return build(this.root);
  }
}

/** The site's fetch with its edited operation printed back. */
function finishFetch(site: Site): FetchNode {
  if (!site.document || !site.edited) return site.fetch;
  const operationDocumentNode = parse(print(site.document));
  const { operationDocumentNode: _old, ...rest } = site.fetch;
  return { ...rest, operation: print(site.document), ...(site.fetch.operationDocumentNode ? { operationDocumentNode } : {}) };
}

/** The `... on T` fragments of a fetch's `requires`. */
function requiredFragments(fetch: FetchNode): { type: string; selections: QueryPlanSelectionNode[] }[] {
  return (fetch.requires ?? []).flatMap((s) => (s.kind === 'InlineFragment' && s.typeCondition ? [{ type: s.typeCondition, selections: s.selections }] : []));
}

function selectionNodesFrom(set: SelectionSetNode): QueryPlanSelectionNode[] {
  return set.selections.flatMap((s): QueryPlanSelectionNode[] => {
    if (s.kind !== Kind.FIELD) return [];
    return [{ kind: 'Field', name: s.name.value, ...(s.selectionSet ? { selections: selectionNodesFrom(s.selectionSet) } : {}) }];
  });
}

/** Whether every field of `key` is in the `requires` selections. */
function covers(selections: readonly QueryPlanSelectionNode[], key: SelectionSetNode): boolean {
  return key.selections.every((s) => {
    if (s.kind !== Kind.FIELD) return true;
    const found = selections.find((r): r is Extract<QueryPlanSelectionNode, { kind: 'Field' }> => r.kind === 'Field' && (r.alias ?? r.name) === s.name.value);
    if (!found) return false;
    return s.selectionSet ? covers(found.selections ?? [], s.selectionSet) : true;
  });
}

function mergeSelectionNodes(target: QueryPlanSelectionNode[], addition: readonly QueryPlanSelectionNode[]): QueryPlanSelectionNode[] {
  const result = target.map((s) => ({ ...s })) as QueryPlanSelectionNode[];
  for (const add of addition) {
    if (add.kind !== 'Field') continue;
    const index = result.findIndex((r) => r.kind === 'Field' && (r.alias ?? r.name) === add.name);
    const existing = result[index];
    if (!existing || existing.kind !== 'Field') result.push(add);
    else if (add.selections) result[index] = { ...existing, selections: mergeSelectionNodes(existing.selections ?? [], add.selections) };
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Fix 1: root fields no fetch asks for.

function unsatisfiableRootFields(plan: QueryPlan, context: PlanFixContext): GraphQLFormattedError[] {
  const operation = context.document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (context.operationName === undefined || d.name?.value === context.operationName),
  );
  if (!operation) return [];
  const requested = rootResponseNames(inlineFragments({ kind: Kind.DOCUMENT, definitions: [operation, ...context.document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION)] }));
  if (requested.size === 0) return [];
  const fetched = new Set<string>();
  const visit = (node: QueryPlan['node'], nested: boolean): void => {
    if (!node) return;
    switch (node.kind) {
      case 'Fetch':
        if (!nested) {
          const parsed = parse(node.operation, { noLocation: true });
          const op = parsed.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
          if (op) for (const name of rootResponseNames(inlineFragments(parsed))) fetched.add(name);
          // A root field the planner aliased for the subgraph is renamed back into place after the fetch.
          for (const rewrite of node.outputRewrites ?? []) if (rewrite.kind === 'KeyRenamer' && rewrite.path.length === 1) fetched.add(rewrite.renameKeyTo);
        }
        return;
      case 'Flatten':
        return visit(node.node, true);
      case 'Sequence':
      case 'Parallel':
        for (const child of node.nodes) visit(child, nested);
        return;
      case 'Condition':
        visit(node.ifClause, nested);
        visit(node.elseClause, nested);
        return;
      case 'Subscription':
        visit(node.primary, nested);
        return;
      case 'Defer':
        visit(node.primary.node, nested);
        for (const deferred of node.deferred) visit(deferred.node, nested);
        return;
    }
  };
  visit(plan.node, false);
  const missing = [...requested].filter((name) => !fetched.has(name));
  return missing.map((name) => ({
    message: `Cannot query "${name}": no subgraph can resolve the fields selected on it (its type has no object type any subgraph resolves)`,
    path: [name],
    extensions: { code: 'UNSATISFIABLE_SELECTION' },
  }));
}

/** The root response names an operation asks a subgraph for (not introspection, not literally skipped). */
function rootResponseNames(document: DocumentNode): Set<string> {
  const names = new Set<string>();
  const operation = document.definitions[0] as OperationDefinitionNode | undefined;
  if (!operation) return names;
  const skipped = (directives: readonly DirectiveNode[] | undefined): boolean =>
    !!directives?.some((d) => {
      const value = d.arguments?.find((a) => a.name.value === 'if')?.value;
      if (value?.kind !== Kind.BOOLEAN) return false;
      return (d.name.value === 'skip' && value.value) || (d.name.value === 'include' && !value.value);
    });
  const walk = (set: SelectionSetNode): void => {
    for (const selection of set.selections) {
      if (skipped(selection.directives)) continue;
      if (selection.kind === Kind.FIELD) {
        if (!selection.name.value.startsWith('__')) names.add(responseName(selection));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet);
    }
  };
  walk(operation.selectionSet);
  return names;
}

// ---------------------------------------------------------------------------------------------------------------
// Fix 2: representations that carry only keys the target subgraph cannot resolve.

function fixNonResolvableKeys(sites: PlanSites, index: SupergraphIndex): boolean {
  let changed = false;
  for (const [position, consumer] of sites.sites.entries()) {
    if (!consumer.fetch.requires) continue;
    const graph = consumer.fetch.serviceName;
    let requires = consumer.fetch.requires;
    for (const { type, selections } of requiredFragments(consumer.fetch)) {
      const keys = (index.keys.get(type) ?? []).filter((k) => k.graph === graph);
      const resolvable = keys.filter((k) => k.resolvable);
      if (resolvable.length === 0 || resolvable.some((k) => covers(selections, k.fields))) continue;
      if (!keys.some((k) => covers(selections, k.fields))) continue; // not a key Apollo picked: leave it
      // A resolvable key whose fields an earlier fetch at this path can also ask for.
      for (const key of resolvable) {
        const producer = sites.sites
          .slice(0, position)
          .reverse()
          .find((site) => sites.setsOf(site, consumer.path, type).length > 0 && key.fields.selections.every((s) => s.kind !== Kind.FIELD || resolvesField(index, type, s.name.value, site.fetch.serviceName)));
        if (!producer) continue;
        for (const set of sites.setsOf(producer, consumer.path, type)) if (mergeInto(set as unknown as MSelectionSet, key.fields)) producer.edited = true;
        requires = requires.map((s) => (s.kind === 'InlineFragment' && s.typeCondition === type ? { ...s, selections: mergeSelectionNodes(s.selections, selectionNodesFrom(key.fields)) } : s));
        changed = true;
        break;
      }
    }
    if (requires !== consumer.fetch.requires) consumer.fetch = { ...consumer.fetch, requires };
  }
  return changed;
}

// ---------------------------------------------------------------------------------------------------------------
// Fix 3: @requires of fields with arguments.

interface Requirement {
  /** The consumer's field whose @requires this is. */
  field: string;
  type: string;
  /** The required field (its name is its response name in the representation). */
  name: string;
  args: readonly ArgumentNode[];
  argsKey: string;
  selectionSet: SelectionSetNode | undefined;
}

function requirementsOf(site: Site, sites: PlanSites, index: SupergraphIndex): Requirement[] {
  const requirements: Requirement[] = [];
  const operation = sites.documentOf(site).definitions[0] as OperationDefinitionNode;
  for (const entities of fieldsNamed(operation.selectionSet, '_entities')) {
    for (const fragment of entities.selectionSet?.selections ?? []) {
      if (fragment.kind !== Kind.INLINE_FRAGMENT || !fragment.typeCondition) continue;
      const type = fragment.typeCondition.name.value;
      for (const selection of fragment.selectionSet.selections) {
        if (selection.kind !== Kind.FIELD) continue;
        const requires = index.fields.get(`${type}.${selection.name.value}`)?.get(site.fetch.serviceName)?.requires;
        if (!requires || !requires.includes('(')) continue;
        for (const required of parseFieldSet(requires).selections) {
          if (required.kind !== Kind.FIELD || !required.arguments?.length) continue;
          requirements.push({
            field: responseName(selection),
            type,
            name: required.name.value,
            args: required.arguments,
            argsKey: argumentsKey(required.arguments),
            selectionSet: required.selectionSet,
          });
        }
      }
    }
  }
  return requirements;
}

/** Whether the client's own operation asks for `name(args)` at `path`. */
function clientAsks(context: PlanFixContext, path: readonly string[], name: string, argsKey: string): boolean {
  const operation = clientOperation(context);
  if (!operation) return false;
  const sets = setsAt([operation.selectionSet], path);
  return sets.some((set) => fieldsNamed(set, name).some((f) => f.name.value === name && argumentsKey(f.arguments) === argsKey));
}

function fixRequiredArguments(sites: PlanSites, index: SupergraphIndex, context: PlanFixContext): boolean {
  let changed = false;
  let aliasCount = 0;
  for (const [position, consumer] of [...sites.sites.entries()]) {
    if (!consumer.fetch.requires) continue;
    const requirements = requirementsOf(consumer, sites, index);
    if (requirements.length === 0) continue;
    const path = consumer.path;
    /** Per consumer field: the aliases its required fields are read from (name → alias). */
    const aliasesOf = new Map<string, Map<string, string>>();
    for (const requirement of requirements) {
      const { name, argsKey } = requirement;
      const writers = sites.sites.flatMap((site) =>
        sites.setsOf(site, path).flatMap((set) => fieldsNamed(set, name).filter((f) => f.name.value === name).map((field) => ({ site, set, field }))),
      );
      let aliases = aliasesOf.get(requirement.field);
      if (!aliases) aliasesOf.set(requirement.field, (aliases = new Map()));
      // Read from the field's own name: the variant that lands there is the right one.
      aliases.set(name, '');
      if (writers.every((w) => argumentsKey(w.field.arguments) === argsKey)) continue;
      if (clientAsks(context, path, name, argsKey)) continue;
      const earlier = writers.filter((w) => sites.sites.indexOf(w.site) < position);
      const exact = earlier.find((w) => argumentsKey(w.field.arguments) === argsKey);
      let alias: string;
      if (exact) {
        // The planner asked for the right variant, but under the name another variant also lands on.
        alias = exact.field.alias?.value ?? `${name}__required${aliasCount++}`;
        (exact.field as Mutable<FieldNode>).alias = { kind: Kind.NAME, value: alias };
        exact.site.edited = true;
      } else {
        const other = earlier[earlier.length - 1];
        if (!other) continue;
        // The planner fetched another variant only: the same subgraph fetches this one too, under an alias.
        alias = `${name}__required${aliasCount++}`;
        const field: FieldNode = {
          kind: Kind.FIELD,
          alias: { kind: Kind.NAME, value: alias },
          name: { kind: Kind.NAME, value: name },
          arguments: clone(requirement.args),
          directives: [],
          ...(other.field.selectionSet ? { selectionSet: clone(other.field.selectionSet) } : {}),
        };
        (other.set as unknown as MSelectionSet).selections.push(field);
        other.site.edited = true;
      }
      aliases.set(name, alias);
      changed = true;
    }
    if ([...aliasesOf.values()].some((aliases) => [...aliases.values()].some((alias) => alias !== ''))) splitConsumer(consumer, sites, aliasesOf);
  }
  return changed;
}

/**
 * Rewrite a consumer so that each of its fields reads its required variants from their aliases: one fetch per
 * set of fields that agree on which alias each required name is read from.
 */
function splitConsumer(consumer: Site, sites: PlanSites, aliasesOf: Map<string, Map<string, string>>): void {
  const operation = sites.documentOf(consumer).definitions[0] as OperationDefinitionNode;
  const entities = fieldsNamed(operation.selectionSet, '_entities')[0];
  const fragments = (entities?.selectionSet?.selections ?? []).filter((s) => s.kind === Kind.INLINE_FRAGMENT);
  const groups: { aliases: Map<string, string>; fields: Set<string> }[] = [];
  const compatible = (a: Map<string, string>, b: Map<string, string>) => [...a].every(([name, alias]) => !b.has(name) || b.get(name) === alias);
  for (const [field, aliases] of aliasesOf) {
    const group = groups.find((g) => compatible(g.aliases, aliases));
    if (group) {
      for (const [name, alias] of aliases) group.aliases.set(name, alias);
      group.fields.add(field);
    } else groups.push({ aliases: new Map(aliases), fields: new Set([field]) });
  }
  // Fields that read no alias go with the first group; more than one entity type per fetch is not split.
  if (groups.length > 1 && fragments.length !== 1) return;
  const allFields = new Set(fragments.flatMap((f) => (f.kind === Kind.INLINE_FRAGMENT ? f.selectionSet.selections : []).filter((s): s is FieldNode => s.kind === Kind.FIELD).map(responseName)));
  const grouped = new Set(groups.flatMap((g) => [...g.fields]));
  const first = groups[0];
  if (!first) return;
  for (const field of allFields) if (!grouped.has(field)) first.fields.add(field);
  const replacements = groups.map((group) => {
    const document = clone(sites.documentOf(consumer));
    if (groups.length > 1) {
      const op = document.definitions[0] as OperationDefinitionNode;
      const fragment = fieldsNamed(op.selectionSet, '_entities')[0]?.selectionSet?.selections.find((s) => s.kind === Kind.INLINE_FRAGMENT);
      if (fragment && fragment.kind === Kind.INLINE_FRAGMENT) {
        (fragment.selectionSet as unknown as MSelectionSet).selections = fragment.selectionSet.selections.filter((s) => s.kind !== Kind.FIELD || group.fields.has(responseName(s)));
      }
    }
    const rewrites: FetchDataRewrite[] = [...(consumer.fetch.inputRewrites ?? [])];
    const requires = (consumer.fetch.requires ?? []).map((selection) => {
      if (selection.kind !== 'InlineFragment' || !selection.typeCondition) return selection;
      return {
        ...selection,
        selections: selection.selections.map((s) => {
          if (s.kind !== 'Field') return s;
          const alias = group.aliases.get(s.name);
          if (!alias) return s;
          rewrites.push({ kind: 'KeyRenamer', path: [`... on ${selection.typeCondition}`, alias], renameKeyTo: s.name });
          return { ...s, alias };
        }),
      };
    });
    const used = pruneUnusedVariables(document);
    const variableUsages = consumer.fetch.variableUsages?.filter((name) => used.has(name));
    const site: Site = { fetch: { ...consumer.fetch, requires, inputRewrites: rewrites, ...(variableUsages ? { variableUsages } : {}) }, path: consumer.path, document, edited: true };
    return finishFetch(site);
  });
  consumer.replacedBy = replacements;
}

/** Drop the variable definitions a (split) operation no longer uses; the names it still uses. */
function pruneUnusedVariables(document: DocumentNode): Set<string> {
  const used = new Set<string>();
  const visitValue = (value: ValueNode): void => {
    if (value.kind === Kind.VARIABLE) used.add(value.name.value);
    else if (value.kind === Kind.LIST) value.values.forEach(visitValue);
    else if (value.kind === Kind.OBJECT) value.fields.forEach((f) => visitValue(f.value));
  };
  const visitDirectives = (directives: readonly DirectiveNode[] | undefined) => directives?.forEach((d) => d.arguments?.forEach((a) => visitValue(a.value)));
  const visitSet = (set: SelectionSetNode): void => {
    for (const selection of set.selections) {
      visitDirectives(selection.directives);
      if (selection.kind === Kind.FIELD) selection.arguments?.forEach((a) => visitValue(a.value));
      if (selection.kind !== Kind.FRAGMENT_SPREAD && selection.selectionSet) visitSet(selection.selectionSet);
    }
  };
  const operation = document.definitions[0] as Mutable<OperationDefinitionNode>;
  visitSet(operation.selectionSet);
  if (operation.variableDefinitions) operation.variableDefinitions = operation.variableDefinitions.filter((v) => used.has(v.variable.name.value));
  return used;
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Members of a union or interface that the planner drops. For a field of abstract type that several subgraphs
// resolve (@shareable), Apollo's planner keeps only the members every one of them has, so `... on OnlyA` never
// reaches the subgraph whose field returns OnlyA objects, and their fields come back null. The client's fragment on
// a member the fetching subgraph has is put back into the fetch, with the fields that subgraph resolves itself.

function clientOperation(context: PlanFixContext): OperationDefinitionNode | undefined {
  const operation = context.document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (context.operationName === undefined || d.name?.value === context.operationName),
  );
  if (!operation) return undefined;
  const document = inlineFragments({ kind: Kind.DOCUMENT, definitions: [operation, ...context.document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION)] });
  return document.definitions[0] as OperationDefinitionNode;
}

function fixDroppedMembers(sites: PlanSites, index: SupergraphIndex, context: PlanFixContext): boolean {
  const client = clientOperation(context);
  if (!client) return false;
  const rootType = client.operation === 'query' ? 'Query' : client.operation === 'mutation' ? 'Mutation' : undefined;
  if (!rootType) return false;
  let changed = false;
  for (const site of sites.sites) {
    const graph = site.fetch.serviceName;
    const operation = sites.documentOf(site).definitions[0] as OperationDefinitionNode;
    const clientSets = setsAt([client.selectionSet], site.path);
    if (clientSets.length === 0) continue;
    const starts: { set: SelectionSetNode; type: string }[] = [];
    if (!site.fetch.requires) starts.push({ set: operation.selectionSet, type: rootType });
    else
      for (const entities of setsAt([operation.selectionSet], ['_entities']))
        for (const s of entities.selections) if (s.kind === Kind.INLINE_FRAGMENT && s.typeCondition) starts.push({ set: s.selectionSet, type: s.typeCondition.name.value });
    for (const start of starts) {
      if (restoreMembers(start.set, clientSets, start.type, graph, index)) {
        site.edited = true;
        changed = true;
      }
    }
  }
  return changed;
}

/** Walk a fetch's selections beside the client's, putting back dropped members under fields of abstract type. */
function restoreMembers(fetchSet: SelectionSetNode, clientSets: SelectionSetNode[], type: string, graph: string, index: SupergraphIndex): boolean {
  let changed = false;
  for (const selection of fetchSet.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const inner = selection.typeCondition?.name.value ?? type;
      changed = restoreMembers(selection.selectionSet, clientSets, inner, graph, index) || changed;
      continue;
    }
    if (selection.kind !== Kind.FIELD || !selection.selectionSet) continue;
    const fieldType = index.fields.get(`${type}.${selection.name.value}`)?.get(graph)?.type ?? index.fieldTypes.get(type)?.get(selection.name.value);
    if (!fieldType) continue;
    const clientFields = clientSets.flatMap((set) => fieldsNamed(set, responseName(selection)).filter((f) => f.name.value === selection.name.value));
    const clientSubsets = clientFields.flatMap((f) => (f.selectionSet ? [f.selectionSet] : []));
    if (clientSubsets.length === 0) continue;
    const members = index.members.get(fieldType)?.get(graph);
    if (members) changed = restoreDropped(selection.selectionSet as unknown as MSelectionSet, clientSubsets, members, graph, index) || changed;
    changed = restoreMembers(selection.selectionSet, clientSubsets, fieldType, graph, index) || changed;
  }
  return changed;
}

function restoreDropped(fetchSet: MSelectionSet, clientSets: SelectionSetNode[], members: Set<string>, graph: string, index: SupergraphIndex): boolean {
  const present = new Set(fetchSet.selections.flatMap((s) => (s.kind === Kind.INLINE_FRAGMENT && s.typeCondition ? [s.typeCondition.name.value] : [])));
  let changed = false;
  for (const set of clientSets) {
    for (const selection of set.selections) {
      if (selection.kind !== Kind.INLINE_FRAGMENT || !selection.typeCondition || selection.directives?.length) continue;
      const member = selection.typeCondition.name.value;
      if (!members.has(member) || present.has(member)) continue;
      // Only leaves this subgraph resolves itself: anything more would need fetches the planner never planned.
      const fields = selection.selectionSet.selections.filter(
        (s): s is FieldNode => s.kind === Kind.FIELD && !s.selectionSet && !s.directives?.length && resolvesField(index, member, s.name.value, graph),
      );
      if (fields.length === 0 || fields.length !== selection.selectionSet.selections.length) continue;
      fetchSet.selections.push({ kind: Kind.INLINE_FRAGMENT, typeCondition: selection.typeCondition, directives: [], selectionSet: { kind: Kind.SELECTION_SET, selections: clone(fields) } });
      present.add(member);
      changed = true;
    }
  }
  return changed;
}
