import { executeQueryPlan, type GraphQLDataSource, type ServiceMap } from '@apollo/gateway';
import type { PlanNode } from '@apollo/query-planner';
import { OperationTypeNode } from 'graphql';
import type { Logger } from '../../common/logger.js';
import { formatError, type ExecutionOutcome, type PlanExecutor } from './executor.js';
import type { GatewayPlanner, PlannedOperation } from './planner.js';
import type { SubgraphClient, SubgraphResponse } from './subgraph-client.js';

export interface ApolloExecutorOptions {
  planner: GatewayPlanner;
  client: SubgraphClient;
  logger: Logger;
}

/**
 * @apollo/gateway's own `executeQueryPlan` on the same plans, fetches and edge as ours (`GATEWAY_EXECUTOR=apollo`):
 * the reference our executor is compared with, and a fallback.
 */
export function createApolloExecutor(options: ApolloExecutorOptions): PlanExecutor {
  const { planner, client, logger } = options;
  const names = planner.supergraph.subgraphs().names();
  return {
    kind: 'apollo',
    async execute({ planned, variables, scope, answers }): Promise<ExecutionOutcome> {
      const serviceMap: ServiceMap = {};
      for (const name of names) {
        const source: GraphQLDataSource = {
          process: async ({ request }) => {
            if (answers) for (const [fetch, answer] of answers) if (fetch.serviceName === name && fetch.operation === request.query) return answer as never;
            const kind = fetchKinds(planned).get(request.query ?? '') ?? 'query';
            const response: SubgraphResponse = await client.fetch(name, { query: request.query ?? '', variables: (request.variables ?? {}) as Record<string, unknown>, operationName: request.operationName, kind }, scope);
            return response as never;
          },
        };
        serviceMap[name] = source;
      }
      const requestContext = {
        request: { query: '', variables, operationName: planned.operationName },
        context: { scope },
        logger,
        metrics: {},
        overallCachePolicy: {},
        cache: undefined,
      };
      const result = await executeQueryPlan(planned.queryPlan, serviceMap, requestContext as never, planned.operationContext(), planner.supergraphSchema, planner.apiSchemaInternal);
      return {
        data: 'data' in result ? JSON.stringify(result.data ?? null) : undefined,
        // A fetch that threw (SubgraphUnavailable) is in `errors` as thrown: formatted here as ours formats it.
        errors: (result.errors ?? []).map(formatError),
        ...(result.extensions ? { extensions: JSON.parse(JSON.stringify(result.extensions)) as Record<string, unknown> } : {}),
        subgraphMs: Number.NaN,
      };
    },
  };
}

const KINDS = 'apollo:fetch-kinds';

/** Each fetch's operation kind by its text, from the plan (what the data source is handed is only the text). */
function fetchKinds(planned: PlannedOperation): Map<string, 'query' | 'mutation'> {
  let kinds = planned.compiled.get(KINDS) as Map<string, 'query' | 'mutation'> | undefined;
  if (!kinds) {
    const found = new Map<string, 'query' | 'mutation'>();
    const walk = (node: PlanNode | undefined): void => {
      if (!node) return;
      switch (node.kind) {
        case 'Fetch':
          found.set(node.operation, node.operationKind === OperationTypeNode.MUTATION ? 'mutation' : 'query');
          return;
        case 'Flatten':
          return walk(node.node);
        case 'Sequence':
        case 'Parallel':
          return node.nodes.forEach(walk);
        case 'Condition':
          walk(node.ifClause);
          return walk(node.elseClause);
        case 'Defer':
          walk(node.primary.node);
          return node.deferred.forEach((d) => walk(d.node));
      }
    };
    const root = planned.queryPlan.node;
    if (root?.kind === 'Subscription') {
      walk(root.primary);
      walk(root.rest);
    } else walk(root);
    planned.compiled.set(KINDS, (kinds = found));
  }
  return kinds;
}
