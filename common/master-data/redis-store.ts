import type { RedisClient } from '../redis/connection.js';
import { redisKeys } from '../redis/keys.js';
import type { Logger } from '../logger.js';
import type { MasterChange, MasterDataException, MasterSnapshot } from './model.js';
import { DEFAULT_MAX_EXCEPTIONS, MasterDataReadModel, ReadModelReads, SerialQueue } from './read-model.js';
import type { MasterDataStore } from './store.js';

export interface RedisMasterDataStoreOptions {
  /** The shared client (required; one server or a cluster). The store never closes it: its creator does (see `quitAll`). */
  redis: RedisClient;
  /** Namespace of every key (required): `${prefix}:{md}:*`, one hash tag (see `common/redis/keys.ts`). */
  prefix: string;
  /**
   * Where it says that following Redis failed (once per distinct error) and that it reloaded.
   * @default none
   */
  logger?: Pick<Logger, 'warn' | 'info'>;
  /**
   * How often the replica asks Redis for what other instances wrote, in ms.
   * @default 200
   */
  followMs?: number;
  /**
   * How many exceptions are kept (in Redis and in each replica); the oldest go first.
   * @default 1000
   */
  maxExceptions?: number;
  /**
   * After how many log entries since the snapshot the writer folds the log into a new snapshot, so that an
   * instance starting later does not replay months of batches (every replica reloads once then).
   * @default 1000
   */
  compactAfter?: number;
  /**
   * The clock that stamps `appliedAt`.
   * @default () => new Date()
   */
  now?: () => Date;
}

type LogFields = { k: 'apply' | 'skip' | 'exception'; d: string; a: string };
type StreamEntry = [id: string, fields: string[]];

// The last entry's id of the log (or 0-0), for the writer to tell whether its replica had everything before
// its own entry. Shared by the write scripts below.
const LAST_ID_LUA = `
local function lastId(log)
  local last = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)
  if last[1] then return last[1][1] end
  return '0-0'
end
`;

// Filter out what the position already covers and append the rest as one log entry, moving the position, in one
// step: at most once even with two writers. KEYS: position, log, epoch. ARGV: appliedAt, then per change its
// sequence, time and JSON. Reply: {kept, previous last id, new id, epoch, log length} or {0}.
const APPLY_LUA = `${LAST_ID_LUA}
local last = tonumber(redis.call('HGET', KEYS[1], 'sequence') or '-1')
local kept = {}
local lastAt = nil
for i = 2, #ARGV, 3 do
  local sequence = tonumber(ARGV[i])
  if sequence > last then
    kept[#kept + 1] = ARGV[i + 2]
    last = sequence
    lastAt = ARGV[i + 1]
  end
end
if #kept == 0 then return {0} end
local previous = lastId(KEYS[2])
local id = redis.call('XADD', KEYS[2], '*', 'k', 'apply', 'd', '[' .. table.concat(kept, ',') .. ']', 'a', ARGV[1])
redis.call('HSET', KEYS[1], 'sequence', string.format('%.0f', last), 'changeAt', lastAt, 'appliedAt', ARGV[1])
return {#kept, previous, id, redis.call('GET', KEYS[3]) or '0', redis.call('XLEN', KEYS[2])}
`;

// KEYS: position, log, epoch. ARGV: sequence, at, appliedAt, entry JSON. Reply: {1, previous, id, epoch, length} or {0}.
const SKIP_LUA = `${LAST_ID_LUA}
local last = tonumber(redis.call('HGET', KEYS[1], 'sequence') or '-1')
if tonumber(ARGV[1]) <= last then return {0} end
local previous = lastId(KEYS[2])
local id = redis.call('XADD', KEYS[2], '*', 'k', 'skip', 'd', ARGV[4], 'a', ARGV[3])
redis.call('HSET', KEYS[1], 'sequence', ARGV[1], 'changeAt', ARGV[2], 'appliedAt', ARGV[3])
return {1, previous, id, redis.call('GET', KEYS[3]) or '0', redis.call('XLEN', KEYS[2])}
`;

