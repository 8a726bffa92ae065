import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { HeaderMap, type ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import type { Authentication } from './auth/token-verifier.js';
import { ANONYMOUS, describePrincipal, type Principal } from './auth/principal.js';
import { CORRELATION_HEADER, correlationIdFrom, runInScope, type RequestScope } from './correlation.js';
import type { Logger } from './logger.js';
import { contextFromHeaders, inSpan, SpanKind } from './telemetry/tracing.js';

/** Largest request body accepted, in bytes. A GraphQL document bigger than this is not a client's query. */
export const MAX_BODY_BYTES = 1_000_000;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The request body as text; an HttpError 413 once it passes `limit` bytes.
 *
 * Deliberately not `for await (… of req)`: leaving that loop early destroys the request, and Node then detaches
 * it from its socket (`req.socket = null`). Apollo's drain (`ApolloServerPluginDrainHttpServer`) counts requests by
 * `req.socket`, so such a connection looked busy for ever: `stop()` waited out its grace period and then threw
 * `TypeError: Cannot read properties of null (reading 'end')`. And the client, still uploading, could see a reset
 * instead of the 413. So an oversized body is read to its end and thrown away: the 413 reaches the client, and the
 * connection stays an ordinary one (Node's `requestTimeout` bounds a client that never stops sending).
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      tooLarge = true;
      chunks.length = 0;
      reject(new HttpError(413, `request body is larger than ${limit} bytes`));
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    // A client that goes away mid-body: nobody is left to answer, but the handler must not wait for ever.
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new HttpError(400, 'the client closed the request before its body was complete'));
    });
  });
}

/**
 * A `clientError` listener for a server that answers clients: what Node's HTTP parser refuses before any route runs
 * (an unknown method, a malformed request line, headers over `maxHeaderSize`, a request that took too long) gets a
 * GraphQL-shaped body with a code, like every other refusal, instead of Node's bare `400 Bad Request`.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'the request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the request took too long to arrive']
        : [400, 'the request is not well-formed HTTP'];
  const body = JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A GraphQL-shaped error body for failures that happen before GraphQL execution (bad JSON, huge body). */
export function sendGraphQLError(res: ServerResponse, status: number, message: string, code: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] }, headers);
}

/** Per-request figures that the request-log line reports; filled in by {@link requestStatsPlugin}. */
export interface RequestStats {
  operationName: string | null;
  errors: number;
}

export interface ScopedContext extends BaseContext {
  scope: RequestScope;
  stats: RequestStats;
  /** Who is calling, from the verified token (anonymous without one). */
  principal: Principal;
}

/** Verify a request's Authorization (the token verifier's `authenticate`). */
export type Authenticate = (authorization: string | undefined) => Promise<Authentication>;

/**
 * The answer to a request whose token is present but not good: the whole request fails (401, or 503 while the
 * identity provider's keys cannot be fetched), never treated as anonymous.
 */
export function sendAuthenticationFailure(res: ServerResponse, failure: Extract<Authentication, { ok: false }>, headers: Record<string, string> = {}): void {
  const challenge: Record<string, string> =
    failure.status === 401 ? { 'www-authenticate': `Bearer error="invalid_token", error_description="${failure.message.replace(/["\\]/g, '')}"` } : { 'retry-after': '5' };
  sendGraphQLError(res, failure.status, failure.message, failure.code, { ...headers, ...challenge });
}

export function requestStatsPlugin<C extends ScopedContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response, operationName }) {
          contextValue.stats.operationName = operationName ?? null;
          if (response.body.kind === 'single') contextValue.stats.errors = response.body.singleResult.errors?.length ?? 0;
        },
      };
    },
  };
}

export interface GraphQLHandlerOptions<C extends ScopedContext> {
  server: ApolloServer<C>;
  logger: Logger;
  /** Build the GraphQL context; runs inside the request's scope. */
  context: (req: IncomingMessage, scope: RequestScope, stats: RequestStats, principal: Principal) => Promise<C>;
  /** Verify the caller's token before anything runs; without it every caller is anonymous. */
  authenticate?: Authenticate | undefined;
}

