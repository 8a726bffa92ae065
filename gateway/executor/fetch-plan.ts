import type { FetchDataRewrite, FetchNode, PlanNode, QueryPlanSelectionNode, ResponsePath } from '@apollo/query-planner';
import { isAbstractType, isInterfaceType, isObjectType, Kind, parse, type GraphQLFormattedError, type GraphQLSchema, type SelectionSetNode } from 'graphql';
import type { RequestScope } from '../../common/correlation.js';
import { SubgraphUnavailable, type SubgraphClient, type SubgraphResponse } from './subgraph-client.js';
import { compileLevelled, levelPlan } from './batch-plan.js';
import { formatError } from './executor.js';

/*
 * A query plan compiled once into closures specialised for it: each fetch knows its variables, how to build its
 * entity representations and its rewrites ahead of time; the run merges subgraph results into one tree (the
 * shaping and serialisation come after, in shape.ts). What it does is what @apollo/gateway's `executeQueryPlan`
 * does, step for step, so the two executors answer alike.
 */

export type Obj = Record<string, unknown>;

/** Per request. */
export interface RunContext {
  variables: Record<string, unknown>;
  scope: RequestScope;
  client: SubgraphClient;
  errors: GraphQLFormattedError[];
  root: Obj;
  answers: ReadonlyMap<FetchNode, SubgraphResponse> | undefined;
}

export interface Cursor {
  path: ResponsePath;
  data: Obj | Obj[];
}

/** Runs a node at a cursor; resolves to the milliseconds of its critical path of subgraph fetches. */
export type NodeRunner = (cursor: Cursor, context: RunContext) => Promise<number>;

/** Locates the error of a fetch that got no answer (see `fetch`). */
export type Unavailable = (error: SubgraphUnavailable, cursor: Cursor, context: RunContext, entities: readonly Obj[], owners?: readonly number[]) => void;

export interface PreparedEntities {
  entities: Obj[];
  /** Representation i is of entities[owners[i]]. */
  owners: number[];
  representations: Obj[];
  /** The fetch's variables, `representations` included. */
  variables: Obj;
}

export interface EntityStep {
  node: FetchNode;
  unavailable: Unavailable;
  prepare(entities: Obj[], variables: Obj): PreparedEntities | undefined;
  /** `errorPath` turns an error's path in the request into one starting at `_entities`. */
  apply(prepared: PreparedEntities, cursor: Cursor, context: RunContext, received: unknown, errors: readonly GraphQLFormattedError[] | undefined, errorPath: (path: readonly (string | number)[]) => readonly (string | number)[]): void;
}

const hasOwn = Object.prototype.hasOwnProperty;

function getOwn(value: Obj, key: string): unknown {
  return hasOwn.call(value, key) ? value[key] : undefined;
}

/** Set `key` on `target` as its own property even when the name is one of Object.prototype's. */
/** Object.prototype's names: the only keys a plain assignment could resolve to an inherited property. */
const PROTO_KEYS: Record<string, true> = Object.assign(Object.create(null) as Record<string, true>, Object.fromEntries(Object.getOwnPropertyNames(Object.prototype).map((k) => [k, true])));

