import type { IncomingMessage, ServerResponse } from 'node:http';
import { getOperationAST, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import { ANONYMOUS, type Principal } from '../../common/auth/principal.js';
import { CORRELATION_HEADER, correlationIdFrom, runInScope, type RequestScope } from '../../common/correlation.js';
import { maskError } from '../../common/errors.js';
import { headerValue, HttpError, logRequest, readBody, sendAuthenticationFailure, type Authenticate, type RequestStats } from '../../common/http.js';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/telemetry/metrics.js';
import { contextFromHeaders, inSpan, SpanKind, traceparentOf } from '../../common/telemetry/tracing.js';
import { outcomeJson, type ExecutionOutcome } from '../executor/executor.js';
import type { AllowedOperation } from '../gateway.js';
import type { OperationPipeline, OperationRequest, Prepared } from './pipeline.js';

/*
 * GraphQL over HTTP at the gateway: a thin adapter over the edge pipeline. POST with a JSON body (one operation, or
 * a batch as a JSON array), and GET with the operation in the query string (urql and others send queries that way;
 * mutations never run over GET).
 *
 * CSRF: the graph authenticates by the Authorization header only, never by cookie, and a browser never attaches
 * that header by itself, so a cross-site request can only ever act as an anonymous caller, who may only read the
 * catalog. That is why GET queries are served, and why there is no preflight-forcing header requirement.
 */

export interface EdgeHttpOptions {
  /** Plans and runs what the pipeline allowed. */
  execute: (operation: AllowedOperation, scope: RequestScope) => Promise<ExecutionOutcome>;
  pipeline: OperationPipeline;
  authenticate: Authenticate;
  logger: Logger;
  /** Operations in one batched request at most. @default 10 */
  maxBatch?: number | undefined;
  /** Origins a browser may call from (`*` for any). @default none: same-origin only */
  corsOrigins?: readonly string[] | undefined;
  /** Production: every error masked to code, message and correlation id. @default false */
  production?: boolean | undefined;
  /** Where each operation is counted and timed, by operation name and outcome. @default none */
  metrics?: Pick<Metrics, 'graphqlRequests' | 'graphqlDuration'> | undefined;
  /** The label of an operation name (a bounded set, see `boundedLabel`). @default every name its own label */
  operationLabel?: ((name: string | undefined) => string) | undefined;
}

const ALLOWED_HEADERS = 'authorization, content-type, x-correlation-id, apollo-require-preflight, x-apollo-operation-name, apollographql-client-name, apollographql-client-version';

type Json = Record<string, unknown>;

/** The route for `/graphql`. */
export function edgeHttpHandler(options: EdgeHttpOptions) {
  const { execute, pipeline, logger } = options;
  const maxBatch = options.maxBatch ?? 10;
  const origins = new Set(options.corsOrigins ?? []);

  const cors = (req: IncomingMessage): Record<string, string> => {
    const origin = headerValue(req, 'origin');
    if (!origin || origins.size === 0) return {};
    if (origins.has('*')) return { 'access-control-allow-origin': '*', 'access-control-expose-headers': `${CORRELATION_HEADER}, retry-after` };
    if (!origins.has(origin)) return {};
    return { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': `${CORRELATION_HEADER}, retry-after` };
  };

  const finish = (result: ExecutionResult | Json, correlationId: string): Json => {
    const errors = (result as { errors?: readonly GraphQLFormattedError[] }).errors;
    if (!errors || errors.length === 0) {
      const { errors: _none, ...rest } = result as Json;
      return rest;
    }
    if (!options.production) return result as Json;
    return { ...(result as Json), errors: errors.map((e) => maskError(toFormatted(e), correlationId)) };
  };

  type Answer = { status: number; text: string; errors: number; subgraphMs: number; headers: Record<string, string> };
  const label = options.operationLabel ?? ((name: string | undefined) => name ?? 'anonymous');
  /** {@link answerOne}, counted and timed by operation and outcome (a refusal by the edge is `rejected`). */
  const runOne = async (request: OperationRequest, principal: Principal, address: string | undefined, transport: 'GET' | 'POST', scope: RequestScope, stats: RequestStats): Promise<Answer> => {
    const started = performance.now();
    const answer = await answerOne(request, principal, address, transport, scope, stats);
    if (options.metrics) {
      const labels = { operation: label(stats.operationName ?? (typeof request.operationName === 'string' ? request.operationName : undefined)), outcome: answer.status !== 200 ? 'rejected' : answer.errors > 0 ? 'error' : 'ok' };
      options.metrics.graphqlRequests.inc(labels);
      options.metrics.graphqlDuration.observe(labels, (performance.now() - started) / 1000);
    }
    return answer;
  };

  /** One operation: the pipeline's verdict, then the executor's run of what it allows; the body as JSON text. */
  const answerOne = async (request: OperationRequest, principal: Principal, address: string | undefined, transport: 'GET' | 'POST', scope: RequestScope, stats: RequestStats): Promise<Answer> => {
    const prepared: Prepared = await pipeline.prepare(request, { principal, address }, transport);
    const json = (body: Json) => ({ text: JSON.stringify(body), errors: ((body.errors as unknown[] | undefined)?.length ?? 0) });
    switch (prepared.kind) {
      case 'refused':
        return { status: prepared.status, ...json(finish({ errors: prepared.errors.map(toFormatted) }, scope.correlationId)), subgraphMs: 0, headers: prepared.headers ?? {} };
      case 'answered':
        stats.operationName = prepared.operationName ?? null;
        return { status: 200, ...json(finish(prepared.result, scope.correlationId)), subgraphMs: 0, headers: {} };
      case 'ready': {
        // The name the document gives its operation when the request named none: what the log line reports.
        stats.operationName = prepared.operationName ?? getOperationAST(prepared.document)?.name?.value ?? null;
        const outcome = await execute({ query: prepared.query, document: prepared.document, operationName: prepared.operationName, variables: prepared.variables }, scope);
        const subgraphMs = outcome.subgraphMs;
        // The usual case stays text from the executor's serializer to the socket; an authorization patch (fields put
        // back as located nulls) or production masking needs the object.
        if (prepared.patch) return { status: 200, ...json(finish(prepared.patch(JSON.parse(outcomeJson(outcome)) as ExecutionResult), scope.correlationId)), subgraphMs, headers: {} };
        if (outcome.errors.length && options.production) return { status: 200, text: outcomeJson({ ...outcome, errors: outcome.errors.map((e) => maskError(e, scope.correlationId)) }), errors: outcome.errors.length, subgraphMs, headers: {} };
        return { status: 200, text: outcomeJson(outcome), errors: outcome.errors.length, subgraphMs, headers: {} };
      }
      default: {
        const never: never = prepared;
        throw new Error(`unexpected pipeline outcome ${JSON.stringify(never)}`);
      }
    }
  };

  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const started = performance.now();
    const correlationId = correlationIdFrom(headerValue(req, CORRELATION_HEADER));
    const authorization = headerValue(req, 'authorization');
    const scope: RequestScope = { correlationId, authorization };
    const stats: RequestStats = { operationName: null, errors: 0 };
    const replyHeaders: Record<string, string> = { [CORRELATION_HEADER]: correlationId, ...cors(req) };
    let status = 500;
    // The caller's trace (W3C traceparent) continues here; the answer names this request's span in it.
    await runInScope(scope, () =>
      inSpan('graphql.request', { kind: SpanKind.SERVER, parent: contextFromHeaders(req.headers), attributes: { 'http.request.method': req.method ?? '' } }, async (span) => {
        const traceparent = traceparentOf(span);
        if (traceparent) replyHeaders.traceparent = traceparent;
        await handle();
        if (stats.operationName) span.setAttribute('graphql.operation.name', stats.operationName);
        span.setAttribute('http.response.status_code', status);
      }),
    );

    async function handle(): Promise<void> {
    let principal: Principal = ANONYMOUS;
    let operations = 0;
    const sendText = (code: number, text: string, headers: Record<string, string> = {}) => {
      status = code;
      res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...replyHeaders, ...headers });
      res.end(text);
    };
    const send = (code: number, body: unknown, headers: Record<string, string> = {}) => sendText(code, JSON.stringify(body), headers);
    /** Where the time went (not in production: timings describe the internals): the subgraphs' critical path, and all of it. */
    const timing = (subgraphMs: number): Record<string, string> =>
      options.production ? {} : { 'server-timing': `${Number.isNaN(subgraphMs) ? '' : `subgraphs;dur=${subgraphMs.toFixed(2)}, `}gateway;dur=${(performance.now() - started).toFixed(2)}` };
    await runInScope(scope, async () => {
      try {
        if (req.method === 'OPTIONS') {
          status = 204;
          res.writeHead(204, { ...replyHeaders, 'access-control-allow-methods': 'GET, POST, OPTIONS', 'access-control-allow-headers': ALLOWED_HEADERS, 'access-control-max-age': '600' });
          res.end();
          return;
        }
        if (req.method !== 'GET' && req.method !== 'POST') return send(405, { errors: [{ message: `${req.method} is not served: use POST, or GET for queries`, extensions: { code: 'BAD_REQUEST' } }] }, { allow: 'GET, POST' });
        const requests = req.method === 'POST' ? await postedOperations(req) : [getOperation(url)];
        if (!Array.isArray(requests)) return send(400, { errors: [{ message: requests, extensions: { code: 'BAD_REQUEST' } }] });
        const batched = isBatch(requests);
        if (requests.length === 0 || requests.length > maxBatch) {
          return send(400, { errors: [{ message: `a batch holds 1 to ${maxBatch} operations, got ${requests.length}`, extensions: { code: 'TOO_MANY_OPERATIONS' } }] });
        }
        const authentication = await options.authenticate(authorization);
        if (!authentication.ok) {
          // A flood of bad tokens draws from the client address's bucket like any other flood.
          const limited = await pipeline.admit({ principal: ANONYMOUS, address: req.socket.remoteAddress });
          if (limited) return send(limited.status, { errors: limited.errors.map(toFormatted) }, limited.headers);
          status = authentication.status;
          sendAuthenticationFailure(res, authentication, replyHeaders);
          return;
        }
        principal = authentication.principal;
        scope.principal = principal;
        const address = req.socket.remoteAddress;
        operations = requests.length;
        const transport = req.method === 'GET' ? 'GET' : 'POST';
        const results = [];
        // A batch runs in order: its operations may depend on each other (a mutation, then a read of it).
        for (const request of requests) results.push(await runOne(request as OperationRequest, principal, address, transport, scope, stats));
        stats.errors = results.reduce((n, r) => n + r.errors, 0);
        const subgraphMs = results.reduce((n, r) => n + r.subgraphMs, 0);
        if (!batched) {
          const [only] = results as [(typeof results)[number]];
          return sendText(only.status, only.text, { ...only.headers, ...timing(subgraphMs) });
        }
        return sendText(200, `[${results.map((r) => r.text).join(',')}]`, timing(subgraphMs));
      } catch (error) {
        const code = error instanceof HttpError ? error.status : 500;
        if (code === 500) logger.error({ err: error }, 'request failed');
        if (!res.headersSent) send(code, { errors: [{ message: error instanceof HttpError ? error.message : 'Internal server error', extensions: { code: code === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' } }] });
        else res.end();
      } finally {
        logRequest(logger, { req, url, stats, status, started, authorization, principal, operations });
      }
    });
    }
  };
}

/** Marks a parsed POST body that was a JSON array, so that a one-element batch still answers with an array. */
const BATCH = Symbol('batch');
function isBatch(requests: unknown[]): boolean {
  return (requests as unknown as { [BATCH]?: boolean })[BATCH] === true;
}

/** The operations of a POST: one JSON object, or a JSON array of them (a batch); a string says what is wrong. */
async function postedOperations(req: IncomingMessage): Promise<unknown[] | string> {
  const type = headerValue(req, 'content-type') ?? '';
  if (!/^application\/(json|graphql-response\+json)\b/i.test(type)) {
    await readBody(req).catch(() => undefined);
    return 'POST needs content-type: application/json';
  }
  const text = await readBody(req);
  let body: unknown;
  try {
    body = text.length ? JSON.parse(text) : undefined;
  } catch (error) {
    return `Malformed JSON body: ${(error as Error).message}`;
  }
  if (Array.isArray(body)) {
    if (!body.every((b) => typeof b === 'object' && b !== null && !Array.isArray(b))) return 'every operation of a batch must be a JSON object';
    Object.defineProperty(body, BATCH, { value: true });
    return body;
  }
  if (typeof body !== 'object' || body === null) return 'the body must be a JSON object with a "query" (or a JSON array of them)';
  return [body];
}

/** A GET's operation from its query string (`variables` and `extensions` are JSON). */
function getOperation(url: URL): OperationRequest {
  const params = url.searchParams;
  const json = (name: string): unknown => {
    const raw = params.get(name);
    if (raw === null || raw === '') return undefined;
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw; // refused by the pipeline as not an object
    }
  };
  return {
    query: params.get('query') ?? undefined,
    documentId: params.get('documentId') ?? undefined,
    operationName: params.get('operationName') ?? undefined,
    variables: json('variables'),
    extensions: json('extensions'),
  };
}

function toFormatted(error: unknown): GraphQLFormattedError {
  if (error && typeof error === 'object' && 'toJSON' in error && typeof (error as { toJSON: unknown }).toJSON === 'function') return (error as { toJSON(): GraphQLFormattedError }).toJSON();
  return error as GraphQLFormattedError;
}
