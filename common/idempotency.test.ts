import { describe, expect, it } from 'vitest';
import { fingerprintOf, InMemoryIdempotencyStore } from './idempotency.js';

describe('fingerprintOf', () => {
  it('ignores key order and undefined fields, not values', () => {
    expect(fingerprintOf('op', { a: 1, b: [1, 2], c: undefined })).toBe(fingerprintOf('op', { b: [1, 2], a: 1 }));
    expect(fingerprintOf('op', { a: 1 })).not.toBe(fingerprintOf('op', { a: 2 }));
    expect(fingerprintOf('op', { a: 1 })).not.toBe(fingerprintOf('other', { a: 1 }));
  });
});

describe('InMemoryIdempotencyStore', () => {
  it('starts once, reports in-use while running, replays after completion, refuses other input', async () => {
    let now = 0;
    const store = new InMemoryIdempotencyStore({ now: () => now, lockTtlMs: 1000, ttlMs: 10_000 });
    expect(await store.begin('s', 'k', 'f1')).toEqual({ kind: 'started' });
    expect(await store.begin('s', 'k', 'f1')).toEqual({ kind: 'in-use' });
    expect(await store.begin('s', 'k', 'f2')).toEqual({ kind: 'reused' });
    // Another caller's key of the same name is independent.
    expect(await store.begin('other', 'k', 'f2')).toEqual({ kind: 'started' });
    await store.complete('s', 'k', 'f1', { id: 1 });
    expect(await store.begin('s', 'k', 'f1')).toEqual({ kind: 'replay', response: { id: 1 } });
    expect(await store.begin('s', 'k', 'f2')).toEqual({ kind: 'reused' });
    now = 10_001;
    expect(await store.begin('s', 'k', 'f2')).toEqual({ kind: 'started' });
  });

  it('lets a retry run after an abandoned or expired lock', async () => {
    let now = 0;
    const store = new InMemoryIdempotencyStore({ now: () => now, lockTtlMs: 1000 });
    await store.begin('s', 'k', 'f');
    await store.abandon('s', 'k');
    expect(await store.begin('s', 'k', 'f')).toEqual({ kind: 'started' });
    now = 1001;
    expect(await store.begin('s', 'k', 'f')).toEqual({ kind: 'started' });
  });
});