function setOwn(target: Obj, key: string, value: unknown): void {
  if (PROTO_KEYS[key] === true && !hasOwn.call(target, key)) Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

function isObject(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Apollo's deepMerge: objects merged key by key, lists of the same length element by element. */
export function deepMerge(target: Obj, source: unknown): void {
  if (source === undefined || source === null) return;
  for (const key of Object.keys(source as Obj)) {
    const value = (source as Obj)[key];
    if (value === undefined) continue;
    const existing = hasOwn.call(target, key) ? target[key] : undefined;
    if (existing && isObject(value)) {
      deepMerge(existing as Obj, value);
    } else if (Array.isArray(value) && Array.isArray(existing) && value.length === existing.length) {
      for (let i = 0; i < value.length; i++) {
        const into = existing[i] as unknown;
        const from = value[i] as unknown;
        if (isObject(into) && isObject(from)) deepMerge(into, from);
        else existing[i] = from;
      }
    } else if (PROTO_KEYS[key] === true) {
      setOwn(target, key, value);
    } else {
      target[key] = value;
    }
  }
}

export class PlanCompiler {
  /** Whether objects named `typename` satisfy a type condition, by condition and typename. */
  private readonly conditionCache = new Map<string, Map<string, boolean>>();

  constructor(private readonly supergraphSchema: GraphQLSchema) {}

  /** The runner of a whole plan: levelled into waves of batched requests where that saves requests (batch-plan.ts). */
  compilePlan(node: PlanNode): NodeRunner {
    const levelled = levelPlan(node);
    return levelled ? compileLevelled(levelled, this, (fetch) => this.fetch(fetch)) : this.compile(node);
  }

  compile(node: PlanNode): NodeRunner {
    switch (node.kind) {
      case 'Sequence': {
        const children = node.nodes.map((child) => this.compile(child));
        return async (cursor, context) => {
          let total = 0;
          for (const child of children) total += await child(cursor, context);
          return total;
        };
      }
      case 'Parallel': {
        const children = node.nodes.map((child) => this.compile(child));
        return async (cursor, context) => {
          const times = await Promise.all(children.map((child) => child(cursor, context)));
          return times.length ? Math.max(...times) : 0;
        };
      }
      case 'Flatten': {
        const inner = this.compile(node.node);
        const path = node.path;
        return (cursor, context) => {
          const data = flattenAtPath(cursor.data, path);
          if (data === undefined || data === null) return Promise.resolve(0);
          return inner({ path: cursor.path.concat(path), data }, context);
        };
      }
      case 'Fetch':
        return this.fetch(node);
      case 'Condition': {
        const whenTrue = node.ifClause ? this.compile(node.ifClause) : undefined;
        const whenFalse = node.elseClause ? this.compile(node.elseClause) : undefined;
        const name = node.condition;
        return (cursor, context) => {
          const branch = context.variables[name] === true ? whenTrue : whenFalse;
          return branch ? branch(cursor, context) : Promise.resolve(0);
        };
      }
      case 'Defer':
        throw new Error('@defer is not served by this gateway');
      default: {
        const never: never = node;
        throw new Error(`unknown plan node ${JSON.stringify(never)}`);
      }
    }
  }

  private fetch(node: FetchNode): NodeRunner {
    const { serviceName } = node;
    const usages = node.variableUsages ?? [];
    const outputRewrites = this.rewrites(node.outputRewrites);
    const kind = node.operationKind === 'mutation' ? 'mutation' : node.operationKind === 'subscription' ? 'subscription' : 'query';
    const unavailable = this.unavailable(node);

    /** A root fetch (no `requires`); entity fetches go through their EntityStep. */
    const send = async (variables: Obj, cursor: Cursor, context: RunContext): Promise<Obj | undefined> => {
      const answered = context.answers?.get(node);
      const response = answered ?? (await context.client.fetch(serviceName, { query: node.operation, variables, operationName: node.operationName, kind }, context.scope));
      if (response.errors?.length) {
        const pathOf = errorPathMapper(node, cursor, context.root, undefined);
        for (const error of response.errors) context.errors.push(downstreamError(error, serviceName, pathOf));
      }
      return (response.data ?? undefined) as Obj | undefined;
    };

    const entityStep = node.requires ? this.entityStep(node, unavailable) : undefined;
    return async (cursor, context) => {
      const entities: Obj[] = Array.isArray(cursor.data) ? cursor.data.filter((e) => e !== null && e !== undefined) : [cursor.data];
      if (entities.length === 0) return 0;
      let owners: number[] | undefined;
      const variables: Obj = {};
      for (const name of usages) {
        const value = context.variables[name];
        if (value !== undefined) variables[name] = value;
      }
      const started = performance.now();
      try {
        if (!entityStep) {
          const data = await send(variables, cursor, context);
          if (data) {
            outputRewrites?.(data);
            for (const entity of entities) deepMerge(entity, data);
          }
          return performance.now() - started;
        }
        const prepared = entityStep.prepare(entities, variables);
        if (!prepared) return 0;
        owners = prepared.owners;
        const response = context.answers?.get(node) ?? (await context.client.fetch(serviceName, { query: node.operation, variables: prepared.variables, operationName: node.operationName, kind }, context.scope));
        const elapsed = performance.now() - started;
        entityStep.apply(prepared, cursor, context, response.data?._entities, response.errors, (path) => path);
        return elapsed;
      } catch (error) {
        if (error instanceof SubgraphUnavailable) unavailable(error, cursor, context, entities, owners);
        else context.errors.push(formatError(error));
        return performance.now() - started;
      }
    };
  }

  /** What a fetch that got no answer puts in the response. */
  unavailable(node: FetchNode): Unavailable {
    const answers = answeredFields(node);
    /**
     * A fetch that got no answer at all: the error is located at the fields it would have answered (each root
     * field; for entities, the first field asked of each), so a client sees which parts are missing.
     */
    return (error, cursor, context, entities, owners) => {
      const formatted = formatError(error);
      if (!node.requires) {
        const keys = answers.root.length ? answers.root : [undefined];
        for (const key of keys) context.errors.push(key === undefined ? formatted : { ...formatted, path: [...cursor.path, key] });
        return;
      }
      const hydrated: ResponsePath[] = [];
      hydratePaths([], cursor.path, 0, context.root, hydrated);
      const indexes = owners ?? entities.map((_, i) => i);
      let located = 0;
      for (const index of indexes.slice(0, MAX_LOCATED_ERRORS)) {
        const entity = entities[index] as Obj;
        const key = answers.byType.get(String(entity.__typename)) ?? answers.any;
        const path = hydrated[index];
        if (!path || key === undefined) continue;
        context.errors.push({ ...formatted, path: [...path, key] });
        located++;
      }
      if (located === 0) context.errors.push(formatted);
    };
  }

  /**
   * An entity fetch in two halves, so that several can share one request (batch-plan.ts): `prepare` builds the
   * representations of the entities at its path, `apply` merges what `_entities` answered into them and maps
   * the errors to their response paths.
   */
  entityStep(node: FetchNode, unavailable: Unavailable): EntityStep {
    const serviceName = node.serviceName;
    const isAbstractName = (name: unknown): boolean => typeof name === 'string' && this.isAbstract(name);
    const buildRepresentation = this.selection(node.requires ?? []);
    const inputRewrites = this.rewrites(node.inputRewrites);
    const outputRewrites = this.rewrites(node.outputRewrites);
    return {
      node,
      unavailable,
      prepare(entities, variables) {
        const representations: Obj[] = [];
        const owners: number[] = [];
        for (let i = 0; i < entities.length; i++) {
          const representation = buildRepresentation(entities[i] as Obj);
          if (representation && representation.__typename) {
            inputRewrites?.(representation);
            representations.push(representation);
            owners.push(i);
          }
        }
        if (representations.length === 0) return undefined;
        if ('representations' in variables) throw new Error('Variables cannot contain key "representations"');
        return { entities, owners, representations, variables: { ...variables, representations } };
      },
      apply(prepared, cursor, context, received, errors, errorPath) {
        if (errors?.length) {
          const pathOf = errorPathMapper(node, cursor, context.root, prepared.owners);
          for (const error of errors) {
            const path = error.path ? errorPath(error.path) : undefined;
            context.errors.push(downstreamError({ ...error, ...(path ? { path } : {}) }, serviceName, pathOf));
          }
        }
        if (received === undefined || received === null) return;
        if (!Array.isArray(received)) throw new Error('Expected "data._entities" in response to be an array');
        if (received.length !== prepared.representations.length) throw new Error(`Expected "data._entities" to contain ${prepared.representations.length} elements`);
        for (let i = 0; i < received.length; i++) {
          const entity = received[i] as Obj | null;
          const owner = prepared.entities[prepared.owners[i] as number] as Obj;
          // An @interfaceObject subgraph answers with the interface's name: the concrete type already known stays
          // (Apollo's executor lets the interface name overwrite it, and the object's fragments then match nothing).
          if (entity && (!entity.__typename || (owner.__typename && owner.__typename !== entity.__typename && isAbstractName(entity.__typename)))) entity.__typename = owner.__typename;
          if (entity) outputRewrites?.(entity);
          deepMerge(owner, entity);
        }
      },
    };
  }

  /** Apollo's executeSelectionSet for `requires`: the representation of an entity, or null when an input is missing. */
  private selection(selections: readonly QueryPlanSelectionNode[]): (source: Obj | null) => Obj | null {
    const steps = selections.map((selection) => {
      if (selection.kind === 'Field') {
        const key = selection.alias ?? selection.name;
        const sub = selection.selections ? this.selection(selection.selections) : undefined;
        return (source: Obj, result: Obj): boolean => {
          const value = getOwn(source, key);
          if (value === undefined) return false;
          // `result` has no prototype: a plain assignment always makes an own property.
          result[key] = Array.isArray(value) ? (sub ? value.map((v: Obj | null) => sub(v)) : value) : sub ? sub(value as Obj | null) : value;
          return true;
        };
      }
      const condition = selection.typeCondition;
      const sub = this.selection(selection.selections);
      return (source: Obj, result: Obj): boolean => {
        if (condition && this.isOfType(source, condition)) deepMerge(result, sub(source));
        return true;
      };
    });
    return (source) => {
      if (source === null) return null;
      const result: Obj = Object.create(null) as Obj;
      for (const step of steps) if (!step(source, result)) return null;
      return result;
    };
  }

  private readonly abstractNames = new Map<string, boolean>();

  /** Whether the supergraph's type of that name is an interface or a union. */
  private isAbstract(name: string): boolean {
    let answer = this.abstractNames.get(name);
    if (answer === undefined) {
      const type = this.supergraphSchema.getType(name);
      answer = !!type && isAbstractType(type);
      this.abstractNames.set(name, answer);
    }
    return answer;
  }

  /** Apollo's isObjectOfType, memoised by (condition, typename). */
  private isOfType(value: Obj, condition: string, whenUnknown = false): boolean {
    const typename = value.__typename;
    if (typeof typename !== 'string' || typename === '') return whenUnknown;
    if (typename === condition) return true;
    let byType = this.conditionCache.get(condition);
    if (!byType) {
      byType = new Map();
      this.conditionCache.set(condition, byType);
    }
    let answer = byType.get(typename);
    if (answer === undefined) {
      const type = this.supergraphSchema.getType(typename);
      const conditionType = this.supergraphSchema.getType(condition);
      answer = !!type && !!conditionType && isAbstractType(conditionType) && (isObjectType(type) || isInterfaceType(type)) && this.supergraphSchema.isSubType(conditionType, type);
      byType.set(typename, answer);
    }
    return answer;
  }

  /** Apollo's applyRewrites, with each rewrite's path parsed once. */
  private rewrites(rewrites: readonly FetchDataRewrite[] | undefined): ((value: Obj) => void) | undefined {
    if (!rewrites?.length) return undefined;
    const compiled = rewrites.flatMap((rewrite) => {
      if (rewrite.path.length === 0) return [];
      const parent = rewrite.path.slice(0, -1).map((element) => (element.startsWith('... on ') ? { type: element.slice(7) } : { field: element }));
      const last = rewrite.path[rewrite.path.length - 1] as string;
      const apply =
        rewrite.kind === 'ValueSetter'
          ? (obj: Obj) => setOwn(obj, last, rewrite.setValueTo)
          : (obj: Obj) => {
              const value = getOwn(obj, last);
              // Apollo renames only truthy values; a required 0, false or null must still reach the subgraph
              // under the name it asked for (plan-fixes.ts aliases required scalars).
              if (value !== undefined) {
                setOwn(obj, rewrite.renameKeyTo, value);
                obj[last] = undefined;
              }
            };
      const walk = (value: unknown, depth: number): void => {
        if (Array.isArray(value)) {
          for (const item of value) walk(item, depth);
          return;
        }
        if (typeof value !== 'object' || value === null) return;
        const step = parent[depth];
        if (!step) return apply(value as Obj);
        if ('field' in step) walk(getOwn(value as Obj, step.field as string), depth + 1);
        else if (this.isOfType(value as Obj, step.type as string, true)) walk(value, depth + 1);
      };
      return [(value: Obj) => walk(value, 0)];
    });
    return (value) => {
      for (const rewrite of compiled) rewrite(value);
    };
  }
}

/** Errors located per entity for one failed fetch at most: a list of thousands must not answer thousands of errors. */
const MAX_LOCATED_ERRORS = 100;

/** The response keys a fetch answers: its root fields, or per entity type the first field it asks of it. */
function answeredFields(node: FetchNode): { root: string[]; byType: Map<string, string>; any: string | undefined } {
  const byType = new Map<string, string>();
  let any: string | undefined;
  let root: string[] = [];
  const keysOf = (selectionSet: SelectionSetNode): string[] =>
    selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD && s.name.value !== '__typename' ? [s.alias?.value ?? s.name.value] : []));
  try {
    const document = node.operationDocumentNode ?? parse(node.operation);
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    if (operation?.kind !== Kind.OPERATION_DEFINITION) return { root, byType, any };
    if (!node.requires) {
      root = keysOf(operation.selectionSet);
      return { root, byType, any };
    }
    const entitiesField = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD && s.name.value === '_entities');
    for (const selection of entitiesField?.kind === Kind.FIELD ? (entitiesField.selectionSet?.selections ?? []) : []) {
      if (selection.kind !== Kind.INLINE_FRAGMENT) continue;
      const first = keysOf(selection.selectionSet)[0];
      if (first === undefined) continue;
      if (selection.typeCondition) byType.set(selection.typeCondition.name.value, first);
      any ??= first;
    }
  } catch {
    // An operation the planner wrote always parses; without it the error is simply not located.
  }
  return { root, byType, any };
}

