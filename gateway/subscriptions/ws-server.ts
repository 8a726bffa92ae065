import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, print, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { CloseCode, type Context } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type RawData } from 'ws';
import { endAtExpiry, tokenExpiredError } from '../../common/auth/expiry.js';
import { maskError } from '../../common/errors.js';
import { describePrincipal, type Principal } from '../../common/auth/principal.js';
import type { RequestScope } from '../../common/correlation.js';
import type { Authenticate } from '../../common/http.js';
import type { Logger } from '../../common/logger.js';
import { scopeFromConnectionParams, upgradeScope } from '../../common/service.js';
import type { OperationPipeline, Prepared } from '../edge/pipeline.js';
import type { SubscriptionHub } from './hub.js';

export interface SubscriptionServerOptions {
  httpServer: Server;
  hub: SubscriptionHub;
  /** The edge: rate limits, trusted documents, limits and authorization, exactly as over HTTP. */
  pipeline: OperationPipeline;
  /** Verifies `connection_init`'s `authorization` (or the upgrade's header): a token that is not good closes the socket with 4401. */
  authenticate: Authenticate;
  logger: Logger;
  /** Path served (the same as HTTP GraphQL). Default `/graphql`. */
  path?: string;
  /** Open WebSockets at most; one more is refused at the upgrade with HTTP 503. Default 10 000. */
  maxConnections?: number;
  /** Interval of WebSocket pings; a socket that does not answer within another interval is dropped. Default 12 000 ms. */
  keepAliveMs?: number;
  /** How long a socket may stay open without `connection_init`. Default 3 000 ms. */
  connectionInitWaitTimeoutMs?: number;
  /** How long shutdown waits for clients to answer the 1001 close before dropping them. Default 2 000 ms. */
  closeTimeoutMs?: number;
  /** Longest document accepted, in characters. Default 100 000 (as over HTTP, roughly). */
  maxQueryLength?: number;
  /** Production: every error masked to code, message and correlation id, as over HTTP. Default false. */
  production?: boolean;
  /** Queries and mutations sent over the socket: the HTTP path's executor, in the connection's scope. */
  executeOperation: (request: { query: string; document: DocumentNode; variables: Record<string, unknown>; operationName: string | undefined }, scope: RequestScope, principal: Principal) => Promise<ExecutionResult>;
}

/** What a connection carries from its `connection_init` to every operation on it. */
interface ConnectionExtra {
  connectionParams: Record<string, unknown>;
  scope: RequestScope;
  principal: Principal;
  address: string | undefined;
}

export interface SubscriptionServer {
  /** Open WebSocket connections. */
  connections(): number;
  /** Close every socket with 1001 (going away) and stop accepting. */
  close(): Promise<void>;
}

/** What the hub gets for a subscription: the edge's verdict, kept on the execution args. */
interface HubArgs extends ExecutionArgs {
  prepared: Extract<Prepared, { kind: 'ready' | 'answered' }>;
  query: string;
  connectionExtra: ConnectionExtra;
}

