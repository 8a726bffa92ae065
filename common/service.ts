import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { execute, getOperationAST, GraphQLError, parse, validate, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { unauthenticatedError } from './auth/authorization.js';
import { enforceAuthorization } from './auth/enforce.js';
import { endAtExpiry, tokenExpiredError } from './auth/expiry.js';
import { ANONYMOUS, type Principal } from './auth/principal.js';
import { CORRELATION_HEADER, correlationIdFrom, currentScope, runInScope, type RequestScope } from './correlation.js';
import { maskErrorsPlugin } from './errors.js';
import { graphqlHandler, headerValue, MAX_BODY_BYTES, requestStatsPlugin, router, sendJson, type Authenticate, type Route, type ScopedContext } from './http.js';
import type { Logger } from './logger.js';
import { metricsRoute } from './telemetry/metrics-route.js';
import type { Metrics } from './telemetry/metrics.js';
import { subscribeEventScoped, type SubscriptionOutcome } from './subscription-execution.js';

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

/** Run a subgraph subscription in this process: an async iterator of results, or one result with errors (validation, bad arguments). `connectionParams` is what a WS client would send in connection_init. */
export type LocalSubscriber = (request: LocalRequest & { connectionParams?: Record<string, unknown> | undefined }) => Promise<AsyncGenerator<ExecutionResult, void, void> | ExecutionResult>;

export interface SubgraphService extends HttpService {
  /** The same schema and per-request context as `POST /graphql`, for a gateway in the same process. */
  executeLocal: LocalExecutor;
  /** The same subscriptions as graphql-ws on `/graphql`, for a gateway in the same process. */
  subscribeLocal: LocalSubscriber;
}

/** Requests being answered per server (see {@link closeServer}). */
const inFlight = new WeakMap<Server, { requests: number }>();

export async function listenOn(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  if (!inFlight.has(server)) {
    const tally = { requests: 0 };
    inFlight.set(server, tally);
    server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      tally.requests++;
      res.once('close', () => tally.requests--);
    });
  }
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
    // close() waits for every connection, and closeIdleConnections() ends only keep-alive sockets idle now: a socket a
    // client pool opened but never sent a request on counts as busy until headersTimeout (60 s), and one whose request
    // finishes later stays open. So: let the requests being answered finish, then end every connection left.
    const sweep = () => {
      const tally = inFlight.get(server);
      if (tally && tally.requests === 0) server.closeAllConnections();
      else server.closeIdleConnections();
    };
    const sweeper = setInterval(sweep, 25);
    server.close(() => {
      clearInterval(sweeper);
      resolve();
    });
    sweep();
  });
}

/** The path that serves GraphQL over HTTP and over WebSocket (`graphql-transport-ws`). */
export const GRAPHQL_PATH = '/graphql';

export interface SubgraphServiceOptions<C extends ScopedContext> {
  name: string;
  schema: GraphQLSchema;
  logger: Logger;
  /**
   * Build a context (fresh DataLoaders every time) from a scope. Called once per query or mutation, once when a
   * subscription starts (the context of its `subscribe` resolver) and once per subscription event: an event is a
   * request of its own, so no loader cache outlives it.
   */
  context: (base: Pick<ScopedContext, 'scope' | 'stats' | 'principal'>) => C;
  /**
   * Verify callers' tokens (HTTP `Authorization`, `connection_init`'s `authorization`, or the in-process caller's
   * scope). The schema's authorization directives and the resolvers' row rules decide with the principal.
   * @default every caller is anonymous (nothing but public fields answers)
   */
  authenticate?: Authenticate | undefined;
  /**
   * Production settings: introspection off and errors masked (code, message and correlation id only).
   * @default false
   */
  production?: boolean | undefined;
  /**
   * How long `stop()` waits for WebSocket clients to answer the close (1001) before it drops them, in ms.
   * Default 2000.
   */
  socketCloseTimeoutMs?: number | undefined;
  /**
   * The process's series, served at `GET /metrics` (to the scrape token or an ops-role token).
   * @default none: no `/metrics`
   */
  metrics?: { registry: Metrics; scrapeToken?: string | undefined } | undefined;
  /**
   * Further HTTP routes beside `/graphql` (the marketplace's webhook on the orders subgraph), by exact path. Each
   * checks its own callers: they are not GraphQL, so no directive does.
   * @default none
   */
  routes?: Record<string, Route> | undefined;
}

/** How a subgraph checks its callers: passed through from each subgraph's deps to {@link createSubgraphService}. */
export type SubgraphSecurity = Pick<SubgraphServiceOptions<ScopedContext>, 'authenticate' | 'production' | 'metrics'>;

type CachedDocument = { document: DocumentNode } | { errors: readonly GraphQLError[] };

const stringParam = (params: Record<string, unknown> | null | undefined, key: string): string | undefined => {
  const value = params?.[key];
  return typeof value === 'string' ? value : undefined;
};

/**
 * The scope of a subscriber from what its client sent in `connection_init`: `authorization` (or
 * `Authorization`) and `correlationId` (accepted when sane, like the `x-correlation-id` header; otherwise a new id is
 * minted). What the client did not send comes from `fallback` (the upgrade request's headers, or the caller's
 * scope in process), and a correlation id is minted when neither has one.
 */
