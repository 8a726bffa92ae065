import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { GraphQLSchema } from 'graphql';
import type { RequestScope } from './correlation.js';
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
export async function createSubgraphService<C extends ScopedContext>(options: SubgraphServiceOptions<C>): Promise<HttpService> {
  const routes: Record<string, Route> = {};
  const logger = options.logger;
  const httpServer = createServer({ keepAliveTimeout: 65_000 }, router(routes, logger));
  const apollo = new ApolloServer<C>({
    schema: options.schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), requestStatsPlugin<C>()],
    logger,
  });
  await apollo.start();
  routes['/graphql'] = graphqlHandler<C>({
    server: apollo,
    logger,
    context: async (_req, scope: RequestScope, stats) => options.context({ scope, stats }),
  });
  routes['/health'] = (_req, res) => sendJson(res, 200, { status: 'ok', service: options.name });
  return {
    name: options.name,
    httpServer,
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
