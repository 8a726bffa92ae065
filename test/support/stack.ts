import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type AppConfig } from '../../common/config.js';
import { createLogger } from '../../common/logger.js';
import { startStack, type Stack } from '../../stack.js';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[] };
}

/** Whom a test calls as: the role a real client would have (tokens from the sandbox identity provider). */
export type Caller =
  | { role: 'shopper'; customerId: string }
  | { role: 'store'; locationId: string }
  | { role: 'agent' }
  | { role: 'finance' }
  | { role: 'ops' };

export const AGENT: Caller = { role: 'agent' };
export const FINANCE: Caller = { role: 'finance' };
export const OPS: Caller = { role: 'ops' };
export const shopper = (customerId: string): Caller => ({ role: 'shopper', customerId });
export const store = (locationId: string): Caller => ({ role: 'store', locationId });

export interface TestStack extends Stack {
  /** Every log line the stack wrote, parsed. */
  logs: Record<string, unknown>[];
  /** An anonymous request (or one with the headers given). */
  query<T = Record<string, any>>(document: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** A request as `caller`, with a token the sandbox identity provider issued. */
  queryAs<T = Record<string, any>>(caller: Caller, document: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** A token for `caller` (cached per caller for the stack's life; `expiresInSeconds` asks for a fresh one). */
  token(caller: Caller, expiresInSeconds?: number): Promise<string>;
  /** `Bearer <token>` for `caller`. */
  bearer(caller: Caller): Promise<string>;
  sandboxCall(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Sandbox calls made while running `fn`, per system and method. */
  countCalls(fn: () => Promise<unknown>): Promise<Record<string, Record<string, number>>>;
}

/** The real stack on port 0 with its logs captured in memory. */
export async function startTestStack(overrides: Partial<AppConfig> = {}, env: Record<string, string> = {}): Promise<TestStack> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  // SUPERGRAPH_PATH lets a developer run the tests against a freshly composed supergraph before checking it in.
  // A fresh data directory per stack: tests must not see each other's journals.
  const dataDir = mkdtempSync(join(tmpdir(), 'retail-test-'));
  // Tests drive hundreds of requests a second as one caller: the rate limits have their own tests, with their own
  // settings, and stay out of everybody else's way. The master-data sync polls the ERP once a minute only (its first
  // round fills the read models at start), so that its calls do not blur the call counts tests make; the tests of
  // the sync itself poll fast.
  const config = {
    ...loadConfig({
      LOG_LEVEL: 'info',
      ADAPTER_TIMEOUT_MS: '1000',
      BREAKER_RESET_MS: '200',
      SUPERGRAPH_PATH: process.env.SUPERGRAPH_PATH,
      // The e2e-apollo project (vitest.config.ts) runs the federation tests again on Apollo's executor this way.
      GATEWAY_EXECUTOR: process.env.GATEWAY_EXECUTOR,
      DATA_DIR: dataDir,
      RATE_LIMIT_RPS: '100000',
      RATE_LIMIT_BURST: '100000',
      CHECKOUT_RATE_LIMIT_RPS: '100000',
      CHECKOUT_RATE_LIMIT_BURST: '100000',
      MASTER_DATA_POLL_MS: '60000',
      ...env,
    }),
    ...overrides,
  };
  const logger = createLogger({ level: config.logLevel, destination: sink });
  const stack = await startStack({ config, logger, ephemeralPorts: true, host: '127.0.0.1' });

  const query: TestStack['query'] = async (document, variables, headers = {}) => {
    const response = await fetch(stack.urls.gateway, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: document, variables }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResponse['body'] } as never;
  };
  const sandboxCall: TestStack['sandboxCall'] = async (method, path, body) => {
    const response = await fetch(`${stack.urls.sandbox}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  const tokens = new Map<string, Promise<string>>();
  const token: TestStack['token'] = (caller, expiresInSeconds) => {
    const body = { ...caller, ...(expiresInSeconds !== undefined ? { expiresInSeconds } : {}) };
    const issue = async () => {
      const { status, body: answer } = await sandboxCall('POST', '/sandbox/tokens', body);
      if (status !== 200) throw new Error(`the sandbox refused a token for ${JSON.stringify(body)}: ${JSON.stringify(answer)}`);
      return (answer as { token: string }).token;
    };
    if (expiresInSeconds !== undefined) return issue();
    const key = JSON.stringify(caller);
    let cached = tokens.get(key);
    if (!cached) tokens.set(key, (cached = issue()));
    return cached;
  };
  const bearer: TestStack['bearer'] = async (caller) => `Bearer ${await token(caller)}`;
  return {
    ...stack,
    logs,
    query,
    queryAs: async (caller, document, variables, headers = {}) => query(document, variables, { authorization: await bearer(caller), ...headers }),
    token,
    bearer,
    sandboxCall,
    async countCalls(fn) {
      await sandboxCall('DELETE', '/sandbox/calls');
      await fn();
      return (await sandboxCall('GET', '/sandbox/calls')).body as Record<string, Record<string, number>>;
    },
  };
}

export function totalCalls(calls: Record<string, Record<string, number>>): number {
  let total = 0;
  for (const perSystem of Object.values(calls)) for (const n of Object.values(perSystem)) total += n;
  return total;
}
