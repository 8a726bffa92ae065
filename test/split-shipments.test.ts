import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { contractOperation } from './support/contract.js';
import { expectedLevel } from './support/expect.js';
import { pollUntil } from './support/poll.js';
import { AGENT, FINANCE, shopper, startTestStack, store, type TestStack } from './support/stack.js';
import { startRedisServer } from './support/redis.js';

/*
 * Split shipments end to end: an order no warehouse can take whole ships in parts, each committed at its own
 * warehouse, shipped by that warehouse's associates, cancelled whole only before any part left, and booked part by part.
 */

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const CUSTOMER = 'cust-00004';
const ORDER = `query SplitOrder($id: ID!) {
  order(id: $id) { id status total { amount } fulfillments { id location { id } lines { sku quantity } status } timeline { type } }
}`;
const BOOKS = `query SplitBooks($id: ID!) { order(id: $id) { id invoices { total { amount } } erpPostings { type status amount { amount } } } }`;
const SHIP = `mutation Ship($input: ShipOrderInput!) { shipOrder(input: $input) { order { id status } userErrors { code message } } }`;

const minor = (amount: string) => Math.round(Number(amount) * 100);
const nativeId = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':').slice(1).join(':');
const used = new Set<string>();

/** Two SKUs no warehouse has both of, each at some warehouse: the order of one of each cannot leave from one place. */
function splitPair(): { a: string; b: string } {
  const data = stack.sandbox.data;
  const warehouses = data.warehouses.map((w) => w.id);
  const level = (sku: string) => warehouses.map((w) => expectedLevel(data, sku, w)?.available ?? 0);
  const variants = data.variants.filter((v) => !used.has(v.sku)).slice(0, 400);
  const levels = new Map(variants.map((v) => [v.sku, level(v.sku)]));
  for (const a of variants) {
    const la = levels.get(a.sku)!;
    if (!la.some((l) => l >= 2)) continue;
    for (const b of variants) {
      if (b.sku === a.sku || used.has(b.sku)) continue;
      const lb = levels.get(b.sku)!;
      if (!lb.some((l) => l >= 2)) continue;
      if (la.some((l, i) => l >= 1 && lb[i]! >= 1)) continue;
      used.add(a.sku);
      used.add(b.sku);
      return { a: a.sku, b: b.sku };
    }
  }
  throw new Error('no such pair in the seed');
}

async function place(a: string, b: string): Promise<string> {
  const { body } = await stack.queryAs(shopper(CUSTOMER), contractOperation('PlaceOrder'), {
    input: { idempotencyKey: `split-${randomUUID()}`, channel: 'WEB', customerId: CUSTOMER, deliveryMethod: 'SHIPPING', lines: [{ sku: a, quantity: 1 }, { sku: b, quantity: 1 }] },
  });
  expect(body.errors ?? []).toEqual([]);
  expect((body.data as any).placeOrder.userErrors).toEqual([]);
  return (body.data as any).placeOrder.order.id as string;
}

const read = async (id: string) => ((await stack.queryAs(AGENT, ORDER, { id })).body.data as any).order;
const committed = async (sku: string) => {
  const warehouses = stack.sandbox.data.warehouses.map((w) => w.id);
  const answer = await stack.sandboxCall('POST', '/sandbox/rpc/wms/getStock', { args: [warehouses.map((locationId) => ({ sku, locationId }))] });
  return new Map(warehouses.map((w, i) => [w, (answer.body.result as { committed: number }[])[i]!.committed]));
};

