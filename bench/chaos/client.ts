import { retryDelayMs } from '../../common/backoff.js';

/** Who calls, as the sandbox identity provider signs them in (the body of `POST /sandbox/tokens`). */
export type ChaosCaller = { role: 'shopper'; customerId: string } | { role: 'store'; locationId: string } | { role: 'agent' } | { role: 'finance' };

export const AGENT: ChaosCaller = { role: 'agent' };
export const FINANCE: ChaosCaller = { role: 'finance' };
export const shopper = (customerId: string): ChaosCaller => ({ role: 'shopper', customerId });
export const store = (locationId: string): ChaosCaller => ({ role: 'store', locationId });

/** One answer of the graph: a body to judge, or why there was none worth judging (network, timeout, 5xx). */
/** `coded` (answers of 5xx and 429 only): whether the body carried errors, each with `extensions.code`. */
export type Attempt = { ok: true; status: number; body: GraphQLBody } | { ok: false; reason: string; coded?: boolean };

/** Whether every error of a GraphQL answer has a code (an answer without errors has nothing to code). */
export function errorsCoded(body: GraphQLBody): boolean {
  return (body.errors ?? []).every((e) => typeof e.extensions?.code === 'string' && e.extensions.code !== '');
}

function hasCodes(text: string): boolean {
  try {
    const body = JSON.parse(text) as GraphQLBody;
    return Array.isArray(body.errors) && body.errors.length > 0 && errorsCoded(body);
  } catch {
    return false;
  }
}
export interface GraphQLBody {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export interface ClientOptions {
  /** The gateways' base URLs (`http://127.0.0.1:<port>`), used in turn: a client of a load balancer. */
  gateways: readonly string[];
  /** The sandbox, whose identity provider issues the tokens. */
  sandbox: string;
  /** One request's timeout. @default 5000 */
  timeoutMs?: number;
}

/**
 * The load's HTTP client of the graph: signs in as a real client does (a token from the identity provider, cached
 * per caller), spreads requests over the gateways, and for writes retries the SAME request (same idempotency key)
 * on another gateway after a network error, a timeout, a 5xx or an answer without the mutation's result, until an
 * answer is definite or the deadline passes.
 */
export class ChaosClient {
  private readonly tokens = new Map<string, Promise<string>>();
  private turn = 0;
  readonly gateways: readonly string[];
  private readonly timeoutMs: number;
  /** Attempts that got no definite answer, by reason (for the run's summary). */
  readonly transient = new Map<string, number>();

  constructor(private readonly options: ClientOptions) {
    this.gateways = options.gateways;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  bearer(caller: ChaosCaller): Promise<string> {
    const key = JSON.stringify(caller);
    let token = this.tokens.get(key);
    if (!token) {
      token = (async () => {
        const response = await fetch(`${this.options.sandbox}/sandbox/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(caller), signal: AbortSignal.timeout(5000) });
        const body = (await response.json()) as { token?: string; error?: string };
        if (!body.token) throw new Error(`no token for ${key}: ${response.status} ${body.error}`);
        return `Bearer ${body.token}`;
      })();
      token.catch(() => this.tokens.delete(key));
      this.tokens.set(key, token);
    }
    return token;
  }

  /** Until when (epoch ms) a gateway that refused a connection is passed over, as a load balancer's health check would. */
  private readonly downUntil = new Map<string, number>();

  /** The next gateway in turn, passing over one that just refused connections (unless all did). */
  nextGateway(): string {
    for (let i = 0; i < this.gateways.length; i++) {
      const gateway = this.gateways[this.turn++ % this.gateways.length]!;
      if ((this.downUntil.get(gateway) ?? 0) <= Date.now()) return gateway;
    }
    return this.gateways[this.turn++ % this.gateways.length]!;
  }

  /** One request to one gateway. */
  async once(gateway: string, caller: ChaosCaller | null, query: string, variables: Record<string, unknown> = {}): Promise<Attempt> {
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (caller) headers.authorization = await this.bearer(caller);
      const response = await fetch(`${gateway}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }), signal: AbortSignal.timeout(this.timeoutMs) });
      const text = await response.text();
      // Not an answer to retry on, but still one to judge: does it say, with a code, what went wrong?
      if (response.status >= 500 || response.status === 429) return { ok: false, reason: `HTTP ${response.status}`, coded: hasCodes(text) };
      try {
        return { ok: true, status: response.status, body: JSON.parse(text) as GraphQLBody };
      } catch {
        return { ok: false, reason: `HTTP ${response.status}, not JSON` };
      }
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      if (e.cause?.code === 'ECONNREFUSED') this.downUntil.set(gateway, Date.now() + 1000);
      return { ok: false, reason: e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.name) };
    }
  }

  /** A read: one attempt at the next gateway. */
  query(caller: ChaosCaller | null, query: string, variables: Record<string, unknown> = {}): Promise<Attempt> {
    return this.once(this.nextGateway(), caller, query, variables);
  }

  /**
   * A write, retried as the same request until `definite` says its answer is one (gateways in turn, backoff with
   * jitter between attempts) or `deadline` (epoch ms) passes: then undefined, an answer nobody got.
   */
  async untilDefinite<T>(caller: ChaosCaller, query: string, variables: Record<string, unknown>, definite: (body: GraphQLBody) => T | undefined, deadline: number): Promise<{ value: T; attempts: number } | { value: undefined; attempts: number; last: string }> {
    let attempts = 0;
    let last = '';
    while (Date.now() < deadline) {
      attempts++;
      const attempt = await this.once(this.nextGateway(), caller, query, variables);
      if (attempt.ok) {
        const value = definite(attempt.body);
        if (value !== undefined) return { value, attempts };
        last = JSON.stringify(attempt.body).slice(0, 300);
        this.count(attempt.body.errors?.[0]?.extensions?.code ? String(attempt.body.errors[0].extensions.code) : 'no definite answer');
      } else {
        last = attempt.reason;
        this.count(attempt.reason);
      }
      await new Promise((done) => setTimeout(done, 50 + retryDelayMs(Math.min(attempts, 6), 100, 2000)));
    }
    return { value: undefined, attempts, last };
  }

  private count(reason: string): void {
    this.transient.set(reason, (this.transient.get(reason) ?? 0) + 1);
  }
}

/** The userErrors of a payload, when the payload is there (a definite answer); undefined when the field is null or missing. */
export function payloadOf(body: GraphQLBody, field: string): { userErrors: { code: string; message: string }[]; [k: string]: any } | undefined {
  const payload = body.data?.[field];
  if (!payload || typeof payload !== 'object') return undefined;
  // Still running elsewhere (the first attempt is in flight, or its instance died with the key held): not an answer yet.
  if ((payload.userErrors as { code: string }[] | undefined)?.some((e) => e.code === 'IDEMPOTENCY_KEY_IN_USE')) return undefined;
  return payload as { userErrors: { code: string; message: string }[] };
}
