import type { Redis } from 'ioredis';
import type { OutboxFilter, OutboxPosting, OutboxStore } from './ports.js';

const ms = (iso: string) => Date.parse(iso);
const isOpen = (p: OutboxPosting) => p.status === 'PENDING' || p.status === 'FAILED';

/**
 * The outbox in Redis (`REDIS_URL`), shared by every finance instance. Each posting is one JSON value; sorted
 * sets index what the worker and the queries need (due time, source time, creation time) and a set per order
 * lists its postings. Several workers may pick the same due posting: that is safe, because the ERP books a
 * posting id once and the events they publish have ids derived from the posting (the backbone drops repeats).
 *
 * Keys (prefix `retail` by default): `<p>:outbox:posting:<id>`, `<p>:outbox:order:<orderId>`,
 * `<p>:outbox:due`, `<p>:outbox:by-source`, `<p>:outbox:by-created`.
 */
export class RedisOutboxStore implements OutboxStore {
  private readonly key: (suffix: string) => string;

  constructor(
    private readonly redis: Redis,
    prefix = 'retail',
  ) {
    this.key = (suffix) => `${prefix}:outbox:${suffix}`;
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
    const ids = await this.redis.zrangebyscore(this.key('due'), '-inf', ms(now), 'LIMIT', 0, limit);
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
