import { describe, expect, it } from 'vitest';
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

  it('a half-open trial refused for rate frees the trial slot: the next call is the trial, and its outcome decides', async () => {
    let now = 0;
    const breaker = new CircuitBreaker(1, 1000, () => now);
    const policy: ResiliencePolicy = { system: 'erp', config: { ...config, retries: 0 }, breaker };
    await callSystem(policy, 'm', async () => Promise.reject(new TransportError('down')), { idempotent: true }).catch(() => undefined);
    expect(breaker.current.kind).toBe('open');
    now = 1_500;
    const trial = await callSystem(policy, 'm', async () => Promise.reject(throttled()), { idempotent: true }).catch((e: unknown) => e);
    expect((trial as SystemUnavailableError).retryAfterMs).toBe(1_500);
    expect(breaker.current).toEqual({ kind: 'half-open', trialInFlight: false });
    expect(await callSystem(policy, 'm', async () => 'ok', { idempotent: true })).toBe('ok');
    expect(breaker.current).toEqual({ kind: 'closed', consecutiveFailures: 0 });
  });

  it('other failures carry no retryAfterMs', async () => {
    const policy: ResiliencePolicy = { system: 'erp', config: { ...config, retries: 0 }, breaker: new CircuitBreaker(10, 1000) };
    const error = (await callSystem(policy, 'm', async () => Promise.reject(new TransportError('erp answered 503')), { idempotent: true }).catch((e: unknown) => e)) as SystemUnavailableError;
    expect(error.retryAfterMs).toBeUndefined();
    expect(error.extensions).toEqual({ code: 'ERP_UNAVAILABLE', system: 'erp', reason: 'erp answered 503' });
  });
});
