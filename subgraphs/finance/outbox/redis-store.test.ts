import { beforeAll, describe, expect, it } from 'vitest';
import { createRedis, quitAll, type RedisClient } from '../../../common/redis/connection.js';
import { REDIS_TOPOLOGIES, useRedisServer } from '../../../test/support/redis.js';
import type { OutboxPosting } from './ports.js';
import { RedisOutboxStore } from './redis-store.js';

describe.each(REDIS_TOPOLOGIES)('%s', (topology) => {
  const redisServer = useRedisServer(['outbox-test'], { topology });
  let redis: RedisClient;
  beforeAll(() => {
    [redis] = redisServer.clients as [RedisClient];
  });

  const posting = (id: string, patch: Partial<OutboxPosting> = {}): OutboxPosting => ({
    id,
    orderId: 'ord-1',
    type: 'SALE',
    status: 'PENDING',
    attempts: 0,
    amount: { minor: 1000, currency: 'EUR' },
    erpDocumentNumber: null,
    lastError: null,
    postedAt: null,
    createdAt: '2026-11-01T10:00:00.000Z',
    sourceEventId: `evt-${id}`,
    sourceType: 'PICKED_UP',
    sourceOccurredAt: '2026-11-01T09:00:00.000Z',
    correlationId: 'c',
    nextAttemptAt: '2026-11-01T10:00:00.000Z',
    roundAttempts: 0,
    deadLetters: 0,
    invoice: null,
    ...patch,
  });

  describe('RedisOutboxStore', () => {
    it('saves, reads back and indexes postings; a posted one leaves the due set', async () => {
      const store = new RedisOutboxStore(redis, `t${Date.now()}`);
      await store.save(posting('p1'));
      await store.save(posting('p2', { orderId: 'ord-2', nextAttemptAt: '2026-11-01T12:00:00.000Z', createdAt: '2026-11-01T11:00:00.000Z' }));
      expect((await store.get(['p1', 'nope'])).map((p) => p?.id ?? null)).toEqual(['p1', null]);
      expect((await store.due('2026-11-01T10:30:00.000Z', 10)).map((p) => p.id)).toEqual(['p1']);
      expect((await store.due('2026-11-01T13:00:00.000Z', 10)).map((p) => p.id)).toEqual(['p1', 'p2']);
      expect((await store.byOrder(['ord-1', 'ord-2', 'ord-3'])).map((list) => list.map((p) => p.id))).toEqual([['p1'], ['p2'], []]);
      expect((await store.list({}, 10)).map((p) => p.id)).toEqual(['p2', 'p1']);
      await store.save(posting('p1', { status: 'POSTED', erpDocumentNumber: 'FI-1', nextAttemptAt: null }));
      // p2 was leased at 13:00 for 15 s: it is due again after that.
      expect((await store.due('2026-11-01T13:00:10.000Z', 10)).map((p) => p.id)).toEqual([]);
      expect((await store.due('2026-11-01T13:01:00.000Z', 10)).map((p) => p.id)).toEqual(['p2']);
      expect((await store.list({ statuses: ['POSTED'] }, 10)).map((p) => p.erpDocumentNumber)).toEqual(['FI-1']);
      expect((await store.bySourceTime('2026-11-01T00:00:00.000Z', '2026-11-02T00:00:00.000Z')).map((p) => p.id).sort()).toEqual(['p1', 'p2']);
      expect(await store.bySourceTime('2026-11-02T00:00:00.000Z', '2026-11-03T00:00:00.000Z')).toEqual([]);
    });

    it('leases what a worker takes: workers of two instances asking at once get disjoint postings', async () => {
      const prefix = `lease${Date.now()}`;
      const other = createRedis(redisServer.url, { name: 'outbox-test-other' });
      try {
        const a = new RedisOutboxStore(redis, prefix);
        const b = new RedisOutboxStore(other, prefix);
        for (let i = 0; i < 20; i++) await a.save(posting(`q${i}`));
        const now = '2026-11-01T11:00:00.000Z';
        const [x, y] = await Promise.all([a.due(now, 15), b.due(now, 15)]);
        const ids = [...x, ...y].map((p) => p.id);
        expect(ids).toHaveLength(20);
        expect(new Set(ids).size).toBe(20);
        // A worker that died with its lease: the postings come back once the lease is over.
        expect(await a.due('2026-11-01T11:00:14.000Z', 50)).toEqual([]);
        expect((await b.due('2026-11-01T11:00:16.000Z', 50)).length).toBe(20);
      } finally {
        await quitAll([other]);
      }
    });
  });
});
