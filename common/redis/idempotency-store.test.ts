import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { keysOf, REDIS_TOPOLOGIES, useRedisServer } from '../../test/support/redis.js';
import type { RedisClient } from './connection.js';
import { RedisIdempotencyStore } from './idempotency-store.js';

describe.each(REDIS_TOPOLOGIES)('%s', (topology) => {
  const redisServer = useRedisServer(['idem-test-a', 'idem-test-b'], { topology });
  const { freshPrefix } = redisServer;
  let a: RedisClient;
  let b: RedisClient;

  beforeAll(() => {
    [a, b] = redisServer.clients as [RedisClient, RedisClient];
  });


  describe(`RedisIdempotencyStore (${topology} Redis)`, () => {
    it('starts once, reports in-use while running, replays after completion, refuses other input', async () => {
      const store = new RedisIdempotencyStore({ redis: a, prefix: freshPrefix(), lockTtlMs: 5_000, ttlMs: 400 });
      expect(await store.begin('s', 'k', 'f1')).toEqual({ kind: 'started' });
      expect(await store.begin('s', 'k', 'f1')).toEqual({ kind: 'in-use' });
      expect(await store.begin('s', 'k', 'f2')).toEqual({ kind: 'reused' });
      // Another caller's key of the same name is independent.
      expect(await store.begin('other', 'k', 'f2')).toEqual({ kind: 'started' });
      await store.complete('s', 'k', 'f1', { id: 1 });
      expect(await store.begin('s', 'k', 'f1')).toEqual({ kind: 'replay', response: { id: 1 } });
      expect(await store.begin('s', 'k', 'f2')).toEqual({ kind: 'reused' });
      await sleep(450);
      expect(await store.begin('s', 'k', 'f2')).toEqual({ kind: 'started' });
    });

    it('lets a retry run after an abandoned or expired lock', async () => {
      const store = new RedisIdempotencyStore({ redis: a, prefix: freshPrefix(), lockTtlMs: 200 });
      await store.begin('s', 'k', 'f');
      await store.abandon('s', 'k');
      expect(await store.begin('s', 'k', 'f')).toEqual({ kind: 'started' });
      expect(await store.begin('s', 'k', 'f')).toEqual({ kind: 'in-use' });
      await sleep(250);
      expect(await store.begin('s', 'k', 'f')).toEqual({ kind: 'started' });
    });

    it('gives exactly one of 20 concurrent callers on two instances the key', async () => {
      const prefix = freshPrefix();
      const stores = [new RedisIdempotencyStore({ redis: a, prefix }), new RedisIdempotencyStore({ redis: b, prefix })];
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 2]!.begin('caller', 'checkout-1', 'f')));
      expect(results.filter((r) => r.kind === 'started')).toHaveLength(1);
      expect(results.filter((r) => r.kind === 'in-use')).toHaveLength(19);
    });

    it('shares records across instances: completed on one, replayed on the other', async () => {
      const prefix = freshPrefix();
      const one = new RedisIdempotencyStore({ redis: a, prefix });
      const two = new RedisIdempotencyStore({ redis: b, prefix });
      expect(await one.begin('s', 'k', 'f')).toEqual({ kind: 'started' });
      expect(await two.begin('s', 'k', 'f')).toEqual({ kind: 'in-use' });
      const response = { order: { id: 'ord-1', lines: [{ sku: 'A', quantity: 2 }], note: null, tags: [] } };
      await one.complete('s', 'k', 'f', response);
      expect(await two.begin('s', 'k', 'f')).toEqual({ kind: 'replay', response });
      expect(await two.begin('s', 'k', 'g')).toEqual({ kind: 'reused' });
    });

    it('replays null, scalars and undefined as given', async () => {
      const store = new RedisIdempotencyStore({ redis: a, prefix: freshPrefix() });
      for (const [key, response] of [['null', null], ['zero', 0], ['text', 'ok'], ['false', false], ['undefined', undefined]] as const) {
        await store.begin('s', key, 'f');
        await store.complete('s', key, 'f', response);
        expect(await store.begin('s', key, 'f')).toEqual({ kind: 'replay', response });
      }
    });

    it('keeps scopes and keys apart whatever they contain, and hashes them into the key', async () => {
      const prefix = freshPrefix();
      const store = new RedisIdempotencyStore({ redis: a, prefix });
      // Joined naively with ':' these two would collide.
      expect(await store.begin('a:b', 'c', 'f')).toEqual({ kind: 'started' });
      expect(await store.begin('a', 'b:c', 'f')).toEqual({ kind: 'started' });
      const long = 'k'.repeat(10_000) + '\0\n*{}';
      expect(await store.begin('s', long, 'f')).toEqual({ kind: 'started' });
      const keys = await keysOf(a, `${prefix}:*`);
      expect(keys).toHaveLength(3);
      const sha = (v: string) => createHash('sha256').update(v).digest('hex');
      // One hash tag per record (scope and key), whatever braces the key holds: see keys.ts.
      expect(keys).toContain(`${prefix}:idem:{${sha('s')}:${sha(long)}}`);
    });

    it('stores the lock with lockTtlMs and the completed record with ttlMs', async () => {
      const prefix = freshPrefix();
      const store = new RedisIdempotencyStore({ redis: a, prefix, lockTtlMs: 30_000, ttlMs: 86_400_000 });
      await store.begin('s', 'k', 'f');
      const [key] = await keysOf(a, `${prefix}:*`);
      const lockTtl = await a.pttl(key!);
      expect(lockTtl).toBeGreaterThan(29_000);
      expect(lockTtl).toBeLessThanOrEqual(30_000);
      await store.complete('s', 'k', 'f', { ok: true });
      expect(await a.pttl(key!)).toBeGreaterThan(86_000_000);
      expect(await a.hgetall(key!)).toEqual({ state: 'done', fingerprint: 'f', response: '{"ok":true}' });
    });

    it('uses the documented defaults', async () => {
      const prefix = freshPrefix();
      const store = new RedisIdempotencyStore({ redis: a, prefix });
      await store.begin('s', 'k', 'f');
      const [key] = await keysOf(a, `${prefix}:*`);
      expect(key).toMatch(new RegExp(`^${prefix}:idem:\\{[0-9a-f]{64}:[0-9a-f]{64}\\}$`));
      expect(await a.pttl(key!)).toBeGreaterThan(29_000);
      await store.complete('s', 'k', 'f', 1);
      expect(await a.pttl(key!)).toBeGreaterThan(86_400_000 - 5_000);
      const retail = new RedisIdempotencyStore({ redis: a });
      await retail.begin('s', 'default-prefix', 'f');
      expect(await keysOf(a, 'retail:idem:*')).toHaveLength(1);
    });

    it('rejects nonsensical TTLs', () => {
      expect(() => new RedisIdempotencyStore({ redis: a, ttlMs: 0 })).toThrow(/ttlMs/);
      expect(() => new RedisIdempotencyStore({ redis: a, lockTtlMs: 1.5 })).toThrow(/lockTtlMs/);
    });
  });
});
