import { describe, expect, it, vi } from 'vitest';
import { callSystem, CircuitBreaker, SystemUnavailableError, TransportError, type ResiliencePolicy } from './resilience.js';

const config = { timeoutMs: 200, retries: 2, breakerFailures: 2, breakerResetMs: 1000 };
const throttled = () => new TransportError('ERP rate limit: retry after 1500 ms', true, 1_500);

describe('callSystem and a refusal for rate (TransportError with retryAfterMs)', () => {
  it('surfaces as a SystemUnavailableError carrying retryAfterMs, as a property and in extensions', async () => {
    const policy: ResiliencePolicy = { system: 'erp', config, breaker: new CircuitBreaker(2, 1000) };
    const error = await callSystem(policy, 'postJournalBatch', async () => Promise.reject(throttled()), { idempotent: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SystemUnavailableError);
    expect((error as SystemUnavailableError).retryAfterMs).toBe(1_500);
    expect((error as SystemUnavailableError).extensions).toEqual({ code: 'ERP_UNAVAILABLE', system: 'erp', reason: 'ERP rate limit: retry after 1500 ms', retryAfterMs: 1_500 });
  });

  it('is not retried, not even for a read', async () => {
    let calls = 0;
    const policy: ResiliencePolicy = { system: 'erp', config, breaker: new CircuitBreaker(10, 1000) };
    const error = await callSystem(policy, 'getPostings', async () => {
      calls++;
      throw throttled();
    }, { idempotent: true }).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect((error as SystemUnavailableError).retryAfterMs).toBe(1_500);
  });

  it('never counts towards the breaker: any number of them leave it closed, and failures between them stay consecutive', async () => {
    const breaker = new CircuitBreaker(2, 1000);
    const policy: ResiliencePolicy = { system: 'erp', config: { ...config, retries: 0 }, breaker };
    for (let i = 0; i < 10; i++) await callSystem(policy, 'm', async () => Promise.reject(throttled()), { idempotent: true }).catch(() => undefined);
    expect(breaker.current).toEqual({ kind: 'closed', consecutiveFailures: 0 });
    await callSystem(policy, 'm', async () => Promise.reject(new TransportError('down')), { idempotent: true }).catch(() => undefined);
    await callSystem(policy, 'm', async () => Promise.reject(throttled()), { idempotent: true }).catch(() => undefined);
    expect(breaker.current).toEqual({ kind: 'closed', consecutiveFailures: 1 });
    await callSystem(policy, 'm', async () => Promise.reject(new TransportError('down')), { idempotent: true }).catch(() => undefined);
    expect(breaker.current.kind).toBe('open');
  });

  it('a half-open trial refused for rate does not reopen the circuit: the next call decides, by success or failure', async () => {
    // cockatiel reads Date.now() for the reset time: only the clock is faked, timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(0);
      const breaker = new CircuitBreaker(1, 1000);
      const policy: ResiliencePolicy = { system: 'erp', config: { ...config, retries: 0 }, breaker };
      const down = () => callSystem(policy, 'm', async () => Promise.reject(new TransportError('down')), { idempotent: true }).catch(() => undefined);
      await down();
      expect(breaker.current.kind).toBe('open');
      vi.setSystemTime(1_500);
      const trial = await callSystem(policy, 'm', async () => Promise.reject(throttled()), { idempotent: true }).catch((e: unknown) => e);
      expect((trial as SystemUnavailableError).retryAfterMs).toBe(1_500);
      // cockatiel closes a circuit whose trial ended in an error it does not handle, keeping the count of failures.
      expect(breaker.current).toEqual({ kind: 'closed', consecutiveFailures: 1 });
      // So one more failure opens it again at once …
      await down();
      expect(breaker.current.kind).toBe('open');
      // … and, after a trial refused for rate again, one success clears it.
      vi.setSystemTime(3_000);
      await callSystem(policy, 'm', async () => Promise.reject(throttled()), { idempotent: true }).catch(() => undefined);
      expect(await callSystem(policy, 'm', async () => 'ok', { idempotent: true })).toBe('ok');
      expect(breaker.current).toEqual({ kind: 'closed', consecutiveFailures: 0 });
    } finally {
      vi.useRealTimers();
    }
  });

  it('other failures carry no retryAfterMs', async () => {
    const policy: ResiliencePolicy = { system: 'erp', config: { ...config, retries: 0 }, breaker: new CircuitBreaker(10, 1000) };
    const error = (await callSystem(policy, 'm', async () => Promise.reject(new TransportError('erp answered 503')), { idempotent: true }).catch((e: unknown) => e)) as SystemUnavailableError;
    expect(error.retryAfterMs).toBeUndefined();
    expect(error.extensions).toEqual({ code: 'ERP_UNAVAILABLE', system: 'erp', reason: 'erp answered 503' });
  });
});
