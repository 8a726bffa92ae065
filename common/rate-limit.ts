import { createHash } from 'node:crypto';
import type { RedisClient } from './redis/connection.js';
import { redisKeys } from './redis/keys.js';

/**
 * A token bucket: `burst` tokens at most, refilled at `ratePerSecond`. A caller may spend `burst` at once, then
 * `ratePerSecond` on average.
 */
export interface RateLimitRule {
  /**
   * Names the bucket family in keys, so that two rules never share a bucket. Non-empty and without `:` (it is
   * joined to caller keys with `:`, and a `:` inside would let rule `a` with key `b:c` meet rule `a:b` with key `c`).
   */
  name: string;
  /** Tokens added per second, > 0 (fractions allowed: 0.5 is one token every 2 s). */
  ratePerSecond: number;
  /** Capacity of the bucket, ≥ 1: what a fresh or rested caller may spend at once. */
  burst: number;
}

export type RateDecision =
  /** `remaining`: whole tokens left after this take. */
  | { allowed: true; remaining: number }
  /** `retryAfterMs`: a positive integer; waiting that long is enough for the same take to pass (if nobody else spends). */
  | { allowed: false; retryAfterMs: number };

/**
 * The port. Contract: `take` removes `cost` tokens (default 1) from the bucket of (rule.name, key) if it holds that
 * many, atomically (two instances sharing a store never both take the last token); otherwise nothing is taken and
 * retryAfterMs says when `cost` tokens will be there. A bucket nobody used for a while is forgotten (it is full
 * again by then).
 *
 * A `cost` above `burst` can never be allowed; it is refused with the time an empty bucket takes to fill
 * (`burst / ratePerSecond`), a finite back-off that fits a `Retry-After` header, rather than an infinite one.
 * Invalid rules (ratePerSecond ≤ 0, burst < 1, a bad name) and costs (not a positive finite number) are
 * programming errors: `take` rejects with a RangeError.
 */
export interface RateLimiter {
  take(key: string, rule: RateLimitRule, cost?: number): Promise<RateDecision>;
  close?(): Promise<void>;
}

export interface MemoryRateLimiterOptions {
  /**
   * The clock, in ms. Injected by tests to refill without sleeping.
   * @default Date.now
   */
  now?: () => number;
  /**
   * How many buckets are kept at most; beyond it the least recently used one is forgotten first (its caller then
   * starts over with a full bucket), so that a flood of distinct keys cannot grow memory without bound.
   * @default 100000
   */
  maxKeys?: number;
}

export interface RedisRateLimiterOptions {
  /** The shared client (required, no default; one server or a cluster). The limiter never closes it: its creator does (see `quitAll`). */
  redis: RedisClient;
  /** Namespace of every key, so that several deployments can share one Redis (required, no default). */
  prefix: string;
  /**
   * The clock, in ms, passed to the script with every take (see {@link RedisRateLimiter} for why).
   * @default Date.now
   */
  now?: () => number;
}

// Floating-point slack: without it, waiting exactly `retryAfterMs` could leave a bucket 1e-16 short of `cost`.
const EPSILON = 1e-9;
// Caller keys longer than this (in UTF-8 bytes) are stored as a digest: they come from callers and may be huge.
const MAX_KEY_BYTES = 200;
// Redis: the shortest lifetime of a bucket key, so that a bucket refilling in microseconds is not rewritten
// with a sub-millisecond TTL on every take.
const MIN_TTL_MS = 1_000;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * The bucket at `now`: refilled for the time since its last update, capped at `burst`. A clock that went back
 * (another instance's, or a test's) refills nothing and does not move `updatedAt` back. Mirrored by TAKE_LUA.
 */
function refill(bucket: Bucket | undefined, rule: RateLimitRule, now: number): Bucket {
  if (!bucket) return { tokens: rule.burst, updatedAt: now };
  if (now <= bucket.updatedAt) return { tokens: Math.min(rule.burst, bucket.tokens), updatedAt: bucket.updatedAt };
  return { tokens: Math.min(rule.burst, bucket.tokens + ((now - bucket.updatedAt) * rule.ratePerSecond) / 1000), updatedAt: now };
}

