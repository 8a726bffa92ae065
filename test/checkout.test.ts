import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../common/global-id.js';
import { contractOperation } from './support/contract.js';
import { expectedLevel } from './support/expect.js';
import { pollUntil } from './support/poll.js';
import { AGENT, shopper, startTestStack, store, type Caller, type TestStack } from './support/stack.js';
import { untilSystemsUp } from './support/systems.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

let keys = 0;
const key = () => `test-${process.pid}-${Date.now()}-${++keys}`;
const PLACE = () => contractOperation('PlaceOrder');
const STOCK = () => contractOperation('StoreStock');

/** A SKU at a pickup store with at least `min` sellable units (so that tests do not depend on one record). */
function pickupStock(stack: TestStack, min: number, skip = 0) {
  const data = stack.sandbox.data;
  const stores = data.stores.filter((s) => s.pickupEnabled);
  let seen = 0;
  // A plain loop that stops at the match: expectedLevel scans the seed, so filtering all 37,500 records is slow.
  for (const s of data.stock) {
    if (!stores.some((st) => st.id === s.locationId) || (expectedLevel(data, s.sku, s.locationId)?.available ?? 0) < min) continue;
    if (seen++ === skip) return { sku: s.sku, locationId: s.locationId };
  }
  throw new Error('no such stock in the seed');
}

async function level(locationId: string, sku: string) {
  const { body } = await stack.queryAs(store(locationId), STOCK(), { locationId, skus: [sku] });
  return (body.data as any).location.inventoryLevels[0];
}

/** The customer places their own order (as a signed-in shopper); a guest order is placed by a service agent. */
const customerOf = (input: Record<string, unknown>): Caller => (typeof input.customerId === 'string' ? shopper(input.customerId) : AGENT);
const place = (input: Record<string, unknown>, headers?: Record<string, string>, caller: Caller = customerOf(input)) =>
  stack.queryAs(caller, PLACE(), { input }, headers);

const pickupInput = (sku: string, locationId: string, extra: Record<string, unknown> = {}) => ({
  idempotencyKey: key(),
  channel: 'WEB',
  deliveryMethod: 'PICKUP',
  customerId: 'cust-00001',
  pickupLocationId: locationId,
  lines: [{ sku, quantity: 1 }],
  ...extra,
});

