import { composeServices } from '@apollo/composition';
import { parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '../common/events.js';
import { fromGlobalId } from '../common/global-id.js';
import { printSubgraphs, readSupergraphConfig } from '../scripts/composition.js';
import { contractOperation } from './support/contract.js';
import { expectedLevel, pickupStockIn } from './support/expect.js';
import { AGENT, shopper, startTestStack, store, type Caller, type TestStack } from './support/stack.js';
import { untilSystemsUp } from './support/systems.js';

/*
 * An order's life after checkout, end to end through the gateway: the contract's ReadyForPickup, HandOver,
 * CancelOrder and CreateReturn documents as written, plus the mutations the shipping and returns flows need.
 * Every order here is placed fresh with the contract's PlaceOrder, so its state is known.
 *
 * Each call is made as the client that makes it: the shopper places the order; the associates of the pickup store
 * (or of the warehouse it ships from) read its stock, mark it ready, hand it over, ship it and book returns in; a
 * service agent cancels, creates returns, marks deliveries and reads the order and its timeline.
 */

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

let keys = 0;
const key = () => `life-${process.pid}-${Date.now()}-${++keys}`;
const op = (name: string) => contractOperation(name);

const RECEIVE = /* GraphQL */ `
  mutation Receive($input: ReceiveReturnInput!) {
    receiveReturn(input: $input) {
      return { id status lines { sku quantity } receivedAt }
      order { id status }
      userErrors { field message code }
    }
  }
`;
const SHIP = /* GraphQL */ `
  mutation Ship($input: ShipOrderInput!) {
    shipOrder(input: $input) {
      order { id status shipments { id status carrier trackingNumber shippedAt deliveredAt } }
      userErrors { field message code }
    }
  }
`;
const DELIVER = /* GraphQL */ `
  mutation Deliver($orderId: ID!, $key: String!) {
    markDelivered(orderId: $orderId, idempotencyKey: $key) {
      order { id status shipments { status deliveredAt } }
      userErrors { field message code }
    }
  }
`;
const READY_KEYED = /* GraphQL */ `
  mutation ReadyKeyed($orderId: ID!, $key: String) {
    markReadyForPickup(orderId: $orderId, idempotencyKey: $key) {
      order { id status }
      userErrors { field message code }
    }
  }
`;
const ORDER = /* GraphQL */ `
  query Order($id: ID!) {
    order(id: $id) { id status fulfillmentLocation { id } returns { id status lines { sku quantity } } shipments { status } }
  }
`;

/** SKUs with at least `min` sellable units at a pickup store; `skip` picks a different one per test. */
const pickupStock = (min: number, skip: number) => pickupStockIn(stack.sandbox.data, min, skip);

const priceOf = (sku: string) => stack.sandbox.data.variants.find((v) => v.sku === sku)!.priceMinor;
const decimal = (minor: number) => (minor / 100).toFixed(2);

async function level(locationId: string, sku: string) {
  const { body } = await stack.queryAs(store(locationId), op('StoreStock'), { locationId, skus: [sku] });
  return (body.data as any).location.inventoryLevels[0] as { onHand: number; committed: number; reserved: number; damaged: number; available: number };
}

async function placePickup(sku: string, locationId: string, quantity: number, correlationId = `order-${key()}`) {
  const { body } = await stack.queryAs(
    shopper('cust-00007'),
    op('PlaceOrder'),
    { input: { idempotencyKey: key(), channel: 'WEB', deliveryMethod: 'PICKUP', customerId: 'cust-00007', pickupLocationId: locationId, lines: [{ sku, quantity }] } },
    { 'x-correlation-id': correlationId },
  );
  const { order, userErrors } = (body.data as any).placeOrder;
  expect(userErrors).toEqual([]);
  expect(order.status).toBe('CONFIRMED');
  return order as { id: string; number: string; correlationId: string; status: string };
}

async function mutate(caller: Caller, name: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
  const { status, body } = await stack.queryAs(caller, op(name), variables, headers);
  expect(status).toBe(200);
  expect(body.errors ?? []).toEqual([]);
  return Object.values(body.data as Record<string, any>)[0];
}

async function custom(caller: Caller, document: string, variables: Record<string, unknown>) {
  const { body } = await stack.queryAs(caller, document, variables);
  expect(body.errors ?? []).toEqual([]);
  return Object.values(body.data as Record<string, any>)[0];
}

async function handedOver(sku: string, locationId: string, quantity: number) {
  const order = await placePickup(sku, locationId, quantity);
  expect((await mutate(store(locationId), 'ReadyForPickup', { orderId: order.id })).userErrors).toEqual([]);
  expect((await mutate(store(locationId), 'HandOver', { orderId: order.id })).order.status).toBe('PICKED_UP');
  return order;
}

/** What the lifecycle mutations publish (finance reacts to hand-overs on its own time with INVOICE_ISSUED and postings). */
const LIFECYCLE_EVENTS = new Set(['READY_FOR_PICKUP', 'PICKED_UP', 'ORDER_SHIPPED', 'ORDER_DELIVERED', 'ORDER_CANCELLED', 'INVENTORY_RELEASED', 'RETURN_REQUESTED', 'RETURN_RECEIVED', 'REFUND_ISSUED']);

/** Lifecycle events published on the backbone while `fn` runs. */
async function published(fn: () => Promise<unknown>): Promise<CanonicalEvent[]> {
  const events: CanonicalEvent[] = [];
  const unsubscribe = stack.backbone.subscribe((e) => {
    if (LIFECYCLE_EVENTS.has(e.type)) events.push(e);
  });
  try {
    await fn();
  } finally {
    unsubscribe();
  }
  return events;
}

const timelineOf = async (orderId: string) => (await stack.queryAs(AGENT, op('OrderTimeline'), { orderId })).body.data as any;

describe('the contract mutations of an order’s life', () => {
  it('validate against the composed API schema as written', async () => {
    const entries = await readSupergraphConfig();
    const sdls = await printSubgraphs(entries);
    const result = composeServices(entries.map((e) => ({ name: e.name, url: e.routingUrl, typeDefs: parse(sdls.get(e.name)!) })));
    expect(result.errors ?? []).toEqual([]);
    const apiSchema = result.schema!.toAPISchema().toGraphQLJSSchema();
    for (const name of ['ReadyForPickup', 'HandOver', 'CancelOrder', 'CreateReturn']) {
      expect(validate(apiSchema, parse(op(name))).map((e) => e.message), name).toEqual([]);
    }
  });
});

describe('pickup: ReadyForPickup and HandOver (contract documents)', () => {
  it('moves a web pickup order READY_FOR_PICKUP → PICKED_UP; the units leave the shelf; one timeline under the order’s correlation id', async () => {
    const { sku, locationId } = pickupStock(4, 0);
    const before = await level(locationId, sku);
    const correlationId = `pickup-${Date.now()}`;
    const order = await placePickup(sku, locationId, 2, correlationId);
    const placed = await level(locationId, sku);
    expect(placed.committed).toBe(before.committed + 2);

    // The store app sends its own correlation ids: the events still carry the order's.
    const ready = await mutate(store(locationId), 'ReadyForPickup', { orderId: order.id }, { 'x-correlation-id': 'store-app-1' });
    expect(ready).toEqual({ order: { id: order.id, status: 'READY_FOR_PICKUP' }, userErrors: [] });
    const queue = (await stack.queryAs(store(locationId), op('PickupQueue'), { locationId })).body.data as any;
    expect(queue.location.pickupQueue.find((o: any) => o.id === order.id)).toMatchObject({ status: 'READY_FOR_PICKUP', lines: [{ sku, quantity: 2 }] });
    expect(await level(locationId, sku)).toEqual(placed);

    await stack.sandboxCall('DELETE', '/sandbox/calls');
    const handOver = await mutate(store(locationId), 'HandOver', { orderId: order.id }, { 'x-correlation-id': 'store-app-2' });
    expect(handOver).toEqual({ order: { id: order.id, status: 'PICKED_UP' }, userErrors: [] });
    const after = await level(locationId, sku);
    expect(after).toMatchObject({ onHand: placed.onHand - 2, committed: placed.committed - 2, available: placed.available });
    // The system-of-record calls about the order carry its correlation id too.
    const recent = (await stack.sandboxCall('GET', '/sandbox/calls/recent')).body as { method: string; correlationId: string }[];
    expect(recent.filter((c) => c.method === 'fulfillCommitment').map((c) => c.correlationId)).toEqual([correlationId]);

    const queueAfter = (await stack.queryAs(store(locationId), op('PickupQueue'), { locationId })).body.data as any;
    expect(queueAfter.location.pickupQueue.some((o: any) => o.id === order.id)).toBe(false);

    const { order: timelineOrder } = await timelineOf(order.id);
    expect(timelineOrder.status).toBe('PICKED_UP');
    const types = timelineOrder.timeline.map((e: any) => e.type);
    expect(types.slice(0, 6)).toEqual(['ORDER_PLACED', 'INVENTORY_RESERVED', 'PAYMENT_AUTHORIZED', 'ORDER_CONFIRMED', 'READY_FOR_PICKUP', 'PICKED_UP']);
    for (const e of timelineOrder.timeline) expect(e.correlationId).toBe(correlationId);
    expect(timelineOrder.timeline[4]).toMatchObject({ source: 'POS', summary: `Ready for pickup at ${locationId}` });
    expect(timelineOrder.timeline[5]).toMatchObject({ source: 'POS', summary: `Picked up at ${locationId}` });

    // What finance needs to post the sale rides on PICKED_UP.
    const [events] = await stack.backbone.eventsForOrders([fromGlobalId('Order', order.id)]);
    const pickedUp = events!.find((e) => e.type === 'PICKED_UP')!;
    expect(pickedUp).toMatchObject({ orderId: fromGlobalId('Order', order.id), locationId, correlationId, data: { total: 2 * priceOf(sku), currency: 'EUR' } });
  });

  it('a repeat HandOver (or ReadyForPickup) is INVALID_STATE naming the current status, and changes nothing', async () => {
    const { sku, locationId } = pickupStock(3, 1);
    const order = await handedOver(sku, locationId, 1);
    const before = await level(locationId, sku);
    const events = await published(async () => {
      for (const name of ['HandOver', 'ReadyForPickup']) {
        const again = await mutate(store(locationId), name, { orderId: order.id });
        expect(again.order).toBeNull();
        expect(again.userErrors).toEqual([{ field: null, code: 'INVALID_STATE', message: expect.stringContaining('PICKED_UP') }]);
      }
    });
    expect(events).toEqual([]);
    expect(await level(locationId, sku)).toEqual(before);
  });

  it('HandOver before ReadyForPickup is INVALID_STATE', async () => {
    const { sku, locationId } = pickupStock(3, 2);
    const order = await placePickup(sku, locationId, 1);
    const early = await mutate(store(locationId), 'HandOver', { orderId: order.id });
    expect(early).toEqual({ order: null, userErrors: [{ field: null, code: 'INVALID_STATE', message: expect.stringMatching(/CONFIRMED.*ready for pickup first/) }] });
  });

  it('of ten hand-overs at once exactly one lands; the stock leaves once', async () => {
    const { sku, locationId } = pickupStock(3, 3);
    const order = await placePickup(sku, locationId, 1);
    await mutate(store(locationId), 'ReadyForPickup', { orderId: order.id });
    const before = await level(locationId, sku);
    const results = await Promise.all(Array.from({ length: 10 }, () => mutate(store(locationId), 'HandOver', { orderId: order.id })));
    expect(results.filter((r) => r.order?.status === 'PICKED_UP')).toHaveLength(1);
    expect(results.filter((r) => r.userErrors[0]?.code === 'INVALID_STATE')).toHaveLength(9);
    expect(await level(locationId, sku)).toMatchObject({ onHand: before.onHand - 1, committed: before.committed - 1 });
    const [events] = await stack.backbone.eventsForOrders([fromGlobalId('Order', order.id)]);
    expect(events!.filter((e) => e.type === 'PICKED_UP')).toHaveLength(1);
  });

  it('with an idempotencyKey a repeat replays the first answer; the key with another order is IDEMPOTENCY_KEY_REUSED', async () => {
    const { sku, locationId } = pickupStock(3, 4);
    const order = await placePickup(sku, locationId, 1);
    const other = await placePickup(sku, locationId, 1);
    const k = key();
    const first = await custom(store(locationId), READY_KEYED, { orderId: order.id, key: k });
    expect(first).toEqual({ order: { id: order.id, status: 'READY_FOR_PICKUP' }, userErrors: [] });
    const calls = await stack.countCalls(async () => {
      expect(await custom(store(locationId), READY_KEYED, { orderId: order.id, key: k })).toEqual(first);
    });
    expect(calls.ecom?.compareAndSetStatus ?? 0).toBe(0);
    expect(await custom(store(locationId), READY_KEYED, { orderId: other.id, key: k })).toEqual({ order: null, userErrors: [{ field: 'idempotencyKey', message: expect.any(String), code: 'IDEMPOTENCY_KEY_REUSED' }] });
    expect(await custom(store(locationId), READY_KEYED, { orderId: other.id, key: '' })).toEqual({ order: null, userErrors: [{ field: 'idempotencyKey', message: expect.any(String), code: 'INVALID_IDEMPOTENCY_KEY' }] });
  });
});

describe('cancelOrder (the contract CancelOrder mutation)', () => {
  it('releases the committed stock, voids the payment, logs ORDER_CANCELLED and INVENTORY_RELEASED; a replay changes nothing', async () => {
    const { sku, locationId } = pickupStock(4, 5);
    const before = await level(locationId, sku);
    const order = await placePickup(sku, locationId, 3);
    expect((await level(locationId, sku)).committed).toBe(before.committed + 3);

    const input = { idempotencyKey: key(), orderId: order.id, reason: 'Customer changed their mind' };
    const cancelled = await mutate(AGENT, 'CancelOrder', { input });
    expect(cancelled).toEqual({ order: { id: order.id, status: 'CANCELLED' }, userErrors: [] });
    expect(await level(locationId, sku)).toEqual(before);

    const { order: timelineOrder } = await timelineOf(order.id);
    expect(timelineOrder.status).toBe('CANCELLED');
    expect(timelineOrder.payments.map((p: any) => p.status)).toEqual(['VOIDED']);
    const tail = timelineOrder.timeline.filter((e: any) => LIFECYCLE_EVENTS.has(e.type)).slice(-2);
    expect(tail).toMatchObject([
      { type: 'ORDER_CANCELLED', source: 'WEB', correlationId: order.correlationId, summary: 'Order cancelled: Customer changed their mind' },
      { type: 'INVENTORY_RELEASED', source: 'POS', correlationId: order.correlationId, summary: `3 × ${sku} released at ${locationId}` },
    ]);

    const events = await published(async () => {
      expect(await mutate(AGENT, 'CancelOrder', { input })).toEqual(cancelled);
    });
    expect(events).toEqual([]);
    expect(await level(locationId, sku)).toEqual(before);
    const reused = await mutate(AGENT, 'CancelOrder', { input: { ...input, reason: 'Another reason' } });
    expect(reused).toEqual({ order: null, userErrors: [{ field: 'idempotencyKey', message: expect.any(String), code: 'IDEMPOTENCY_KEY_REUSED' }] });
    const again = await mutate(AGENT, 'CancelOrder', { input: { ...input, idempotencyKey: key() } });
    expect(again).toEqual({ order: null, userErrors: [{ field: null, code: 'INVALID_STATE', message: expect.stringContaining('CANCELLED') }] });
  });

  it('cancels a READY_FOR_PICKUP order too', async () => {
    const { sku, locationId } = pickupStock(3, 6);
    const before = await level(locationId, sku);
    const order = await placePickup(sku, locationId, 1);
    await mutate(store(locationId), 'ReadyForPickup', { orderId: order.id });
    expect((await mutate(AGENT, 'CancelOrder', { input: { idempotencyKey: key(), orderId: order.id, reason: 'Not collected' } })).order.status).toBe('CANCELLED');
    expect(await level(locationId, sku)).toEqual(before);
  });

  it('after hand-over it is INVALID_STATE and nothing changes', async () => {
    const { sku, locationId } = pickupStock(3, 7);
    const order = await handedOver(sku, locationId, 1);
    const before = await level(locationId, sku);
    const events = await published(async () => {
      const result = await mutate(AGENT, 'CancelOrder', { input: { idempotencyKey: key(), orderId: order.id, reason: 'Too late' } });
      expect(result).toEqual({ order: null, userErrors: [{ field: null, code: 'INVALID_STATE', message: expect.stringContaining('PICKED_UP') }] });
    });
    expect(events).toEqual([]);
    expect(await level(locationId, sku)).toEqual(before);
    const { order: now } = await timelineOf(order.id);
    expect(now.status).toBe('PICKED_UP');
    expect(now.payments.map((p: any) => p.status)).not.toContain('VOIDED');
  });
});

describe('returns: CreateReturn (contract) and receiveReturn', () => {
  it('RESTOCK then DAMAGED: stock booked in, refunds issued, the order PARTIALLY_RETURNED then RETURNED', async () => {
    const { sku, locationId } = pickupStock(4, 8);
    const order = await handedOver(sku, locationId, 3);
    const price = priceOf(sku);

    // First return: one unit, back in stock.
    const createInput = { idempotencyKey: key(), orderId: order.id, reason: 'Too small', lines: [{ sku, quantity: 1 }] };
    const created = await mutate(AGENT, 'CreateReturn', { input: createInput });
    expect(created.userErrors).toEqual([]);
    expect(created.return).toMatchObject({ status: 'REQUESTED', lines: [{ sku, quantity: 1 }] });
    const returnId = created.return.id as string;
    // A replay answers the same return and creates none.
    expect(await mutate(AGENT, 'CreateReturn', { input: createInput })).toEqual(created);
    expect(((await custom(AGENT, ORDER, { id: order.id })).returns as unknown[]).length).toBe(1);

    const beforeRestock = await level(locationId, sku);
    const receiveInput = { idempotencyKey: key(), returnId, condition: 'RESTOCK' };
    const received = await custom(store(locationId), RECEIVE, { input: receiveInput });
    expect(received).toEqual({
      return: { id: returnId, status: 'REFUNDED', lines: [{ sku, quantity: 1 }], receivedAt: expect.any(String) },
      order: { id: order.id, status: 'PARTIALLY_RETURNED' },
      userErrors: [],
    });
    expect(await level(locationId, sku)).toMatchObject({ onHand: beforeRestock.onHand + 1, damaged: beforeRestock.damaged, available: beforeRestock.available + 1 });
    // Replay: same answer, nothing booked or refunded twice; a new key finds the return REFUNDED.
    expect(await custom(store(locationId), RECEIVE, { input: receiveInput })).toEqual(received);
    expect((await level(locationId, sku)).onHand).toBe(beforeRestock.onHand + 1);
    expect(await custom(store(locationId), RECEIVE, { input: { ...receiveInput, idempotencyKey: key() } })).toEqual({
      return: null,
      order: null,
      userErrors: [{ field: null, code: 'INVALID_STATE', message: expect.stringContaining('REFUNDED') }],
    });

    // Second return: the two units left, damaged.
    const second = await mutate(AGENT, 'CreateReturn', { input: { idempotencyKey: key(), orderId: order.id, reason: 'Broken in transit', lines: [{ sku, quantity: 2 }] } });
    expect(second.userErrors).toEqual([]);
    const beforeDamaged = await level(locationId, sku);
    const damaged = await custom(store(locationId), RECEIVE, { input: { idempotencyKey: key(), returnId: second.return.id, condition: 'DAMAGED' } });
    expect(damaged.order).toEqual({ id: order.id, status: 'RETURNED' });
    expect(await level(locationId, sku)).toMatchObject({ onHand: beforeDamaged.onHand + 2, damaged: beforeDamaged.damaged + 2, available: beforeDamaged.available });

    const { order: timelineOrder } = await timelineOf(order.id);
    expect(timelineOrder.status).toBe('RETURNED');
    expect(timelineOrder.refunds).toEqual([
      { id: expect.any(String), status: 'SUCCEEDED', amount: { amount: decimal(price), currencyCode: 'EUR' }, reason: 'Too small', createdAt: expect.any(String) },
      { id: expect.any(String), status: 'SUCCEEDED', amount: { amount: decimal(2 * price), currencyCode: 'EUR' }, reason: 'Broken in transit', createdAt: expect.any(String) },
    ]);
    expect(timelineOrder.returns.map((r: any) => [r.id, r.status])).toEqual([
      [returnId, 'REFUNDED'],
      [second.return.id, 'REFUNDED'],
    ]);
    const returnEvents = timelineOrder.timeline.filter((e: any) => e.type.startsWith('RETURN_') || e.type === 'REFUND_ISSUED');
    expect(returnEvents.map((e: any) => e.type)).toEqual(['RETURN_REQUESTED', 'RETURN_RECEIVED', 'REFUND_ISSUED', 'RETURN_REQUESTED', 'RETURN_RECEIVED', 'REFUND_ISSUED']);
    expect(returnEvents[0].summary).toBe(`Return ${returnId} requested: Too small`);
    expect(returnEvents[1]).toMatchObject({ source: 'POS', summary: `Return ${returnId} received at ${locationId}` });
    expect(returnEvents[2]).toMatchObject({ source: 'PSP', summary: `Refund of ${decimal(price)} EUR issued` });
    for (const e of timelineOrder.timeline) expect(e.correlationId).toBe(order.correlationId);

    // Nothing left to return.
    const more = await mutate(AGENT, 'CreateReturn', { input: { idempotencyKey: key(), orderId: order.id, reason: 'Again', lines: [{ sku, quantity: 1 }] } });
    expect(more).toEqual({ return: null, userErrors: [{ field: null, code: 'INVALID_STATE', message: expect.stringContaining('RETURNED') }] });
  });

  it('a PSP outage leaves the return RECEIVED; the retry with the same key refunds without booking the stock twice', async () => {
    const { sku, locationId } = pickupStock(3, 9);
    const order = await handedOver(sku, locationId, 1);
    const created = await mutate(AGENT, 'CreateReturn', { input: { idempotencyKey: key(), orderId: order.id, reason: 'Wrong colour', lines: [{ sku, quantity: 1 }] } });
    const before = await level(locationId, sku);
    const input = { idempotencyKey: key(), returnId: created.return.id, condition: 'RESTOCK' };
    await stack.sandboxCall('POST', '/sandbox/faults', { system: 'psp', down: true });
    const failed = await stack.queryAs(store(locationId), RECEIVE, { input });
    await stack.sandboxCall('DELETE', '/sandbox/faults');
    expect(failed.body.errors?.[0]?.extensions?.code).toBe('PSP_UNAVAILABLE');
    expect((await custom(AGENT, ORDER, { id: order.id })).returns[0].status).toBe('RECEIVED');
    await untilSystemsUp(stack);
    const retried = await custom(store(locationId), RECEIVE, { input });
    expect(retried).toMatchObject({ return: { status: 'REFUNDED' }, order: { status: 'RETURNED' }, userErrors: [] });
    expect((await level(locationId, sku)).onHand).toBe(before.onHand + 1);
    const { order: timelineOrder } = await timelineOf(order.id);
    expect(timelineOrder.refunds).toHaveLength(1);
    expect(timelineOrder.timeline.filter((e: any) => e.type === 'RETURN_RECEIVED')).toHaveLength(1);
  });
});

describe('shipping: shipOrder and markDelivered', () => {
  it('ships from the warehouse (stock leaves, shipment in the WMS), delivers, then refuses a cancel', async () => {
    const data = stack.sandbox.data;
    const sku = data.stock.find((s) => s.locationId === 'wh-01' && (expectedLevel(data, s.sku, 'wh-01')?.available ?? 0) > 5)?.sku;
    expect(sku).toBeDefined();
    const placed = await stack.queryAs(shopper('cust-00003'), op('PlaceOrder'), { input: { idempotencyKey: key(), channel: 'MOBILE', deliveryMethod: 'SHIPPING', customerId: 'cust-00003', lines: [{ sku, quantity: 2 }] } });
    const order = (placed.body.data as any).placeOrder.order;
    const warehouse = fromGlobalId('Location', (await custom(AGENT, ORDER, { id: order.id })).fulfillmentLocation.id as string);
    const before = await level(warehouse, sku!);

    // Not a pickup order.
    expect((await mutate(store(warehouse), 'ReadyForPickup', { orderId: order.id })).userErrors[0]).toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining('SHIPPING order is shipped') });

    const shipInput = { idempotencyKey: key(), orderId: order.id, carrier: 'DHL', trackingNumber: 'JD0001234567' };
    const shipped = await custom(store(warehouse), SHIP, { input: shipInput });
    expect(shipped.userErrors).toEqual([]);
    expect(shipped.order).toMatchObject({ status: 'SHIPPED', shipments: [{ status: 'SHIPPED', carrier: 'DHL', trackingNumber: 'JD0001234567', shippedAt: expect.any(String), deliveredAt: null }] });
    expect(await level(warehouse, sku!)).toMatchObject({ onHand: before.onHand - 2, committed: before.committed - 2, available: before.available });
    expect(await custom(store(warehouse), SHIP, { input: shipInput })).toEqual(shipped);
    expect((await level(warehouse, sku!)).onHand).toBe(before.onHand - 2);

    const [events] = await stack.backbone.eventsForOrders([fromGlobalId('Order', order.id)]);
    expect(events!.find((e) => e.type === 'ORDER_SHIPPED')).toMatchObject({ source: 'WMS', locationId: warehouse, correlationId: order.correlationId, data: { total: 2 * priceOf(sku!), currency: 'EUR', carrier: 'DHL' } });

    const cancelInTransit = await mutate(AGENT, 'CancelOrder', { input: { idempotencyKey: key(), orderId: order.id, reason: 'Too late' } });
    expect(cancelInTransit.userErrors[0]).toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining('SHIPPED') });

    const delivered = await custom(AGENT, DELIVER, { orderId: order.id, key: key() });
    expect(delivered).toEqual({ order: { id: order.id, status: 'DELIVERED', shipments: [{ status: 'DELIVERED', deliveredAt: expect.any(String) }] }, userErrors: [] });
    const again = await custom(AGENT, DELIVER, { orderId: order.id, key: key() });
    expect(again.userErrors[0]).toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining('DELIVERED') });

    const { order: timelineOrder } = await timelineOf(order.id);
    expect(timelineOrder.timeline.map((e: any) => e.type)).toEqual(expect.arrayContaining(['ORDER_SHIPPED', 'ORDER_DELIVERED']));
    expect(timelineOrder.shipments).toHaveLength(1);

    // A delivered order takes returns.
    const ret = await mutate(AGENT, 'CreateReturn', { input: { idempotencyKey: key(), orderId: order.id, reason: 'Not as described', lines: [{ sku, quantity: 1 }] } });
    expect(ret.userErrors).toEqual([]);
  });
});