describe('split shipments', () => {
  it('ships in parts from two warehouses, each part by its own, booked part by part; not cancelled once a part left', async () => {
    const { a, b } = splitPair();
    const [beforeA, beforeB] = [await committed(a), await committed(b)];
    const id = await place(a, b);
    const order = await read(id);
    expect(order.status).toBe('CONFIRMED');
    expect(order.fulfillments).toHaveLength(2);
    const [first, second] = order.fulfillments as { id: string; location: { id: string }; lines: { sku: string; quantity: number }[]; status: string }[];
    expect(first!.location.id).not.toBe(second!.location.id);
    expect([first!.status, second!.status]).toEqual(['OPEN', 'OPEN']);
    const partOf = (sku: string) => order.fulfillments.find((p: any) => p.lines.some((l: any) => l.sku === sku));
    const whA = nativeId(partOf(a).location.id);
    const whB = nativeId(partOf(b).location.id);
    expect((await committed(a)).get(whA)! - beforeA.get(whA)!).toBe(1);
    expect((await committed(b)).get(whB)! - beforeB.get(whB)!).toBe(1);

    const ship = (locationId: string, tracking: string) => stack.queryAs(store(locationId), SHIP, { input: { idempotencyKey: `ship-${randomUUID()}`, orderId: id, carrier: 'DHL', trackingNumber: tracking } });
    const one = await ship(whA, `TRK-A-${randomUUID().slice(0, 8)}`);
    expect((one.body.data as any).shipOrder.userErrors).toEqual([]);
    expect((one.body.data as any).shipOrder.order.status).toBe('CONFIRMED');
    // The same warehouse has nothing more of it to ship.
    const again = await ship(whA, `TRK-A2-${randomUUID().slice(0, 8)}`);
    expect((again.body.data as any).shipOrder.userErrors.map((e: any) => e.code)).toEqual(['INVALID_STATE']);
    // A part has left: the order is no longer cancelled whole.
    const cancel = await stack.queryAs(AGENT, contractOperation('CancelOrder'), { input: { idempotencyKey: `cancel-${randomUUID()}`, orderId: id, reason: 'Changed my mind' } });
    expect((cancel.body.data as any).cancelOrder.userErrors.map((e: any) => e.code)).toEqual(['INVALID_STATE']);
    expect((await committed(a)).get(whA)).toBe(beforeA.get(whA));

    const two = await ship(whB, `TRK-B-${randomUUID().slice(0, 8)}`);
    expect((two.body.data as any).shipOrder.order.status).toBe('SHIPPED');
    const shipped = await read(id);
    expect(shipped.fulfillments.map((p: any) => p.status)).toEqual(['SHIPPED', 'SHIPPED']);
    expect(shipped.timeline.filter((e: any) => e.type === 'ORDER_SHIPPED')).toHaveLength(2);
    expect((await committed(b)).get(whB)).toBe(beforeB.get(whB));

    // Finance books each part's sale; together they are the order's total, each with its own invoice.
    const books = await pollUntil(
      async () => ((await stack.queryAs(FINANCE, BOOKS, { id })).body.data as any).order,
      (o) => o.erpPostings.filter((p: any) => p.type === 'SALE' && p.status === 'POSTED').length === 2,
      'both parts posted',
    );
    const sales = books.erpPostings.filter((p: any) => p.type === 'SALE').map((p: any) => minor(p.amount.amount));
    expect(sales.reduce((x: number, y: number) => x + y, 0)).toBe(minor(order.total.amount));
    expect(books.invoices.map((i: any) => minor(i.total.amount)).sort()).toEqual([...sales].sort());
  });

  it('a split order cancelled before it ships gives every part\'s units back', async () => {
    const { a, b } = splitPair();
    const [beforeA, beforeB] = [await committed(a), await committed(b)];
    const id = await place(a, b);
    expect((await read(id)).fulfillments).toHaveLength(2);
    const cancel = await stack.queryAs(AGENT, contractOperation('CancelOrder'), { input: { idempotencyKey: `cancel-${randomUUID()}`, orderId: id, reason: 'Changed my mind' } });
    expect((cancel.body.data as any).cancelOrder.userErrors).toEqual([]);
    expect(await committed(a)).toEqual(beforeA);
    expect(await committed(b)).toEqual(beforeB);
    const cancelled = await read(id);
    expect(cancelled.fulfillments.map((p: any) => p.status)).toEqual(['CANCELLED', 'CANCELLED']);
  });

  it('an order that fits one warehouse is not split', async () => {
    const data = stack.sandbox.data;
    const warehouses = data.warehouses.map((w) => w.id);
    const sku = data.variants.find((v) => !used.has(v.sku) && warehouses.some((w) => (expectedLevel(data, v.sku, w)?.available ?? 0) >= 2))!.sku;
    used.add(sku);
    const { body } = await stack.queryAs(shopper(CUSTOMER), contractOperation('PlaceOrder'), { input: { idempotencyKey: `split-${randomUUID()}`, channel: 'WEB', customerId: CUSTOMER, deliveryMethod: 'SHIPPING', lines: [{ sku, quantity: 1 }] } });
    const order = await read((body.data as any).placeOrder.order.id);
    expect(order.fulfillments).toEqual([{ id: 'f1', location: expect.anything(), lines: [{ sku, quantity: 1 }], status: 'OPEN' }]);
  });
});

describe('split shipments in Redis mode (one shared stock book)', () => {
  let redisStack: TestStack;
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  beforeAll(async () => {
    redis = await startRedisServer();
    redisStack = await startTestStack({}, { REDIS_URL: redis.url, REDIS_PREFIX: `split-${process.pid}` });
  });
  afterAll(async () => {
    await redisStack?.stop();
    await redis?.stop();
  });

  it('each part is committed, shipped and its units leave at its own warehouse', async () => {
    const previous = stack;
    stack = redisStack;
    try {
      const { a, b } = splitPair();
      const [beforeA, beforeB] = [await committed(a), await committed(b)];
      const id = await place(a, b);
      const order = await read(id);
      expect(order.fulfillments).toHaveLength(2);
      for (const part of order.fulfillments as { location: { id: string } }[]) {
        const { body } = await stack.queryAs(store(nativeId(part.location.id)), SHIP, { input: { idempotencyKey: `ship-${randomUUID()}`, orderId: id, carrier: 'DHL', trackingNumber: `TRK-${randomUUID().slice(0, 8)}` } });
        expect((body.data as any).shipOrder.userErrors).toEqual([]);
      }
      expect((await read(id)).status).toBe('SHIPPED');
      expect(await committed(a)).toEqual(beforeA);
      expect(await committed(b)).toEqual(beforeB);
    } finally {
      stack = previous;
    }
  });
});
