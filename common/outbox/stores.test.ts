import { beforeAll, describe, expect, it, vi } from 'vitest';
import { REDIS_TOPOLOGIES, useRedisServer } from '../../test/support/redis.js';
import { createEvent, InMemoryEventBackbone, type CanonicalEvent } from '../events.js';
import type { RedisClient } from '../redis/connection.js';
import { EventOutbox } from './event-outbox.js';
import { RedisEventOutboxStore } from './stores.js';

const event = (orderId: string, n: number): CanonicalEvent =>
  createEvent('ORDER_CONFIRMED', { previousStatus: 'PLACED', status: 'CONFIRMED' }, { id: `evt-${orderId}-${n}`, source: 'WEB', orderId, correlationId: `corr-${orderId}` });

describe.each(REDIS_TOPOLOGIES)('RedisEventOutboxStore (%s Redis)', (topology) => {
  const redisServer = useRedisServer(['event-outbox-a', 'event-outbox-b'], { topology });
  let a: RedisClient;
  let b: RedisClient;
  beforeAll(() => {
    [a, b] = redisServer.clients as [RedisClient, RedisClient];
  });

  it('records a batch whole, lists it oldest first, removes it once published', async () => {
    const store = new RedisEventOutboxStore(a, redisServer.freshPrefix());
    await store.add({ id: 'obx-2', at: '2030-01-01T00:00:02.000Z', events: [event('o1', 2)] });
    await store.add({ id: 'obx-1', at: '2030-01-01T00:00:01.000Z', events: [event('o1', 1), event('o1', 3)] });
    expect((await store.pending(10)).map((b) => [b.id, b.events.length])).toEqual([
      ['obx-1', 2],
      ['obx-2', 1],
    ]);
    expect(await store.depth()).toBe(2);
    await store.remove('obx-1');
    expect((await store.pending(10)).map((b) => b.id)).toEqual(['obx-2']);
  });

  it('a batch one instance recorded and could not publish is published by the other instance, once', async () => {
    const prefix = redisServer.freshPrefix();
    const backbone = new InMemoryEventBackbone();
    const seen: string[] = [];
    backbone.subscribe((e) => seen.push(e.id));
    // Instance A records, then dies before publishing (its backbone is unreachable, then it stops).
    const dead = new EventOutbox({ backbone: { publish: () => Promise.reject(new Error('down')) }, store: new RedisEventOutboxStore(a, prefix), retryBaseMs: 1_000 });
    await dead.emit([event('o2', 1), event('o2', 2)]);
    await dead.stop();
    const otherStore = new RedisEventOutboxStore(b, prefix);
    expect(await otherStore.depth()).toBe(1);
    const other = new EventOutbox({ backbone, store: otherStore, claimAfterMs: 0, sweepIntervalMs: 20 });
    await other.start();
    await vi.waitFor(async () => expect(await otherStore.depth()).toBe(0));
    expect(seen).toEqual(['evt-o2-1', 'evt-o2-2']);
    await other.stop();
  });
});