describe('bad input is a user error, never an exception, and changes nothing', () => {
  it('answers unknown ids, bad quantities, foreign SKUs and wrong states with user errors', async () => {
    const { sku, locationId } = pickupStock(4, 10);
    const order = await handedOver(sku, locationId, 2);
    const open = await placePickup(sku, locationId, 1);
    const otherSku = stack.sandbox.data.variants.find((v) => v.sku !== sku)!.sku;
    const ret = (orderId: string, lines: unknown, extra: Record<string, unknown> = {}) => ({ input: { idempotencyKey: key(), orderId, reason: 'Test', lines, ...extra } });

    const before = await level(locationId, sku);
    const events = await published(async () => {
      const calls = await stack.countCalls(async () => {
        const cases: [string, Record<string, unknown>, string, string | null][] = [
          ['ReadyForPickup', { orderId: 'ord-w999999' }, 'INVALID_INPUT', 'orderId'],
          ['ReadyForPickup', { orderId: 'nope' }, 'INVALID_INPUT', 'orderId'],
          ['HandOver', { orderId: 'ord-s999999' }, 'INVALID_INPUT', 'orderId'],
          ['HandOver', { orderId: 'x'.repeat(10_000) }, 'INVALID_INPUT', 'orderId'],
          ['CancelOrder', { input: { idempotencyKey: key(), orderId: 'ord-w999999', reason: 'x' } }, 'INVALID_INPUT', 'orderId'],
          ['CancelOrder', { input: { idempotencyKey: key(), orderId: open.id, reason: '' } }, 'INVALID_INPUT', 'reason'],
          ['CancelOrder', { input: { idempotencyKey: '', orderId: open.id, reason: 'x' } }, 'INVALID_IDEMPOTENCY_KEY', 'idempotencyKey'],
          ['CreateReturn', ret('ord-w999999', [{ sku, quantity: 1 }]), 'INVALID_INPUT', 'orderId'],
          ['CreateReturn', ret(order.id, [{ sku, quantity: 0 }]), 'INVALID_QUANTITY', 'lines.0.quantity'],
          ['CreateReturn', ret(order.id, [{ sku, quantity: -1 }]), 'INVALID_QUANTITY', 'lines.0.quantity'],
          ['CreateReturn', ret(order.id, [{ sku, quantity: 3 }]), 'INVALID_QUANTITY', 'lines.0.quantity'],
          ['CreateReturn', ret(order.id, [{ sku: otherSku, quantity: 1 }]), 'UNKNOWN_SKU', 'lines.0.sku'],
          ['CreateReturn', ret(order.id, []), 'INVALID_INPUT', 'lines'],
          ['CreateReturn', ret(order.id, [{ sku, quantity: 1 }], { reason: ' ' }), 'INVALID_INPUT', 'reason'],
          ['CreateReturn', ret(open.id, [{ sku, quantity: 1 }]), 'INVALID_STATE', null],
        ];
        // The store's associates mark ready and hand over; a service agent cancels and creates returns.
        const callerOf = (name: string) => (name === 'ReadyForPickup' || name === 'HandOver' ? store(locationId) : AGENT);
        for (const [name, variables, code, field] of cases) {
          const payload = await mutate(callerOf(name), name, variables);
          expect(payload[name === 'CreateReturn' ? 'return' : 'order'], `${name} ${code}`).toBeNull();
          expect(payload.userErrors.map((e: any) => [e.code, e.field]), `${name} ${JSON.stringify(variables).slice(0, 80)}`).toContainEqual([code, field]);
        }
        const unknownReturn = await custom(store(locationId), RECEIVE, { input: { idempotencyKey: key(), returnId: 'ret-ord-w999999', condition: 'RESTOCK' } });
        expect(unknownReturn).toEqual({ return: null, order: null, userErrors: [{ field: 'returnId', message: expect.any(String), code: 'INVALID_INPUT' }] });
        const badShip = await custom(store(locationId), SHIP, { input: { idempotencyKey: key(), orderId: open.id, carrier: ' ' } });
        expect(badShip.userErrors).toEqual([{ field: 'carrier', message: expect.any(String), code: 'INVALID_INPUT' }]);
        const pickupShip = await custom(store(locationId), SHIP, { input: { idempotencyKey: key(), orderId: open.id, carrier: 'UPS' } });
        expect(pickupShip.userErrors[0]).toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining('PICKUP order') });
      });
      for (const method of ['compareAndSetStatus', 'settleMove', 'createReturn', 'setReturnStatus', 'fulfillStock', 'fulfillCommitment', 'releaseStock', 'releaseCommitment', 'adjustStock']) {
        expect([method, (calls.pos?.[method] ?? 0) + (calls.ecom?.[method] ?? 0) + (calls.wms?.[method] ?? 0)]).toEqual([method, 0]);
      }
      expect(calls.psp ?? {}).toEqual({});
    });
    expect(events).toEqual([]);
    expect(await level(locationId, sku)).toEqual(before);
  });
});
