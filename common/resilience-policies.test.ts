import type { IBackoff } from 'cockatiel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { retryDelayMs } from './backoff.js';
import { callSystem, CircuitBreaker, ResilienceRegistry, RETRY_BACKOFF, SystemUnavailableError, TransportError, type ResiliencePolicy } from './resilience.js';

/*
 * The cockatiel policies behind callSystem where their semantics could differ from the hand-written ones they
 * replaced: a half-open trial, what is and is not retried, which writes are writes, the health view, the backoff.
 */

const config = { timeoutMs: 50, retries: 2, breakerFailures: 1, breakerResetMs: 1000 };

/** A promise and its resolver, for a call held open until the test lets it answer. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('the breaker (cockatiel) around callSystem', () => {
  it('lets one trial through when half-open: other calls fail fast without reaching the system, and the trial decides', async () => {
    // cockatiel reads Date.now() for the reset time: only the clock is faked, timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
    const breaker = new CircuitBreaker(1, 1000);
    const policy: ResiliencePolicy = { system: 'pos', config: { ...config, timeoutMs: 10_000, retries: 0 }, breaker };
    await callSystem(policy, 'm', async () => Promise.reject(new TransportError('down')), { idempotent: true }).catch(() => undefined);
    expect(breaker.current.kind).toBe('open');
    vi.setSystemTime(1_500);
    const answer = deferred<string>();
    const trial = callSystem(policy, 'm', () => answer.promise, { idempotent: true });
    expect(breaker.current).toEqual({ kind: 'half-open' });
    let reached = false;
    const other = await callSystem(policy, 'm', async () => {
      reached = true;
      return 'other';
    }, { idempotent: true }).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(SystemUnavailableError);
    expect((other as SystemUnavailableError).extensions).toMatchObject({ code: 'POS_UNAVAILABLE', reason: 'circuit open' });
    expect(reached).toBe(false);
    answer.resolve('back');
    expect(await trial).toBe('back');
    expect(breaker.current).toEqual({ kind: 'closed', consecutiveFailures: 0 });
  });

  it('a failed half-open trial opens the circuit again, from the time it failed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
    const breaker = new CircuitBreaker(1, 1000);
    const policy: ResiliencePolicy = { system: 'pos', config: { ...config, retries: 0 }, breaker };
    const down = () => callSystem(policy, 'm', async () => Promise.reject(new TransportError('down')), { idempotent: true }).catch(() => undefined);
    await down();
    vi.setSystemTime(1_500);
    await down();
    expect(breaker.current).toEqual({ kind: 'open', openedAt: 1_500 });
    vi.setSystemTime(2_000);
    expect(await callSystem(policy, 'm', async () => 'not yet', { idempotent: true }).catch((e: unknown) => (e as SystemUnavailableError).extensions.reason)).toBe('circuit open');
  });

  it('retries neither a timed-out attempt nor a refusal for good, and counts both as failed calls', async () => {
    const breaker = new CircuitBreaker(10, 1000);
    const policy: ResiliencePolicy = { system: 'wms', config, breaker };
    let calls = 0;
    const slow = await callSystem(policy, 'm', () => {
      calls++;
      return new Promise(() => undefined);
    }, { idempotent: true }).catch((e: unknown) => e);
    expect((slow as SystemUnavailableError).extensions.reason).toBe('no answer within 50 ms');
    expect(calls).toBe(1);
    const refused = await callSystem(policy, 'm', async () => {
      calls++;
      throw new TransportError('wms answered 400: unknown location', false);
    }, { idempotent: true }).catch((e: unknown) => e);
    expect((refused as SystemUnavailableError).extensions.reason).toBe('wms answered 400: unknown location');
    expect(calls).toBe(2);
    expect(breaker.current).toEqual({ kind: 'closed', consecutiveFailures: 2 });
  });

  it('gives each attempt of a read its own signal, none aborted when the attempt answered', async () => {
    const policy: ResiliencePolicy = { system: 'crm', config, breaker: new CircuitBreaker(10, 1000) };
    const signals: AbortSignal[] = [];
    expect(await callSystem(policy, 'm', async (signal) => {
      signals.push(signal);
      if (signals.length < 3) throw new TransportError('flaky');
      return 'ok';
    }, { idempotent: true })).toBe('ok');
    expect(new Set(signals).size).toBe(3);
    expect(signals.map((s) => s.aborted)).toEqual([false, false, false]);
  });
});

describe('ResilienceRegistry', () => {
  it('never retries a system’s write (WRITE_METHODS), even one the adapter did not list; reads are retried', async () => {
    const registry = new ResilienceRegistry({ ...config, breakerFailures: 100 });
    const calls = { authorize: 0, getPayment: 0 };
    const psp = registry.wrap('psp', {
      authorize: async () => {
        calls.authorize++;
        throw new TransportError('psp flaky');
      },
      getPayment: async () => {
        if (++calls.getPayment < 3) throw new TransportError('psp flaky');
        return 'payment';
      },
    });
    expect(await psp.authorize().catch((e: unknown) => (e as SystemUnavailableError).extensions.code)).toBe('PSP_UNAVAILABLE');
    expect(calls.authorize).toBe(1);
    expect(await psp.getPayment()).toBe('payment');
    expect(calls.getPayment).toBe(3);
  });

  it('shows each system as its breaker sees it: UP, DEGRADED while calls fail or a trial decides, DOWN while open', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
    const registry = new ResilienceRegistry({ ...config, timeoutMs: 10_000, retries: 0, breakerFailures: 2 });
    const answer = deferred<string>();
    let failing = true;
    const erp = registry.wrap('erp', {
      getProducts: async () => {
        if (failing) throw new TransportError('down');
        return answer.promise;
      },
    });
    const erpHealth = () => registry.health().find((h) => h.system === 'erp');
    expect(registry.health().every((h) => h.state === 'UP' && h.detail === null)).toBe(true);
    await erp.getProducts().catch(() => undefined);
    expect(erpHealth()).toEqual({ system: 'erp', state: 'DEGRADED', detail: '1 call(s) failed in a row' });
    await erp.getProducts().catch(() => undefined);
    expect(erpHealth()).toEqual({ system: 'erp', state: 'DOWN', detail: 'circuit open since 1970-01-01T00:00:00.000Z: calls fail fast' });
    vi.setSystemTime(1_500);
    failing = false;
    const trial = erp.getProducts();
    expect(erpHealth()).toEqual({ system: 'erp', state: 'DEGRADED', detail: 'circuit half-open: a trial call decides' });
    answer.resolve('products');
    expect(await trial).toBe('products');
    expect(erpHealth()).toEqual({ system: 'erp', state: 'UP', detail: null });
    expect(registry.health().filter((h) => h.system !== 'erp').every((h) => h.state === 'UP')).toBe(true);
  });
});

describe('RETRY_BACKOFF', () => {
  it('is the full-jitter schedule of common/backoff.ts: before the n-th retry, retryDelayMs(n, 25, 1000)', () => {
    for (const draw of [0, 0.3, 0.999_999]) {
      vi.spyOn(Math, 'random').mockReturnValue(draw);
      let backoff: IBackoff<unknown> = RETRY_BACKOFF.next();
      for (let retry = 1; retry <= 8; retry++) {
        expect(backoff.duration).toBe(retryDelayMs(retry, 25, 1000, () => draw));
        backoff = backoff.next(undefined);
      }
      vi.restoreAllMocks();
    }
  });
});
