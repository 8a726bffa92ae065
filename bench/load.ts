/**
 * A closed-loop load driver: `concurrency` clients each send their next request as soon as the previous one
 * answers, until `maxRequests` are done or `maxMs` has passed (whichever first). Loopback only.
 */
export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

export async function runLoad(options: {
  url: string;
  concurrency: number;
  maxRequests: number;
  maxMs: number;
  /** Builds the i-th request body (vary ids so caches do not flatter the numbers). */
  body: (i: number) => string;
  /** The i-th request's Authorization header, as the client it stands for would send it. @default none (anonymous) */
  authorization?: ((i: number) => string | undefined) | undefined;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const started = performance.now();
  const deadline = started + options.maxMs;
  const client = async () => {
    while (issued < options.maxRequests && performance.now() < deadline) {
      const i = issued++;
      const t0 = performance.now();
      try {
        const authorization = options.authorization?.(i);
        const headers: Record<string, string> = { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) };
        const response = await fetch(options.url, { method: 'POST', headers, body: options.body(i) });
        const json = (await response.json()) as { errors?: unknown[] };
        if (!response.ok || json.errors?.length) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, errors, seconds, rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Results of one scenario measured in several rounds, merged: requests and seconds summed, latencies the rounds' median. */
export function mergeRounds(results: readonly LoadResult[]): LoadResult {
  const requests = results.reduce((n, r) => n + r.requests, 0);
  const seconds = results.reduce((n, r) => n + r.seconds, 0);
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  return { requests, errors: results.reduce((n, r) => n + r.errors, 0), seconds, rps: requests / seconds, p50: median(results.map((r) => r.p50)), p99: median(results.map((r) => r.p99)) };
}
