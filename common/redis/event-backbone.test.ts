import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keysOf, REDIS_TOPOLOGIES, useRedisServer } from '../../test/support/redis.js';
import { InMemoryEventBackbone, type CanonicalEvent } from '../events.js';
import { createRedis, isCluster, quitAll, type RedisClient } from './connection.js';
import { RedisEventBackbone, type RedisEventBackboneOptions } from './event-backbone.js';

describe.each(REDIS_TOPOLOGIES)('%s', (topology) => {
  const redisServer = useRedisServer(['backbone-test-a', 'backbone-test-b'], { topology });
  const { freshPrefix } = redisServer;
  let a: RedisClient;
  let b: RedisClient;
  const backbones: RedisEventBackbone[] = [];
  const silent = { warn: () => {}, error: () => {} };
  /** The name `createRedis` and the backbone give b's reader connection. */
  const READER_B = 'retail-supergraph:backbone-test-b:events-reader';

  function backbone(redis: RedisClient, options: Partial<RedisEventBackboneOptions> = {}): RedisEventBackbone {
    const created = new RedisEventBackbone({ redis, blockMs: 200, logger: silent, ...options });
    backbones.push(created);
    return created;
  }

  function event(id: string, orderId: string | undefined, occurredAt: string, type: CanonicalEvent['type'] = 'ORDER_PLACED'): CanonicalEvent {
    // The backbone stores and hands on `data` as it is: a marker payload, not each type's own, is all these tests need.
    return { id, type, occurredAt, source: 'WEB', correlationId: `corr-${id}`, ...(orderId ? { orderId } : {}), data: { n: id } } as unknown as CanonicalEvent;
  }

  /** Resolves when `predicate` holds, polling; fails the test after `timeoutMs`. */
  async function until(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await sleep(10);
    }
  }

  beforeAll(() => {
    [a, b] = redisServer.clients as [RedisClient, RedisClient];
  });

  afterEach(async () => {
    await Promise.all(backbones.splice(0).map((created) => created.close()));
  });


  describe(`RedisEventBackbone (${topology} Redis)`, () => {
    it('keeps each order in occurredAt order (ties in publish order) and drops duplicate ids, like the in-memory backbone', async () => {
      const redis = backbone(a, { prefix: freshPrefix() });
      const memory = new InMemoryEventBackbone();
      const sequence = [
        event('e1', 'o1', '2024-05-01T10:00:00.000Z'),
        event('e2', 'o1', '2024-05-01T09:00:00.000Z'), // late: sorts first
        event('e3', 'o1', '2024-05-01T10:00:00.000Z'), // tie with e1: after it
        event('e4', 'o2', '2024-05-01T08:00:00.000Z'),
        event('e5', undefined, '2024-05-01T08:00:00.000Z'), // no order: only in the stream
        event('e1', 'o1', '2024-05-01T07:00:00.000Z'), // duplicate id
      ];
      const accepted: boolean[] = [];
      for (const e of sequence) {
        const result = await redis.publish(e);
        expect(await memory.publish(e)).toBe(result);
        accepted.push(result);
      }
      expect(accepted).toEqual([true, true, true, true, true, false]);

      const ids = ['o1', 'unknown', 'o2', 'o1'];
      const got = await redis.eventsForOrders(ids);
      expect(got.map((list) => list.map((e) => e.id))).toEqual([['e2', 'e1', 'e3'], [], ['e4'], ['e2', 'e1', 'e3']]);
      expect(got).toEqual(await memory.eventsForOrders(ids));
      expect(await redis.eventsForOrders([])).toEqual([]);
    });

    it('drops duplicates across instances, also when they race', async () => {
      const prefix = freshPrefix();
      const one = backbone(a, { prefix });
      const two = backbone(b, { prefix });
      expect(await one.publish(event('x', 'o1', '2024-05-01T10:00:00.000Z'))).toBe(true);
      expect(await two.publish(event('x', 'o1', '2024-05-01T10:00:00.000Z'))).toBe(false);
      const racers = Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).publish(event('y', 'o1', '2024-05-01T11:00:00.000Z')));
      expect((await Promise.all(racers)).filter(Boolean)).toHaveLength(1);
      expect((await two.eventsForOrders(['o1']))[0]!.map((e) => e.id)).toEqual(['x', 'y']);
    });

    it('completes a publish that stopped between the order\'s list and the stream when it is published again, never doubling it', async () => {
      const prefix = freshPrefix();
      const one = backbone(a, { prefix });
      const half = event('half', 'o-half', '2024-05-01T10:00:00.000Z');
      // What a publisher that died after the first of its two steps leaves behind (see keys.ts): the order's list
      // has the event, the stream does not.
      await a.rpush(`${prefix}:order-events:{o-half}`, JSON.stringify(half));
      await a.sadd(`${prefix}:order-events:{o-half}:ids`, 'half');
      expect(await a.exists(`${prefix}:{events}`)).toBe(0);
      const received: string[] = [];
      one.subscribe((e) => received.push(e.id));
      await one.ready();
      // The retry: on the stream now (and delivered), still once in the timeline.
      expect(await one.publish(half)).toBe(true);
      expect(await one.publish(half)).toBe(false);
      await until(() => received.length === 1);
      expect(received).toEqual(['half']);
      expect(await a.xlen(`${prefix}:{events}`)).toBe(1);
      expect((await one.eventsForOrders(['o-half']))[0]!.map((e) => e.id)).toEqual(['half']);
    });

    it('delivers what one instance publishes to another instance’s subscribers, in order, once', async () => {
      const prefix = freshPrefix();
      const publisher = backbone(a, { prefix });
      const consumer = backbone(b, { prefix });
      await publisher.publish(event('before', 'o1', '2024-05-01T00:00:00.000Z'));

      const received: CanonicalEvent[] = [];
      const ownReceived: string[] = [];
      consumer.subscribe((e) => received.push(e));
      publisher.subscribe((e) => ownReceived.push(e.id));
      await consumer.ready();
      await publisher.ready();

      const sent = Array.from({ length: 50 }, (_, i) => event(`live-${i}`, `o${i % 3}`, `2024-05-01T01:00:${String(59 - i).padStart(2, '0')}.000Z`));
      for (const e of sent) expect(await publisher.publish(e)).toBe(true);
      expect(await publisher.publish(sent[7]!)).toBe(false); // a duplicate is not delivered again

      await until(() => received.length >= 50 && ownReceived.length >= 50);
      await sleep(300); // longer than a block: anything extra would have arrived by now
      expect(received.map((e) => e.id)).toEqual(sent.map((e) => e.id));
      // As sent, with the sequences the backbone stamped (these are ORDER_PLACED: each order's status stream).
      expect(received.map(({ sequences: _stamped, ...rest }) => rest)).toEqual(sent);
      // The publisher's own subscribers hear it too, as with the in-memory backbone.
      expect(ownReceived).toEqual(sent.map((e) => e.id));
    });

    it('delivers events this instance publishes right after subscribing, without waiting for ready()', async () => {
      const one = backbone(a, { prefix: freshPrefix() });
      const received: string[] = [];
      one.subscribe((e) => received.push(e.id));
      await one.publish(event('first', undefined, '2024-05-01T00:00:00.000Z'));
      await until(() => received.length === 1);
      expect(received).toEqual(['first']);
    });

    it('stops delivery to an unsubscribed handler, and stops reading when none are left', async () => {
      const prefix = freshPrefix();
      const publisher = backbone(a, { prefix });
      const consumer = backbone(b, { prefix });
      const first: string[] = [];
      const second: string[] = [];
      const unsubscribeFirst = consumer.subscribe((e) => first.push(e.id));
      const unsubscribeSecond = consumer.subscribe((e) => second.push(e.id));
      await consumer.ready();
      await publisher.publish(event('e1', undefined, '2024-05-01T00:00:00.000Z'));
      await until(() => first.length === 1 && second.length === 1);

      unsubscribeFirst();
      unsubscribeFirst(); // twice is harmless
      await publisher.publish(event('e2', undefined, '2024-05-01T00:00:01.000Z'));
      await until(() => second.length === 2);
      expect(first).toEqual(['e1']);

      unsubscribeSecond();
      await publisher.publish(event('e3', undefined, '2024-05-01T00:00:02.000Z'));
      await sleep(400);
      expect(first).toEqual(['e1']);
      expect(second).toEqual(['e1', 'e2']);
      // Not reading any more means no reader connection either.
      expect((await clientList()).map((c) => c.name)).not.toContain(READER_B);

      // A new subscription starts from now, not from where the last one stopped.
      const third: string[] = [];
      consumer.subscribe((e) => third.push(e.id));
      await consumer.ready();
      await publisher.publish(event('e4', undefined, '2024-05-01T00:00:03.000Z'));
      await until(() => third.length === 1);
      expect(third).toEqual(['e4']);
    });

    it('keeps delivering to the other handlers when one throws', async () => {
      const one = backbone(a, { prefix: freshPrefix() });
      const received: string[] = [];
      one.subscribe(() => {
        throw new Error('consumer bug');
      });
      one.subscribe((e) => received.push(e.id));
      await one.ready();
      await one.publish(event('e1', undefined, '2024-05-01T00:00:00.000Z'));
      await one.publish(event('e2', undefined, '2024-05-01T00:00:01.000Z'));
      await until(() => received.length === 2);
      expect(received).toEqual(['e1', 'e2']);
    });

    it('resumes where it was after its reader connection is killed, losing nothing', async () => {
      const prefix = freshPrefix();
      const publisher = backbone(a, { prefix });
      const consumer = backbone(b, { prefix });
      const received: string[] = [];
      consumer.subscribe((e) => received.push(e.id));
      await consumer.ready();
      await publisher.publish(event('e1', undefined, '2024-05-01T00:00:00.000Z'));
      await until(() => received.length === 1);

      const reader = (await clientList()).find((c) => c.name === READER_B);
      expect(reader).toBeDefined();
      await reader!.node.client('KILL', 'ID', reader!.id);
      for (let i = 2; i <= 5; i++) await publisher.publish(event(`e${i}`, undefined, '2024-05-01T00:00:00.000Z'));
      await until(() => received.length >= 5);
      await sleep(300);
      expect(received).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    });

    it('loads history once per tag, across instances and restarts, without notifying subscribers', async () => {
      const prefix = freshPrefix();
      const history = Array.from({ length: 2_500 }, (_, i) =>
        event(`h${i}`, `o${i % 100}`, new Date(Date.UTC(2024, 0, 1) + ((i * 7919) % 2_500) * 60_000).toISOString()),
      );
      const one = backbone(a, { prefix });
      const two = backbone(b, { prefix });
      const notified: string[] = [];
      two.subscribe((e) => notified.push(e.id));
      await two.ready();

      // Two instances starting together: one loads, the other waits for it; neither returns before it is complete.
      const [first, second] = await Promise.all([one.load(history, 'seed-1'), two.load(history, 'seed-1')]);
      expect([first, second].filter(Boolean)).toHaveLength(1);
      const lists = await two.eventsForOrders(['o0', 'o99']);
      expect(lists.map((l) => l.length)).toEqual([25, 25]);
      const memory = new InMemoryEventBackbone();
      memory.load(history);
      expect(lists).toEqual(await memory.eventsForOrders(['o0', 'o99']));

      // A restart: the tag is done, the events are not even iterated.
      let iterated = false;
      const lazy = (function* () {
        iterated = true;
        yield* history;
      })();
      expect(await backbone(a, { prefix }).load(lazy, 'seed-1')).toBe(false);
      expect(iterated).toBe(false);
      expect((await one.eventsForOrders(['o0']))[0]).toHaveLength(25);

      // History ids count as seen, and history is not in the live stream.
      expect(await one.publish(history[0]!)).toBe(false);
      expect(await a.exists(`${prefix}:{events}`)).toBe(0);
      await sleep(300);
      expect(notified).toEqual([]);
    });

    it('takes over a history load whose loader died', async () => {
      const prefix = freshPrefix();
      await a.set(`${prefix}:history-loading:seed-2`, 'a-crashed-loader', 'PX', 300);
      const started = Date.now();
      const one = backbone(a, { prefix });
      expect(await one.load([event('h1', 'o1', '2024-01-01T00:00:00.000Z')], 'seed-2')).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect((await one.eventsForOrders(['o1']))[0]!.map((e) => e.id)).toEqual(['h1']);
      expect(await a.exists(`${prefix}:history-loading:seed-2`)).toBe(0);
    });

    it('writes the documented keys', async () => {
      const one = backbone(a); // default prefix
      await one.publish(event('k1', 'ord-1', '2024-01-01T00:00:00.000Z'));
      await one.load([event('k2', 'ord-2', '2024-01-01T00:00:00.000Z')], 'layout');
      // The layout of keys.ts: the stream and its seen flags share one hash tag, each order's list and id set another.
      expect((await keysOf(a, 'retail:*')).sort()).toEqual(
        [
          'retail:{events}:seen:k1',
          'retail:{events}:seen:k2',
          'retail:{events}',
          'retail:history-loaded:layout',
          'retail:order-events:{ord-1}',
          'retail:order-events:{ord-1}:ids',
          'retail:order-events:{ord-2}',
          'retail:order-events:{ord-2}:ids',
          // k1 is an ORDER_PLACED: its order's status stream (a published event only; history is not sequenced).
          'retail:stream:order:{ord-1}:seq',
          'retail:stream:order:{ord-1}:ids',
          'retail:stream:order:{ord-1}:events',
        ].sort(),
      );
      expect(await a.type('retail:{events}')).toBe('stream');
      const seenTtl = await a.pttl('retail:{events}:seen:k1');
      expect(seenTtl).toBeGreaterThan(29 * 86_400_000);
      expect(seenTtl).toBeLessThanOrEqual(30 * 86_400_000);
      expect(await a.pttl('retail:order-events:{ord-1}')).toBe(-1);
      const [[, fields]] = (await a.xrange('retail:{events}', '-', '+')) as [[string, string[]]];
      expect(fields[0]).toBe('event');
      expect(JSON.parse(fields[1]!)).toMatchObject({ id: 'k1', orderId: 'ord-1' });
    });

    it('close() ends a blocked reader at once and leaves no handles behind', async () => {
      const baseline = sockets();
      const redis = createRedis(redisServer.url, { name: 'close-test' });
      const one = new RedisEventBackbone({ redis, prefix: freshPrefix(), blockMs: 10_000, logger: silent });
      const received: string[] = [];
      one.subscribe((e) => received.push(e.id));
      await one.ready();
      await one.publish(event('e1', undefined, '2024-01-01T00:00:00.000Z'));
      await until(() => received.length === 1);
      expect(sockets()).toBeGreaterThan(baseline);

      const started = Date.now();
      await one.close(); // the reader is inside a 10 s XREAD BLOCK
      expect(Date.now() - started).toBeLessThan(1_000);
      await expect(one.publish(event('e2', undefined, '2024-01-01T00:00:00.000Z'))).rejects.toThrow(/closed/);
      expect(() => one.subscribe(() => {})).toThrow(/closed/);
      await quitAll([redis]);
      await until(() => sockets() === baseline, 2_000);
    });
  });

  /** Open TCP sockets of this process: what would keep it alive after the tests. */
  function sockets(): number {
    return process.getActiveResourcesInfo().filter((type) => type === 'TCPSocketWrap' || type === 'TCPWRAP').length;
  }

  /** Every connection to the server, or to any master of the cluster (with the node to kill it on). */
  async function clientList(): Promise<{ id: string; name: string; node: RedisClient }[]> {
    const nodes: RedisClient[] = isCluster(a) ? a.nodes('master') : [a];
    const perNode = await Promise.all(
      nodes.map(async (node) =>
        ((await node.client('LIST')) as string)
          .split('\n')
          .filter(Boolean)
          .map((line) => ({ ...(Object.fromEntries(line.split(' ').map((pair) => pair.split('=') as [string, string])) as { id: string; name: string }), node })),
      ),
    );
    return perNode.flat();
  }

  describe(`RedisEventBackbone consumer groups (${topology} Redis)`, () => {
    const MONEY = new Set<CanonicalEvent['type']>(['PICKED_UP']);
    const money = (id: string) => event(id, `o-${id}`, '2024-05-01T10:00:00.000Z', 'PICKED_UP');
    /**
     * Resolves once the consumer groups exist on the prefix's stream (a member creates its group at the stream's
     * end when it starts): from then on, what is published reaches them. A signal, not a sleep: on a cluster the
     * member's own client first has to learn the slot map.
     */
    async function groupsExist(prefix: string, ...groups: string[]): Promise<void> {
      const names = async () => {
        try {
          return ((await a.xinfo('GROUPS', `${prefix}:{events}`)) as unknown[][]).map((g) => String(g[1]));
        } catch {
          return []; // no stream yet
        }
      };
      const deadline = Date.now() + 10_000;
      for (;;) {
        const present = await names();
        if (groups.every((g) => present.includes(g))) return;
        if (Date.now() > deadline) throw new Error(`consumer groups ${groups.join(', ')} not created in time (have ${present.join(', ')})`);
        await sleep(10);
      }
    }

    it('keeps what is published while every member is down, for the next member to start', async () => {
      const prefix = freshPrefix();
      const first = backbone(a, { prefix });
      const taken: string[] = [];
      const stopFirst = first.consume('g', MONEY, async (e) => void taken.push(e.id));
      await groupsExist(prefix, 'g');
      await first.publish(money('m1'));
      await until(() => taken.includes('m1'));
      stopFirst();
      await first.close();
      // Nobody of the group is running now: these wait in Redis.
      const publisher = backbone(b, { prefix });
      await publisher.publish(money('m2'));
      await publisher.publish(event('x1', 'o-x', '2024-05-01T10:00:00.000Z', 'ORDER_PLACED')); // not of the group's types
      await publisher.publish(money('m3'));
      const later = backbone(b, { prefix });
      later.consume('g', MONEY, async (e) => void taken.push(e.id));
      await until(() => taken.length === 3);
      expect(taken).toEqual(['m1', 'm2', 'm3']);
    });

    it('hands each event to one member of the group; another group gets its own copy', async () => {
      const prefix = freshPrefix();
      const one = backbone(a, { prefix });
      const two = backbone(b, { prefix });
      const byMember: Record<string, string[]> = { one: [], two: [], audit: [] };
      one.consume('g', MONEY, async (e) => void byMember.one!.push(e.id));
      two.consume('g', MONEY, async (e) => void byMember.two!.push(e.id));
      two.consume('audit', MONEY, async (e) => void byMember.audit!.push(e.id));
      await groupsExist(prefix, 'g', 'audit'); // before anything is published
      for (let i = 0; i < 20; i++) await one.publish(money(`p${i}`));
      await until(() => byMember.one!.length + byMember.two!.length === 20 && byMember.audit!.length === 20);
      expect(new Set([...byMember.one!, ...byMember.two!]).size).toBe(20);
    });

    it('hands an event again until the handler takes it, and a member that died holding one loses it to another', async () => {
      const prefix = freshPrefix();
      const flaky = backbone(a, { prefix, claimIdleMs: 400 });
      let attempts = 0;
      flaky.consume('g', MONEY, async () => {
        if (++attempts < 3) throw new Error('store down');
      });
      await groupsExist(prefix, 'g');
      await flaky.publish(money('r1'));
      await until(() => attempts === 3);

      // A member that never finishes (it hangs, then its process dies): the entry is claimed by the survivor.
      const hanging = backbone(a, { prefix: `${prefix}x`, claimIdleMs: 400 });
      const survivor = backbone(b, { prefix: `${prefix}x`, claimIdleMs: 400 });
      let hung = 0;
      const stopHanging = hanging.consume('g', MONEY, () => {
        hung++;
        return new Promise<void>(() => {});
      });
      await groupsExist(`${prefix}x`, 'g');
      await hanging.publish(money('h1'));
      await until(() => hung === 1);
      stopHanging();
      const rescued: string[] = [];
      survivor.consume('g', MONEY, async (e) => void rescued.push(e.id));
      await until(() => rescued.includes('h1'), 5_000);
    });
  });
});
