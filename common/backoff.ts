/**
 * Exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS Architecture Blog): after the
 * n-th consecutive failure (n ≥ 1) wait a uniformly random time in [0, min(cap, base · 2^(n−1))). Full jitter
 * spreads retries of many postings that failed together, so a recovering ERP is not hit by all of them at once.
 *
 * `random` is injectable (default Math.random) so the schedule can be tested.
 */
export function retryDelayMs(failures: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeilingMs(failures, baseMs, capMs));
}

/** The upper bound of the wait after the n-th consecutive failure: min(cap, base · 2^(n−1)). */
export function backoffCeilingMs(failures: number, baseMs: number, capMs: number): number {
  const exponent = Math.max(0, Math.floor(failures) - 1);
  // 2^exponent overflows to Infinity for large exponents, which min() turns into the cap.
  return Math.min(capMs, baseMs * 2 ** exponent);
}
