import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginUsageReportingDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { CORRELATION_HEADER, runInScope } from '../common/correlation.js';
import { requirementsOfDocument } from '../common/auth/authorization.js';
import { ANONYMOUS } from '../common/auth/principal.js';
import { requestStatsPlugin, router, sendJson, type Authenticate, type Route, type ScopedContext } from '../common/http.js';
import type { Logger } from '../common/logger.js';
import { closeServer, listenOn, type HttpService, type LocalExecutor } from '../common/service.js';
import { GraphQLError, parse, type ExecutionResult } from 'graphql';
import { edgeHttpHandler } from './edge/edge-http.js';
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from './edge/limits.js';
import { OperationAuthorizer } from './edge/operation-authorizer.js';
import { withoutSecurityFeatures } from './edge/security-features.js';
import { createOperationPipeline } from './edge/pipeline.js';
import type { RateLimiter, RateLimitRule } from '../common/rate-limit.js';
import { TrustedDocuments } from './edge/trusted-documents.js';
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
  /**
   * Verifies callers' tokens (HTTP `Authorization`, `connection_init`'s `authorization`); a token present but not
   * good fails the whole request (401). @default every caller is anonymous
   */
  authenticate?: Authenticate | undefined;
  /** The hardened edge (see {@link EdgeOptions}). @default DEFAULT_EDGE */
  edge?: Partial<EdgeOptions> | undefined;
  /** Production: introspection off, errors masked to code, message and correlation id. @default false */
  production?: boolean | undefined;
}

/** What the gateway refuses before any subgraph is called (README "Limits"). */
export interface EdgeOptions {
  /** Depth, aliases, tokens and cost of one document. @default DEFAULT_DOCUMENT_LIMITS */
  limits: DocumentLimits;
  /** Operations in one batched HTTP request at most. @default 10 */
  maxBatch: number;
  /** `enforce`: anonymous and shopper callers may send only `documents`' operations. @default 'allow' */
  trustedDocuments: 'allow' | 'enforce';
  /** The persisted-documents manifest. @default none (persisted ids are then PERSISTED_QUERY_NOT_SUPPORTED) */
  documents: TrustedDocuments | undefined;
  /** Where rate-limit buckets live (memory, or Redis shared by instances). @default none: no rate limits */
  rateLimiter: RateLimiter | undefined;
  /** Every caller's bucket. @default 50 per second, burst 100 */
  rateLimit: Omit<RateLimitRule, 'name'>;
  /** Each caller's checkout bucket, on top. @default 0.5 per second, burst 5 */
  checkoutRateLimit: Omit<RateLimitRule, 'name'>;
  /** Origins allowed by CORS (`*`: any). @default none: same-origin only */
  corsOrigins: readonly string[];
}

export const DEFAULT_EDGE: EdgeOptions = {
  limits: DEFAULT_DOCUMENT_LIMITS,
  maxBatch: 10,
  trustedDocuments: 'allow',
  documents: undefined,
  rateLimiter: undefined,
  rateLimit: { ratePerSecond: 50, burst: 100 },
  checkoutRateLimit: { ratePerSecond: 0.5, burst: 5 },
  corsOrigins: [],
};

/** The manifest at `path`, when there is one (`npm run documents` writes it). */
export function trustedDocumentsAt(path: string): TrustedDocuments | undefined {
  return existsSync(path) ? TrustedDocuments.fromFile(path) : undefined;
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
  // Apollo plans and executes; the authorization directives are the edge's to enforce (see security-features.ts).
  const executableSdl = withoutSecurityFeatures(options.supergraphSdl);
  const gateway = new ApolloGateway({ supergraphSdl: executableSdl, logger, buildService });
  const production = options.production ?? false;
  const authenticate: Authenticate = options.authenticate ?? (async () => ({ ok: true, principal: ANONYMOUS }));
  const edge: EdgeOptions = { ...DEFAULT_EDGE, ...options.edge };
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: !production,
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
  if (edge.trustedDocuments === 'enforce' && !edge.documents) throw new Error('TRUSTED_DOCUMENTS=enforce needs the persisted-documents manifest (npm run documents)');
  const pipeline = createOperationPipeline({
    schema: planner.apiSchema,
    // The directives composed into the supergraph: what each subgraph declared about its own fields.
    authorizer: new OperationAuthorizer({ schema: planner.apiSchema, requirements: requirementsOfDocument(parse(options.supergraphSdl)) }),
    limits: edge.limits,
    trusted: { mode: edge.trustedDocuments, documents: edge.documents },
    rateLimiter: edge.rateLimit.ratePerSecond > 0 ? edge.rateLimiter : undefined,
    rateLimit: { name: 'requests', ...edge.rateLimit },
    checkoutRateLimit: { name: 'checkout', ...edge.checkoutRateLimit },
    production,
  });
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
    pipeline,
    authenticate,
    logger,
    production,
    ...options.subscriptions,
    executeOperation: async (request, scope, principal) => {
      const response = await runInScope(scope, () =>
        apollo.executeOperation(
          { query: request.query, variables: request.variables, operationName: request.operationName },
          { contextValue: { scope, stats: { operationName: request.operationName ?? null, errors: 0 }, principal } },
        ),
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

  routes['/graphql'] = edgeHttpHandler({ apollo, pipeline, authenticate, logger, maxBatch: edge.maxBatch, corsOrigins: edge.corsOrigins, production });
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
