import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '../common/events.js';
import { fromGlobalId, toGlobalId } from '../common/global-id.js';
import { contractOperation } from './support/contract.js';
import { expectedLevel } from './support/expect.js';
import { REDIS_TOPOLOGIES, startRedis, type RedisTarget } from './support/redis.js';
import { AGENT, shopper, startTestStack, store, type Caller, type TestStack } from './support/stack.js';
import { collect, until, wsClientAs } from './support/subscriptions.js';

/*
 * Changing a pickup order's store after checkout (issue 13), through the real gateway: the shopper who placed the
 * order (or a service agent) moves it to another store before it is ready for pickup; the committed units move with
 * it in one step of the stock book, and both stores' associates see it on their StoreInventory and PickupFeed
 * subscriptions (real WebSockets, each store's own token).
 */

const CHANGE = /* GraphQL */ `
  mutation ChangePickup($input: ChangePickupLocationInput!) {
    changePickupLocation(input: $input) {
      order { id status pickupLocation { id } fulfillmentLocation { id } }
      userErrors { field message code }
    }
  }
`;

const ORDER = /* GraphQL */ `
  query PickupOrder($id: ID!) {
    order(id: $id) { id status pickupLocation { id } }
  }
`;

const locationGid = (id: string) => toGlobalId('Location', id);

type Level = { onHand: number; committed: number; reserved: number; damaged: number; safetyStock: number; available: number };

/** What the tests share: a stack, and the calls a real client would make against it. */
function clientOf(get: () => TestStack) {
  let n = 0;
  const key = () => `pc-${process.pid}-${Date.now()}-${++n}`;
  const stack = () => get();

  async function level(locationId: string, sku: string): Promise<Level> {
    const { body } = await stack().queryAs(store(locationId), contractOperation('StoreStock'), { locationId, skus: [sku] });
    expect(body.errors ?? []).toEqual([]);
    return (body.data as any).location.inventoryLevels[0] as Level;
  }

  /** A stock movement by an associate of the store, as the store app makes it. */
  async function adjust(locationId: string, sku: string, reason: 'RECEIPT' | 'SALE', delta: number) {
    const { body } = await stack().queryAs(store(locationId), contractOperation('AdjustStock'), { input: { idempotencyKey: key(), locationId, sku, reason, delta } });
    expect(body.errors ?? []).toEqual([]);
    return (body.data as any).adjustInventory as { level: { onHand: number; available: number } | null; userErrors: { code: string }[] };
  }

  async function placePickup(customerId: string, locationId: string, sku: string, quantity: number) {
    const { body } = await stack().queryAs(shopper(customerId), contractOperation('PlaceOrder'), {
      input: { idempotencyKey: key(), channel: 'WEB', deliveryMethod: 'PICKUP', customerId, pickupLocationId: locationId, lines: [{ sku, quantity }] },
    });
    const { order, userErrors } = (body.data as any).placeOrder;
    expect(userErrors).toEqual([]);
    expect(order.status).toBe('CONFIRMED');
    return order as { id: string; number: string; status: string };
  }

  async function change(caller: Caller, input: { idempotencyKey: string; orderId: string; pickupLocationId: string }) {
    return stack().queryAs(caller, CHANGE, { input });
  }

  return { key, level, adjust, placePickup, change };
}

/** Two pickup stores and a SKU stocked at both without safety stock or damage (so available is on hand less promises). */
function twoStoresAndSku(stack: TestStack, skip: number): { a: string; b: string; sku: string } {
  const stores = stack.sandbox.data.stores.filter((s) => s.pickupEnabled).map((s) => s.id);
  let seen = 0;
  for (const variant of stack.sandbox.data.variants) {
    const at = stores.filter((id) => {
      const l = expectedLevel(stack.sandbox.data, variant.sku, id);
      return l !== null && l.safetyStock === 0 && l.damaged === 0;
    });
    if (at.length >= 2 && seen++ === skip) return { a: at[0]!, b: at[1]!, sku: variant.sku };
  }
  throw new Error('no SKU at two pickup stores in the seed');
}

