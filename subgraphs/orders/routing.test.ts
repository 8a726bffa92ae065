import { describe, expect, it } from 'vitest';
import type { OrderSystem } from './ports.js';
import { routeBatch, systemOfOrderId, systemOfOrderNumber, systemOfReturnId } from './routing.js';

function recordingFetchers(fail: OrderSystem | null = null) {
  const calls: { system: OrderSystem; keys: readonly string[] }[] = [];
  const fetcher = (system: OrderSystem) => async (keys: readonly string[]) => {
    calls.push({ system, keys });
    if (system === fail) throw new Error(`${system} down`);
    return keys.map((k) => (k.endsWith('9') ? null : `${system}:${k}`));
  };
  return { calls, fetchers: { pos: fetcher('pos'), ecom: fetcher('ecom') } };
}

describe('order routing', () => {
  it('knows the owner of an id or number from its prefix', () => {
    expect(systemOfOrderId('ord-s000001')).toBe('pos');
    expect(systemOfOrderId('ord-w000001')).toBe('ecom');
    expect(systemOfOrderId('ord-x000001')).toBeNull();
    expect(systemOfOrderId('')).toBeNull();
    expect(systemOfOrderNumber('S1000001')).toBe('pos');
    expect(systemOfOrderNumber('W1000001')).toBe('ecom');
    expect(systemOfOrderNumber('w1000001')).toBeNull();
    expect(systemOfOrderNumber('1000001')).toBeNull();
  });

  it('routes a return id to the system of its order', () => {
    expect(systemOfReturnId('ret-ord-s000001')).toBe('pos');
    expect(systemOfReturnId('ret-ord-w000001-2')).toBe('ecom');
    expect(systemOfReturnId('ord-w000001')).toBeNull();
    expect(systemOfReturnId('ret-x')).toBeNull();
  });

  it('asks each system once, with only its own keys, and answers in key order', async () => {
    const { calls, fetchers } = recordingFetchers();
    const keys = ['ord-w1', 'ord-s1', 'ord-w2', 'nope', 'ord-s9', 'ord-w3'];
    const result = await routeBatch(keys, systemOfOrderId, fetchers, null);
    expect(result).toEqual(['ecom:ord-w1', 'pos:ord-s1', 'ecom:ord-w2', null, null, 'ecom:ord-w3']);
    expect(calls).toHaveLength(2);
    expect(calls.find((c) => c.system === 'pos')?.keys).toEqual(['ord-s1', 'ord-s9']);
    expect(calls.find((c) => c.system === 'ecom')?.keys).toEqual(['ord-w1', 'ord-w2', 'ord-w3']);
  });

  it('calls nothing for keys no system owns, and skips a system with no keys', async () => {
    const { calls, fetchers } = recordingFetchers();
    expect(await routeBatch(['x', 'y'], systemOfOrderId, fetchers, 'missing')).toEqual(['missing', 'missing']);
    expect(calls).toHaveLength(0);
    await routeBatch(['ord-s1'], systemOfOrderId, fetchers, null);
    expect(calls.map((c) => c.system)).toEqual(['pos']);
  });

  it('fails only the keys of the system that failed', async () => {
    const { fetchers } = recordingFetchers('pos');
    const [web, store, unknown] = await routeBatch(['ord-w1', 'ord-s1', 'zzz'], systemOfOrderId, fetchers, null);
    expect(web).toBe('ecom:ord-w1');
    expect(store).toBeInstanceOf(Error);
    expect((store as Error).message).toBe('pos down');
    expect(unknown).toBeNull();
  });
});
