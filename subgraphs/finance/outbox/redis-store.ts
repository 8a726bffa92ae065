import type { RedisClient } from '../../../common/redis/connection.js';
import { redisKeys } from '../../../common/redis/keys.js';
import type { OutboxFilter, OutboxPosting, OutboxStore } from './ports.js';

const ms = (iso: string) => Date.parse(iso);
const isOpen = (p: OutboxPosting) => p.status === 'PENDING' || p.status === 'FAILED';

// Claim due postings for one worker: take up to ARGV[3] ids due at ARGV[1] and push their due time to
// ARGV[2] (the lease's end), in one step, so that another instance's worker does not pick them meanwhile.
// KEYS: the due set. ARGV: now (ms), lease end (ms), limit.
const CLAIM_LUA = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return ids
`;

/**
 * The outbox in Redis (`REDIS_URL`), shared by every finance instance. Each posting is one JSON value; sorted
 * sets index what the worker and the queries need (due time, source time, creation time) and a set per order
 * lists its postings. A worker leases what it takes from the due set (`leaseMs`): the other instances' workers
 * skip those postings until the attempt is saved, or until the lease runs out because the worker died. Should
 * two workers still meet on a posting (a lease outlived by a slow ERP call), that is safe: the ERP books a
 * posting id once and the events they publish have ids derived from the posting (the backbone drops repeats).
 *
 * Keys (prefix `retail` by default): `<p>:{outbox}:posting:<id>`, `<p>:{outbox}:order:<orderId>`,
 * `<p>:{outbox}:due`, `<p>:{outbox}:by-source`, `<p>:{outbox}:by-created`, all with one hash tag (see
 * `common/redis/keys.ts`): a save is one MULTI over a posting and the indexes every posting is in, so on a cluster
 * the whole outbox is one slot (a queue, like the event stream).
 */
export class RedisOutboxStore implements OutboxStore {
  private readonly key: (suffix: string) => string;

  /**
   * @param prefix Namespace of every key. Default `'retail'`.
   * @param leaseMs How long a claimed posting stays invisible to other workers; longer than one ERP attempt
   * (the adapter timeout); a batch left when the ERP fails waits at most this long. Default 15 000.
   */
  constructor(
    private readonly redis: RedisClient,
    prefix = 'retail',
    private readonly leaseMs = 15_000,
  ) {
    this.key = redisKeys(prefix).outbox;
  }

  async get(ids: readonly string[]): Promise<(OutboxPosting | null)[]> {
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => this.key(`posting:${id}`)));
    return values.map((v) => (v ? (JSON.parse(v) as OutboxPosting) : null));
  }

  async byOrder(orderIds: readonly string[]): Promise<OutboxPosting[][]> {
    if (orderIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const orderId of orderIds) pipeline.smembers(this.key(`order:${orderId}`));
    const results = (await pipeline.exec()) ?? [];
    const idLists = results.map(([error, ids]) => {
      if (error) throw error;
      return ids as string[];
    });
    const postings = await this.get(idLists.flat());
    let offset = 0;
    return idLists.map((ids) => {
      const mine = postings.slice(offset, offset + ids.length).filter((p): p is OutboxPosting => p !== null);
      offset += ids.length;
      return mine.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
    });
  }

  async list(filter: OutboxFilter, limit: number): Promise<OutboxPosting[]> {
    const statuses = filter.statuses?.length ? new Set(filter.statuses) : null;
    const source = filter.orderId
      ? ((await this.byOrder([filter.orderId]))[0] ?? []).reverse()
      : // Newest first; a status filter reads a bounded window of recent postings rather than everything.
        ((await this.get(await this.redis.zrevrange(this.key('by-created'), 0, statuses ? 4999 : limit - 1))).filter((p) => p !== null) as OutboxPosting[]);
    return source.filter((p) => !statuses || statuses.has(p.status)).slice(0, limit);
  }

  async bySourceTime(from: string, to: string): Promise<OutboxPosting[]> {
    const ids = await this.redis.zrangebyscore(this.key('by-source'), ms(from), `(${ms(to)}`);
    return (await this.get(ids)).filter((p): p is OutboxPosting => p !== null);
  }

  async due(now: string, limit: number): Promise<OutboxPosting[]> {
    const ids = (await this.redis.eval(CLAIM_LUA, 1, this.key('due'), ms(now), ms(now) + this.leaseMs, limit)) as string[];
    return (await this.get(ids)).filter((p): p is OutboxPosting => p !== null && isOpen(p));
  }

  async save(posting: OutboxPosting): Promise<void> {
    const multi = this.redis
      .multi()
      .set(this.key(`posting:${posting.id}`), JSON.stringify(posting))
      .sadd(this.key(`order:${posting.orderId}`), posting.id)
      .zadd(this.key('by-source'), ms(posting.sourceOccurredAt), posting.id)
      .zadd(this.key('by-created'), ms(posting.createdAt), posting.id);
    if (isOpen(posting) && posting.nextAttemptAt) multi.zadd(this.key('due'), ms(posting.nextAttemptAt), posting.id);
    else multi.zrem(this.key('due'), posting.id);
    const results = (await multi.exec()) ?? [];
    for (const [error] of results) if (error) throw error;
  }

  /** The client is shared with the rest of the process; whoever created it closes it. */
  async close(): Promise<void> {}
}