/**
 * Apollo's flattenResultsAtPath (`@` flat-maps a list), collecting into one array instead of a flatMap per level:
 * on deep plans the intermediate arrays were most of what a fetch allocated.
 */
export function flattenAtPath(value: unknown, path: ResponsePath, from = 0): Obj | Obj[] | undefined | null {
  let at = from;
  let current: unknown = value;
  while (at < path.length && path[at] !== '@') {
    if (current === undefined || current === null) return current;
    if (Array.isArray(current)) throw new Error(`Unexpected array in result for path element ${String(path[at])}`);
    current = getOwn(current as Obj, path[at] as string);
    at++;
  }
  if (at === path.length || current === undefined || current === null) return current as Obj | Obj[] | undefined | null;
  const out: unknown[] = [];
  for (const element of current as unknown[]) collectAtPath(element, path, at + 1, out);
  return out as Obj[];
}

function collectAtPath(value: unknown, path: ResponsePath, at: number, out: unknown[]): void {
  if (at === path.length) {
    if (Array.isArray(value)) for (const item of value) out.push(item);
    else out.push(value);
    return;
  }
  if (value === undefined || value === null) {
    out.push(value);
    return;
  }
  const current = path[at];
  if (current === '@') {
    for (const element of value as unknown[]) collectAtPath(element, path, at + 1, out);
    return;
  }
  if (Array.isArray(value)) throw new Error(`Unexpected array in result for path element ${String(current)}`);
  collectAtPath(getOwn(value as Obj, current as string), path, at + 1, out);
}

