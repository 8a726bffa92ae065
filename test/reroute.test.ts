import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { toGlobalId } from '../common/global-id.js';
import { contractOperation } from './support/contract.js';
import { expectedLevel } from './support/expect.js';
import { pollUntil } from './support/poll.js';
import { AGENT, shopper, startTestStack, store, type TestStack } from './support/stack.js';
import { startRedisServer } from './support/redis.js';

/*
 * Routing and rerouting end to end: shipped orders go to the nearest location with stock; a pick shortage moves the
 * order's commitment to another location in one step, or raises REROUTE_FAILED for customer service.
 */

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const CUSTOMER = 'cust-00003';
const SHORTAGE = `mutation Shortage($input: ReportPickShortageInput!) {
  reportPickShortage(input: $input) { order { id status fulfillmentLocation { id } } userErrors { field message code } }
}`;
const TIMELINE = `query Timeline($id: ID!) { order(id: $id) { id status fulfillmentLocation { id } timeline { type summary locationId } } }`;
const EXCEPTIONS = `query RerouteExceptions { exceptions(kind: REROUTE_FAILED, first: 100) { id kind detail order { id } location { id } variant { sku } } }`;

async function rpc<T>(system: string, method: string, ...args: unknown[]): Promise<T> {
  const answer = await stack.sandboxCall('POST', `/sandbox/rpc/${system}/${method}`, { args });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.result as T;
}

const fulfillmentOf = async (orderId: string) => (await rpc<{ fulfillmentLocationId: string; status: string }[]>('ecom', 'getOrders', [orderId]))[0]!;
const committedAt = async (sku: string, locationIds: string[], system: 'pos' | 'wms') =>
  (await rpc<{ committed: number }[]>(system, 'getStock', locationIds.map((locationId) => ({ sku, locationId })))).map((r) => r.committed);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

const used = new Set<string>();
/** A SKU no other test here uses whose sellable units at the given locations pass `accept` (read now: the seed's records are the live book's). */
function skuWhere(locations: string[], accept: (levels: number[]) => boolean): string {
  const data = stack.sandbox.data;
  for (const variant of data.variants) {
    if (used.has(variant.sku)) continue;
    const levels = locations.map((l) => expectedLevel(data, variant.sku, l)?.available ?? 0);
    if (!accept(levels)) continue;
    used.add(variant.sku);
    return variant.sku;
  }
  throw new Error('no such SKU in the seed');
}

async function place(input: Record<string, unknown>) {
  const { body } = await stack.queryAs(shopper(CUSTOMER), contractOperation('PlaceOrder'), { input: { idempotencyKey: `rr-${randomUUID()}`, channel: 'WEB', customerId: CUSTOMER, ...input } });
  expect(body.errors ?? []).toEqual([]);
  const answer = (body.data as any).placeOrder;
  expect(answer.userErrors).toEqual([]);
  return answer.order.id as string;
}
const nativeId = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':').slice(1).join(':');

describe('routing', () => {
  it('a shipped order leaves from the nearest warehouse that has every line, by the delivery postal code', async () => {
    const warehouses = stack.sandbox.data.warehouses.map((w) => w.id);
    // Every warehouse can take it: only the distance decides.
    const sku = skuWhere(warehouses, (levels) => levels.every((l) => l >= 3));
    const to = async (country: string, postalCode: string, city: string) =>
      (await fulfillmentOf(nativeId(await place({ deliveryMethod: 'SHIPPING', lines: [{ sku, quantity: 1 }], shippingAddress: { country, postalCode, city, line1: 'Hauptstraße 1' } })))).fulfillmentLocationId;
    expect(await to('NL', '5911', 'Venlo')).toBe('wh-03');
    expect(await to('AT', '4020', 'Linz')).toBe('wh-04');
    expect(await to('DE', '99084', 'Erfurt')).toBe('wh-02');
  });

  it('the nearest warehouse without the stock is passed over for the next nearest', async () => {
    const warehouses = stack.sandbox.data.warehouses.map((w) => w.id);
    // Linz (wh-04) has none of it; the others have some.
    const sku = skuWhere(warehouses, (levels) => levels[3] === 0 && levels.filter((l, i) => i !== 3 && l >= 1).length >= 2);
    const orderId = nativeId(await place({ deliveryMethod: 'SHIPPING', lines: [{ sku, quantity: 1 }], shippingAddress: { country: 'AT', postalCode: '4020', city: 'Linz', line1: 'Landstraße 1' } }));
    expect((await fulfillmentOf(orderId)).fulfillmentLocationId).not.toBe('wh-04');
  });
});