describe('changePickupLocation', () => {
  let stack: TestStack;
  const sockets: ReturnType<typeof wsClientAs>[] = [];
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await stack?.stop();
  });
  const c = clientOf(() => stack);
  const customer = (i: number) => stack.sandbox.data.customers[20 + i]!.id;
  const socket = (caller: Caller) => {
    const s = wsClientAs(stack.urls.gateway, () => stack.bearer(caller));
    sockets.push(s);
    return s;
  };
  const subgraphStarts = () => stack.logs.filter((l) => l.msg === 'graphql subscription started').length;

  /** The order's events on the backbone, by type. */
  async function eventsOf(orderId: string): Promise<CanonicalEvent[]> {
    const [events] = await stack.backbone.eventsForOrders([fromGlobalId('Order', orderId)]);
    return events ?? [];
  }

  it('moves the units, the order and its events to the new store; both stores’ StoreInventory and PickupFeed see it; a repeat changes nothing more', async () => {
    const { a, b, sku } = twoStoresAndSku(stack, 0);
    await c.adjust(a, sku, 'RECEIPT', 5);
    await c.adjust(b, sku, 'RECEIPT', 5);
    const owner = customer(0);
    const order = await c.placePickup(owner, a, sku, 2);

    const startsBefore = subgraphStarts();
    const inventoryA = collect(socket(store(a)), contractOperation('StoreInventory'), { locationId: a, skus: [sku] });
    const inventoryB = collect(socket(store(b)), contractOperation('StoreInventory'), { locationId: b, skus: [sku] });
    const pickupsA = collect(socket(store(a)), contractOperation('PickupFeed'), { locationId: a });
    const pickupsB = collect(socket(store(b)), contractOperation('PickupFeed'), { locationId: b });
    await until(() => subgraphStarts() >= startsBefore + 4, 10_000, 'four subgraph subscriptions to listen');

    const [beforeA, beforeB] = [await c.level(a, sku), await c.level(b, sku)];
    const input = { idempotencyKey: c.key(), orderId: order.id, pickupLocationId: b };
    const { body } = await c.change(shopper(owner), input);
    expect(body.errors ?? []).toEqual([]);
    const answer = (body.data as any).changePickupLocation;
    expect(answer).toEqual({ order: { id: order.id, status: 'CONFIRMED', pickupLocation: { id: locationGid(b) }, fulfillmentLocation: { id: locationGid(b) } }, userErrors: [] });

    const [afterA, afterB] = [await c.level(a, sku), await c.level(b, sku)];
    expect(afterA).toMatchObject({ onHand: beforeA.onHand, committed: beforeA.committed - 2, available: beforeA.available + 2 });
    expect(afterB).toMatchObject({ onHand: beforeB.onHand, committed: beforeB.committed + 2, available: beforeB.available - 2 });

    // Each store's stock feed sees its own level change, with the level as it is now.
    const [changeA] = (await inventoryA.waitFor(1)).map((r) => r.data.inventoryChanged);
    const [changeB] = (await inventoryB.waitFor(1)).map((r) => r.data.inventoryChanged);
    expect(changeA).toMatchObject({ sku, reason: 'RELEASED', delta: -2, location: { id: locationGid(a) }, level: { committed: afterA.committed, available: afterA.available } });
    expect(changeB).toMatchObject({ sku, reason: 'ORDER_COMMITTED', delta: 2, location: { id: locationGid(b) }, level: { committed: afterB.committed, available: afterB.available } });

    // Both pickup feeds hear of the order: it leaves A's queue and joins B's (its status stays CONFIRMED).
    for (const feed of [pickupsA, pickupsB]) {
      const [move] = (await feed.waitFor(1)).map((r) => r.data.orderStatusChanged);
      expect(move).toMatchObject({ previousStatus: 'CONFIRMED', status: 'CONFIRMED', order: { id: order.id, number: order.number } });
    }
    const queue = async (locationId: string) => ((await stack.queryAs(store(locationId), contractOperation('PickupQueue'), { locationId })).body.data as any).location.pickupQueue.map((o: any) => o.id);
    expect(await queue(b)).toContain(order.id);
    expect(await queue(a)).not.toContain(order.id);

    // The timeline says it, under the order's correlation id.
    const timeline = ((await stack.queryAs(AGENT, contractOperation('OrderTimeline'), { orderId: order.id })).body.data as any).order.timeline as { type: string; summary: string; correlationId: string }[];
    const tail = timeline.slice(-3);
    expect(tail.map((e) => e.type)).toEqual(['PICKUP_LOCATION_CHANGED', 'INVENTORY_RELEASED', 'INVENTORY_RESERVED']);
    expect(tail.map((e) => e.summary)).toEqual([`Pickup store changed from ${a} to ${b}`, `2 × ${sku} released at ${a}`, `2 × ${sku} reserved at ${b}`]);
    expect(new Set(timeline.map((e) => e.correlationId)).size).toBe(1);

    // The same key and input: the first answer, nothing moved, nothing said again.
    const eventsBefore = (await eventsOf(order.id)).length;
    const again = (await c.change(shopper(owner), input)).body.data as any;
    expect(again.changePickupLocation).toEqual(answer);
    expect(await c.level(a, sku)).toEqual(afterA);
    expect(await c.level(b, sku)).toEqual(afterB);
    expect((await eventsOf(order.id)).length).toBe(eventsBefore);
    // The same key with another input is refused.
    const reused = (await c.change(shopper(owner), { ...input, pickupLocationId: a })).body.data as any;
    expect(reused.changePickupLocation.userErrors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED' })]);

    // The hand-over at the new store takes the units off its shelf.
    expect((((await stack.queryAs(store(b), contractOperation('ReadyForPickup'), { orderId: order.id })).body.data as any).markReadyForPickup.userErrors)).toEqual([]);
    expect((((await stack.queryAs(store(b), contractOperation('HandOver'), { orderId: order.id })).body.data as any).confirmPickup.order.status)).toBe('PICKED_UP');
    expect(await c.level(b, sku)).toMatchObject({ onHand: afterB.onHand - 2, committed: afterB.committed - 2 });
    for (const feed of [inventoryA, inventoryB, pickupsA, pickupsB]) feed.unsubscribe();
  });

  it('a service agent may change it; a store associate is FORBIDDEN, another shopper finds no such order; nothing moves', async () => {
    const { a, b, sku } = twoStoresAndSku(stack, 1);
    await c.adjust(a, sku, 'RECEIPT', 3);
    await c.adjust(b, sku, 'RECEIPT', 3);
    const order = await c.placePickup(customer(1), a, sku, 1);
    const before = [await c.level(a, sku), await c.level(b, sku)];

    // Another shopper's order is answered as an unknown one (as cancelOrder does): its existence does not leak.
    const stranger = await c.change(shopper(customer(2)), { idempotencyKey: c.key(), orderId: order.id, pickupLocationId: b });
    expect(stranger.body.errors ?? []).toEqual([]);
    expect((stranger.body.data as any).changePickupLocation).toEqual({ order: null, userErrors: [{ field: 'orderId', code: 'INVALID_INPUT', message: expect.stringContaining('no order') }] });
    // A store associate is refused at the gateway (the mutation is for shoppers and agents).
    const associate = await c.change(store(a), { idempotencyKey: c.key(), orderId: order.id, pickupLocationId: b });
    expect(associate.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect([await c.level(a, sku), await c.level(b, sku)]).toEqual(before);

    const byAgent = (await c.change(AGENT, { idempotencyKey: c.key(), orderId: order.id, pickupLocationId: b })).body.data as any;
    expect(byAgent.changePickupLocation).toMatchObject({ order: { pickupLocation: { id: locationGid(b) } }, userErrors: [] });
  });

  it('refuses the same store, a store that hands over no pickups, an unknown order, and a change after READY_FOR_PICKUP (INVALID_STATE); nothing moves', async () => {
    const { a, b, sku } = twoStoresAndSku(stack, 2);
    await c.adjust(a, sku, 'RECEIPT', 3);
    await c.adjust(b, sku, 'RECEIPT', 3);
    const owner = customer(3);
    const order = await c.placePickup(owner, a, sku, 1);
    const before = [await c.level(a, sku), await c.level(b, sku)];
    const errorsOf = async (pickupLocationId: string, orderId = order.id) => ((await c.change(shopper(owner), { idempotencyKey: c.key(), orderId, pickupLocationId })).body.data as any).changePickupLocation;

    expect(await errorsOf(a)).toEqual({ order: null, userErrors: [{ field: 'pickupLocationId', code: 'INVALID_INPUT', message: expect.stringContaining('already') }] });
    const noPickups = stack.sandbox.data.stores.find((s) => !s.pickupEnabled);
    if (noPickups) expect((await errorsOf(noPickups.id)).userErrors).toEqual([expect.objectContaining({ code: 'PICKUP_NOT_AVAILABLE', field: 'pickupLocationId' })]);
    expect((await errorsOf('store-nowhere')).userErrors).toEqual([expect.objectContaining({ code: 'PICKUP_NOT_AVAILABLE' })]);
    expect((await errorsOf(stack.sandbox.data.warehouses[0]!.id)).userErrors).toEqual([expect.objectContaining({ code: 'PICKUP_NOT_AVAILABLE' })]);
    expect((await errorsOf(b, 'ord-w999999')).userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: 'orderId' })]);

    expect((((await stack.queryAs(store(a), contractOperation('ReadyForPickup'), { orderId: order.id })).body.data as any).markReadyForPickup.userErrors)).toEqual([]);
    const late = await errorsOf(b);
    expect(late).toEqual({ order: null, userErrors: [{ field: null, code: 'INVALID_STATE', message: expect.stringContaining('READY_FOR_PICKUP') }] });
    expect([await c.level(a, sku), await c.level(b, sku)]).toEqual(before);
    expect(((await stack.queryAs(AGENT, ORDER, { id: order.id })).body.data as any).order.pickupLocation).toEqual({ id: locationGid(a) });
  });

  it('OUT_OF_STOCK when the new store cannot promise every line: nothing moves', async () => {
    const { a, b, sku } = twoStoresAndSku(stack, 3);
    const atB = await c.level(b, sku);
    const quantity = atB.available + 1;
    await c.adjust(a, sku, 'RECEIPT', quantity);
    const owner = customer(4);
    const order = await c.placePickup(owner, a, sku, quantity);
    const before = [await c.level(a, sku), await c.level(b, sku)];
    const eventsBefore = (await eventsOf(order.id)).length;
    const answer = ((await c.change(shopper(owner), { idempotencyKey: c.key(), orderId: order.id, pickupLocationId: b })).body.data as any).changePickupLocation;
    expect(answer).toEqual({ order: null, userErrors: [{ field: 'lines.0.quantity', code: 'OUT_OF_STOCK', message: expect.stringContaining(`only ${atB.available} of ${sku}`) }] });
    expect([await c.level(a, sku), await c.level(b, sku)]).toEqual(before);
    expect((await eventsOf(order.id)).length).toBe(eventsBefore);
    expect(((await stack.queryAs(AGENT, ORDER, { id: order.id })).body.data as any).order.pickupLocation).toEqual({ id: locationGid(a) });
  });
});