/**
 * Maps a subgraph error's path into the response: `_entities.i.rest` becomes the path of the entity behind
 * representation i (computed only when there are errors), a root fetch's path is prefixed by the cursor's.
 */
function errorPathMapper(node: FetchNode, cursor: Cursor, root: Obj, owners: readonly number[] | undefined): (path: readonly (string | number)[] | undefined) => (string | number)[] | undefined {
  let hydrated: ResponsePath[] | undefined;
  return (path) => {
    if (!path) return undefined;
    if (node.requires && typeof path[1] === 'number') {
      if (!hydrated) {
        hydrated = [];
        hydratePaths([], cursor.path, 0, root, hydrated);
      }
      // Representation i belongs to entity owners[i]: entities whose type no condition matched sent none.
      return [...(hydrated[owners?.[path[1]] ?? path[1]] ?? []), ...path.slice(2)];
    }
    return [...cursor.path, ...path];
  };
}

/** Apollo's generateHydratedPaths: the concrete paths (indexes for `@`) of the non-null values at `path`. */
function hydratePaths(parent: (string | number)[], path: ResponsePath, from: number, data: unknown, result: ResponsePath[]): void {
  if (data === null || data === undefined) return;
  const head = path[from];
  if (head === undefined) {
    result.push(parent.slice());
  } else if (Array.isArray(data)) {
    (data as unknown[]).forEach((value, i) => {
      parent.push(i);
      hydratePaths(parent, path, head === '@' ? from + 1 : from, value, result);
      parent.pop();
    });
  } else if (head !== '@' && hasOwn.call(data, head)) {
    parent.push(head);
    hydratePaths(parent, path, from + 1, (data as Obj)[head as string], result);
    parent.pop();
  }
}

/** Apollo's downstreamServiceError: the subgraph's message and extensions, the service named, a code always. */
function downstreamError(error: GraphQLFormattedError, serviceName: string, pathOf: (path: readonly (string | number)[] | undefined) => (string | number)[] | undefined): GraphQLFormattedError {
  const path = pathOf(error.path);
  const extensions = { ...error.extensions, serviceName } as Record<string, unknown>;
  if (extensions.code === undefined) extensions.code = 'DOWNSTREAM_SERVICE_ERROR';
  return { message: error.message || `Error while fetching subquery from service "${serviceName}"`, ...(path ? { path } : {}), extensions };
}
