import type { Redis } from 'ioredis';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useRedisServer } from '../test/support/redis.js';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter, type RateLimitRule } from './rate-limit.js';

const redisServer = useRedisServer(['ratelimit-test-a', 'ratelimit-test-b']);
const { freshPrefix } = redisServer;
let a: Redis;
let b: Redis;

beforeAll(() => {
  [a, b] = redisServer.clients as [Redis, Redis];
});

let t = 0;
const now = () => t;
beforeEach(() => {
  t = 1_700_000_000_000;
});

const twoPerSecond: RateLimitRule = { name: 'graphql', ratePerSecond: 2, burst: 3 };

async function takeTimes(limiter: RateLimiter, n: number, key: string, rule: RateLimitRule) {
  const decisions = [];
  for (let i = 0; i < n; i++) decisions.push(await limiter.take(key, rule));
  return decisions;
}

describe.each([
  { kind: 'MemoryRateLimiter', create: (): RateLimiter => new MemoryRateLimiter({ now }) },
  { kind: 'RedisRateLimiter', create: (): RateLimiter => new RedisRateLimiter({ redis: a, prefix: freshPrefix(), now }) },
])('$kind', ({ create }) => {
  it('allows a fresh bucket exactly `burst` takes, then refuses until one token has refilled', async () => {
    const limiter = create();
    expect(await takeTimes(limiter, 4, 'client-1', twoPerSecond)).toEqual([
      { allowed: true, remaining: 2 },
      { allowed: true, remaining: 1 },
      { allowed: true, remaining: 0 },
      { allowed: false, retryAfterMs: 500 },
    ]);
  });

  it('refills at ratePerSecond as the clock advances, never above burst', async () => {
    const limiter = create();
    await takeTimes(limiter, 3, 'client-1', twoPerSecond);
    t += 499;
    expect(await limiter.take('client-1', twoPerSecond)).toEqual({ allowed: false, retryAfterMs: 1 });
    t += 1;
    expect(await limiter.take('client-1', twoPerSecond)).toEqual({ allowed: true, remaining: 0 });
    t += 60 * 60_000;
    expect(await limiter.take('client-1', twoPerSecond)).toEqual({ allowed: true, remaining: 2 });
  });

  it('answers retryAfterMs as a positive integer that is always long enough, for fractional refill times', async () => {
    const limiter = create();
    const rule: RateLimitRule = { name: 'thirds', ratePerSecond: 3, burst: 1 };
    await limiter.take('client-1', rule);
    const refused = await limiter.take('client-1', rule);
    expect(refused).toEqual({ allowed: false, retryAfterMs: 334 });
    t += 333;
    expect(await limiter.take('client-1', rule)).toEqual({ allowed: false, retryAfterMs: 1 });
    t += 1;
    expect(await limiter.take('client-1', rule)).toEqual({ allowed: true, remaining: 0 });
  });

  it('keeps separate keys and separate rules in separate buckets', async () => {
    const limiter = create();
    const sameRatesOtherName: RateLimitRule = { ...twoPerSecond, name: 'login' };
    await takeTimes(limiter, 3, 'client-1', twoPerSecond);
    expect(await limiter.take('client-1', twoPerSecond)).toMatchObject({ allowed: false });
    expect(await limiter.take('client-2', twoPerSecond)).toEqual({ allowed: true, remaining: 2 });
    expect(await limiter.take('client-1', sameRatesOtherName)).toEqual({ allowed: true, remaining: 2 });
  });

  it('keeps keys apart whatever they contain: separators, unicode, huge keys, digest look-alikes', async () => {
    const limiter = create();
    const rule: RateLimitRule = { name: 'ip', ratePerSecond: 1, burst: 1 };
    const long = 'k'.repeat(10_000);
    const keys = ['a:b', 'a', 'b', '2001:db8::1', 'sübject\0\n*{}', long, `${long}x`, '#', `#${'0'.repeat(64)}`, ''];
    for (const key of keys) expect(await limiter.take(key, rule), key).toEqual({ allowed: true, remaining: 0 });
    for (const key of keys) expect(await limiter.take(key, rule), key).toMatchObject({ allowed: false });
  });

  it('takes `cost` tokens at once, and a refused take takes nothing and says when `cost` are back', async () => {
    const limiter = create();
    const rule: RateLimitRule = { name: 'complexity', ratePerSecond: 1, burst: 10 };
    expect(await limiter.take('client-1', rule, 4)).toEqual({ allowed: true, remaining: 6 });
    expect(await limiter.take('client-1', rule, 4)).toEqual({ allowed: true, remaining: 2 });
    expect(await limiter.take('client-1', rule, 4)).toEqual({ allowed: false, retryAfterMs: 2_000 });
    expect(await limiter.take('client-1', rule, 2)).toEqual({ allowed: true, remaining: 0 });
  });

  it('never allows a cost above burst, answering the time an empty bucket takes to fill, and takes nothing', async () => {
    const limiter = create();
    const rule: RateLimitRule = { name: 'complexity', ratePerSecond: 2, burst: 5 };
    expect(await limiter.take('client-1', rule, 6)).toEqual({ allowed: false, retryAfterMs: 2_500 });
    expect(await limiter.take('client-1', rule, 5)).toEqual({ allowed: true, remaining: 0 });
  });

  it('rejects invalid rules and costs as programming errors', async () => {
    const limiter = create();
    await expect(limiter.take('k', { name: 'r', ratePerSecond: 0, burst: 1 })).rejects.toThrow(RangeError);
    await expect(limiter.take('k', { name: 'r', ratePerSecond: -1, burst: 1 })).rejects.toThrow(/ratePerSecond/);
    await expect(limiter.take('k', { name: 'r', ratePerSecond: Number.NaN, burst: 1 })).rejects.toThrow(/ratePerSecond/);
    await expect(limiter.take('k', { name: 'r', ratePerSecond: 1, burst: 0.5 })).rejects.toThrow(/burst/);
    await expect(limiter.take('k', { name: 'r', ratePerSecond: 1, burst: Number.POSITIVE_INFINITY })).rejects.toThrow(/burst/);
    await expect(limiter.take('k', { name: 'a:b', ratePerSecond: 1, burst: 1 })).rejects.toThrow(/name/);
    await expect(limiter.take('k', { name: '', ratePerSecond: 1, burst: 1 })).rejects.toThrow(/name/);
    await expect(limiter.take('k', { name: 'r', ratePerSecond: 1, burst: 1 }, 0)).rejects.toThrow(/cost/);
    await expect(limiter.take('k', { name: 'r', ratePerSecond: 1, burst: 1 }, Number.NaN)).rejects.toThrow(/cost/);
  });
});

