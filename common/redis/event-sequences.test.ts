import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { adjustedAt as adjusted, handOverAt as handOver, pickedUpAt as pickedUp } from '../../test/support/events.js';
import { vi } from 'vitest';
import { keysOf, REDIS_TOPOLOGIES, useRedisServer } from '../../test/support/redis.js';
import { createEvent, sequenceIn, type CanonicalEvent, type EventStream } from '../events.js';
import { StreamSequencer } from '../stream-sequencer.js';
import type { RedisClient } from './connection.js';
import { RedisEventBackbone, type RedisEventBackboneOptions } from './event-backbone.js';
import { hashTagOf, redisKeys } from './keys.js';

const LOC: EventStream = { kind: 'location', id: 'store-001' };

describe.each(REDIS_TOPOLOGIES)('%s', (topology) => {
  const redisServer = useRedisServer(['sequences-a', 'sequences-b'], { topology });
  const { freshPrefix } = redisServer;
  let a: RedisClient;
  let b: RedisClient;
  const backbones: RedisEventBackbone[] = [];
  const silent = { warn: () => {}, error: () => {} };

  function backbone(redis: RedisClient, options: Partial<RedisEventBackboneOptions> = {}): RedisEventBackbone {
    const created = new RedisEventBackbone({ redis, blockMs: 200, logger: silent, ...options });
    backbones.push(created);
    return created;
  }

  beforeAll(() => {
    [a, b] = redisServer.clients as [RedisClient, RedisClient];
  });

  afterEach(async () => {
    await Promise.all(backbones.splice(0).map((created) => created.close()));
  });

  describe(`RedisEventBackbone sequences (${topology} Redis)`, () => {
    it('two instances publishing at once give each stream one gap-free sequence; every instance reads the same history', async () => {
      const prefix = freshPrefix();
      const one = backbone(a, { prefix });
      const two = backbone(b, { prefix });
      const live: CanonicalEvent[] = [];
      one.subscribe((e) => live.push(e));
      await one.ready();
      const events = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? pickedUp(`ord-${i % 3}`, 'store-001', `e${i}`) : adjusted('store-001', `e${i}`)));
      await Promise.all(events.map((e, i) => (i % 2 ? one : two).publish(e)));
      const fromOne = await one.streamSince(LOC, 0);
      const fromTwo = await two.streamSince(LOC, 0);
      expect(fromOne.events.map((e) => sequenceIn(e, 'location'))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(fromTwo.events.map((e) => e.id)).toEqual(fromOne.events.map((e) => e.id));
      expect(fromOne).toMatchObject({ oldest: 1, latest: 40 });
      // Each order's stream counts on its own.
      const orders = await Promise.all([0, 1, 2].map((n) => one.streamSince({ kind: 'order', id: `ord-${n}` }, 0)));
      for (const history of orders) expect(history.events.map((e) => sequenceIn(e, 'order'))).toEqual(history.events.map((_, i) => i + 1));
      // The live stream carries the sequences of both streams, the same as the history's.
      await vi.waitFor(() => expect(live).toHaveLength(40));
      const byId = new Map(fromOne.events.map((e) => [e.id, sequenceIn(e, 'location')]));
      for (const e of live) expect(e.sequences?.location).toBe(byId.get(e.id));
      expect(live.filter((e) => e.type === 'PICKED_UP').every((e) => (e.sequences?.order ?? 0) > 0)).toBe(true);
    });

    it('completes a publish that failed after its sequences were given, with the same sequences', async () => {
      const prefix = freshPrefix();
      const one = backbone(a, { prefix });
      const keys = redisKeys(prefix).events;
      // The live stream cannot be written (a key of the wrong type): the publish fails after sequencing.
      await a.set(keys.stream, 'not a stream');
      const event = pickedUp('ord-h', 'store-001', 'half');
      await expect(one.publish(event)).rejects.toThrow();
      await a.del(keys.stream);
      const live: CanonicalEvent[] = [];
      const two = backbone(b, { prefix });
      two.subscribe((e) => live.push(e));
      await two.ready();
      expect(await one.publish(event)).toBe(true);
      expect(await one.publish(event)).toBe(false);
      await one.publish(adjusted('store-001', 'after'));
      await vi.waitFor(() => expect(live.map((e) => [e.id, e.sequences])).toEqual([
        ['half', { order: 1, location: 1 }],
        ['after', { location: 2 }],
      ]));
      expect((await one.streamSince(LOC, 0)).events.map((e) => e.id)).toEqual(['half', 'after']);
      expect((await one.eventsForOrders(['ord-h']))[0]?.map((e) => e.sequences)).toEqual([{ order: 1, location: 1 }]);
    });

    it('retains the last `retention` events of a stream, and says which is the oldest', async () => {
      const prefix = freshPrefix();
      const one = backbone(a, { prefix, retention: 3 });
      for (let i = 1; i <= 5; i++) await one.publish(adjusted('store-001', `r${i}`));
      const history = await one.streamSince(LOC, 0);
      expect(history).toMatchObject({ oldest: 3, latest: 5 });
      expect(history.events.map((e) => sequenceIn(e, 'location'))).toEqual([3, 4, 5]);
      expect(await one.streamSince(LOC, null)).toEqual({ events: [], oldest: 3, latest: 5 });
      expect(await one.streamSince({ kind: 'order', id: 'none' }, 0)).toEqual({ events: [], oldest: 1, latest: 0 });
      // Retained ids are trimmed with their events.
      expect(await a.zcard(redisKeys(prefix).events.streamIds('location', 'store-001'))).toBe(3);
    });

    it('gives a multi-line event a block of location sequences, one per change, across instances; resumes inside a block; retention counts changes', async () => {
      const prefix = freshPrefix();
      const one = backbone(a, { prefix, retention: 4 });
      const two = backbone(b, { prefix, retention: 4 });
      await one.publish(adjusted('store-001', 'h1'));
      await two.publish(handOver('ord-m', 'store-001', 'h2', ['A', 'B', 'C']));
      // A retry of the block (the outbox after a failed live write) gets the same block.
      expect(await one.publish(handOver('ord-m', 'store-001', 'h2', ['A', 'B', 'C']))).toBe(false);
      await one.publish(adjusted('store-001', 'h3'));
      const all = await two.streamSince(LOC, 0);
      expect(all.events.map((e) => [e.id, sequenceIn(e, 'location')])).toEqual([
        ['h2', 2],
        ['h3', 5],
      ]);
      // Window of 4 changes (2..5): h2 (2..4) stays, h1 (1) is let go.
      expect(all).toMatchObject({ oldest: 2, latest: 5 });
      expect((await one.streamSince(LOC, 3)).events.map((e) => e.id)).toEqual(['h2', 'h3']);
      expect((await one.streamSince(LOC, 4)).events.map((e) => e.id)).toEqual(['h3']);
      expect((await one.streamSince({ kind: 'order', id: 'ord-m' }, 0)).events.map((e) => sequenceIn(e, 'order'))).toEqual([1]);
      const got: string[] = [];
      const sequencer = new StreamSequencer({ stream: LOC, after: 3, history: (s, after) => two.streamSince(s, after), emit: (e, from) => got.push(`${e.id}@${from}`), fail: (e) => { throw e; }, isOpen: () => true });
      two.subscribe((e) => {
        if (e.locationId === 'store-001') sequencer.offer(e);
      });
      await two.ready();
      await one.publish(handOver('ord-n', 'store-001', 'h4', ['A', 'B']));
      await vi.waitFor(() => expect(got).toEqual(['h2@4', 'h3@5', 'h4@6']));
    });

    it("keeps each stream's keys in the stream's own slot", async () => {
      const prefix = freshPrefix();
      const one = backbone(a, { prefix });
      await one.publish(pickedUp('ord-k', 'store-k', 'k1'));
      const streamKeys = (await keysOf(a, `${prefix}:stream:*`)).sort();
      expect(streamKeys).toEqual(
        [`${prefix}:stream:location:{store-k}:events`, `${prefix}:stream:location:{store-k}:ids`, `${prefix}:stream:location:{store-k}:seq`, `${prefix}:stream:order:{ord-k}:events`, `${prefix}:stream:order:{ord-k}:ids`, `${prefix}:stream:order:{ord-k}:seq`].sort(),
      );
      expect(new Set(streamKeys.filter((k) => k.includes(':location:')).map(hashTagOf))).toEqual(new Set(['store-k']));
    });

    it('a subscriber resuming on another instance gets the missed events, then live ones, exactly once and in order', async () => {
      const prefix = freshPrefix();
      const writer = backbone(a, { prefix });
      const reader = backbone(b, { prefix });
      for (let i = 1; i <= 5; i++) await writer.publish(adjusted('store-001', `m${i}`));
      const got: number[] = [];
      const sequencer = new StreamSequencer({ stream: LOC, after: 2, history: (s, after) => reader.streamSince(s, after), emit: (e) => got.push(sequenceIn(e, 'location')), fail: (e) => { throw e; }, isOpen: () => true });
      reader.subscribe((e) => {
        if (e.locationId === 'store-001') sequencer.offer(e);
      });
      await reader.ready();
      await Promise.all([6, 7, 8].map((i) => writer.publish(adjusted('store-001', `m${i}`))));
      await vi.waitFor(() => expect(got).toEqual([3, 4, 5, 6, 7, 8]));
    });
  });
});
