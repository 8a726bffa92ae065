import type { FetchNode, PlanNode, ResponsePath } from '@apollo/query-planner';
import { Kind, parse, print, visit, type DefinitionNode, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode, type VariableDefinitionNode } from 'graphql';
import { formatError } from './executor.js';
import { flattenAtPath, type Cursor, type EntityStep, type NodeRunner, type Obj, type PlanCompiler, type PreparedEntities, type RunContext } from './fetch-plan.js';
import { SubgraphUnavailable, type SubgraphResponse } from './subgraph-client.js';

/*
 * Fewer subgraph requests per operation. Apollo's plan is a tree: each branch fetches as soon as its parent's
 * data is in, so one subgraph is asked several times at the same depth of the response (the heavy benchmark
 * query: 16 requests, where Hive's planner makes 7). Here the plan's fetches are put in waves instead: a fetch
 * runs in the wave after the last fetch it waits for, and a fetch nothing waits for runs in the last wave that
 * asks its subgraph anyway. Entity fetches of one subgraph in one wave go as one request, each under its own
 * alias (`b0: _entities(representations: $r0) { … } b1: …`). The number of waves is the depth of Apollo's plan,
 * so the critical path does not grow; the requests it takes do.
 *
 * Only plans of queries whose fetches carry no rewrites are levelled (mutations keep their order as planned,
 * conditions and rewrites keep Apollo's tree); any other plan runs as Apollo's tree.
 */

interface PlannedFetch {
  node: FetchNode;
  /** From the root of the response: the Flatten paths above the fetch, joined. */
  path: ResponsePath;
  /** Fetches that must be done first (Apollo's Sequence order). */
  after: number[];
  wave: number;
}

class NotLevelled extends Error {}

/** The plan's fetches with what each waits for, or undefined when the plan is not one this levels. */
function fetchesOf(node: PlanNode): PlannedFetch[] | undefined {
  const fetches: PlannedFetch[] = [];
  const walk = (current: PlanNode, path: ResponsePath, after: number[]): number[] => {
    switch (current.kind) {
      case 'Fetch': {
        if (current.operationKind !== 'query' || current.inputRewrites?.length || current.outputRewrites?.length || current.contextRewrites?.length) throw new NotLevelled();
        fetches.push({ node: current, path, after, wave: 0 });
        return [fetches.length - 1];
      }
      case 'Flatten':
        return walk(current.node, path.concat(current.path), after);
      case 'Sequence': {
        let before = after;
        const all: number[] = [];
        for (const child of current.nodes) {
          const ids = walk(child, path, before);
          before = before.concat(ids);
          all.push(...ids);
        }
        return all;
      }
      case 'Parallel':
        return current.nodes.flatMap((child) => walk(child, path, after));
      default:
        throw new NotLevelled();
    }
  };
  try {
    walk(node, [], []);
  } catch (error) {
    if (error instanceof NotLevelled) return undefined;
    throw error;
  }
  return fetches;
}

/** A plan levelled: waves of fetch groups (one group: one request), and where each fetch's data lands. */
export interface LevelledPlan {
  waves: FetchNode[][][];
  paths: Map<FetchNode, ResponsePath>;
}

/** The plan levelled, or undefined when levelling would not save a request. */
export function levelPlan(node: PlanNode): LevelledPlan | undefined {
  const fetches = fetchesOf(node);
  if (!fetches || fetches.length < 2) return undefined;
  for (const fetch of fetches) fetch.wave = fetch.after.length ? 1 + Math.max(...fetch.after.map((i) => (fetches[i] as PlannedFetch).wave)) : 0;
  const waitedFor = new Set(fetches.flatMap((f) => f.after));
  const lastWaveOf = new Map<string, number>();
  for (const fetch of fetches) lastWaveOf.set(fetch.node.serviceName, Math.max(lastWaveOf.get(fetch.node.serviceName) ?? 0, fetch.wave));
  fetches.forEach((fetch, i) => {
    if (!waitedFor.has(i) && fetch.node.requires) fetch.wave = lastWaveOf.get(fetch.node.serviceName) ?? fetch.wave;
  });
  const waves: Map<string, FetchNode[]>[] = [];
  let requests = 0;
  for (const fetch of fetches) {
    const wave = (waves[fetch.wave] ??= new Map());
    // Root fetches are not merged: their selections could collide on response names.
    const key = fetch.node.requires ? fetch.node.serviceName : `root ${requests}`;
    const group = wave.get(key);
    if (group) group.push(fetch.node);
    else {
      wave.set(key, [fetch.node]);
      requests++;
    }
  }
  if (requests >= fetches.length) return undefined;
  return { waves: waves.filter(Boolean).map((wave) => [...wave.values()]), paths: new Map(fetches.map((f) => [f.node, f.path])) };
}

/** The runner of a levelled plan: the waves in order, each wave's requests at once. */
export function compileLevelled({ waves, paths }: LevelledPlan, compiler: PlanCompiler, single: (fetch: FetchNode) => NodeRunner): NodeRunner {
  const compiled = waves.map((wave) =>
    wave.map((group): ((context: RunContext) => Promise<number>) => {
      if (group.length === 1) {
        const only = group[0] as FetchNode;
        const run = single(only);
        const path = paths.get(only) as ResponsePath;
        return (context) => {
          const data = flattenAtPath(context.root, path);
          return data === undefined || data === null ? Promise.resolve(0) : run({ path, data }, context);
        };
      }
      return batchRunner(group, paths, compiler);
    }),
  );
  return async (_cursor, context) => {
    let total = 0;
    for (const wave of compiled) {
      const times = await Promise.all(wave.map((run) => run(context)));
      total += Math.max(0, ...times);
    }
    return total;
  };
}

