import { createClient, type Client, type ClientOptions } from 'graphql-ws';
import WebSocket from 'ws';

/** One client subscription's stream, collected: results in arrival order, then an error or the end. */
export interface Collected<T = any> {
  results: { data?: T; errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[] }[];
  error: unknown;
  completed: boolean;
  /** Wait until at least `n` results arrived (or the stream ended); rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<Collected<T>['results']>;
  /** Wait until the stream ends with an error or completes. */
  ended(timeoutMs?: number): Promise<void>;
  unsubscribe(): void;
}

/** A graphql-ws client of the gateway at its HTTP URL (`/graphql`), with the real `ws` implementation. */
export function wsClient(httpUrl: string, options: Partial<ClientOptions> = {}): Client {
  return createClient({ url: httpUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, ...options });
}

/**
 * A graphql-ws client that signs in with `authorization` (`Bearer <jwt>`, or a function giving it, e.g.
 * `() => stack.bearer(store('store-003'))`): sent as connection_init's `authorization`, beside any other
 * `connectionParams` (a correlation id). The function is asked on every (re)connect, so a lazy client picks the
 * token up when it first connects.
 */
export function wsClientAs(httpUrl: string, authorization: string | (() => Promise<string>), options: Partial<ClientOptions> & { connectionParams?: Record<string, unknown> } = {}): Client {
  const { connectionParams = {}, ...rest } = options;
  return wsClient(httpUrl, {
    ...rest,
    connectionParams: async () => ({ ...connectionParams, authorization: typeof authorization === 'string' ? authorization : await authorization() }),
  });
}

export function collect<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}): Collected<T> {
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const collected: Collected<T> = {
    results: [],
    error: undefined,
    completed: false,
    waitFor(n, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (collected.results.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(collected.results);
          } else if (collected.error !== undefined || collected.completed) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`stream ended after ${collected.results.length} of ${n} results: ${JSON.stringify(collected.error)}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`only ${collected.results.length} of ${n} results after ${timeoutMs} ms: ${JSON.stringify(collected.results)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    ended(timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (collected.error !== undefined || collected.completed) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`stream still open after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    unsubscribe: () => undefined,
  };
  collected.unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        collected.results.push(value as Collected<T>['results'][number]);
        poke();
      },
      error: (error) => {
        collected.error = error ?? 'error';
        poke();
      },
      complete: () => {
        collected.completed = true;
        poke();
      },
    },
  );
  return collected;
}

/** Poll `condition` every 20 ms until it holds; rejects after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