const refuse = (socket: Duplex, status: string, headers: string[] = []) => {
  // Nothing else listens on an upgrade's socket: a reset while we answer must not become an uncaught error.
  socket.on('error', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`);
};

/**
 * graphql-ws (`graphql-transport-ws`) on the gateway's HTTP server and path. Subscriptions go to the
 * {@link SubscriptionHub}; queries and mutations sent over a socket run like HTTP ones. The `connection_init`
 * payload is kept for the connection and carried to the subgraphs (Authorization, correlation id).
 */
export function attachSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  const { httpServer, hub, logger } = options;
  /** Errors as graphql-ws sends them (GraphQLError instances) and as this deployment shows them (masked in production). */
  const shown = (errors: readonly unknown[], connection: ConnectionExtra): GraphQLError[] => {
    const graphqlErrors = asGraphQLErrors(errors);
    if (!options.production) return graphqlErrors;
    return graphqlErrors.map((e) => {
      const masked = maskError(e.toJSON(), connection.scope.correlationId);
      return new GraphQLError(masked.message, { path: masked.path, extensions: masked.extensions });
    });
  };
  const shownResult = (result: ExecutionResult, connection: ConnectionExtra): ExecutionResult =>
    result.errors?.length ? { ...result, errors: shown(result.errors, connection) } : result;
  const path = options.path ?? '/graphql';
  const maxConnections = options.maxConnections ?? 10_000;
  const maxQueryLength = options.maxQueryLength ?? 100_000;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  let closing = false;
  let upgrading = 0;

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = new URL(request.url ?? '/', 'http://gateway').pathname;
    if (pathname !== path) return refuse(socket, '404 Not Found');
    if (closing) return refuse(socket, '503 Service Unavailable');
    if (wss.clients.size + upgrading >= maxConnections) {
      logger.warn({ connections: wss.clients.size, maxConnections }, 'websocket refused: connection limit reached');
      return refuse(socket, '503 Service Unavailable', ['Retry-After: 5']);
    }
    upgrading++;
    wss.handleUpgrade(request, socket, head, (ws) => {
      upgrading--;
      wss.emit('connection', ws, request);
      // graphql-ws answers a socket's 'error' with console.error ("Please check your implementation") and a 4500
      // close. What a socket emits is a client's bad frame (over maxPayload, not UTF-8, not masked), and ws has
      // already closed it with the RFC 6455 code for it (1009, 1007, 1002): a line in our log, not a stack on
      // stderr for every garbage frame a client cares to send.
      ws.removeAllListeners('error');
      ws.on('error', (error: Error & { code?: string }) => {
        logger.info({ code: error.code, reason: error.message }, 'websocket closed: bad frame');
        if (ws.readyState === ws.OPEN) ws.close(CloseCode.InternalServerError, 'Internal server error');
      });
      // graphql-ws accepts the server's own message types from a client (next, error, connection_ack: they parse)
      // and then throws on them, which it answers with console.error and 4500 Internal Server Error. They are a
      // client's protocol error: closed here with 4400 before graphql-ws sees them.
      const handlers = ws.listeners('message') as ((data: RawData, isBinary: boolean) => void)[];
      ws.removeAllListeners('message');
      ws.on('message', (data: RawData, isBinary: boolean) => {
        const type = serverMessageType(data);
        if (type) {
          ws.close(CloseCode.BadRequest, `Invalid message received: a client does not send ${type}`);
          return;
        }
        for (const handler of handlers) handler.call(ws, data, isBinary);
      });
    });
  };
  httpServer.on('upgrade', onUpgrade);

  const extraOf = (ctx: Context<Record<string, unknown> | undefined, unknown>): ConnectionExtra => (ctx.extra as { connection?: ConnectionExtra }).connection as ConnectionExtra;

  const server = useServer<Record<string, unknown> | undefined, { connection?: ConnectionExtra }>(
    {
      connectionInitWaitTimeout: options.connectionInitWaitTimeoutMs ?? 3_000,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        if (typeof params !== 'object' || Array.isArray(params)) return false;
        const request = (ctx.extra as { request: IncomingMessage }).request;
        // Clients that cannot set connection_init may send the headers on the upgrade request instead.
        const scope = scopeFromConnectionParams(params, upgradeScope(request));
        const authentication = await options.authenticate(scope.authorization);
        if (!authentication.ok) {
          // As over HTTP, a token that is present but not good fails everything, never anonymous: 4401 is terminal
          // for graphql-ws clients, which then sign in again rather than retry with the same token.
          logger.info({ correlationId: scope.correlationId, reason: authentication.message }, 'websocket refused: token not accepted');
          (ctx.extra as { socket: { close(code: number, reason: string): void } }).socket.close(4401, `${authentication.code}: ${authentication.message}`.slice(0, 120));
          return false;
        }
        const principal = authentication.principal;
        ctx.extra.connection = { connectionParams: params, scope: { ...scope, principal }, principal, address: request.socket.remoteAddress };
        logger.debug({ correlationId: scope.correlationId, caller: describePrincipal(principal) }, 'websocket connection initialised');
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        const connection = extraOf(ctx as never);
        if (typeof payload.query !== 'string' || payload.query.length > maxQueryLength) {
          return [new GraphQLError(`the document must be a string of at most ${maxQueryLength} characters`, { extensions: { code: 'BAD_REQUEST' } })];
        }
        const { principal } = connection;
        if (principal.kind !== 'anonymous' && principal.expiresAt <= Date.now()) return [tokenExpiredError()];
        const prepared = await options.pipeline.prepare(payload, { principal, address: connection.address }, 'WS');
        if (prepared.kind === 'refused') return shown(prepared.errors, connection);
        // A subscription whose root field the caller may not have is refused, not answered with nulls.
        if (prepared.kind === 'answered' && prepared.operation === 'subscription') return shown(prepared.result.errors ?? [], connection);
        const args: HubArgs = {
          schema: hub.apiSchema,
          document: prepared.document,
          operationName: prepared.operationName,
          variableValues: prepared.kind === 'ready' ? prepared.variables : {},
          contextValue: {},
          prepared,
          // Printed from the parsed document: the same selection in other whitespace or comments is the same
          // subscription to the hub, so it shares the per-event work.
          query: prepared.kind === 'ready' ? print(prepared.document) : payload.query,
          connectionExtra: connection,
        };
        return args;
      },
      subscribe: async (args) => {
        const { query, connectionExtra, document, operationName, variableValues, prepared } = args as HubArgs;
        if (prepared.kind === 'answered') return shownResult(prepared.result, connectionExtra);
        const result = hub.subscribe({
          document,
          query,
          operationName: operationName ?? undefined,
          variables: (variableValues ?? {}) as Record<string, unknown>,
          connectionParams: connectionExtra.connectionParams,
          scope: connectionExtra.scope,
          principal: connectionExtra.principal,
        });
        logger.debug({ correlationId: connectionExtra.scope.correlationId, operationName }, 'subscription started');
        if (!(Symbol.asyncIterator in result)) return shownResult(result, connectionExtra);
        const patch = prepared.patch;
        const events = mapResults(result, (event) => shownResult(patch ? patch(event) : event, connectionExtra));
        // Its token checked at subscribe time alone would keep the caller listening after it expired.
        return endAtExpiry(events, connectionExtra.principal, { error: tokenExpiredError() });
      },
      execute: async (args) => {
        const { connectionExtra, operationName, variableValues, prepared } = args as HubArgs;
        if (prepared.kind === 'answered') return shownResult(prepared.result, connectionExtra);
        // What the pipeline allowed (the document with refused fields removed, when some were).
        const result = await options.executeOperation({ query: prepared.query, document: prepared.document, variables: (variableValues ?? {}) as Record<string, unknown>, operationName: operationName ?? undefined }, connectionExtra.scope, connectionExtra.principal);
        return shownResult(prepared.patch ? prepared.patch(result) : result, connectionExtra);
      },
      onError: (ctx, _id, _payload, errors) => {
        logger.info({ correlationId: extraOf(ctx as never)?.scope.correlationId, errors: errors.map((e) => e.message) }, 'subscription refused or failed');
      },
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );

  return {
    connections: () => wss.clients.size,
    async close() {
      closing = true;
      httpServer.off('upgrade', onUpgrade);
      // graphql-ws closes every client with 1001 Going Away, then waits for them to be gone; a client that
      // never answers the close would hold the shutdown for ws's 30 s close timeout.
      const drop = setTimeout(() => {
        for (const client of wss.clients) client.terminate();
      }, options.closeTimeoutMs ?? 2_000);
      try {
        await server.dispose();
      } finally {
        clearTimeout(drop);
      }
    },
  };
}

export { CloseCode };

/** Message types only a server sends (graphql-transport-ws). */
const SERVER_MESSAGE_TYPES = new Set(['connection_ack', 'next', 'error']);

/** The type of a message that is a server's message (which a client must not send), else undefined. */
function serverMessageType(data: RawData): string | undefined {
  const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
  // Most messages name none of these types; only those that might are parsed a second time.
  if (!text.includes('"next"') && !text.includes('"error"') && !text.includes('"connection_ack"')) return undefined;
  try {
    const type = (JSON.parse(text) as { type?: unknown } | null)?.type;
    return typeof type === 'string' && SERVER_MESSAGE_TYPES.has(type) ? type : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Each result of `source` through `map`; a failure of the source stays a failure (graphql-ws then sends an `error`
 * message), and `return()` reaches the source at once, even while a `next()` waits.
 */
function mapResults(source: AsyncGenerator<ExecutionResult, void, void>, map: (result: ExecutionResult) => ExecutionResult): AsyncGenerator<ExecutionResult, void, void> {
  const generator: AsyncGenerator<ExecutionResult, void, void> = {
    async next() {
      const step = await source.next();
      return step.done ? step : { done: false, value: map(step.value) };
    },
    return: () => source.return(undefined),
    throw: (error: unknown) => source.throw(error),
    [Symbol.asyncIterator]() {
      return generator;
    },
  };
  return generator;
}

/** graphql-ws serializes errors with `toJSON`: results executed elsewhere may carry plain formatted ones. */
function asGraphQLErrors(errors: readonly unknown[]): GraphQLError[] {
  return errors.map((e) => {
    if (e instanceof GraphQLError) return e;
    const { message, path, extensions } = e as { message?: string; path?: (string | number)[]; extensions?: Record<string, unknown> };
    return new GraphQLError(message ?? 'error', { path, extensions });
  });
}
