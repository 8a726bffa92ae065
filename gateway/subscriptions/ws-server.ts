import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { getOperationAST, getVariableValues, GraphQLError, parse, print, validate, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { CloseCode, type Context } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { RequestScope } from '../../common/correlation.js';
import type { Logger } from '../../common/logger.js';
import { scopeFromConnectionParams, upgradeScope } from '../../common/service.js';
import type { SubscriptionHub } from './hub.js';
import type { SubscriptionPlanner } from './planner.js';

export interface SubscriptionServerOptions {
  httpServer: Server;
  hub: SubscriptionHub;
  planner: SubscriptionPlanner;
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
  /** Queries and mutations sent over the socket: the HTTP path's executor, in the connection's scope. */
  executeOperation: (request: { query: string; variables: Record<string, unknown>; operationName?: string | undefined }, scope: RequestScope) => Promise<ExecutionResult>;
}

/** What a connection carries from its `connection_init` to every operation on it. */
interface ConnectionExtra {
  connectionParams: Record<string, unknown>;
  scope: RequestScope;
}

export interface SubscriptionServer {
  /** Open WebSocket connections. */
  connections(): number;
  /** Close every socket with 1001 (going away) and stop accepting. */
  close(): Promise<void>;
}

/** What the hub gets for a subscription: the parsed operation, kept on the execution args. */
interface HubArgs extends ExecutionArgs {
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
  const { httpServer, hub, planner, logger } = options;
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
    });
  };
  httpServer.on('upgrade', onUpgrade);

  const extraOf = (ctx: Context<Record<string, unknown> | undefined, unknown>): ConnectionExtra => (ctx.extra as { connection?: ConnectionExtra }).connection as ConnectionExtra;

  const server = useServer<Record<string, unknown> | undefined, { connection?: ConnectionExtra }>(
    {
      connectionInitWaitTimeout: options.connectionInitWaitTimeoutMs ?? 3_000,
      onConnect: (ctx) => {
        const params = ctx.connectionParams ?? {};
        if (typeof params !== 'object' || Array.isArray(params)) return false;
        // Clients that cannot set connection_init may send the headers on the upgrade request instead.
        const scope = scopeFromConnectionParams(params, upgradeScope((ctx.extra as { request: IncomingMessage }).request));
        ctx.extra.connection = { connectionParams: params, scope };
        logger.debug({ correlationId: scope.correlationId, authorization: scope.authorization !== undefined }, 'websocket connection initialised');
        return true;
      },
      onSubscribe: (ctx, _id, payload) => {
        const connection = extraOf(ctx as never);
        if (typeof payload.query !== 'string' || payload.query.length > maxQueryLength) {
          return [new GraphQLError(`the document must be a string of at most ${maxQueryLength} characters`, { extensions: { code: 'BAD_REQUEST' } })];
        }
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError(String(error), { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
        }
        const errors = validate(planner.apiSchema, document);
        if (errors.length) return errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
        const operationName = payload.operationName ?? undefined;
        const operation = getOperationAST(document, operationName);
        if (!operation) return [new GraphQLError('the document names no operation to run (operationName?)', { extensions: { code: 'BAD_USER_INPUT' } })];
        const rawVariables = payload.variables ?? {};
        if (typeof rawVariables !== 'object' || Array.isArray(rawVariables)) return [new GraphQLError('variables must be an object', { extensions: { code: 'BAD_USER_INPUT' } })];
        const coerced = getVariableValues(planner.apiSchema, operation.variableDefinitions ?? [], rawVariables, { maxErrors: 20 });
        if (coerced.errors) return coerced.errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT' } }));
        const args: HubArgs = {
          schema: planner.apiSchema,
          document,
          operationName,
          variableValues: coerced.coerced,
          contextValue: {},
          // Printed from the parsed document: the same selection in other whitespace or comments is the same
          // subscription to the hub, so it shares the per-event work.
          query: print(document),
          connectionExtra: connection,
        };
        return args;
      },
      subscribe: async (args) => {
        const { query, connectionExtra, document, operationName, variableValues } = args as HubArgs;
        const result = hub.subscribe({
          document,
          query,
          operationName: operationName ?? undefined,
          variables: (variableValues ?? {}) as Record<string, unknown>,
          connectionParams: connectionExtra.connectionParams,
          scope: connectionExtra.scope,
        });
        logger.debug({ correlationId: connectionExtra.scope.correlationId, operationName }, 'subscription started');
        return result;
      },
      execute: async (args) => {
        const { query, connectionExtra, operationName, variableValues } = args as HubArgs;
        return options.executeOperation({ query, variables: (variableValues ?? {}) as Record<string, unknown>, operationName: operationName ?? undefined }, connectionExtra.scope);
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