/**
 * Time until `tokens` reaches `target` (within half the take's slack), as a positive integer of ms. The slack keeps
 * float noise from rounding an exact 1 ms up to 2 (0.002 tokens at 2/s is 1.0000000000000009 ms), and half of it
 * is left so that waiting this long still passes the take's `+ EPSILON` check.
 */
function msUntil(tokens: number, target: number, rule: RateLimitRule): number {
  return Math.max(1, Math.ceil(((target - tokens - EPSILON / 2) * 1000) / rule.ratePerSecond));
}

function decisionOf(allowed: boolean, tokensLeft: number, rule: RateLimitRule, cost: number): RateDecision {
  return allowed ? { allowed: true, remaining: Math.max(0, Math.floor(tokensLeft + EPSILON)) } : { allowed: false, retryAfterMs: msUntil(tokensLeft, cost, rule) };
}

/** Refused without touching the bucket: no bucket ever holds more than `burst`. */
function overBurst(rule: RateLimitRule): RateDecision {
  return { allowed: false, retryAfterMs: msUntil(0, rule.burst, rule) };
}

function validate(rule: RateLimitRule, cost: number): void {
  if (typeof rule.name !== 'string' || rule.name === '' || rule.name.includes(':')) {
    throw new RangeError(`rate limit rule name must be non-empty and without ':', got ${JSON.stringify(rule.name)}`);
  }
  if (!(Number.isFinite(rule.ratePerSecond) && rule.ratePerSecond > 0)) {
    throw new RangeError(`rate limit rule "${rule.name}": ratePerSecond must be a finite number > 0, got ${rule.ratePerSecond}`);
  }
  if (!(Number.isFinite(rule.burst) && rule.burst >= 1)) {
    throw new RangeError(`rate limit rule "${rule.name}": burst must be a finite number >= 1, got ${rule.burst}`);
  }
  if (!(Number.isFinite(cost) && cost > 0)) throw new RangeError(`rate limit cost must be a finite number > 0, got ${cost}`);
}

/**
 * The caller key as stored: as given when short, else `#` and its sha256. Short keys that start with `#` are
 * hashed too, so that no caller can pick a literal key equal to another caller's digest.
 */
function storedKey(key: string): string {
  if (Buffer.byteLength(key, 'utf8') <= MAX_KEY_BYTES && !key.startsWith('#')) return key;
  return `#${createHash('sha256').update(key).digest('hex')}`;
}

/** Buckets in process memory: one instance's callers only. Each take is synchronous, hence atomic. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly now: () => number;
  private readonly maxKeys: number;
  // Insertion order is use order (a take re-inserts its bucket), so the first entry is the least recently used.
  private readonly buckets = new Map<string, Bucket & { fullAt: number }>();

  constructor(options: MemoryRateLimiterOptions = {}) {
    this.now = options.now ?? Date.now;
    const maxKeys = options.maxKeys ?? 100_000;
    if (!Number.isInteger(maxKeys) || maxKeys <= 0) throw new RangeError(`maxKeys must be a positive integer, got ${maxKeys}`);
    this.maxKeys = maxKeys;
  }

  async take(key: string, rule: RateLimitRule, cost = 1): Promise<RateDecision> {
    validate(rule, cost);
    if (cost > rule.burst) return overBurst(rule);
    const now = this.now();
    const id = `${rule.name}:${storedKey(key)}`;
    const bucket = refill(this.buckets.get(id), rule, now);
    const allowed = bucket.tokens + EPSILON >= cost;
    const tokens = allowed ? Math.max(0, bucket.tokens - cost) : bucket.tokens;
    this.buckets.delete(id);
    this.forgetFull(now);
    while (this.buckets.size >= this.maxKeys) this.forgetOldest();
    this.buckets.set(id, { tokens, updatedAt: bucket.updatedAt, fullAt: bucket.updatedAt + ((rule.burst - tokens) * 1000) / rule.ratePerSecond });
    return decisionOf(allowed, tokens, rule, cost);
  }

  /**
   * Drop least recently used buckets that are full again (forgetting them changes no answer). It stops at the
   * first one still refilling, so that a take costs O(1) amortised; maxKeys bounds whatever that leaves behind.
   */
  private forgetFull(now: number): void {
    for (const [id, bucket] of this.buckets) {
      if (bucket.fullAt > now) return;
      this.buckets.delete(id);
    }
  }

  private forgetOldest(): void {
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }
}

