import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { runInScope, type RequestScope } from '../common/correlation.js';
import { requirementsOfDocument } from '../common/auth/authorization.js';
import { ANONYMOUS } from '../common/auth/principal.js';
import { answerClientError, router, sendJson, type Authenticate, type Route, type ScopedContext } from '../common/http.js';
import { MARKETPLACE_WEBHOOK_PATH } from '../common/systems/marketplace.js';
import { forwardWebhook } from './webhook-forward.js';
import type { Logger } from '../common/logger.js';
import { closeServer, listenOn, type HttpService, type LocalExecutor } from '../common/service.js';
import { GraphQLError, parse, type DocumentNode } from 'graphql';
import { edgeHttpHandler } from './edge/edge-http.js';
import { createExplorerRoutes, type ExplorerOptions } from './explorer.js';
import { createOpsConsoleRoutes, type OpsConsoleOptions } from './ops-console.js';
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from './edge/limits.js';
import { OperationAuthorizer } from './edge/operation-authorizer.js';
import { createOperationPipeline } from './edge/pipeline.js';
import { createApolloExecutor } from './executor/apollo-executor.js';
import { createCompiledExecutor } from './executor/compiled-executor.js';
import { formatError, outcomeResult, type ExecutionOutcome, type ExecutorKind, type PlanExecutor } from './executor/executor.js';
import { GatewayPlanner } from './executor/planner.js';
import { unsatisfiableErrors } from './executor/plan-fixes.js';
import { createSubgraphClient, observedSubgraphClient } from './executor/subgraph-client.js';
import { metricsRoute } from '../common/telemetry/metrics-route.js';
import { boundedLabel, type Metrics } from '../common/telemetry/metrics.js';
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
  /**
   * Who runs the query plans: `compiled` (ours: each plan compiled once, responses serialised by generated code) or
   * `apollo` (@apollo/gateway's `executeQueryPlan`, for comparison). Both share the planner, fetches and edge.
   * @default 'compiled'
   */
  executor?: ExecutorKind | undefined;
  /** Share identical query fetches to a subgraph while one is in flight (same Authorization and body). @default true */
  deduplicate?: boolean | undefined;
  /**
   * The process's series (requests, subgraph fetches, subscriptions), served at `GET /metrics` to `scrapeToken` or
   * an ops-role token. @default none: nothing counted, no `/metrics`
   */
  metrics?: { registry: Metrics; scrapeToken?: string | undefined } | undefined;
  /**
   * The explorer (GraphiQL, bundled, no CDN) at `GET /graphql` for browsers, with the contract's operations from
   * `contractDir` and the bundle from `assetsDir` (see `explorerFor`). Never served in production.
   * @default none: a browser's GET /graphql is answered as any other GET
   */
  explorer?: ExplorerOptions | undefined;
  /**
   * The operations console at `GET /ops` for ops, agent and finance tokens (see `opsConsoleFor`): the bundle from
   * `assetsDir`, the objectives it measures against, and `/ops/api/summary`, this process's metrics merged with every
   * subgraph's. Served in production too.
   * @default none: no `/ops`
   */
  opsConsole?: OpsConsoleOptions | undefined;
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

/** An operation the edge allowed, as the executor gets it. */
export interface AllowedOperation {
  query: string;
  document: DocumentNode;
  operationName: string | undefined;
  variables: Record<string, unknown>;
}

export interface GatewayService extends HttpService {
  /** Whether the supergraph is loaded and every subgraph answers. */
  readiness(): Promise<{ ready: boolean; subgraphs: Record<string, 'up' | string> }>;
  /** Open sockets, shared upstream streams, groups of identical subscriptions, subscribers, executions. */
  subscriptionStats(): HubStats & { connections: number };
}

/**
 * The federation gateway, built but not listening: Apollo's supergraph handling and query planner, our edge
 * (authentication, limits, authorization) in front, and our executor (or Apollo's, GATEWAY_EXECUTOR=apollo) behind.
 */
