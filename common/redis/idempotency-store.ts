import type { RedisClient } from './connection.js';
import { redisKeys } from './keys.js';
import { DAY_MS, type IdempotencyBegin, type IdempotencyStore } from '../idempotency.js';

export interface RedisIdempotencyStoreOptions {
  /** The shared client (one server or a cluster). The store never closes it: its creator does (see `quitAll`). */
  redis: RedisClient;
  /** Namespace of every key, so that several deployments can share one Redis. Default `'retail'`. */
  prefix?: string;
  /** How long a completed record is kept, in ms. Default 24 h. */
  ttlMs?: number;
  /** How long a started record blocks others before it counts as abandoned, in ms. Default 30 s. */
  lockTtlMs?: number;
  // No `now` option, unlike the in-memory store: records expire by Redis's clock (PX), the only one that all
  // instances share.
}

// Check and claim in one script, so that of concurrent callers (on any instance) exactly one is `started`.
// A record is a hash { state, fingerprint[, response] }: the script reads two short fields and never parses
// the response, however large. KEYS: record. ARGV: fingerprint, lock TTL (ms).
const BEGIN_LUA = `
local record = redis.call('HMGET', KEYS[1], 'state', 'fingerprint', 'response')
if not record[1] then
  redis.call('HSET', KEYS[1], 'state', 'running', 'fingerprint', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'started'}
end
if record[2] ~= ARGV[1] then return {'reused'} end
if record[1] == 'running' then return {'in-use'} end
return {'replay', record[3]}
`;

// Replace whatever is there (as the in-memory store does) with the done record and its own TTL, atomically so
// that nobody sees a done record without a response or without an expiry.
// KEYS: record. ARGV: fingerprint, TTL (ms)[, response JSON — absent for an `undefined` response].
const COMPLETE_LUA = `
redis.call('DEL', KEYS[1])
if ARGV[3] then
  redis.call('HSET', KEYS[1], 'state', 'done', 'fingerprint', ARGV[1], 'response', ARGV[3])
else
  redis.call('HSET', KEYS[1], 'state', 'done', 'fingerprint', ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

interface Scripts {
  retailIdemBegin(key: string, fingerprint: string, lockTtlMs: number): Promise<[string, string | null] | [string]>;
  retailIdemComplete(key: string, fingerprint: string, ttlMs: number, ...response: string[]): Promise<number>;
}

function defineScripts(redis: RedisClient): RedisClient & Scripts {
  const scripts: Record<keyof Scripts, string> = { retailIdemBegin: BEGIN_LUA, retailIdemComplete: COMPLETE_LUA };
  for (const [name, lua] of Object.entries(scripts)) {
    // Several stores may share a client; defining once keeps the client's script table stable.
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') redis.defineCommand(name, { lua, numberOfKeys: 1 });
  }
  return redis as RedisClient & Scripts;
}

/**
 * Idempotency records in Redis, shared by every instance: the same contract as `InMemoryIdempotencyStore`.
 * Responses are stored as JSON, so a replay returns an equal value (dates as ISO strings), not the same object.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly redis: RedisClient & Scripts;
  private readonly recordKey: (scope: string, key: string) => string;
  private readonly ttlMs: number;
  private readonly lockTtlMs: number;

  constructor(options: RedisIdempotencyStoreOptions) {
    this.redis = defineScripts(options.redis);
    // One key per record, tagged by scope and key (see keys.ts): a record is one slot on a cluster.
    this.recordKey = redisKeys(options.prefix ?? 'retail').idempotency;
    this.ttlMs = positiveInt(options.ttlMs ?? DAY_MS, 'ttlMs');
    this.lockTtlMs = positiveInt(options.lockTtlMs ?? 30_000, 'lockTtlMs');
  }

  async begin(scope: string, key: string, fingerprint: string): Promise<IdempotencyBegin> {
    const [kind, response] = await this.redis.retailIdemBegin(this.recordKey(scope, key), fingerprint, this.lockTtlMs);
    switch (kind) {
      case 'started':
      case 'in-use':
      case 'reused':
        return { kind };
      case 'replay':
        return { kind: 'replay', response: response == null ? undefined : JSON.parse(response) };
      default:
        throw new Error(`unexpected idempotency reply "${kind}"`);
    }
  }

  async complete(scope: string, key: string, fingerprint: string, response: unknown): Promise<void> {
    // `JSON.stringify(undefined)` is undefined: store no response field, and replay undefined as the in-memory store does.
    const json = JSON.stringify(response) as string | undefined;
    await this.redis.retailIdemComplete(this.recordKey(scope, key), fingerprint, this.ttlMs, ...(json === undefined ? [] : [json]));
  }

  async abandon(scope: string, key: string): Promise<void> {
    await this.redis.del(this.recordKey(scope, key));
  }
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${value}`);
  return value;
}
