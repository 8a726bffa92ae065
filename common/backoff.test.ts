import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, retryDelayMs } from './backoff.js';

describe('retry backoff (exponential, full jitter)', () => {
  it('doubles the ceiling with every failure, from the base up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffCeilingMs(n, 100, 1_000))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('never overflows: a huge failure count waits at most the cap', () => {
    expect(backoffCeilingMs(10_000, 5_000, 900_000)).toBe(900_000);
    expect(retryDelayMs(10_000, 5_000, 900_000, () => 0.999_999)).toBeLessThanOrEqual(900_000);
  });

  it('draws uniformly in [0, ceiling): the random source decides where', () => {
    expect(retryDelayMs(3, 100, 10_000, () => 0)).toBe(0);
    expect(retryDelayMs(3, 100, 10_000, () => 0.5)).toBe(200);
    expect(retryDelayMs(3, 100, 10_000, () => 0.999_999)).toBe(399);
  });

  it('spreads many simultaneous retries (full jitter) instead of marching them in step', () => {
    const delays = Array.from({ length: 1_000 }, () => retryDelayMs(4, 100, 10_000));
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(0);
    for (const d of delays) expect(d).toBeLessThan(800);
    expect(new Set(delays).size).toBeGreaterThan(300);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(mean).toBeGreaterThan(300);
    expect(mean).toBeLessThan(500);
  });

  it('treats a zero or negative failure count as the first', () => {
    expect(backoffCeilingMs(0, 100, 1_000)).toBe(100);
    expect(backoffCeilingMs(-3, 100, 1_000)).toBe(100);
  });
});
