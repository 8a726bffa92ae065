import { createServer } from 'node:http';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginUsageReportingDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { CORRELATION_HEADER, runInScope } from '../common/correlation.js';
import { graphqlHandler, requestStatsPlugin, router, sendJson, type Route, type ScopedContext } from '../common/http.js';
import type { Logger } from '../common/logger.js';
import { closeServer, listenOn, type HttpService, type LocalExecutor } from '../common/service.js';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { SubscriptionHub, type HubStats } from './subscriptions/hub.js';
import { SubscriptionPlanner } from './subscriptions/planner.js';
import { LocalUpstream, RemoteUpstream, type LocalSubscribe, type UpstreamSubscriber } from './subscriptions/upstream.js';
import { attachSubscriptionServer, type SubscriptionServerOptions } from './subscriptions/ws-server.js';

export type GatewayContext = ScopedContext;

export interface GatewayOptions {
  /** The composed supergraph SDL (normally read from SUPERGRAPH_PATH). */
  supergraphSdl: string;
  /** Per-subgraph routing URL overrides; by default the supergraph's `@join__graph(url:)` is used. */
  subgraphUrls?: Partial<Record<string, string>> | undefined;
  logger: Logger;
  /** How long `/ready` waits for each subgraph's answer, in ms. Default 1000. */
  readinessTimeoutMs?: number;
  /**
   * Subgraphs in this same process, executed without HTTP (`SUBGRAPH_DISPATCH=local`). Default none: every
   * subgraph fetch goes over HTTP, as in a multi-process deployment.
   */
  localSubgraphs?: Partial<Record<string, LocalExecutor>> | undefined;
  /**
   * Subscriptions of subgraphs in this same process, run without a socket. Default none: the gateway
   * subscribes to each subgraph over graphql-ws at its URL (`ws:` for `http:`).
   */
  localSubscribers?: Partial<Record<string, LocalSubscribe>> | undefined;
  /** WebSocket limits (see `SubscriptionServerOptions`): default 10 000 connections, pings every 12 s. */
  subscriptions?: Pick<SubscriptionServerOptions, 'maxConnections' | 'keepAliveMs' | 'connectionInitWaitTimeoutMs'> | undefined;
}

export interface SubgraphEndpoint {
  name: string;
  url: string;
}

/** The subgraphs a supergraph routes to, from its `join__Graph` enum. */
export function subgraphsOf(supergraphSdl: string, overrides: Partial<Record<string, string>> = {}): SubgraphEndpoint[] {
  const endpoints: SubgraphEndpoint[] = [];
  for (const match of supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g)) {
    const name = match[1] as string;
    endpoints.push({ name, url: overrides[name] ?? (match[2] as string) });
  }
  return endpoints;
}

/** A subgraph in the gateway's own process; the request scope (correlation id, Authorization) is shared. */
function localDataSource(executeLocal: LocalExecutor): GraphQLDataSource<GatewayContext> {
  return {
    async process({ request }) {
      const result = await executeLocal({ query: request.query ?? '', variables: request.variables, operationName: request.operationName });
      return result as never;
    },
  };
}

/**
 * Forwards the request's correlation id and the caller's Authorization to every subgraph fetch, so that the
 * subgraphs' logs and system calls carry the same id as the gateway's.
 */
class ForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const scope = (context as Partial<GatewayContext> | undefined)?.scope;
    if (!scope || !request.http) return;
    request.http.headers.set(CORRELATION_HEADER, scope.correlationId);
    if (scope.authorization) request.http.headers.set('authorization', scope.authorization);
  }
}

export interface GatewayService extends HttpService {
  /** Whether the supergraph is loaded and every subgraph answers. */
  readiness(): Promise<{ ready: boolean; subgraphs: Record<string, 'up' | string> }>;
  /** Open sockets, shared upstream streams, groups of identical subscriptions, subscribers, executions. */
  subscriptionStats(): HubStats & { connections: number };
}

