import { describe, expect, it, vi } from 'vitest';
import { callSystem, CircuitBreaker, currentCallSignal, SystemUnavailableError, type ResiliencePolicy } from './resilience.js';

const config = { timeoutMs: 50, retries: 2, breakerFailures: 3, breakerResetMs: 1000 };

describe('callSystem', () => {
  it('retries a failing read and succeeds', async () => {
    let calls = 0;
    const policy: ResiliencePolicy = { system: 'erp', config, breaker: new CircuitBreaker(10, 1000) };
    const result = await callSystem(policy, 'm', async () => {
      calls++;
      if (calls < 3) throw new Error('flaky');
      return 'ok';
    }, { idempotent: true });
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('does not retry writes, and names the system in the error', async () => {
    let calls = 0;
    const policy: ResiliencePolicy = { system: 'psp', config, breaker: new CircuitBreaker(10, 1000) };
    const error = await callSystem(policy, 'm', async () => {
      calls++;
      throw new Error('boom');
    }, { idempotent: false }).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(error).toBeInstanceOf(SystemUnavailableError);
    expect((error as SystemUnavailableError).extensions.code).toBe('PSP_UNAVAILABLE');
  });

  it('times out slow calls', async () => {
    const policy: ResiliencePolicy = { system: 'wms', config, breaker: new CircuitBreaker(10, 1000) };
    const error = await callSystem(policy, 'm', () => new Promise((r) => setTimeout(r, 500)), { idempotent: true }).catch((e: unknown) => e);
    expect((error as SystemUnavailableError).extensions).toMatchObject({ code: 'WMS_UNAVAILABLE', reason: 'no answer within 50 ms' });
  });

  it('aborts a timed-out attempt: its signal (also the ambient one) is aborted when the caller gives up', async () => {
    const policy: ResiliencePolicy = { system: 'wms', config: { ...config, retries: 0 }, breaker: new CircuitBreaker(10, 1000) };
    let seen: { signal: AbortSignal; ambient: AbortSignal | undefined } | undefined;
    let abortedAfterwards: (value: boolean) => void = () => undefined;
    const settled = new Promise<boolean>((resolve) => (abortedAfterwards = resolve));
    const error = await callSystem(policy, 'm', (signal) => {
      seen = { signal, ambient: currentCallSignal() };
      signal.addEventListener('abort', () => abortedAfterwards(signal.aborted));
      return new Promise(() => undefined);
    }, { idempotent: true }).catch((e: unknown) => e);
    expect((error as SystemUnavailableError).extensions.code).toBe('WMS_UNAVAILABLE');
    expect(seen?.ambient).toBe(seen?.signal);
    expect(await settled).toBe(true);
    expect(currentCallSignal()).toBeUndefined();
  });

  it('opens the breaker after consecutive failures and half-opens after the reset time', async () => {
    // cockatiel reads Date.now() for the reset time: only the clock is faked, timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(0);
      const breaker = new CircuitBreaker(3, 1000);
      const policy: ResiliencePolicy = { system: 'crm', config: { ...config, retries: 0 }, breaker };
      let calls = 0;
      const failing = async () => {
        calls++;
        throw new Error('down');
      };
      for (let i = 0; i < 3; i++) await callSystem(policy, 'm', failing, { idempotent: true }).catch(() => undefined);
      expect(breaker.current).toEqual({ kind: 'open', openedAt: 0 });
      const fast = await callSystem(policy, 'm', failing, { idempotent: true }).catch((e: unknown) => e);
      expect((fast as SystemUnavailableError).extensions).toMatchObject({ code: 'CRM_UNAVAILABLE', reason: 'circuit open' });
      expect(calls).toBe(3);
      vi.setSystemTime(1500);
      expect(await callSystem(policy, 'm', async () => 'back', { idempotent: true })).toBe('back');
      expect(breaker.current).toEqual({ kind: 'closed', consecutiveFailures: 0 });
    } finally {
      vi.useRealTimers();
    }
  });

  it('counts a call once, after its retries: failed attempts that a retry absorbs never open the breaker', async () => {
    const breaker = new CircuitBreaker(3, 1000);
    const policy: ResiliencePolicy = { system: 'crm', config, breaker };
    // Ten calls, each failing twice and then answering: twenty failed attempts, no failed call.
    for (let i = 0; i < 10; i++) {
      let attempts = 0;
      await callSystem(policy, 'm', async () => {
        if (++attempts < 3) throw new Error('flaky');
        return 'ok';
      }, { idempotent: true });
    }
    expect(breaker.current).toEqual({ kind: 'closed', consecutiveFailures: 0 });
    // Three calls that fail all their attempts do open it.
    for (let i = 0; i < 3; i++) await callSystem(policy, 'm', async () => Promise.reject(new Error('down')), { idempotent: true }).catch(() => undefined);
    expect(breaker.current.kind).toBe('open');
  });
});