export async function createGateway(options: GatewayOptions): Promise<GatewayService> {
  const { logger } = options;
  const overrides = options.subgraphUrls ?? {};
  const endpoints = subgraphsOf(options.supergraphSdl, overrides);
  const routes: Record<string, Route> = {};
  const httpServer = createServer({ keepAliveTimeout: 65_000 }, router(routes, logger));
  httpServer.on('clientError', answerClientError);
  // Should anything construct @apollo/gateway's ApolloGateway in this process, it must not probe cloud metadata
  // endpoints or export usage to Apollo's servers: a retailer's gateway does not phone home, and these machines
  // talk only to loopback.
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const production = options.production ?? false;
  const authenticate: Authenticate = options.authenticate ?? (async () => ({ ok: true, principal: ANONYMOUS }));
  const edge: EdgeOptions = { ...DEFAULT_EDGE, ...options.edge };
  let stopping = false;

  // One planner for queries, mutations and subscriptions; the authorization directives are the edge's to enforce.
  const planner = new GatewayPlanner(options.supergraphSdl);
  const metrics = options.metrics?.registry;
  const client = observedSubgraphClient(
    createSubgraphClient({
      urls: Object.fromEntries(endpoints.map(({ name, url }) => [name, url])),
      local: options.localSubgraphs,
      deduplicate: options.deduplicate ?? true,
    }),
    metrics,
  );
  const executor: PlanExecutor =
    options.executor === 'apollo'
      ? createApolloExecutor({ planner, client, logger })
      : createCompiledExecutor({ apiSchema: planner.apiSchema, supergraphSchema: planner.supergraphSchema, client });
  const subscriptionPlanner = new SubscriptionPlanner(planner);
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

  /** Plan (cached) and run an operation the edge allowed. */
  const execute = async (operation: AllowedOperation, scope: RequestScope): Promise<ExecutionOutcome> => {
    let planned;
    try {
      planned = planner.plan(`${operation.operationName ?? ''}\n${operation.query}`, operation.document, operation.operationName);
    } catch (error) {
      logger.warn({ err: error, correlationId: scope.correlationId }, 'operation could not be planned');
      return { data: undefined, errors: [formatError(error instanceof GraphQLError ? error : new GraphQLError(`this operation could not be planned: ${(error as Error).message}`))], subgraphMs: 0 };
    }
    // A plan our fixes found unsatisfiable (plan-fixes.ts) is answered without a fetch, by either executor.
    const unsatisfiable = unsatisfiableErrors(planned.queryPlan);
    if (unsatisfiable) return { data: 'null', errors: unsatisfiable, subgraphMs: 0 };
    try {
      return await runInScope(scope, () => executor.execute({ planned, variables: operation.variables, scope }));
    } catch (error) {
      logger.error({ err: error, correlationId: scope.correlationId }, 'operation execution failed');
      return { data: undefined, errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }], subgraphMs: 0 };
    }
  };

  // Subscriptions: the planner plans them, the hub runs each event's plan on the same executor.
  const local = new LocalUpstream(options.localSubscribers ?? {});
  const remote = new RemoteUpstream({ urls: Object.fromEntries(endpoints.map(({ name, url }) => [name, url])), logger });
  const upstream: UpstreamSubscriber = {
    subscribe: (service, request, sink) => (local.has(service) ? local : remote).subscribe(service, request, sink),
    close: async () => {
      await local.close();
      await remote.close();
    },
  };
  const hub = new SubscriptionHub({ planner: subscriptionPlanner, upstream, executor, logger, metrics });
  const sockets = attachSubscriptionServer({
    httpServer,
    hub,
    pipeline,
    authenticate,
    logger,
    production,
    ...options.subscriptions,
    executeOperation: async (request, scope) => outcomeResult(await execute(request, scope)),
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

  const operationLabel = boundedLabel(edge.documents?.names ?? new Set());
  const graphql: Route = edgeHttpHandler({ execute, pipeline, authenticate, logger, maxBatch: edge.maxBatch, corsOrigins: edge.corsOrigins, production, metrics, operationLabel });
  routes['/graphql'] = graphql;
  // Off in production, where introspection is off too. It wraps /graphql: a browser's GET gets the page, the rest `graphql`.
  if (options.explorer && !production) Object.assign(routes, createExplorerRoutes({ ...options.explorer, graphql, logger }));
  // The console's data calls go to /graphql like any client's; its summary reads the subgraphs' /metrics as the caller.
  if (options.opsConsole) Object.assign(routes, createOpsConsoleRoutes({ ...options.opsConsole, authenticate, metrics, scrapeToken: options.metrics?.scrapeToken, subgraphs: endpoints, logger }));
  routes['/health'] = (_req, res) => sendJson(res, 200, { status: 'ok' });
  // The marketplace posts to the public address; the orders subgraph checks the signature and takes the order.
  const orders = endpoints.find((e) => e.name === 'orders');
  if (orders) routes[MARKETPLACE_WEBHOOK_PATH] = forwardWebhook({ target: new URL(MARKETPLACE_WEBHOOK_PATH, orders.url).toString(), limitBytes: 64 * 1024, logger });
  if (options.metrics) {
    routes['/metrics'] = metricsRoute(options.metrics.registry, { authenticate, scrapeToken: options.metrics.scrapeToken });
    const m = options.metrics.registry;
    m.read(m.subscriptionSockets, (gauge) => gauge.set(sockets.connections()));
    m.read(m.subscriptionSubscribers, (gauge) => gauge.set(hub.stats().subscribers));
    m.read(m.subscriptionGroups, (gauge) => gauge.set(hub.stats().groups));
  }
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
      // Sockets first (each closed with 1001 Going Away), then the streams they fed from, then HTTP (in-flight
      // requests finish), then the subgraph connections.
      await sockets.close();
      await hub.close();
      await closeServer(httpServer);
      client.close();
    },
  };
}