/**
 * Serve an Apollo Server on a plain node:http request: correlation id in and out, the request's scope around
 * execution (so adapters and log lines see it), one log line per request.
 */
export function graphqlHandler<C extends ScopedContext>(options: GraphQLHandlerOptions<C>) {
  const { server, logger } = options;
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const started = performance.now();
    const correlationId = correlationIdFrom(headerValue(req, CORRELATION_HEADER));
    const authorization = headerValue(req, 'authorization');
    const scope: RequestScope = { correlationId, authorization };
    const stats: RequestStats = { operationName: null, errors: 0 };
    const replyHeaders = { [CORRELATION_HEADER]: correlationId };
    let principal: Principal = ANONYMOUS;
    // The gateway's fetch span (its traceparent) is this request's parent.
    await runInScope(scope, () => inSpan('subgraph.request', { kind: SpanKind.SERVER, parent: contextFromHeaders(req.headers) }, async (span) => {
      let status = 500;
      try {
        if (options.authenticate) {
          const authentication = await options.authenticate(authorization);
          if (!authentication.ok) {
            status = authentication.status;
            sendAuthenticationFailure(res, authentication, replyHeaders);
            return;
          }
          principal = authentication.principal;
        }
        let body: unknown;
        if (req.method === 'POST') {
          const text = await readBody(req);
          try {
            body = text.length ? JSON.parse(text) : undefined;
          } catch (error) {
            status = 400;
            sendGraphQLError(res, 400, `Malformed JSON body: ${(error as Error).message}`, 'BAD_REQUEST', replyHeaders);
            return;
          }
        }
        const headers = new HeaderMap();
        for (const [key, value] of Object.entries(req.headers)) {
          if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
        }
        const response = await server.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
          context: () => options.context(req, scope, stats, principal),
        });
        status = response.status ?? 200;
        const outHeaders: Record<string, string> = { ...replyHeaders };
        for (const [key, value] of response.headers) outHeaders[key] = value;
        if (response.body.kind === 'complete') {
          res.writeHead(status, outHeaders);
          res.end(response.body.string);
        } else {
          res.writeHead(status, outHeaders);
          for await (const chunk of response.body.asyncIterator) res.write(chunk);
          res.end();
        }
      } catch (error) {
        status = error instanceof HttpError ? error.status : 500;
        if (!res.headersSent) sendGraphQLError(res, status, error instanceof HttpError ? error.message : 'Internal server error', status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST', replyHeaders);
        else res.end();
        if (status === 500) logger.error({ err: error }, 'request failed');
      } finally {
        logRequest(logger, { req, url, stats, status, started, authorization, principal });
      }
      if (stats.operationName) span.setAttribute('graphql.operation.name', stats.operationName);
    }));
  };
}

/** The one log line of a GraphQL HTTP request, at the gateway and at every subgraph. */
export function logRequest(
  logger: Logger,
  line: { req: IncomingMessage; url: URL; stats: RequestStats; status: number; started: number; authorization: string | undefined; principal: Principal; operations?: number },
): void {
  logger.info(
    {
      method: line.req.method,
      path: line.url.pathname,
      operationName: line.stats.operationName,
      ...(line.operations !== undefined && line.operations > 1 ? { operations: line.operations } : {}),
      status: line.status,
      errors: line.stats.errors,
      durationMs: Math.round((performance.now() - line.started) * 10) / 10,
      // Whether the caller sent credentials, and whom they name; the token itself never reaches a log.
      authorization: line.authorization ? 'present' : 'absent',
      caller: describePrincipal(line.principal),
    },
    'graphql request',
  );
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

/** A tiny router: exact path match, 404 otherwise; errors become a JSON 500 rather than a dropped socket. */
export function router(routes: Record<string, Route>, logger: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes[url.pathname];
    if (!route) {
      sendJson(res, 404, { error: `no route for ${url.pathname}` });
      return;
    }
    Promise.resolve(route(req, res, url)).catch((error: unknown) => {
      logger.error({ err: error, path: url.pathname }, 'route failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.end();
    });
  };
}