export function scopeFromConnectionParams(params: Record<string, unknown> | null | undefined, fallback: Partial<RequestScope> = {}): RequestScope {
  const authorization = stringParam(params, 'authorization') ?? stringParam(params, 'Authorization') ?? fallback.authorization;
  const correlationId = stringParam(params, 'correlationId');
  return { correlationId: correlationId !== undefined ? correlationIdFrom(correlationId) : (fallback.correlationId ?? correlationIdFrom(undefined)), authorization };
}

/** What the upgrade request itself said, for clients that put it in headers rather than in connection_init. */
export function upgradeScope(request: IncomingMessage): Partial<RequestScope> {
  const correlationId = headerValue(request, CORRELATION_HEADER);
  return { correlationId: correlationId !== undefined ? correlationIdFrom(correlationId) : undefined, authorization: headerValue(request, 'authorization') };
}

const scopeOf = (contextValue: unknown): RequestScope => (contextValue as ScopedContext).scope;

/**
 * An Apollo Server subgraph on node:http: `POST /graphql`, `GET /health`, and graphql-ws (`graphql-transport-ws`)
 * on the same `/graphql` for subscriptions (queries and mutations over the socket are executed too).
 */
export async function createSubgraphService<C extends ScopedContext>(options: SubgraphServiceOptions<C>): Promise<SubgraphService> {
  const routes: Record<string, Route> = {};
  const logger = options.logger;
  // Every subgraph checks its own authorization directives: a caller that bypasses the gateway gets no more.
  const schema = enforceAuthorization(options.schema);
  const production = options.production ?? false;
  const authenticate: Authenticate = options.authenticate ?? (async () => ({ ok: true, principal: ANONYMOUS }));
  const httpServer = createServer({ keepAliveTimeout: 65_000 }, router(routes, logger));
  const apollo = new ApolloServer<C>({
    schema,
    introspection: !production,
    // The launcher owns SIGTERM: it stops the gateway first and the subgraphs after, in that order.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      requestStatsPlugin<C>(),
      ...(production ? [maskErrorsPlugin<C>()] : []),
      // Both wrap every field resolver; we send no cache hints and report no traces, so they only cost time.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      // Apollo's landing page loads its Sandbox from a CDN; the gateway serves the explorer, bundled.
      ApolloServerPluginLandingPageDisabled(),
    ],
    logger,
  });
  await apollo.start();
  routes[GRAPHQL_PATH] = graphqlHandler<C>({
    server: apollo,
    logger,
    authenticate,
    context: async (_req, scope: RequestScope, stats, principal) => options.context({ scope: { ...scope, principal }, stats, principal }),
  });
  routes['/health'] = (_req, res) => sendJson(res, 200, { status: 'ok', service: options.name });
  // Ready while it takes requests: a subgraph's systems of record failing costs fields, not the instance's traffic.
  routes['/ready'] = (_req, res) => sendJson(res, stopping ? 503 : 200, { status: stopping ? 'stopping' : 'ready', service: options.name });
  if (options.metrics) routes['/metrics'] = metricsRoute(options.metrics.registry, { authenticate, scrapeToken: options.metrics.scrapeToken });
  for (const [path, route] of Object.entries(options.routes ?? {})) routes[path] = route;

  // The gateway sends a handful of distinct operations (one per query-plan fetch), so parsed and validated
  // documents are cached by text; the bound keeps a misbehaving caller from growing it without limit.
  const documents = new Map<string, CachedDocument>();
  const documentFor = (query: string): CachedDocument => {
    let entry = documents.get(query);
    if (!entry) {
      try {
        const document = parse(query);
        const errors = validate(schema, document);
        entry = errors.length ? { errors } : { document };
      } catch (error) {
        entry = { errors: [error as GraphQLError] };
      }
      if (documents.size >= 1000) documents.clear();
      documents.set(query, entry);
    }
    return entry;
  };
  // The scope names the verified caller too, so that services taking only a scope (idempotency) know who it is.
  const newContext = (scope: RequestScope, operationName: string | null | undefined, principal: Principal): C =>
    options.context({ scope: { ...scope, principal }, stats: { operationName: operationName ?? null, errors: 0 }, principal });
  /** The caller of an in-process request or a socket: a token that is not good answers UNAUTHENTICATED, as over HTTP. */
  const principalFor = async (authorization: string | undefined): Promise<Principal | GraphQLError> => {
    const authentication = await authenticate(authorization);
    return authentication.ok ? authentication.principal : unauthenticatedError(authentication.message);
  };

  /** Queries and mutations: executed in the caller's scope, as over HTTP. */
  const executeInScope = (args: ExecutionArgs) => runInScope(scopeOf(args.contextValue), () => execute(args));
  /** Subscriptions: each event executed as a request of its own (see subscribeEventScoped). */
  const subscribeInScope = async (args: ExecutionArgs, transport: 'ws' | 'local'): Promise<SubscriptionOutcome> => {
    const scope = scopeOf(args.contextValue);
    const principal = (args.contextValue as ScopedContext).principal;
    const started = performance.now();
    const operationName = args.operationName ?? null;
    const outcome = await subscribeEventScoped(args, {
      scope,
      // Every event runs with the subscriber's credentials: the row rules apply to each one.
      contextFor: (eventScope) => newContext(eventScope, operationName, principal),
      onEnd: (events) =>
        runInScope(scope, () =>
          logger.info({ transport, operationName, events, durationMs: Math.round(performance.now() - started), authorization: scope.authorization ? 'present' : 'absent' }, 'graphql subscription ended'),
        ),
    });
    // From here on the subscription hears every event (its source stream is listening): worth one line, since
    // graphql-ws itself acknowledges no subscription.
    if (!(Symbol.asyncIterator in outcome)) return outcome;
    runInScope(scope, () => logger.info({ transport, operationName }, 'graphql subscription started'));
    // A token checked only at subscribe time would keep its caller listening long after it expired.
    return endAtExpiry(outcome, principal, { value: { errors: [tokenExpiredError()] } });
  };

  const executeLocal: LocalExecutor = async (request) => {
    const entry = documentFor(request.query);
    if ('errors' in entry) return { errors: entry.errors };
    const scope = currentScope() ?? { correlationId: correlationIdFrom(undefined) };
    const principal = await principalFor(scope.authorization);
    if (principal instanceof GraphQLError) return { errors: [principal] };
    const contextValue = newContext(scope, request.operationName, principal);
    return execute({ schema, document: entry.document, variableValues: request.variables, operationName: request.operationName, contextValue });
  };

  const subscribeLocal: LocalSubscriber = async (request) => {
    const entry = documentFor(request.query);
    if ('errors' in entry) return { errors: entry.errors };
    const scope = scopeFromConnectionParams(request.connectionParams, currentScope());
    const principal = await principalFor(scope.authorization);
    if (principal instanceof GraphQLError) return { errors: [principal] };
    const args: ExecutionArgs = { schema, document: entry.document, variableValues: request.variables, operationName: request.operationName, contextValue: newContext(scope, request.operationName, principal) };
    if (getOperationAST(entry.document, request.operationName)?.operation !== 'subscription') return executeInScope(args);
    return subscribeInScope(args, 'local');
  };

  // WebSocket on the same server and path. The upgrade is handled here (noServer) so that every other path is
  // refused, and so that a stopping service takes no new sockets.
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  let stopping = false;
  useServer<Record<string, unknown>, { principal?: Principal }>(
    {
      schema,
      // The caller's token, verified once per socket; one that is not good closes it (4401) before anything runs.
      onConnect: async (ctx) => {
        const scope = scopeFromConnectionParams(ctx.connectionParams, upgradeScope(ctx.extra.request));
        const principal = await principalFor(scope.authorization);
        if (principal instanceof GraphQLError) {
          ctx.extra.socket.close(4401, `UNAUTHENTICATED: ${principal.message}`.slice(0, 120));
          return false;
        }
        ctx.extra.principal = principal;
        return true;
      },
      // The same document cache as executeLocal: the gateway subscribes with a handful of distinct operations.
      onSubscribe: (_ctx, _id, payload) => {
        const entry = documentFor(payload.query);
        if ('errors' in entry) return entry.errors;
        return { schema, document: entry.document, variableValues: payload.variables, operationName: payload.operationName ?? undefined };
      },
      context: (ctx, _id, payload) => newContext(scopeFromConnectionParams(ctx.connectionParams, upgradeScope(ctx.extra.request)), payload.operationName, ctx.extra.principal ?? ANONYMOUS),
      execute: executeInScope,
      subscribe: (args) => subscribeInScope(args, 'ws'),
    },
    sockets,
  );
  httpServer.on('upgrade', (request: IncomingMessage, socket, head) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== GRAPHQL_PATH || stopping) {
      const status = stopping ? '503 Service Unavailable' : '404 Not Found';
      // Nothing else listens on an upgrade's socket: a reset while we answer must not become an uncaught error.
      socket.on('error', () => socket.destroy());
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit('connection', ws, request));
  });

  const closeSockets = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => sockets.close(() => resolve()));
    // 1001 Going Away: graphql-ws ends each socket's subscriptions when it closes (their listeners go with them).
    for (const client of sockets.clients) client.close(1001, 'Going away');
    // A client that never answers the close would hold stop() for ws's 30 s close timeout.
    const drop = setTimeout(() => {
      for (const client of sockets.clients) client.terminate();
    }, options.socketCloseTimeoutMs ?? 2_000);
    try {
      await closed;
    } finally {
      clearTimeout(drop);
    }
  };

  return {
    name: options.name,
    httpServer,
    executeLocal,
    subscribeLocal,
    async listen(port, host) {
      const bound = await listenOn(httpServer, port, host);
      const shownHost = !host || host === '0.0.0.0' ? '127.0.0.1' : host;
      return `http://${shownHost}:${bound}${GRAPHQL_PATH}`;
    },
    async stop() {
      stopping = true;
      await closeSockets();
      await apollo.stop();
      await closeServer(httpServer);
    },
  };
}