describe('RedisRateLimiter across instances', () => {
  it('shares one bucket between two instances', async () => {
    const prefix = freshPrefix();
    const one = new RedisRateLimiter({ redis: a, prefix, now });
    const two = new RedisRateLimiter({ redis: b, prefix, now });
    expect(await one.take('client-1', twoPerSecond)).toEqual({ allowed: true, remaining: 2 });
    expect(await two.take('client-1', twoPerSecond)).toEqual({ allowed: true, remaining: 1 });
    expect(await one.take('client-1', twoPerSecond)).toEqual({ allowed: true, remaining: 0 });
    expect(await two.take('client-1', twoPerSecond)).toEqual({ allowed: false, retryAfterMs: 500 });
  });

  it('allows exactly 20 of 200 concurrent takes through two instances on a burst of 20', async () => {
    const prefix = freshPrefix();
    const limiters = [new RedisRateLimiter({ redis: a, prefix, now }), new RedisRateLimiter({ redis: b, prefix, now })];
    const rule: RateLimitRule = { name: 'graphql', ratePerSecond: 5, burst: 20 };
    const decisions = await Promise.all(Array.from({ length: 200 }, (_, i) => limiters[i % 2]!.take('client-1', rule)));
    const allowed = decisions.filter((d) => d.allowed);
    expect(allowed).toHaveLength(20);
    expect(allowed.map((d) => d.remaining).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('stores the bucket under prefix:ratelimit:rule:key with a TTL until it is full again', async () => {
    const prefix = freshPrefix();
    const limiter = new RedisRateLimiter({ redis: a, prefix, now });
    const rule: RateLimitRule = { name: 'graphql', ratePerSecond: 1, burst: 5 };
    await limiter.take('203.0.113.7', rule, 3);
    const key = `${prefix}:ratelimit:graphql:203.0.113.7`;
    // Two tokens left: full again in 3 s.
    const pttl = await a.pttl(key);
    expect(pttl).toBeGreaterThan(2_000);
    expect(pttl).toBeLessThanOrEqual(3_000);
  });

  it('keeps a bucket that refills within milliseconds for at least 1 s', async () => {
    const prefix = freshPrefix();
    const limiter = new RedisRateLimiter({ redis: a, prefix, now });
    await limiter.take('client-1', { name: 'fast', ratePerSecond: 1_000, burst: 2 });
    const pttl = await a.pttl(`${prefix}:ratelimit:fast:client-1`);
    expect(pttl).toBeGreaterThan(500);
    expect(pttl).toBeLessThanOrEqual(1_000);
  });

  it('stores a long key as a fixed-length digest', async () => {
    const prefix = freshPrefix();
    const limiter = new RedisRateLimiter({ redis: a, prefix, now });
    await limiter.take('t'.repeat(10_000), { name: 'subject', ratePerSecond: 1, burst: 1 });
    const keys = await a.keys(`${prefix}:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^${prefix}:ratelimit:subject:#[0-9a-f]{64}$`));
  });
});

describe('MemoryRateLimiter bounds', () => {
  it('forgets the least recently used bucket beyond maxKeys', async () => {
    const limiter = new MemoryRateLimiter({ now, maxKeys: 2 });
    const rule: RateLimitRule = { name: 'ip', ratePerSecond: 1, burst: 1 };
    await limiter.take('k1', rule);
    await limiter.take('k2', rule);
    // k1 used again: k2 is now the least recently used.
    expect(await limiter.take('k1', rule)).toMatchObject({ allowed: false });
    await limiter.take('k3', rule);
    expect(await limiter.take('k2', rule)).toEqual({ allowed: true, remaining: 0 });
    // Taking k2 again made room by forgetting k1 (least recently used by then), not k3.
    expect(await limiter.take('k3', rule)).toMatchObject({ allowed: false });
    expect(await limiter.take('k1', rule)).toEqual({ allowed: true, remaining: 0 });
  });

  it('refuses a maxKeys that is not a positive integer', () => {
    expect(() => new MemoryRateLimiter({ maxKeys: 0 })).toThrow(/maxKeys/);
    expect(() => new MemoryRateLimiter({ maxKeys: 1.5 })).toThrow(/maxKeys/);
  });
});
