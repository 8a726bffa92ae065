import { CORRELATION_HEADER, currentCorrelationId } from '../correlation.js';
import { currentCallSignal, retryAfterMs, TransportError } from '../resilience.js';

/*
 * One small OData v4 client for the ERP connector: OAuth2 client credentials (a token fetched once, shared by
 * concurrent calls, refreshed before it expires and once more when the service answers 401), a timeout that aborts
 * the request, and the transport's failures in the form the resilience policy reads (common/resilience.ts):
 * 429 is a TransportError with `retryAfterMs` (the retry-after path: no retry, no breaker count), 5xx, refused
 * connections and bad gateways are transient TransportErrors, a timeout is a TransportError that is not retried
 * (the caller's patience is spent). Any other answer (2xx, 4xx) is returned to the adapter, which knows what a 400
 * or a 410 means for its call.
 */

export interface ODataClientOptions {
  /** The OData service root, e.g. `https://erp.example/odata/v4/retail` (required). */
  serviceUrl: string;
  /** The OAuth2 token endpoint (required). */
  tokenUrl: string;
  /** OAuth2 client id (required). */
  clientId: string;
  /** OAuth2 client secret (required). */
  clientSecret: string;
  /**
   * OAuth2 scope to ask for.
   * @default none
   */
  scope?: string | undefined;
  /**
   * How long one request may take before it is aborted, in ms (the token request has the same budget).
   * @default 1000
   */
  timeoutMs?: number;
  /**
   * A token is fetched again this long before it expires, in ms.
   * @default 30000
   */
  refreshBeforeExpiryMs?: number;
}

export interface ODataAnswer {
  status: number;
  headers: Headers | Record<string, string>;
  /** The parsed JSON body (undefined for an empty one). */
  body: any;
}

export interface BatchRequest {
  id: string;
  method: 'GET' | 'POST';
  /** Relative to the service root (`Products?$deltatoken=12`) or absolute (a next link the service gave). */
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** The message of an OData error body (`{"error":{"code","message"}}`), else of an OAuth2 one, else the status. */
export function odataErrorMessage(answer: { status: number; body: any }): string {
  const error = answer.body?.error;
  if (typeof error === 'object' && error !== null) return `${String(error.code ?? answer.status)}: ${String(error.message ?? '')}`;
  if (typeof error === 'string') return `${error}${answer.body?.error_description ? `: ${String(answer.body.error_description)}` : ''}`;
  return `HTTP ${answer.status}`;
}

const isAbort = (error: unknown) => error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');

export class ODataClient {
  private readonly root: string;
  private readonly options: Required<Omit<ODataClientOptions, 'scope'>> & { scope: string | undefined };
  private token: { value: string; refreshAt: number } | null = null;
  private fetching: Promise<string> | null = null;

  constructor(options: ODataClientOptions) {
    this.root = options.serviceUrl.replace(/\/$/, '');
    this.options = { timeoutMs: 1000, refreshBeforeExpiryMs: 30_000, ...options, scope: options.scope };
  }

  /** The service root the client talks to. */
  get serviceUrl(): string {
    return this.root;
  }

  get(url: string, headers: Record<string, string> = {}): Promise<ODataAnswer> {
    return this.send('GET', url, undefined, headers);
  }

  post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<ODataAnswer> {
    return this.send('POST', url, body, headers);
  }

  /**
   * One `$batch` request (OData 4.01 JSON batch): the answers in request order, matched by id. An answer that does
   * not hold one response per request is a transport failure.
   */
  async batch(requests: readonly BatchRequest[]): Promise<ODataAnswer[]> {
    const answer = await this.send('POST', '$batch', { requests: requests.map((r) => ({ ...r, url: this.relative(r.url) })) }, {});
    if (answer.status !== 200) throw new TransportError(`ERP $batch answered ${odataErrorMessage(answer)}`, answer.status >= 500);
    const responses = answer.body?.responses;
    if (!Array.isArray(responses)) throw new TransportError('ERP $batch answered no responses');
    const byId = new Map<string, any>(responses.map((r: any) => [String(r?.id), r]));
    return requests.map((request) => {
      const response = byId.get(request.id);
      if (!response || !Number.isInteger(response.status)) throw new TransportError(`ERP $batch answered nothing for request ${request.id}`);
      return { status: response.status as number, headers: (response.headers ?? {}) as Record<string, string>, body: response.body };
    });
  }