describe('reportPickShortage', () => {
  const stores = () => stack.sandbox.data.stores.map((s) => s.id);

  it('reroutes a ship-from-store order to another store in one step, with its events, once per key', async () => {
    const sku = skuWhere(stores(), (levels) => levels.filter((l) => l >= 2).length >= 3);
    const orderGid = await place({ deliveryMethod: 'SHIP_FROM_STORE', lines: [{ sku, quantity: 2 }] });
    const orderId = nativeId(orderGid);
    const from = (await fulfillmentOf(orderId)).fulfillmentLocationId;
    const before = await committedAt(sku, stores(), 'pos');
    const input = { idempotencyKey: `short-${randomUUID()}`, orderId: orderGid, lines: [{ sku, quantity: 1 }] };
    const { body } = await stack.queryAs(store(from), SHORTAGE, { input });
    expect(body.errors ?? []).toEqual([]);
    const answer = (body.data as any).reportPickShortage;
    expect(answer.userErrors).toEqual([]);
    const to = nativeId(answer.order.fulfillmentLocation.id);
    expect(to).not.toBe(from);
    expect(to.startsWith('store-')).toBe(true);
    const after = await committedAt(sku, stores(), 'pos');
    const i = stores().indexOf(from);
    const j = stores().indexOf(to);
    expect(after[i]! - before[i]!).toBe(-2);
    expect(after[j]! - before[j]!).toBe(2);
    expect(sum(after)).toBe(sum(before));
    expect((await fulfillmentOf(orderId)).fulfillmentLocationId).toBe(to);

    // The same report again: the first answer, nothing moves.
    const again = await stack.queryAs(store(from), SHORTAGE, { input });
    expect((again.body.data as any).reportPickShortage.userErrors).toEqual([]);
    expect(await committedAt(sku, stores(), 'pos')).toEqual(after);

    const timeline = await pollUntil(
      async () => (await stack.queryAs(AGENT, TIMELINE, { id: orderGid })).body.data as any,
      (d) => d.order.timeline.some((e: any) => e.type === 'ORDER_REROUTED'),
      'ORDER_REROUTED on the timeline',
    );
    expect(timeline.order.timeline.filter((e: any) => e.type === 'ORDER_REROUTED')).toHaveLength(1);
    expect(timeline.order.timeline.find((e: any) => e.type === 'ORDER_REROUTED').summary).toBe(`Rerouted from ${from} to ${to}: 1 × ${sku} short`);
    // The new store ships it now; the old one may not.
    const ship = `mutation Ship($input: ShipOrderInput!) { shipOrder(input: $input) { order { id status } userErrors { code } } }`;
    const old = await stack.queryAs(store(from), ship, { input: { idempotencyKey: `ship-${randomUUID()}`, orderId: orderGid, carrier: 'DHL' } });
    expect(old.body.errors?.map((e: any) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const shipped = await stack.queryAs(store(to), ship, { input: { idempotencyKey: `ship-${randomUUID()}`, orderId: orderGid, carrier: 'DHL' } });
    expect((shipped.body.data as any).shipOrder.order.status).toBe('SHIPPED');
  });

  it('reroutes a warehouse order to the nearest other warehouse (the WMS book moves it)', async () => {
    const warehouses = stack.sandbox.data.warehouses.map((w) => w.id);
    await shortWarehouseOrder(stack, warehouses, () => skuWhere(warehouses, (levels) => levels[2]! >= 2 && levels.filter((l) => l >= 2).length >= 3));
  });

  it('nowhere else can take the order: it stays, and customer service gets a REROUTE_FAILED exception', async () => {
    // One store has 2 or more sellable, no other store has 2.
    const sku = skuWhere(stores(), (levels) => levels.filter((l) => l >= 2).length === 1);
    const orderGid = await place({ deliveryMethod: 'SHIP_FROM_STORE', lines: [{ sku, quantity: 2 }] });
    const orderId = nativeId(orderGid);
    const from = (await fulfillmentOf(orderId)).fulfillmentLocationId;
    const before = await committedAt(sku, stores(), 'pos');
    const { body } = await stack.queryAs(store(from), SHORTAGE, { input: { idempotencyKey: `short-${randomUUID()}`, orderId: orderGid, lines: [{ sku, quantity: 2 }] } });
    const answer = (body.data as any).reportPickShortage;
    expect(answer.userErrors.map((e: any) => e.code)).toEqual(['REROUTE_FAILED']);
    expect(await committedAt(sku, stores(), 'pos')).toEqual(before);
    expect((await fulfillmentOf(orderId)).fulfillmentLocationId).toBe(from);
    const exceptions = await pollUntil(
      async () => ((await stack.queryAs(AGENT, EXCEPTIONS)).body.data as any)?.exceptions ?? [],
      (list: any[]) => list.some((e) => e.order?.id === orderGid),
      'the REROUTE_FAILED exception',
    );
    const exception = exceptions.find((e: any) => e.order?.id === orderGid);
    expect(exception).toMatchObject({ kind: 'REROUTE_FAILED', location: { id: toGlobalId('Location', from) }, variant: { sku } });
    expect(exception.detail).toContain(`2 × ${sku}`);
  });

  it('refuses what is not a shortage of this order at this store', async () => {
    const sku = skuWhere(stores(), (levels) => levels.filter((l) => l >= 1).length >= 2);
    const orderGid = await place({ deliveryMethod: 'SHIP_FROM_STORE', lines: [{ sku, quantity: 1 }] });
    const from = (await fulfillmentOf(nativeId(orderGid))).fulfillmentLocationId;
    const other = stores().find((s) => s !== from)!;
    const ask = (caller: ReturnType<typeof store>, lines: unknown) => stack.queryAs(caller, SHORTAGE, { input: { idempotencyKey: `short-${randomUUID()}`, orderId: orderGid, lines } });
    expect((await ask(store(other), [{ sku, quantity: 1 }])).body.errors?.map((e: any) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const notOnOrder = (await ask(store(from), [{ sku: 'SKU-9999-9', quantity: 1 }])).body.data as any;
    expect(notOnOrder.reportPickShortage.userErrors.map((e: any) => [e.code, e.field])).toEqual([['INVALID_INPUT', 'lines.0.sku']]);
    const tooMany = (await ask(store(from), [{ sku, quantity: 2 }])).body.data as any;
    expect(tooMany.reportPickShortage.userErrors.map((e: any) => [e.code, e.field])).toEqual([['INVALID_INPUT', 'lines.0.quantity']]);
    const asShopper = await stack.queryAs(shopper(CUSTOMER), SHORTAGE, { input: { idempotencyKey: `short-${randomUUID()}`, orderId: orderGid, lines: [{ sku, quantity: 1 }] } });
    expect(asShopper.body.errors?.map((e: any) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });

  it('a reroute racing a cancel: every order ends cancelled with nothing committed anywhere', async () => {
    const sku = skuWhere(stores(), (levels) => levels.filter((l) => l >= 6).length >= 3);
    const before = await committedAt(sku, stores(), 'pos');
    const orders = await Promise.all(Array.from({ length: 5 }, () => place({ deliveryMethod: 'SHIP_FROM_STORE', lines: [{ sku, quantity: 1 }] })));
    const froms = await Promise.all(orders.map(async (gid) => (await fulfillmentOf(nativeId(gid))).fulfillmentLocationId));
    const cancel = contractOperation('CancelOrder');
    const outcomes = await Promise.all(
      orders.flatMap((gid, n) => [
        stack.queryAs(store(froms[n]!), SHORTAGE, { input: { idempotencyKey: `short-${randomUUID()}`, orderId: gid, lines: [{ sku, quantity: 1 }] } }).then((r) => ({ kind: 'reroute', body: r.body })),
        stack.queryAs(AGENT, cancel, { input: { idempotencyKey: `cancel-${randomUUID()}`, orderId: gid, reason: 'The customer cancelled by phone' } }).then((r) => ({ kind: 'cancel', body: r.body })),
      ]),
    );
    for (const { kind, body } of outcomes) {
      expect(body.errors ?? [], kind).toEqual([]);
      const answer = kind === 'reroute' ? (body.data as any).reportPickShortage : (body.data as any).cancelOrder;
      // A reroute that lost the race says so; a cancel always wins (before or after the move).
      if (kind === 'cancel') expect(answer.userErrors).toEqual([]);
      else for (const e of answer.userErrors) expect(e.code).toBe('INVALID_STATE');
    }
    for (const gid of orders) expect((await fulfillmentOf(nativeId(gid))).status).toBe('CANCELLED');
    // Never both, never leaked: every store's commitments of the SKU are back where they were.
    expect(await committedAt(sku, stores(), 'pos')).toEqual(before);
  });
});

/**
 * A SHIPPING order to Venlo (NL: the nearest warehouse is wh-03), short at its warehouse: it moves to another
 * warehouse, the WMS's commitments of the SKU add up before and after.
 */
async function shortWarehouseOrder(on: TestStack, warehouses: string[], pickSku: () => string) {
  const sku = pickSku();
  const { body } = await on.queryAs(shopper(CUSTOMER), contractOperation('PlaceOrder'), {
    input: { idempotencyKey: `rr-${randomUUID()}`, channel: 'WEB', customerId: CUSTOMER, deliveryMethod: 'SHIPPING', lines: [{ sku, quantity: 2 }], shippingAddress: { country: 'NL', postalCode: '5911', city: 'Venlo', line1: 'Markt 1' } },
  });
  expect((body.data as any).placeOrder.userErrors).toEqual([]);
  const orderGid = (body.data as any).placeOrder.order.id as string;
  const orderId = nativeId(orderGid);
  const read = async () => (await on.sandboxCall('POST', '/sandbox/rpc/ecom/getOrders', { args: [[orderId]] })).body.result[0] as { fulfillmentLocationId: string };
  const committed = async () => ((await on.sandboxCall('POST', '/sandbox/rpc/wms/getStock', { args: [warehouses.map((locationId) => ({ sku, locationId }))] })).body.result as { committed: number }[]).map((r) => r.committed);
  const from = (await read()).fulfillmentLocationId;
  expect(from).toBe('wh-03');
  const before = await committed();
  const answer = await on.queryAs(store(from), SHORTAGE, { input: { idempotencyKey: `short-${randomUUID()}`, orderId: orderGid, lines: [{ sku, quantity: 1 }] } });
  expect(answer.body.errors ?? []).toEqual([]);
  expect((answer.body.data as any).reportPickShortage.userErrors).toEqual([]);
  const to = (await read()).fulfillmentLocationId;
  expect(to).not.toBe(from);
  expect(to.startsWith('wh-')).toBe(true);
  const after = await committed();
  expect(after[warehouses.indexOf(from)]! - before[warehouses.indexOf(from)]!).toBe(-2);
  expect(after[warehouses.indexOf(to)]! - before[warehouses.indexOf(to)]!).toBe(2);
}

describe('in Redis mode (one shared stock book)', () => {
  let redisStack: TestStack;
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  beforeAll(async () => {
    redis = await startRedisServer();
    redisStack = await startTestStack({}, { REDIS_URL: redis.url, REDIS_PREFIX: `rr-${process.pid}` });
  });
  afterAll(async () => {
    await redisStack?.stop();
    await redis?.stop();
  });

  it('a warehouse order short at its shelf moves to another warehouse in the Redis book', async () => {
    const warehouses = redisStack.sandbox.data.warehouses.map((w) => w.id);
    const data = redisStack.sandbox.data;
    await shortWarehouseOrder(redisStack, warehouses, () => {
      for (const variant of data.variants.slice(200)) {
        const levels = warehouses.map((w) => expectedLevel(data, variant.sku, w)?.available ?? 0);
        if (levels[2]! >= 2 && levels.filter((l) => l >= 2).length >= 3) return variant.sku;
      }
      throw new Error('no such SKU in the seed');
    });
  });
});
