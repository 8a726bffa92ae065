import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { GraphQLFormattedError } from 'graphql';
import { CORRELATION_HEADER, type RequestScope } from '../../common/correlation.js';
import type { LocalExecutor } from '../../common/service.js';
import type { Metrics } from '../../common/telemetry/metrics.js';
import { inSpan, SpanKind, traceHeaders } from '../../common/telemetry/tracing.js';

/** One GraphQL request to a subgraph, as a fetch node of the plan makes it. */
export interface SubgraphRequest {
  query: string;
  variables: Record<string, unknown>;
  operationName: string | undefined;
  /** Queries may be shared with an identical one in flight; mutations never are. */
  kind: 'query' | 'mutation' | 'subscription';
}

/** What a subgraph answered: a GraphQL response (objects the executor may merge into, its own copy). */
export interface SubgraphResponse {
  data?: Record<string, unknown> | null | undefined;
  errors?: readonly GraphQLFormattedError[] | undefined;
}

/** A fetch that did not produce a GraphQL response at all (connection refused, not JSON, timeout). */
export class SubgraphUnavailable extends Error {
  constructor(
    readonly serviceName: string,
    message: string,
  ) {
    super(message);
  }
}

/** How the executors reach subgraphs. */
export interface SubgraphClient {
  fetch(serviceName: string, request: SubgraphRequest, scope: RequestScope): Promise<SubgraphResponse>;
  close(): void;
}

export interface SubgraphClientOptions {
  /** Each subgraph's URL (its `/graphql`). */
  urls: Record<string, string>;
  /** Subgraphs in this process, called without HTTP. @default none */
  local?: Partial<Record<string, LocalExecutor>> | undefined;
  /** Share identical query fetches while one is in flight (same subgraph, Authorization and body). @default true */
  deduplicate?: boolean | undefined;
  /** Open connections per subgraph at most (kept alive between requests). @default 256 */
  maxSockets?: number | undefined;
  /** A subgraph fetch that takes longer fails with SubgraphUnavailable. @default 30000 */
  timeoutMs?: number | undefined;
}

interface Endpoint {
  url: URL;
  agent: Agent;
  request: typeof httpRequest;
}

/**
 * Subgraph fetches over pooled keep-alive connections (node:http, which costs less per request than fetch), or
 * in process. The request's correlation id and the caller's Authorization go with every fetch.
 */
export function createSubgraphClient(options: SubgraphClientOptions): SubgraphClient {
  const deduplicate = options.deduplicate ?? true;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const endpoints = new Map<string, Endpoint>();
  for (const [name, raw] of Object.entries(options.urls)) {
    const url = new URL(raw);
    const https = url.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 256, maxFreeSockets: 64, scheduling: 'lifo' as const };
    endpoints.set(name, { url, agent: https ? new HttpsAgent(agentOptions) : new Agent(agentOptions), request: https ? (httpsRequest as typeof httpRequest) : httpRequest });
  }
  /**
   * Bodies of identical query fetches in flight, by subgraph and credentials, then by request body (the body, a
   * flat string from JSON.stringify, hashes without a copy); each caller parses its own copy, since results are
   * merged into.
   */
  const inFlight = new Map<string, Map<string, Promise<string>>>();

  const post = (serviceName: string, endpoint: Endpoint, body: string, scope: RequestScope): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const headers: Record<string, string | number> = {
        'content-type': 'application/json',
        accept: 'application/json',
        'content-length': Buffer.byteLength(body),
        [CORRELATION_HEADER]: scope.correlationId,
      };
      if (scope.authorization) headers.authorization = scope.authorization;
      // The fetch's span continues in the subgraph (nothing is added while tracing is off).
      Object.assign(headers, traceHeaders());
      const req = endpoint.request(endpoint.url, { method: 'POST', agent: endpoint.agent, headers, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => reject(new SubgraphUnavailable(serviceName, error.message)));
        res.on('end', () => {
          const text = chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          // A GraphQL response is a GraphQL response whatever the status (a subgraph answers 400 for a bad request
          // with `errors`); anything else is the subgraph failing.
          if ((status >= 200 && status < 300) || text.startsWith('{')) resolve(text);
          else reject(new SubgraphUnavailable(serviceName, `HTTP ${status} from subgraph "${serviceName}"`));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (error) => reject(new SubgraphUnavailable(serviceName, `subgraph "${serviceName}" could not be reached: ${error.message}`)));
      req.end(body);
    });

  const parse = (serviceName: string, text: string): SubgraphResponse => {
    try {
      return JSON.parse(text) as SubgraphResponse;
    } catch {
      throw new SubgraphUnavailable(serviceName, `subgraph "${serviceName}" answered with something that is not JSON`);
    }
  };

  return {
    async fetch(serviceName, request, scope) {
      const local = options.local?.[serviceName];
      if (local) return (await local({ query: request.query, variables: request.variables, operationName: request.operationName })) as SubgraphResponse;
      const endpoint = endpoints.get(serviceName);
      if (!endpoint) throw new SubgraphUnavailable(serviceName, `no URL for subgraph "${serviceName}"`);
      const body = JSON.stringify({ query: request.query, variables: request.variables, ...(request.operationName ? { operationName: request.operationName } : {}) });
      if (!deduplicate || request.kind !== 'query') return parse(serviceName, await post(serviceName, endpoint, body, scope));
      // Who asks is part of the answer: only requests with the same credentials share one.
      const caller = `${serviceName}\n${scope.authorization ?? ''}`;
      let bodies = inFlight.get(caller);
      if (!bodies) {
        bodies = new Map();
        inFlight.set(caller, bodies);
      }
      let pending = bodies.get(body);
      if (!pending) {
        const shared = bodies;
        pending = post(serviceName, endpoint, body, scope).finally(() => {
          shared.delete(body);
          if (shared.size === 0 && inFlight.get(caller) === shared) inFlight.delete(caller);
        });
        bodies.set(body, pending);
      }
      return parse(serviceName, await pending);
    },
    close() {
      for (const endpoint of endpoints.values()) endpoint.agent.destroy();
    },
  };
}

/** `client` with every fetch in a span of its own and counted and timed by subgraph and outcome. */
export function observedSubgraphClient(client: SubgraphClient, metrics: Pick<Metrics, 'subgraphFetches' | 'subgraphDuration'> | undefined): SubgraphClient {
  return {
    fetch: (serviceName, request, scope) =>
      inSpan(`subgraph.fetch ${serviceName}`, { kind: SpanKind.CLIENT, attributes: { 'retail.subgraph': serviceName, 'graphql.operation.type': request.kind } }, async () => {
        const started = performance.now();
        let outcome = 'error';
        try {
          const response = await client.fetch(serviceName, request, scope);
          if (!response.errors?.length) outcome = 'ok';
          return response;
        } finally {
          metrics?.subgraphFetches.inc({ subgraph: serviceName, outcome });
          metrics?.subgraphDuration.observe({ subgraph: serviceName }, (performance.now() - started) / 1000);
        }
      }),
    close: () => client.close(),
  };
}