  /** A URL the service gave (absolute) or one relative to the root, as a path relative to the root. */
  private relative(url: string): string {
    return url.startsWith(`${this.root}/`) ? url.slice(this.root.length + 1) : url;
  }

  private absolute(url: string): string {
    return /^https?:\/\//.test(url) ? url : `${this.root}/${url.replace(/^\//, '')}`;
  }

  private async send(method: 'GET' | 'POST', url: string, body: unknown, headers: Record<string, string>, renewed = false): Promise<ODataAnswer> {
    const token = await this.accessToken();
    let response: Response;
    let text: string;
    const timeoutMs = this.options.timeoutMs;
    try {
      response = await fetch(this.absolute(url), {
        method,
        headers: {
          accept: 'application/json',
          'odata-version': '4.0',
          authorization: `Bearer ${token}`,
          [CORRELATION_HEADER]: currentCorrelationId() ?? '',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        // Aborts the connection itself, not only the wait: a slow ERP does not keep a socket per timed-out call
        // (this client's own timeout, or the system call's whose attempt timed out first).
        signal: withCallSignal(AbortSignal.timeout(timeoutMs)),
      });
      text = await response.text();
    } catch (error) {
      if (isAbort(error)) throw new TransportError(`ERP OData: no answer within ${timeoutMs} ms (request aborted)`, false);
      throw new TransportError(`ERP OData unreachable: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
      if (response.ok) throw new TransportError(`ERP OData answered ${response.status} with a body that is not JSON`);
    }
    const answer: ODataAnswer = { status: response.status, headers: response.headers, body: parsed };
    if (response.status === 401) {
      this.forget(token);
      // A token can expire (or be revoked) between our check and the service's: fetch a new one, once.
      if (!renewed) return this.send(method, url, body, headers, true);
      throw new TransportError(`ERP OData refused a fresh token: ${odataErrorMessage(answer)}`, false);
    }
    if (response.status === 429) {
      const waitMs = retryAfterMs(response.headers.get('retry-after'));
      throw new TransportError(`ERP OData answered 429 (${odataErrorMessage(answer)}): retry after ${waitMs} ms`, true, waitMs);
    }
    if (response.status >= 500) throw new TransportError(`ERP OData answered ${response.status}: ${odataErrorMessage(answer)}`);
    return answer;
  }

  private forget(token: string): void {
    if (this.token?.value === token) this.token = null;
  }

  private accessToken(): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAt) return Promise.resolve(this.token.value);
    // Concurrent calls share one token request.
    this.fetching ??= this.fetchToken().finally(() => (this.fetching = null));
    return this.fetching;
  }

  private async fetchToken(): Promise<string> {
    const { tokenUrl, clientId, clientSecret, scope, timeoutMs, refreshBeforeExpiryMs } = this.options;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope) form.set('scope', scope);
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
    let response: Response;
    let body: any;
    try {
      response = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: `Basic ${basic}` },
        body: form.toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
      body = await response.json().catch(() => undefined);
    } catch (error) {
      if (isAbort(error)) throw new TransportError(`ERP token endpoint: no answer within ${timeoutMs} ms (request aborted)`, false);
      throw new TransportError(`ERP token endpoint unreachable: ${(error as Error).message}`);
    }
    if (response.status >= 500 || response.status === 429) throw new TransportError(`ERP token endpoint answered ${response.status}`);
    if (!response.ok) throw new TransportError(`ERP token endpoint refused the client credentials (${odataErrorMessage({ status: response.status, body })})`, false);
    const value = body?.access_token;
    if (typeof value !== 'string' || !value) throw new TransportError('ERP token endpoint answered no access_token', false);
    const expiresInMs = (Number.isFinite(body?.expires_in) && body.expires_in > 0 ? Number(body.expires_in) : 300) * 1000;
    // Refresh before expiry, but never sooner than half its life (a short-lived token is still used at all).
    this.token = { value, refreshAt: Date.now() + Math.max(expiresInMs / 2, expiresInMs - refreshBeforeExpiryMs) };
    return value;
  }
}

/** `own`, aborted also when the system call in progress is (its attempt timed out). */
function withCallSignal(own: AbortSignal): AbortSignal {
  const call = currentCallSignal();
  return call ? AbortSignal.any([own, call]) : own;
}