describe('placeOrder (the contract PlaceOrder mutation)', () => {
  it('confirms a pickup order: stock committed, payment authorized, events under the order’s correlation id', async () => {
    const { sku, locationId } = pickupStock(stack, 3);
    const before = await level(locationId, sku);
    const correlationId = `checkout-${Date.now()}`;
    const { body } = await place(pickupInput(sku, locationId, { lines: [{ sku, quantity: 2 }] }), { 'x-correlation-id': correlationId });
    expect(body.errors ?? []).toEqual([]);
    const { order, userErrors } = (body.data as any).placeOrder;
    expect(userErrors).toEqual([]);
    const variant = stack.sandbox.data.variants.find((v) => v.sku === sku)!;
    expect(order).toMatchObject({ status: 'CONFIRMED', channel: 'WEB', deliveryMethod: 'PICKUP', correlationId, pickupLocation: { id: toGlobalId('Location', locationId) } });
    expect(order.number).toMatch(/^W\d{7}$/);
    expect(order.lines).toEqual([{ sku, quantity: 2, unitPrice: { amount: (variant.priceMinor / 100).toFixed(2), currencyCode: 'EUR' }, variant: { name: variant.name, product: { name: expect.any(String) } } }]);
    expect(order.total).toEqual({ amount: ((2 * variant.priceMinor) / 100).toFixed(2), currencyCode: 'EUR' });

    const after = await level(locationId, sku);
    expect(after.committed).toBe(before.committed + 2);
    expect(after.available).toBe(before.available - 2);

    const timeline = await stack.queryAs(AGENT, contractOperation('OrderTimeline'), { orderId: order.id });
    const events = (timeline.body.data as any).order.timeline;
    expect(events.map((e: any) => e.type)).toEqual(['ORDER_PLACED', 'INVENTORY_RESERVED', 'PAYMENT_AUTHORIZED', 'ORDER_CONFIRMED']);
    for (const e of events) expect(e.correlationId).toBe(correlationId);
    expect((timeline.body.data as any).order.payments[0]).toMatchObject({ status: 'AUTHORIZED' });
  });

  it('ships from a warehouse chosen by the allocation strategy', async () => {
    const data = stack.sandbox.data;
    const sku = data.stock.find((s) => s.locationId === 'wh-01' && (expectedLevel(data, s.sku, 'wh-01')?.available ?? 0) > 5)!.sku;
    const { body } = await place({ idempotencyKey: key(), channel: 'MOBILE', deliveryMethod: 'SHIPPING', customerId: 'cust-00002', lines: [{ sku, quantity: 1 }] });
    expect((body.data as any).placeOrder.userErrors).toEqual([]);
    expect((body.data as any).placeOrder.order).toMatchObject({ status: 'CONFIRMED', deliveryMethod: 'SHIPPING', pickupLocation: null });
  });

  it('the same key and input returns the original payload and creates nothing; another input is IDEMPOTENCY_KEY_REUSED', async () => {
    const { sku, locationId } = pickupStock(stack, 3, 1);
    const input = pickupInput(sku, locationId);
    const first = await place(input);
    const order = (first.body.data as any).placeOrder.order;
    const before = await level(locationId, sku);
    const calls = await stack.countCalls(async () => {
      const again = await place(input);
      expect((again.body.data as any).placeOrder).toEqual({ order, userErrors: [] });
    });
    expect(calls.ecom?.createOrder ?? 0).toBe(0);
    expect(calls.pos?.commitStock ?? 0).toBe(0);
    expect(calls.psp?.authorize ?? 0).toBe(0);
    expect((await level(locationId, sku)).committed).toBe(before.committed);

    const other = await place({ ...input, lines: [{ sku, quantity: 2 }] });
    expect((other.body.data as any).placeOrder).toEqual({ order: null, userErrors: [{ field: 'idempotencyKey', message: expect.any(String), code: 'IDEMPOTENCY_KEY_REUSED' }] });
  });

  it('a second call while the first still runs is IDEMPOTENCY_KEY_IN_USE', async () => {
    const { sku, locationId } = pickupStock(stack, 3, 2);
    const input = pickupInput(sku, locationId);
    await stack.sandboxCall('POST', '/sandbox/faults', { system: 'psp', latencyMs: 300 });
    try {
      // The second call goes once the first is inside the PSP call (the sandbox counts a call as it starts), where
      // it holds the key for the PSP's 300 ms: the overlap is observed, not guessed with a delay.
      const pspCalls = async () => Object.values(((await stack.sandboxCall('GET', '/sandbox/calls')).body.psp ?? {}) as Record<string, number>).reduce((a, b) => a + b, 0);
      const before = await pspCalls();
      const first = place(input);
      await pollUntil(pspCalls, (n) => n > before, 'the first checkout to reach the PSP');
      const [a, b] = await Promise.all([first, place(input)]);
      expect((a.body.data as any).placeOrder.order.status).toBe('CONFIRMED');
      expect((b.body.data as any).placeOrder.userErrors.map((e: any) => e.code)).toEqual(['IDEMPOTENCY_KEY_IN_USE']);
    } finally {
      await stack.sandboxCall('DELETE', '/sandbox/faults');
    }
  });

  it('a declined payment releases the committed stock and answers PAYMENT_DECLINED', async () => {
    const { sku, locationId } = pickupStock(stack, 3, 3);
    const before = await level(locationId, sku);
    const { body } = await place(pickupInput(sku, locationId, { paymentToken: 'tok_decline' }));
    expect((body.data as any).placeOrder).toEqual({ order: null, userErrors: [{ field: 'paymentToken', message: expect.any(String), code: 'PAYMENT_DECLINED' }] });
    const after = await level(locationId, sku);
    expect(after).toEqual(before);
  });

  it('never oversells: 200 concurrent one-unit orders for 20 sellable units give exactly 20 confirmations', async () => {
    const { sku, locationId } = pickupStock(stack, 1, 10);
    const current = await level(locationId, sku);
    // Bring the shelf to exactly 20 sellable units with a stock movement at the POS.
    await stack.sandbox.systems.pos.adjustStock({ sku, locationId, onHandDelta: 20 - current.available });
    expect((await level(locationId, sku)).available).toBe(20);
    const committedBefore = (await level(locationId, sku)).committed;

    // A hundred shoppers, two orders each, every one signed in as themselves.
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => place(pickupInput(sku, locationId, { customerId: `cust-${String((i % 100) + 1).padStart(5, '0')}` }))));
    const outcomes = results.map((r) => (r.body.data as any)?.placeOrder);
    const confirmed = outcomes.filter((o) => o?.order?.status === 'CONFIRMED').length;
    const outOfStock = outcomes.filter((o) => o?.userErrors?.[0]?.code === 'OUT_OF_STOCK').length;
    expect({ confirmed, outOfStock }).toEqual({ confirmed: 20, outOfStock: 180 });
    const after = await level(locationId, sku);
    expect(after.available).toBe(0);
    expect(after.committed).toBe(committedBefore + 20);
  });

  it('bad input is a user error and commits, creates and emits nothing', async () => {
    const { sku, locationId } = pickupStock(stack, 3, 4);
    const closedStore = stack.sandbox.data.stores.find((s) => !s.pickupEnabled)!;
    const cases: [Record<string, unknown>, string][] = [
      [{ lines: [{ sku, quantity: 0 }] }, 'INVALID_QUANTITY'],
      [{ lines: [{ sku, quantity: -3 }] }, 'INVALID_QUANTITY'],
      [{ lines: [{ sku, quantity: 1_000_000 }] }, 'INVALID_QUANTITY'],
      [{ lines: [{ sku: 'SKU-NOPE-1', quantity: 1 }] }, 'UNKNOWN_SKU'],
      [{ lines: [{ sku, quantity: 1 }, { sku, quantity: 2 }] }, 'INVALID_INPUT'],
      [{ lines: Array.from({ length: 1000 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1 })) }, 'INVALID_INPUT'],
      [{ lines: [] }, 'INVALID_INPUT'],
      [{ pickupLocationId: 'store-999' }, 'PICKUP_NOT_AVAILABLE'],
      [{ pickupLocationId: closedStore.id }, 'PICKUP_NOT_AVAILABLE'],
      // An order on behalf of a customer no system knows: a service agent's typo (a shopper is always a known customer).
      [{ customerId: 'cust-99999' }, 'UNKNOWN_CUSTOMER'],
      [{ idempotencyKey: 'k'.repeat(10_240) }, 'INVALID_IDEMPOTENCY_KEY'],
      [{ idempotencyKey: '' }, 'INVALID_IDEMPOTENCY_KEY'],
    ];
    const before = await level(locationId, sku);
    const events = stack.backbone;
    let published = 0;
    const unsubscribe = events.subscribe(() => published++);
    try {
      const calls = await stack.countCalls(async () => {
        for (const [overrides, code] of cases) {
          const { status, body } = await place(pickupInput(sku, locationId, overrides), {}, overrides.customerId ? AGENT : shopper('cust-00001'));
          expect(status).toBe(200);
          const payload = (body.data as any).placeOrder;
          expect(payload.order).toBeNull();
          expect(payload.userErrors.map((e: any) => e.code), JSON.stringify(overrides).slice(0, 80)).toContain(code);
        }
      });
      expect(calls.pos?.commitStock ?? 0).toBe(0);
      expect(calls.ecom?.createOrder ?? 0).toBe(0);
      expect(calls.psp?.authorize ?? 0).toBe(0);
    } finally {
      unsubscribe();
    }
    expect(published).toBe(0);
    expect(await level(locationId, sku)).toEqual(before);
  });

  it('a PSP outage keeps the order PLACED with its stock; the retry with the same key resumes it: one order, one commitment', async () => {
    const { sku, locationId } = pickupStock(stack, 3, 5);
    const before = await level(locationId, sku);
    const input = pickupInput(sku, locationId);
    await stack.sandboxCall('POST', '/sandbox/faults', { system: 'psp', down: true });
    const failed = await place(input);
    await stack.sandboxCall('DELETE', '/sandbox/faults');
    expect(failed.body.errors?.[0]?.extensions?.code).toBe('PSP_UNAVAILABLE');
    // Held for the retry (checkout recovery gives it back if none comes within CHECKOUT_STALE_MS).
    expect(await level(locationId, sku)).toMatchObject({ committed: before.committed + 1, available: before.available - 1 });
    await untilSystemsUp(stack);
    const retried = await place(input);
    const order = (retried.body.data as any).placeOrder.order;
    expect(order.status).toBe('CONFIRMED');
    expect(await level(locationId, sku)).toMatchObject({ committed: before.committed + 1, available: before.available - 1 });
    // The same key again answers the same order.
    expect((await place(input)).body.data).toMatchObject({ placeOrder: { order: { id: order.id } } });
  });
});
