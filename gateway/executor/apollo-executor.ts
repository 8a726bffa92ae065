import { executeQueryPlan, type GraphQLDataSource, type ServiceMap } from '@apollo/gateway';
import type { Logger } from '../../common/logger.js';
import { formatError, type ExecutionOutcome, type PlanExecutor } from './executor.js';
import type { GatewayPlanner } from './planner.js';
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
            const kind = (request.query ?? '').trimStart().startsWith('mutation') ? 'mutation' : 'query';
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