// Refill, take or not, write back, in one script, so that concurrent takes on any instance see each other's
// writes. Mirrors `refill` and the take in MemoryRateLimiter.take. Numbers go through '%.17g' both ways: Lua's
// own tostring keeps 14 digits, and a number returned from a script is truncated to an integer.
// KEYS: the bucket hash. ARGV: ratePerSecond, burst, cost, now (ms), epsilon, min TTL (ms).
// Reply: {1 | 0 (allowed), tokens left as a string}.
const TAKE_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updatedAt')
local tokens = tonumber(state[1])
local updatedAt = tonumber(state[2])
if tokens == nil or updatedAt == nil then
  tokens = burst
  updatedAt = now
elseif now > updatedAt then
  tokens = math.min(burst, tokens + (now - updatedAt) * rate / 1000)
  updatedAt = now
else
  tokens = math.min(burst, tokens)
end
local allowed = 0
if tokens + tonumber(ARGV[5]) >= cost then
  tokens = math.max(0, tokens - cost)
  allowed = 1
end
local left = string.format('%.17g', tokens)
redis.call('HSET', KEYS[1], 'tokens', left, 'updatedAt', string.format('%.17g', updatedAt))
local ttl = math.max(tonumber(ARGV[6]), math.ceil((burst - tokens) * 1000 / rate))
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.min(ttl, 1e15)))
return {allowed, left}
`;

interface Scripts {
  retailRateLimitTake(key: string, ratePerSecond: number, burst: number, cost: number, now: number, epsilon: number, minTtlMs: number): Promise<[number, string]>;
}

function defineScripts(redis: RedisClient): RedisClient & Scripts {
  // Several limiters may share a client; defining once keeps the client's script table stable.
  if (typeof (redis as unknown as Record<string, unknown>).retailRateLimitTake !== 'function') {
    redis.defineCommand('retailRateLimitTake', { lua: TAKE_LUA, numberOfKeys: 1 });
  }
  return redis as RedisClient & Scripts;
}

/**
 * Buckets in Redis, shared by every instance: one hash `{ tokens, updatedAt }` per bucket, read, refilled and
 * written by one Lua script per take, and expiring once it would be full again (at least 1 s), so idle callers
 * cost nothing.
 *
 * Time comes from the caller's clock (`now`, passed to the script), not from Redis's TIME: tests drive it to
 * refill without sleeping, and production loses nothing by it, since the instances' clocks are NTP-synced and a
 * skew between them only shifts refills slightly (a clock behind the last writer's refills nothing until it
 * catches up; it never takes tokens that were not there). The TTL is a duration from that clock's
 * point of view, applied by Redis's.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: RedisClient & Scripts;
  private readonly key: (rule: string, caller: string) => string;
  private readonly now: () => number;

  constructor(options: RedisRateLimiterOptions) {
    this.redis = defineScripts(options.redis);
    this.key = redisKeys(options.prefix).rateLimit;
    this.now = options.now ?? Date.now;
  }

  async take(key: string, rule: RateLimitRule, cost = 1): Promise<RateDecision> {
    validate(rule, cost);
    if (cost > rule.burst) return overBurst(rule);
    // One key per bucket, no tag: buckets spread over a cluster's slots.
    const redisKey = this.key(rule.name, storedKey(key));
    const [allowed, left] = await this.redis.retailRateLimitTake(redisKey, rule.ratePerSecond, rule.burst, cost, this.now(), EPSILON, MIN_TTL_MS);
    const tokens = Number(left);
    if (!Number.isFinite(tokens)) throw new Error(`unexpected rate limit reply ${JSON.stringify([allowed, left])}`);
    return decisionOf(allowed === 1, tokens, rule, cost);
  }
}