/** Several entity fetches to one subgraph as one request. */
function batchRunner(group: FetchNode[], paths: Map<FetchNode, ResponsePath>, compiler: PlanCompiler): (context: RunContext) => Promise<number> {
  const serviceName = (group[0] as FetchNode).serviceName;
  const steps: EntityStep[] = group.map((fetch) => compiler.entityStep(fetch, compiler.unavailable(fetch)));
  const { query, usages } = batchedOperation(group);
  return async (context) => {
    const prepared: { step: EntityStep; cursor: Cursor; batch: PreparedEntities | undefined; entities: Obj[] }[] = [];
    const variables: Obj = {};
    for (const name of usages) if (context.variables[name] !== undefined) variables[name] = context.variables[name];
    steps.forEach((step, i) => {
      const path = paths.get(step.node) as ResponsePath;
      const data = flattenAtPath(context.root, path);
      const entities = data === undefined || data === null ? [] : (Array.isArray(data) ? data : [data]).filter((e) => e !== null && e !== undefined);
      const batch = entities.length ? step.prepare(entities, {}) : undefined;
      variables[`r${i}`] = batch?.representations ?? [];
      prepared.push({ step, cursor: { path, data: entities }, batch, entities });
    });
    if (prepared.every((p) => !p.batch)) return 0;
    const started = performance.now();
    let response: SubgraphResponse;
    try {
      response = await context.client.fetch(serviceName, { query, variables, operationName: undefined, kind: 'query' }, context.scope);
    } catch (error) {
      for (const { step, cursor, batch, entities } of prepared) {
        if (!batch) continue;
        if (error instanceof SubgraphUnavailable) step.unavailable(error, cursor, context, entities, batch.owners);
        else context.errors.push(formatError(error));
      }
      return performance.now() - started;
    }
    const elapsed = performance.now() - started;
    const errorsOf = new Map<number, NonNullable<SubgraphResponse['errors']>[number][]>();
    for (const error of response.errors ?? []) {
      const alias = typeof error.path?.[0] === 'string' ? /^b(\d+)$/.exec(error.path[0]) : null;
      const index = alias ? Number(alias[1]) : 0;
      errorsOf.set(index, [...(errorsOf.get(index) ?? []), error]);
    }
    prepared.forEach(({ step, cursor, batch }, i) => {
      const errors = errorsOf.get(i);
      if (!batch) return;
      try {
        // The request's `b<i>` is the fetch's own `_entities`.
        step.apply(batch, cursor, context, (response.data as Obj | null | undefined)?.[`b${i}`], errors, (path) => (typeof path[0] === 'string' && /^b\d+$/.test(path[0]) ? ['_entities', ...path.slice(1)] : path));
      } catch (error) {
        context.errors.push(formatError(error));
      }
    });
    return elapsed;
  };
}

/**
 * One query holding each fetch's `_entities` under an alias of its own, with its representations in a variable
 * of its own and its fragments renamed apart (two fetches may name different fragments alike).
 */
function batchedOperation(group: FetchNode[]): { query: string; usages: string[] } {
  const variables = new Map<string, VariableDefinitionNode>();
  const fields: FieldNode[] = [];
  const fragments: DefinitionNode[] = [];
  group.forEach((fetch, i) => {
    const document: DocumentNode = fetch.operationDocumentNode ?? parse(fetch.operation);
    const renamed = visit(document, {
      FragmentSpread: (spread) => ({ ...spread, name: { ...spread.name, value: `${spread.name.value}__b${i}` } }),
      FragmentDefinition: (definition) => ({ ...definition, name: { ...definition.name, value: `${definition.name.value}__b${i}` } }),
      Variable: (variable) => (variable.name.value === 'representations' ? { ...variable, name: { ...variable.name, value: `r${i}` } } : undefined),
    });
    for (const definition of renamed.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.push(definition as FragmentDefinitionNode);
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      const operation = definition as OperationDefinitionNode;
      for (const variable of operation.variableDefinitions ?? []) variables.set(variable.variable.name.value, variable);
      for (const selection of operation.selectionSet.selections) {
        if (selection.kind === Kind.FIELD && selection.name.value === '_entities') fields.push({ ...selection, alias: { kind: Kind.NAME, value: `b${i}` } });
      }
    }
  });
  const operation: OperationDefinitionNode = {
    kind: Kind.OPERATION_DEFINITION,
    operation: 'query' as OperationDefinitionNode['operation'],
    name: { kind: Kind.NAME, value: 'Batch' },
    variableDefinitions: [...variables.values()],
    selectionSet: { kind: Kind.SELECTION_SET, selections: fields },
  };
  const usages = [...new Set(group.flatMap((fetch) => fetch.variableUsages ?? []))];
  return { query: print({ kind: Kind.DOCUMENT, definitions: [operation, ...fragments] }), usages };
}