/**
 * A change racing a sale of the new store's last unit, many rounds: of the two exactly one gets the unit, the order is
 * at exactly one store with its unit committed there, and no store promises more than it has on hand. On the
 * in-memory book, and on Redis's (one server: one script; a cluster: the two-script move).
 */
const RACES: { name: string; topology: (typeof REDIS_TOPOLOGIES)[number] | null; rounds: number }[] = [
  { name: 'in-memory book', topology: null, rounds: 12 },
  ...REDIS_TOPOLOGIES.map((topology) => ({ name: `Redis book (${topology})`, topology, rounds: 6 })),
];

describe.each(RACES)('a pickup-store change racing a stock move: $name', ({ topology, rounds }) => {
  let stack: TestStack;
  let redis: RedisTarget | undefined;
  beforeAll(async () => {
    redis = topology ? await startRedis(topology) : undefined;
    stack = await startTestStack({}, redis ? { REDIS_URL: redis.url, REDIS_PREFIX: `pc${Date.now()}` } : {});
  });
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });
  const c = clientOf(() => stack);

  it('never oversells; the order ends at exactly one store, its units committed there', async () => {
    const { a, b, sku } = twoStoresAndSku(stack, 4);
    const owner = stack.sandbox.data.customers[30]!.id;
    await c.adjust(a, sku, 'RECEIPT', rounds + 2);
    let outcomes = { moved: 0, sold: 0 };
    for (let round = 0; round < rounds; round++) {
      const order = await c.placePickup(owner, a, sku, 1);
      // The new store has exactly one unit it can promise.
      const atB = await c.level(b, sku);
      if (atB.available > 1) expect((await c.adjust(b, sku, 'SALE', -(atB.available - 1))).userErrors).toEqual([]);
      if (atB.available < 1) expect((await c.adjust(b, sku, 'RECEIPT', 1 - atB.available)).userErrors).toEqual([]);
      const [beforeA, beforeB] = [await c.level(a, sku), await c.level(b, sku)];
      expect(beforeB.available).toBe(1);

      const [changed, sale] = await Promise.all([c.change(shopper(owner), { idempotencyKey: c.key(), orderId: order.id, pickupLocationId: b }), c.adjust(b, sku, 'SALE', -1)]);
      const change = (changed.body.data as any).changePickupLocation;
      const movedOk = change.userErrors.length === 0;
      const soldOk = sale.userErrors.length === 0;
      if (!movedOk) expect(change.userErrors).toEqual([expect.objectContaining({ code: 'OUT_OF_STOCK' })]);
      // One unit: not both.
      expect(movedOk && soldOk).toBe(false);
      outcomes = { moved: outcomes.moved + Number(movedOk), sold: outcomes.sold + Number(soldOk) };

      const [afterA, afterB] = [await c.level(a, sku), await c.level(b, sku)];
      for (const l of [afterA, afterB]) expect(l.committed + l.reserved).toBeLessThanOrEqual(l.onHand - l.damaged);
      const at = ((await stack.queryAs(AGENT, ORDER, { id: order.id })).body.data as any).order.pickupLocation.id;
      expect(at).toBe(locationGid(movedOk ? b : a));
      // The order's unit is committed at exactly the store it is at.
      expect(afterA.committed).toBe(beforeA.committed - (movedOk ? 1 : 0));
      expect(afterB.committed).toBe(beforeB.committed + (movedOk ? 1 : 0));
    }
    expect(outcomes.moved + outcomes.sold).toBeGreaterThan(0);
  });
});
