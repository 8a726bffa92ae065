import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { execute, parse, validate, type DocumentNode, type ExecutionResult, type GraphQLError, type GraphQLSchema } from 'graphql';
import { correlationIdFrom, currentScope, type RequestScope } from './correlation.js';
import { graphqlHandler, requestStatsPlugin, router, sendJson, type Route, type ScopedContext } from './http.js';
import type { Logger } from './logger.js';

/** A server that has been built but not started listening: the caller picks the port (0 in tests). */
export interface HttpService {
  readonly name: string;
  readonly httpServer: Server;
  /** Listen and resolve with the bound URL of `/graphql` (or the service root). */
  listen(port: number, host?: string): Promise<string>;
  /** Stop accepting, let in-flight requests finish, close. */
  stop(): Promise<void>;
}

export interface LocalRequest {
  query: string;
  variables?: Record<string, unknown> | undefined;
  operationName?: string | undefined;
}

/** Run a subgraph operation in this process, in the caller's request scope, without HTTP. */
export type LocalExecutor = (request: LocalRequest) => Promise<ExecutionResult>;

export interface SubgraphService extends HttpService {
  /** The same schema and per-request context as `POST /graphql`, for a gateway in the same process. */
  executeLocal: LocalExecutor;
}

export async function listenOn(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

export interface SubgraphServiceOptions<C extends ScopedContext> {
  name: string;
  schema: GraphQLSchema;
  logger: Logger;
  /** Build the per-request context (fresh DataLoaders every time) from the request's scope. */
  context: (base: Pick<ScopedContext, 'scope' | 'stats'>) => C;
}

/** An Apollo Server subgraph on node:http: `POST /graphql`, `GET /health`. */
export async function createSubgraphService<C extends ScopedContext>(options: SubgraphServiceOptions<C>): Promise<SubgraphService> {
  const routes: Record<string, Route> = {};
  const logger = options.logger;
  const httpServer = createServer({ keepAliveTimeout: 65_000 }, router(routes, logger));
  const apollo = new ApolloServer<C>({
    schema: options.schema,
    introspection: true,
    // The launcher owns SIGTERM: it stops the gateway first and the subgraphs after, in that order.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      requestStatsPlugin<C>(),
      // Both wrap every field resolver; we send no cache hints and report no traces, so they only cost time.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
    ],
    logger,
  });
  await apollo.start();
  routes['/graphql'] = graphqlHandler<C>({
    server: apollo,
    logger,
    context: async (_req, scope: RequestScope, stats) => options.context({ scope, stats }),
  });
  routes['/health'] = (_req, res) => sendJson(res, 200, { status: 'ok', service: options.name });
  // The gateway sends a handful of distinct operations (one per query-plan fetch), so parsed and validated
  // documents are cached by text; the bound keeps a misbehaving caller from growing it without limit.
  const documents = new Map<string, { document: DocumentNode } | { errors: readonly GraphQLError[] }>();
  const executeLocal: LocalExecutor = async (request) => {
    let entry = documents.get(request.query);
    if (!entry) {
      try {
        const document = parse(request.query);
        const errors = validate(options.schema, document);
        entry = errors.length ? { errors } : { document };
      } catch (error) {
        entry = { errors: [error as GraphQLError] };
      }
      if (documents.size >= 1000) documents.clear();
      documents.set(request.query, entry);
    }
    if ('errors' in entry) return { errors: entry.errors };
    const scope = currentScope() ?? { correlationId: correlationIdFrom(undefined) };
    const contextValue = options.context({ scope, stats: { operationName: request.operationName ?? null, errors: 0 } });
    return execute({ schema: options.schema, document: entry.document, variableValues: request.variables, operationName: request.operationName, contextValue });
  };

  return {
    name: options.name,
    httpServer,
    executeLocal,
    async listen(port, host) {
      const bound = await listenOn(httpServer, port, host);
      const shownHost = !host || host === '0.0.0.0' ? '127.0.0.1' : host;
      return `http://${shownHost}:${bound}/graphql`;
    },
    async stop() {
      await apollo.stop();
      await closeServer(httpServer);
    },
  };
}