// Keep an exception once (by id) in the capped list, and tell the replicas through the log.
// KEYS: list, ids (sorted set), log, epoch. ARGV: id, JSON, max, score, recordedAt.
const EXCEPTION_LUA = `${LAST_ID_LUA}
if redis.call('ZADD', KEYS[2], 'NX', ARGV[4], ARGV[1]) == 0 then return {0} end
local max = tonumber(ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(max + 1))
redis.call('LPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], 0, max - 1)
local previous = lastId(KEYS[3])
local id = redis.call('XADD', KEYS[3], '*', 'k', 'exception', 'd', ARGV[2], 'a', ARGV[5])
return {1, previous, id, redis.call('GET', KEYS[4]) or '0', redis.call('XLEN', KEYS[3])}
`;

// Fold the log into a new snapshot, only if nobody wrote since the writer's replica last caught up (same epoch,
// same last entry). The position does not move. KEYS: epoch, snapshot, log. ARGV: expected epoch, expected last
// id, snapshot JSON. Reply: the new epoch, or 0.
const COMPACT_LUA = `${LAST_ID_LUA}
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
if lastId(KEYS[3]) ~= ARGV[2] then return 0 end
local epoch = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('DEL', KEYS[3])
return epoch
`;

interface Scripts {
  retailMdApply(position: string, log: string, epoch: string, appliedAt: string, ...changes: string[]): Promise<[0] | [number, string, string, string, number]>;
  retailMdSkip(position: string, log: string, epoch: string, sequence: number, at: string, appliedAt: string, entry: string): Promise<[0] | [number, string, string, string, number]>;
  retailMdException(list: string, ids: string, log: string, epoch: string, id: string, json: string, max: number, score: number, recordedAt: string): Promise<[0] | [number, string, string, string, number]>;
  retailMdCompact(epoch: string, snapshot: string, log: string, expectedEpoch: string, expectedLastId: string, snapshotJson: string): Promise<number>;
}

function defineScripts(redis: RedisClient): RedisClient & Scripts {
  const scripts: Record<keyof Scripts, [string, number]> = {
    retailMdApply: [APPLY_LUA, 3],
    retailMdSkip: [SKIP_LUA, 3],
    retailMdException: [EXCEPTION_LUA, 4],
    retailMdCompact: [COMPACT_LUA, 3],
  };
  for (const [name, [lua, numberOfKeys]] of Object.entries(scripts)) {
    // Several stores may share a client; defining once keeps the client's script table stable.
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') redis.defineCommand(name, { lua, numberOfKeys });
  }
  return redis as RedisClient & Scripts;
}

function fieldsOf(raw: string[]): LogFields {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) fields[raw[i]!] = raw[i + 1]!;
  return fields as LogFields;
}