/** The federation gateway (Apollo Gateway on a static supergraph, Apollo Server 5), built but not listening. */
export async function createGateway(options: GatewayOptions): Promise<GatewayService> {
  const { logger } = options;
  const overrides = options.subgraphUrls ?? {};
  const endpoints = subgraphsOf(options.supergraphSdl, overrides);
  const routes: Record<string, Route> = {};
  const httpServer = createServer({ keepAliveTimeout: 65_000 }, router(routes, logger));
  // Unless told otherwise, @apollo/gateway probes cloud metadata endpoints (AWS, GCP, Azure) and exports usage
  // metrics to Apollo's servers. A retailer's gateway must not phone home, and these machines must only talk
  // to loopback: switch it off before the gateway is constructed (it reads the variable in its constructor).
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const buildService = ({ name, url }: { name: string; url?: string | undefined }): GraphQLDataSource<GatewayContext> => {
    const local = options.localSubgraphs?.[name];
    if (local) return localDataSource(local);
    // Node's own fetch (undici, keep-alive) instead of the default make-fetch-happen, which spends its time on
    // HTTP-cache and proxy logic that a subgraph fetch never needs.
    return new ForwardingDataSource({ url: overrides[name] ?? url, fetcher: fetch as never });
  };
  const gateway = new ApolloGateway({ supergraphSdl: options.supergraphSdl, logger, buildService });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: true,
    // The launcher owns SIGTERM: it stops the gateway first and the subgraphs after, in that order.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      requestStatsPlugin<GatewayContext>(),
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
    ],
    logger,
  });
  await apollo.start();
  let stopping = false;

  // Subscriptions: @apollo/gateway plans them but cannot execute them; the hub runs the plan per event.
  const planner = new SubscriptionPlanner(options.supergraphSdl);
  const local = new LocalUpstream(options.localSubscribers ?? {});
  const remote = new RemoteUpstream({ urls: Object.fromEntries(endpoints.map(({ name, url }) => [name, url])), logger });
  const upstream: UpstreamSubscriber = {
    subscribe: (service, request, sink) => (local.has(service) ? local : remote).subscribe(service, request, sink),
    close: async () => {
      await local.close();
      await remote.close();
    },
  };
  const hub = new SubscriptionHub({
    planner,
    upstream,
    // Separate data sources from the gateway's (same construction): entity fetches of events run beside queries.
    serviceMap: Object.fromEntries(endpoints.map((endpoint) => [endpoint.name, buildService(endpoint)])),
    logger,
  });
  const sockets = attachSubscriptionServer({
    httpServer,
    hub,
    planner,
    logger,
    ...options.subscriptions,
    executeOperation: async (request, scope) => {
      const response = await runInScope(scope, () =>
        apollo.executeOperation({ query: request.query, variables: request.variables, operationName: request.operationName }, { contextValue: { scope, stats: { operationName: request.operationName ?? null, errors: 0 } } }),
      );
      if (response.body.kind !== 'single') return { errors: [new GraphQLError('incremental delivery is not served over WebSocket')] };
      return response.body.singleResult as ExecutionResult;
    },
  });

  const readiness = async () => {
    const timeout = options.readinessTimeoutMs ?? 1000;
    const results = await Promise.all(
      endpoints.map(async ({ name, url }): Promise<[string, string]> => {
        try {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: '{ __typename }' }),
            signal: AbortSignal.timeout(timeout),
          });
          return [name, response.ok ? 'up' : `HTTP ${response.status}`];
        } catch (error) {
          return [name, (error as Error).message];
        }
      }),
    );
    const subgraphs = Object.fromEntries(results);
    return { ready: !stopping && results.every(([, state]) => state === 'up'), subgraphs };
  };

  routes['/graphql'] = graphqlHandler<GatewayContext>({ server: apollo, logger, context: async (_req, scope, stats) => ({ scope, stats }) });
  routes['/health'] = (_req, res) => sendJson(res, 200, { status: 'ok' });
  routes['/ready'] = async (_req, res) => {
    const report = await readiness();
    sendJson(res, report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'not ready', supergraph: 'loaded', subgraphs: report.subgraphs });
  };

  return {
    name: 'gateway',
    httpServer,
    readiness,
    subscriptionStats: () => ({ ...hub.stats(), connections: sockets.connections() }),
    async listen(port, host) {
      const bound = await listenOn(httpServer, port, host);
      const shownHost = !host || host === '0.0.0.0' ? '127.0.0.1' : host;
      return `http://${shownHost}:${bound}/graphql`;
    },
    async stop() {
      stopping = true;
      // Sockets first (each closed with 1001 Going Away), then the streams they fed from, then HTTP.
      await sockets.close();
      await hub.close();
      // The drain plugin closes the listener and waits for in-flight requests before this resolves.
      await apollo.stop();
      await closeServer(httpServer);
    },
  };
}
