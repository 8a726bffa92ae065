import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromGlobalId } from '../common/global-id.js';
import { createRedis, quitAll } from '../common/redis/connection.js';
import { RedisEventBackbone } from '../common/redis/event-backbone.js';
import { contractOperation } from './support/contract.js';
import { pollUntil } from './support/poll.js';
import { REDIS_TOPOLOGIES, startRedis, type RedisTarget } from './support/redis.js';
import { AGENT, FINANCE, shopper, startTestStack, store, type TestStack } from './support/stack.js';

// Every test below runs on one redis-server and again on a real three-master Redis Cluster (REDIS_URL=redis+cluster://),
// where each Lua script and MULTI must keep to one hash slot (see common/redis/keys.ts).
describe.each(REDIS_TOPOLOGIES)('%s Redis', (topology) => {
  // Two complete stacks (gateway + five subgraphs each) side by side, sharing one real redis-server (event
  // backbone, idempotency records, stock counts and reservations, ERP outbox) and one set of systems of record
  // (stack B reaches A's sandbox over HTTP), as instances of one deployment share their ERP, POS and WMS. One sandbox
  // is one identity provider: a token from it is good at both stacks, and each stack's `queryAs` asks it for one.
  // Guest pickup orders (no customerId) are placed by a service agent; the store's associates read its stock and hand
  // orders over; finance reads the outbox. Idempotency records are per caller: a replay comes from the same caller.
  let redis: RedisTarget;
  let a: TestStack;
  let b: TestStack;
  beforeAll(async () => {
    redis = await startRedis(topology);
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: `t${Date.now()}` };
    a = await startTestStack({}, env);
    b = await startTestStack({}, { ...env, SANDBOX_URL: a.urls.sandbox });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await redis?.stop();
  });

  let n = 0;
  const key = () => `redis-${Date.now()}-${++n}`;
  const PLACE = () => contractOperation('PlaceOrder');

  function pickupStore(stack: TestStack) {
    return stack.sandbox.data.stores.find((s) => s.pickupEnabled)!.id;
  }

  async function sellable(stack: TestStack, locationId: string, sku: string) {
    const { body } = await stack.queryAs(store(locationId), contractOperation('StoreStock'), { locationId, skus: [sku] });
    return (body.data as any).location.inventoryLevels[0];
  }

  /** The POS process's record over its RPC: it keeps its stock in Redis's book, so this is what every stack sees. */
  async function posOwnCount(stack: TestStack, locationId: string, sku: string) {
    const { body } = await stack.sandboxCall('POST', '/sandbox/rpc/pos/getStock', { args: [[{ sku, locationId }]] });
    return body.result[0];
  }

  describe(`Redis mode (${topology}): two stacks, one Redis`, () => {
    it('an idempotency key used on stack A replays on stack B, and another input there is IDEMPOTENCY_KEY_REUSED', async () => {
      const locationId = pickupStore(a);
      const sku = a.sandbox.data.variants[5]!.sku;
      await a.sandbox.systems.pos.adjustStock({ sku, locationId, onHandDelta: 10 });
      const input = { idempotencyKey: key(), channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: locationId, lines: [{ sku, quantity: 1 }] };
      const first = (await a.queryAs(AGENT, PLACE(), { input })).body.data as any;
      expect(first.placeOrder.order.status).toBe('CONFIRMED');
      const replay = (await b.queryAs(AGENT, PLACE(), { input })).body.data as any;
      expect(replay.placeOrder.order.id).toBe(first.placeOrder.order.id);
      expect(replay.placeOrder.userErrors).toEqual([]);
      const reused = (await b.queryAs(AGENT, PLACE(), { input: { ...input, lines: [{ sku, quantity: 2 }] } })).body.data as any;
      expect(reused.placeOrder.userErrors.map((e: any) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    });

    it('the same new key sent to both stacks at once runs once: the other is IDEMPOTENCY_KEY_IN_USE', async () => {
      const locationId = pickupStore(a);
      const sku = a.sandbox.data.variants[6]!.sku;
      await a.sandbox.systems.pos.adjustStock({ sku, locationId, onHandDelta: 10 });
      const input = { idempotencyKey: key(), channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: locationId, lines: [{ sku, quantity: 1 }] };
      await a.sandboxCall('POST', '/sandbox/faults', { system: 'psp', latencyMs: 300 });
      try {
        const [ra, rb] = await Promise.all([a.queryAs(AGENT, PLACE(), { input }), new Promise((r) => setTimeout(r, 100)).then(() => b.queryAs(AGENT, PLACE(), { input }))]);
        const outcomes = [(ra.body.data as any).placeOrder, (rb.body.data as any).placeOrder];
        expect(outcomes.filter((o) => o.order?.status === 'CONFIRMED')).toHaveLength(1);
        expect(outcomes.flatMap((o) => o.userErrors.map((e: any) => e.code))).toEqual(['IDEMPOTENCY_KEY_IN_USE']);
      } finally {
        await a.sandboxCall('DELETE', '/sandbox/faults');
      }
    });

    it('never oversells across stacks: 100 orders through each for 20 sellable units give exactly 20 confirmations', async () => {
      const locationId = pickupStore(a);
      const sku = a.sandbox.data.variants[7]!.sku;
      const before = await sellable(a, locationId, sku);
      await a.sandbox.systems.pos.adjustStock({ sku, locationId, onHandDelta: 20 - before.available });
      expect((await sellable(b, locationId, sku)).available).toBe(20);
      const posBefore = await posOwnCount(a, locationId, sku);
      const place = (stack: TestStack) => stack.queryAs(AGENT, PLACE(), { input: { idempotencyKey: key(), channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: locationId, lines: [{ sku, quantity: 1 }] } });
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => place(i % 2 ? a : b)));
      const confirmed = results.filter((r) => (r.body.data as any)?.placeOrder?.order?.status === 'CONFIRMED').length;
      expect(confirmed).toBe(20);
      const after = await sellable(b, locationId, sku);
      expect(after.available).toBe(0);
      expect(after.committed).toBe(before.committed + 20);
      // The commitments were made in Redis's stock book, through the POS (its faults and counters apply): the POS's
      // own RPC answers them.
      expect(await posOwnCount(a, locationId, sku)).toEqual({ ...posBefore, committed: posBefore.committed + 20 });
    });

    it('events published through stack A are in the timeline served by stack B', async () => {
      const locationId = pickupStore(a);
      const sku = a.sandbox.data.variants[8]!.sku;
      await a.sandbox.systems.pos.adjustStock({ sku, locationId, onHandDelta: 5 });
      const placed = (await a.queryAs(AGENT, PLACE(), { input: { idempotencyKey: key(), channel: 'MOBILE', deliveryMethod: 'PICKUP', pickupLocationId: locationId, lines: [{ sku, quantity: 1 }] } })).body.data as any;
      const order = placed.placeOrder.order;
      const { body } = await b.queryAs(AGENT, contractOperation('OrderTimeline'), { orderId: order.id });
      const timeline = (body.data as any).order.timeline;
      expect(timeline.map((e: any) => e.type)).toEqual(['ORDER_PLACED', 'INVENTORY_RESERVED', 'PAYMENT_AUTHORIZED', 'ORDER_CONFIRMED']);
      for (const e of timeline) expect(e.correlationId).toBe(order.correlationId);
      // The seeded history is in Redis too (loaded once, by whichever stack came first).
      const seeded = a.sandbox.data.orders[0]!;
      const history = await b.queryAs(AGENT, contractOperation('OrderTimeline'), { orderId: seeded.id });
      expect((history.body.data as any).order.timeline.length).toBeGreaterThan(3);
    });

    it('the ERP outbox is shared: a hand-over through A is posted once, and B sees the posting and one JOURNAL_POSTED', async () => {
      const locationId = pickupStore(a);
      const sku = a.sandbox.data.variants[9]!.sku;
      await a.sandbox.systems.pos.adjustStock({ sku, locationId, onHandDelta: 5 });
      const order = ((await a.queryAs(AGENT, PLACE(), { input: { idempotencyKey: key(), channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: locationId, lines: [{ sku, quantity: 1 }] } })).body.data as any).placeOrder.order;
      expect(((await a.queryAs(store(locationId), contractOperation('ReadyForPickup'), { orderId: order.id })).body.data as any).markReadyForPickup.order.status).toBe('READY_FOR_PICKUP');
      expect(((await a.queryAs(store(locationId), contractOperation('HandOver'), { orderId: order.id })).body.data as any).confirmPickup.order.status).toBe('PICKED_UP');
      const sales = await pollUntil(
        async () => ((await b.queryAs(FINANCE, 'query P($id: ID!) { order(id: $id) { erpPostings { id type status erpDocumentNumber } } }', { id: order.id })).body.data as any).order.erpPostings.filter((p: any) => p.type === 'SALE'),
        (list: any[]) => list.some((p) => p.status === 'POSTED'),
        'the SALE posted',
        10_000,
        100,
      );
      expect(sales).toHaveLength(1);
      expect(sales[0]).toMatchObject({ status: 'POSTED', erpDocumentNumber: expect.any(String) });
      // Both stacks' finance workers may have tried it; the backbone keeps one event per posting. The posting is saved
      // POSTED once its events are in the event outbox, which relays them to the timeline after.
      const types = await pollUntil(
        async () => ((await b.queryAs(AGENT, contractOperation('OrderTimeline'), { orderId: order.id })).body.data as any).order.timeline.map((e: any) => e.type) as string[],
        (list) => list.includes('JOURNAL_POSTED') && list.includes('INVOICE_ISSUED'),
        'JOURNAL_POSTED and INVOICE_ISSUED on the timeline',
        10_000,
        100,
      );
      expect(types.filter((t: string) => t === 'JOURNAL_POSTED')).toHaveLength(1);
      expect(types.filter((t: string) => t === 'INVOICE_ISSUED')).toHaveLength(1);
    });
  });

  // Two more stacks that share only Redis: each embeds its own copy of the systems of record, so nothing but
  // the Lua scripts on Redis's stock book stands between their concurrent promises of the same units. Each embeds its
  // own sandbox, and so its own identity provider with its own keys: each stack is called with tokens it minted.
  describe(`Redis mode (${topology}): stock promises hold across stacks that share nothing but Redis`, () => {
    let c: TestStack;
    let d: TestStack;
    beforeAll(async () => {
      const env = { REDIS_URL: redis.url, REDIS_PREFIX: `u${Date.now()}` };
      c = await startTestStack({}, env);
      d = await startTestStack({}, env);
    });
    afterAll(async () => {
      await d?.stop();
      await c?.stop();
    });

    const RESERVE = `mutation R($input: ReserveInventoryInput!) { reserveInventory(input: $input) { reservation { id } userErrors { code } } }`;

    it('200 concurrent cart reservations through both stacks for 20 sellable units: exactly 20 held', async () => {
      const locationId = pickupStore(c);
      const sku = c.sandbox.data.variants[11]!.sku;
      const before = await sellable(c, locationId, sku);
      const counted = await c.queryAs(store(locationId), contractOperation('AdjustStock'), { input: { idempotencyKey: key(), locationId, sku, reason: 'CYCLE_COUNT', onHand: before.onHand + 20 - before.available } });
      expect((counted.body.data as any).adjustInventory.level.available).toBe(20);
      expect((await sellable(d, locationId, sku)).available).toBe(20);
      const results = await Promise.all(
        // Ten shoppers' carts, each shopper signed in at both stacks.
        Array.from({ length: 200 }, (_, i) =>
          (i % 2 ? c : d).queryAs(shopper(`cust-${String((i % 10) + 1).padStart(5, '0')}`), RESERVE, { input: { idempotencyKey: key(), locationId, lines: [{ sku, quantity: 1 }] } }),
        ),
      );
      const held = results.map((r) => (r.body.data as any).reserveInventory);
      expect(held.filter((h) => h.reservation).length).toBe(20);
      expect(held.filter((h) => h.userErrors[0]?.code === 'OUT_OF_STOCK').length).toBe(180);
      expect(new Set(held.filter((h) => h.reservation).map((h) => h.reservation.id)).size).toBe(20);
      const after = await sellable(d, locationId, sku);
      expect(after.available).toBe(0);
      expect(after.reserved).toBe(before.reserved + 20);
    });

    it('a compare-and-swap count sent to both stacks at once applies once: the other is STALE_QUANTITY', async () => {
      const locationId = pickupStore(c);
      const sku = c.sandbox.data.variants[12]!.sku;
      const before = await sellable(c, locationId, sku);
      const count = (stack: TestStack, onHand: number) =>
        stack.queryAs(store(locationId), contractOperation('AdjustStock'), { input: { idempotencyKey: key(), locationId, sku, reason: 'RECEIPT', delta: onHand, expectedOnHand: before.onHand } });
      const [rc, rd] = await Promise.all([count(c, 5), count(d, 7)]);
      const outcomes = [(rc.body.data as any).adjustInventory, (rd.body.data as any).adjustInventory];
      expect(outcomes.filter((o) => o.level).length).toBe(1);
      expect(outcomes.flatMap((o) => o.userErrors.map((e: any) => e.code))).toEqual(['STALE_QUANTITY']);
      const after = await sellable(d, locationId, sku);
      expect([before.onHand + 5, before.onHand + 7]).toContain(after.onHand);
    });
  });

  describe(`Redis mode (${topology}): finance catches up on what happened while it was down`, () => {
    it('a hand-over published while no finance instance runs is booked by the next one to start', async () => {
      const env = { REDIS_URL: redis.url, REDIS_PREFIX: `f${Date.now()}` };
      // A first stack: its finance joins the outbox's consumer group, then the whole stack goes away.
      const before = await startTestStack({}, env);
      const locationId = pickupStore(before);
      const sku = before.sandbox.data.variants[13]!.sku;
      await before.sandbox.systems.pos.adjustStock({ sku, locationId, onHandDelta: 3 });
      const order = ((await before.queryAs(AGENT, PLACE(), { input: { idempotencyKey: key(), channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: locationId, lines: [{ sku, quantity: 1 }] } })).body.data as any).placeOrder.order;
      await before.stop();

      // Meanwhile another service (the orders subgraph of an instance without finance) hands the order over.
      const client = createRedis(redis.url, { name: 'catch-up-test' });
      const publisher = new RedisEventBackbone({ redis: client, prefix: env.REDIS_PREFIX });
      try {
        await publisher.publish({
          id: `evt-catch-up-${Date.now()}`,
          type: 'PICKED_UP',
          source: 'POS',
          occurredAt: new Date().toISOString(),
          correlationId: order.correlationId,
          // Events name orders by their native id.
          orderId: fromGlobalId('Order', order.id),
          locationId,
          data: { total: 1999, currency: 'EUR', lines: [{ sku, quantity: 1 }], previousStatus: 'READY_FOR_PICKUP', status: 'PICKED_UP' },
        });
      } finally {
        await publisher.close();
        await quitAll([client]);
      }

      // The next finance instance to start finds the hand-over waiting, and books it.
      const after = await startTestStack({}, env);
      try {
        const postings = await pollUntil(
          async () => ((await after.queryAs(FINANCE, 'query O($id: ID!) { erpOutbox(orderId: $id) { type status amount { amount } } }', { id: order.id })).body.data as any).erpOutbox as any[],
          (list) => list.some((p) => p.status === 'POSTED'),
          'the waiting hand-over booked',
          10_000,
          100,
        );
        expect(postings).toEqual([{ type: 'SALE', status: 'POSTED', amount: { amount: '19.99' } }]);
      } finally {
        await after.stop();
      }
    });
  });
});