/** The results of a MULTI, failing on the first command that failed. */
function results(replies: [Error | null, unknown][] | null): unknown[] {
  if (!replies) throw new Error('redis transaction aborted');
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/**
 * The read models in Redis, shared by every instance, with an in-memory replica in each (reads stay synchronous).
 *
 * Redis holds `${prefix}:{md}:snapshot` (the last snapshot, JSON), `${prefix}:{md}:log` (a stream of what was written
 * since: applied batches, skips, exceptions), `${prefix}:{md}:position` (a hash), `${prefix}:{md}:epoch` (bumped when
 * the snapshot is replaced, which empties the log) and the exceptions (`${prefix}:{md}:exceptions`, a capped list).
 * Each write is one Lua script or MULTI, so it lands whole or not at all, and `apply`/`skip` check the position
 * inside the script: at most once even if two instances wrote at the same time.
 *
 * The replica loads snapshot + log at start, then follows: every `followMs` it reads the epoch and the log after
 * its last entry (one MULTI), and reloads everything when the epoch moved. Its own writes show in its replica at
 * once (when the replica had everything before them; otherwise it follows first). A reload builds the new
 * replica aside and swaps it in with one assignment. While Redis is unreachable the replica keeps answering what
 * it had (and writes fail, so the sync backs off).
 */
export class RedisMasterDataStore extends ReadModelReads implements MasterDataStore {
  private readonly redis: RedisClient & Scripts;
  private readonly keys: { snapshot: string; log: string; position: string; epoch: string; exceptions: string; exceptionIds: string };
  private readonly logger: Pick<Logger, 'warn' | 'info'> | undefined;
  private readonly followMs: number;
  private readonly maxExceptions: number;
  private readonly compactAfter: number;
  private readonly now: () => Date;
  private readonly queue = new SerialQueue();
  private replica: MasterDataReadModel;
  private epoch = '0';
  private lastId = '0-0';
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private lastFollowError: string | null = null;

  private constructor(options: RedisMasterDataStoreOptions) {
    super();
    this.redis = defineScripts(options.redis);
    // One hash tag for all: every write is one script or MULTI over several of them (one slot on a cluster).
    const key = redisKeys(options.prefix).masterData;
    this.keys = { snapshot: key('snapshot'), log: key('log'), position: key('position'), epoch: key('epoch'), exceptions: key('exceptions'), exceptionIds: key('exception-ids') };
    this.logger = options.logger;
    this.followMs = positiveInt(options.followMs ?? 200, 'followMs');
    this.maxExceptions = positiveInt(options.maxExceptions ?? DEFAULT_MAX_EXCEPTIONS, 'maxExceptions');
    this.compactAfter = positiveInt(options.compactAfter ?? 1000, 'compactAfter');
    this.now = options.now ?? (() => new Date());
    this.replica = new MasterDataReadModel(this.maxExceptions);
  }

  /** Load the replica from Redis (snapshot + log) and start following it. */
  static async open(options: RedisMasterDataStoreOptions): Promise<RedisMasterDataStore> {
    const store = new RedisMasterDataStore(options);
    await store.queue.run(() => store.reload());
    store.schedule();
    return store;
  }

  protected current(): MasterDataReadModel {
    return this.replica;
  }

  apply(changes: readonly MasterChange[]): Promise<void> {
    return this.queue.run(async () => {
      // What the replica already has, Redis has too: only the rest travels.
      const fresh = this.replica.pending(changes);
      if (!fresh.length) return;
      const appliedAt = this.now().toISOString();
      const args = fresh.flatMap((c) => [String(c.sequence), c.at, JSON.stringify(c)]);
      const reply = await this.redis.retailMdApply(this.keys.position, this.keys.log, this.keys.epoch, appliedAt, ...args);
      await this.afterWrite(reply, () => this.replica.apply(fresh, appliedAt));
    });
  }

  replace(snapshot: MasterSnapshot): Promise<void> {
    return this.queue.run(async () => {
      const appliedAt = this.now().toISOString();
      const [epoch] = results(
        await this.redis
          .multi()
          .incr(this.keys.epoch)
          .set(this.keys.snapshot, JSON.stringify({ snapshot, appliedAt }))
          .del(this.keys.log, this.keys.position)
          .hset(this.keys.position, { sequence: String(snapshot.sequence), changeAt: snapshot.at, appliedAt })
          .exec(),
      ) as [number];
      if (String(epoch - 1) === this.epoch) {
        this.replica.replace(snapshot, appliedAt);
        this.epoch = String(epoch);
        this.lastId = '0-0';
      } else {
        await this.reload();
      }
    });
  }

  skip(sequence: number, at: string): Promise<void> {
    return this.queue.run(async () => {
      const current = this.replica.position().sequence;
      if (current !== null && sequence <= current) return;
      const appliedAt = this.now().toISOString();
      const reply = await this.redis.retailMdSkip(this.keys.position, this.keys.log, this.keys.epoch, sequence, at, appliedAt, JSON.stringify({ sequence, at }));
      await this.afterWrite(reply, () => this.replica.skip(sequence, at, appliedAt));
    });
  }

  recordException(exception: MasterDataException): Promise<void> {
    return this.queue.run(async () => {
      if (this.replica.hasException(exception.id)) return;
      const reply = await this.redis.retailMdException(
        this.keys.exceptions,
        this.keys.exceptionIds,
        this.keys.log,
        this.keys.epoch,
        exception.id,
        JSON.stringify(exception),
        this.maxExceptions,
        Date.parse(exception.recordedAt) || Date.now(),
        exception.recordedAt,
      );
      await this.afterWrite(reply, () => this.replica.addException(exception));
    });
  }

  /** Stop following Redis (the client stays open: its creator closes it). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.queue.run(async () => undefined);
  }

  /**
   * After a write script: when the replica had every entry before ours (same epoch, our entry's predecessor is its
   * last), take ours in directly; otherwise another instance wrote meanwhile, and following reads theirs and ours.
   */
  private async afterWrite(reply: [0] | [number, string, string, string, number], local: () => void): Promise<void> {
    if (reply[0] === 0 || reply.length < 5) return;
    const [, previous, id, epoch, length] = reply as [number, string, string, string, number];
    if (epoch === this.epoch && previous === this.lastId) {
      local();
      this.lastId = id;
    } else {
      await this.follow();
    }
    if (length >= this.compactAfter) await this.compact();
  }

  private async compact(): Promise<void> {
    const position = this.replica.position();
    // A never-synced model folded into a snapshot would read as synced at 0: only exceptions came so far.
    if (position.sequence === null) return;
    const json = JSON.stringify({ snapshot: this.replica.toSnapshot(), appliedAt: position.appliedAt ?? this.now().toISOString() });
    const epoch = await this.redis.retailMdCompact(this.keys.epoch, this.keys.snapshot, this.keys.log, this.epoch, this.lastId, json);
    if (epoch === 0) return; // someone wrote meanwhile: the next write tries again
    this.epoch = String(epoch);
    this.lastId = '0-0';
    this.logger?.info({ epoch, sequence: position.sequence }, 'master-data log folded into a snapshot');
  }

  /** Everything from Redis into a new replica, swapped in at the end. */
  private async reload(): Promise<void> {
    const [epoch, snapshotJson, entries, exceptions] = results(
      await this.redis.multi().get(this.keys.epoch).get(this.keys.snapshot).xrange(this.keys.log, '-', '+').lrange(this.keys.exceptions, 0, this.maxExceptions - 1).exec(),
    ) as [string | null, string | null, StreamEntry[], string[]];
    const next = new MasterDataReadModel(this.maxExceptions);
    // The list is newest first and complete up to its cap; the log's exception entries are already in it.
    for (const json of exceptions.slice().reverse()) next.addException(JSON.parse(json) as MasterDataException);
    if (snapshotJson) {
      const { snapshot, appliedAt } = JSON.parse(snapshotJson) as { snapshot: MasterSnapshot; appliedAt: string };
      next.replace(snapshot, appliedAt);
    }
    for (const [, raw] of entries) {
      const fields = fieldsOf(raw);
      if (fields.k !== 'exception') takeEntry(next, fields);
    }
    this.replica = next;
    this.epoch = epoch ?? '0';
    this.lastId = entries.at(-1)?.[0] ?? '0-0';
  }

  /** What others wrote since the replica's last entry; everything again when the epoch moved. */
  private async follow(): Promise<void> {
    const [epoch, entries] = results(await this.redis.multi().get(this.keys.epoch).xrange(this.keys.log, `(${this.lastId}`, '+').exec()) as [string | null, StreamEntry[]];
    if ((epoch ?? '0') !== this.epoch) {
      await this.reload();
      this.logger?.info({ epoch: this.epoch, sequence: this.replica.position().sequence }, 'master-data replica reloaded');
      return;
    }
    for (const [id, raw] of entries) {
      takeEntry(this.replica, fieldsOf(raw));
      this.lastId = id;
    }
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.queue
        .run(() => this.follow())
        .then(
          () => (this.lastFollowError = null),
          (error: unknown) => {
            const message = error instanceof Error ? error.message : String(error);
            if (message !== this.lastFollowError) this.logger?.warn({ err: message }, 'master-data replica cannot follow redis; serving what it has');
            this.lastFollowError = message;
          },
        )
        .finally(() => this.schedule());
    }, this.followMs);
    this.timer.unref();
  }
}

/** One log entry into a replica. */
function takeEntry(model: MasterDataReadModel, fields: LogFields): void {
  switch (fields.k) {
    case 'apply':
      model.apply(JSON.parse(fields.d) as MasterChange[], fields.a);
      return;
    case 'skip': {
      const { sequence, at } = JSON.parse(fields.d) as { sequence: number; at: string };
      model.skip(sequence, at, fields.a);
      return;
    }
    case 'exception':
      model.addException(JSON.parse(fields.d) as MasterDataException);
      return;
    default:
      // A newer writer's entry kind: skip it rather than stop following.
      return;
  }
}

function positiveInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
