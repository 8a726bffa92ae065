import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { toGlobalId } from '../common/global-id.js';
import { SANDBOX_MARKETPLACE_SECRET } from '../common/config.js';
import { MARKETPLACE_SIGNATURE_HEADER, MARKETPLACE_WEBHOOK_PATH, signMarketplaceBody, type MarketplaceOrderNotification, type MarketplaceOrderRecord } from '../common/systems/marketplace.js';
import { deliverNotification } from '../sandbox/marketplace-webhook.js';
import { contractOperation } from './support/contract.js';
import { expectedLevel } from './support/expect.js';
import { pollUntil } from './support/poll.js';
import { AGENT, shopper, startTestStack, store, type TestStack } from './support/stack.js';
import { startRedisServer } from './support/redis.js';

/*
 * The marketplace channel end to end: the sandbox marketplace's notifications posted to the gateway's webhook
 * (signed, at least once, out of order), the orders they become, and what goes back to the marketplace.
 */

const ADDRESS = { country: 'DE', postalCode: '10115', city: 'Berlin', line1: 'Invalidenstraße 1' };
const ORDER = `query MarketplaceOrder($id: ID!) {
  order(id: $id) { id number status channel deliveryMethod total { amount currencyCode } marketplace { marketplace externalOrderId acknowledgement acknowledgedAt acknowledgeBy receivedAt } timeline { type source summary } }
}`;
const SHIP = `mutation Ship($input: ShipOrderInput!) { shipOrder(input: $input) { order { id status } userErrors { field message code } } }`;
const EXCEPTIONS = `query OrderExceptions($kind: ExceptionKind) { exceptions(kind: $kind, first: 100) { id kind detail order { id } location { id } } }`;

function webhookOf(stack: TestStack): string {
  return new URL(MARKETPLACE_WEBHOOK_PATH, stack.urls.gateway).toString();
}

async function rpc<T>(stack: TestStack, system: string, method: string, ...args: unknown[]): Promise<T> {
  const answer = await stack.sandboxCall('POST', `/sandbox/rpc/${system}/${method}`, { args });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.result as T;
}

/** A buyer's order at the marketplace: its first notification (not yet delivered). */
async function buyerOrder(stack: TestStack, lines: { sku: string; quantity: number }[]): Promise<MarketplaceOrderNotification> {
  const answer = await stack.sandboxCall('POST', '/sandbox/marketplace/orders', { lines, shippingAddress: ADDRESS, externalOrderId: `MM-${randomUUID().slice(0, 13)}` });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as MarketplaceOrderNotification;
}

async function buyerCancels(stack: TestStack, externalOrderId: string): Promise<MarketplaceOrderNotification> {
  const answer = await stack.sandboxCall('POST', `/sandbox/marketplace/orders/${encodeURIComponent(externalOrderId)}/cancel`);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as MarketplaceOrderNotification;
}

/** The marketplace's record of an order, read at its console (not counted, not faulted). */
async function marketplaceOrder(stack: TestStack, externalOrderId: string): Promise<MarketplaceOrderRecord> {
  const answer = await stack.sandboxCall('GET', `/sandbox/marketplace/orders/${encodeURIComponent(externalOrderId)}`);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as MarketplaceOrderRecord;
}

const deliver = (stack: TestStack, n: MarketplaceOrderNotification) => deliverNotification(webhookOf(stack), SANDBOX_MARKETPLACE_SECRET, n, { baseMs: 20, capMs: 200, maxAttempts: 20 });

async function wmsStock(stack: TestStack, sku: string, locationIds: string[]) {
  return (await rpc<{ onHand: number; committed: number }[]>(stack, 'wms', 'getStock', locationIds.map((locationId) => ({ sku, locationId })))).map((r) => ({ onHand: r.onHand, committed: r.committed }));
}

/** A SKU no other test here uses, with at least `units` sellable at one warehouse above the marketplace's buffer. */
function skuPicker(stack: () => TestStack) {
  const used = new Set<string>();
  return (units: number) => {
    const data = stack().sandbox.data;
    const warehouses = data.warehouses.map((w) => w.id);
    for (const variant of data.variants) {
      if (used.has(variant.sku)) continue;
      if (data.stock.some((s) => s.sku === variant.sku && warehouses.includes(s.locationId) && (s.committed || s.reserved))) continue;
      const levels = warehouses.map((w) => expectedLevel(data, variant.sku, w)?.available ?? 0);
      // The marketplace's rule holds 2 back at each warehouse.
      if (!levels.some((l) => l >= units + 2)) continue;
      used.add(variant.sku);
      return { sku: variant.sku, warehouses };
    }
    throw new Error('no such SKU in the seed');
  };
}

async function readOrder(stack: TestStack, orderId: string) {
  const { body } = await stack.queryAs(AGENT, ORDER, { id: toGlobalId('Order', orderId) });
  expect(body.errors ?? []).toEqual([]);
  return (body.data as any).order;
}

const totalCommitted = (records: { committed: number }[]) => records.reduce((sum, r) => sum + r.committed, 0);
const answerOf = (delivery: { body: unknown }) => delivery.body as { status: string; duplicate: boolean; orderId: string | null; orderNumber: string | null; orderStatus: string | null; userErrors: { code: string; field: string | null }[] };

describe('marketplace orders', () => {
  let stack: TestStack;
  const pick = skuPicker(() => stack);
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a signed notification becomes a MARKETPLACE order, acknowledged to the marketplace, with its events on the timeline and its marketplace side for agents only', async () => {
    const { sku, warehouses } = pick(2);
    const before = await wmsStock(stack, sku, warehouses);
    const notification = await buyerOrder(stack, [{ sku, quantity: 2 }]);
    const delivery = await deliver(stack, notification);
    expect(delivery.status).toBe(200);
    const answer = answerOf(delivery);
    expect(answer).toMatchObject({ status: 'ACCEPTED', duplicate: false, orderStatus: 'CONFIRMED', userErrors: [] });
    expect(answer.orderId).toMatch(/^ord-w/);
    expect(totalCommitted(await wmsStock(stack, sku, warehouses)) - totalCommitted(before)).toBe(2);

    const acknowledged = await pollUntil(() => marketplaceOrder(stack, notification.externalOrderId), (o) => o.updates.some((u) => u.kind === 'ACKNOWLEDGED'), 'the acknowledgement at the marketplace');
    expect(acknowledged.updates.map((u) => u.kind)).toEqual(['ACKNOWLEDGED']);
    expect(acknowledged.updates[0]).toMatchObject({ orderId: answer.orderId, orderNumber: answer.orderNumber });

    const order = await pollUntil(() => readOrder(stack, answer.orderId!), (o) => o.timeline.some((e: any) => e.type === 'MARKETPLACE_ORDER_ACKNOWLEDGED'), 'the acknowledgement on the timeline');
    expect(order).toMatchObject({ channel: 'MARKETPLACE', deliveryMethod: 'SHIPPING', status: 'CONFIRMED' });
    expect(order.marketplace).toMatchObject({ marketplace: 'MEGAMART', externalOrderId: notification.externalOrderId, acknowledgement: 'ACKNOWLEDGED' });
    expect(Date.parse(order.marketplace.acknowledgeBy) - Date.parse(order.marketplace.receivedAt)).toBe(900_000);
    const types = order.timeline.map((e: any) => e.type);
    expect(types).toEqual(expect.arrayContaining(['ORDER_PLACED', 'INVENTORY_RESERVED', 'ORDER_CONFIRMED', 'MARKETPLACE_ORDER_ACKNOWLEDGED']));
    // Paid at the marketplace: no authorization of ours.
    expect(types).not.toContain('PAYMENT_AUTHORIZED');
    expect(order.timeline.find((e: any) => e.type === 'ORDER_PLACED').source).toBe('MARKETPLACE');

    // The warehouse's associates see the order, not its marketplace side.
    const locationId = (await rpc<{ fulfillmentLocationId: string }[]>(stack, 'ecom', 'getOrders', [answer.orderId]))[0]!.fulfillmentLocationId;
    const asStore = await stack.queryAs(store(locationId), `query($id: ID!) { order(id: $id) { id marketplace { externalOrderId } } }`, { id: toGlobalId('Order', answer.orderId!) });
    expect(asStore.body.errors?.map((e: any) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect((asStore.body.data as any)?.order?.marketplace ?? null).toBeNull();
  });

  it('a notification delivered many times, some at once, is one order: every delivery answers the first result', async () => {
    const { sku, warehouses } = pick(1);
    const before = await wmsStock(stack, sku, warehouses);
    const notification = await buyerOrder(stack, [{ sku, quantity: 1 }]);
    const deliveries = await Promise.all(Array.from({ length: 6 }, () => deliver(stack, notification)));
    const again = await deliver(stack, notification);
    const answers = [...deliveries, again].map((d) => {
      expect(d.status).toBe(200);
      return answerOf(d);
    });
    const orderIds = new Set(answers.map((a) => a.orderId));
    expect(orderIds.size).toBe(1);
    expect([...orderIds][0]).toMatch(/^ord-w/);
    expect(answers.filter((a) => !a.duplicate)).toHaveLength(1);
    expect(answers.every((a) => a.status === 'ACCEPTED')).toBe(true);
    expect(totalCommitted(await wmsStock(stack, sku, warehouses)) - totalCommitted(before)).toBe(1);
    const acknowledged = await pollUntil(() => marketplaceOrder(stack, notification.externalOrderId), (o) => o.updates.some((u) => u.kind === 'ACKNOWLEDGED'), 'the acknowledgement');
    expect(acknowledged.updates.filter((u) => u.kind === 'ACKNOWLEDGED')).toHaveLength(1);
  });

  it('a bad or missing signature is 401 and changes nothing; a malformed notification is 400 with its fields', async () => {
    const { sku, warehouses } = pick(1);
    const before = await wmsStock(stack, sku, warehouses);
    const notification = await buyerOrder(stack, [{ sku, quantity: 1 }]);
    const body = JSON.stringify(notification);
    const post = (headers: Record<string, string>, text = body) => fetch(webhookOf(stack), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text });
    const unsigned = await post({});
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as any).error.code).toBe('BAD_SIGNATURE');
    expect((await post({ [MARKETPLACE_SIGNATURE_HEADER]: signMarketplaceBody('not-the-secret', body) })).status).toBe(401);
    // Signed, then changed on the way: the signature is over the bytes.
    const tampered = body.replace('"quantity":1', '"quantity":9');
    expect((await post({ [MARKETPLACE_SIGNATURE_HEADER]: signMarketplaceBody(SANDBOX_MARKETPLACE_SECRET, body) }, tampered)).status).toBe(401);
    expect(await wmsStock(stack, sku, warehouses)).toEqual(before);
    expect((await marketplaceOrder(stack, notification.externalOrderId)).updates).toEqual([]);

    const malformed = JSON.stringify({ ...notification, version: 0, lines: [{ sku, quantity: 0 }], shippingAddress: null });
    const refused = await post({ [MARKETPLACE_SIGNATURE_HEADER]: signMarketplaceBody(SANDBOX_MARKETPLACE_SECRET, malformed) }, malformed);
    expect(refused.status).toBe(400);
    const refusal = (await refused.json()) as any;
    expect(refusal.error.code).toBe('INVALID_NOTIFICATION');
    expect(refusal.userErrors.map((e: any) => e.field).sort()).toEqual(['lines.0.quantity', 'shippingAddress', 'version']);

    // None of that counted: the notification, signed, is taken as new.
    const delivered = answerOf(await deliver(stack, notification));
    expect(delivered).toMatchObject({ status: 'ACCEPTED', duplicate: false });
  });

  it('a cancellation that arrives before its order leaves no order; the order that follows it is not made', async () => {
    const { sku, warehouses } = pick(1);
    const before = await wmsStock(stack, sku, warehouses);
    const created = await buyerOrder(stack, [{ sku, quantity: 1 }]);
    const cancelled = await buyerCancels(stack, created.externalOrderId);
    expect(cancelled).toMatchObject({ version: 2, status: 'CANCELLED' });
    const first = answerOf(await deliver(stack, cancelled));
    expect(first).toMatchObject({ status: 'CANCELLED', orderId: null, duplicate: false });
    const late = answerOf(await deliver(stack, created));
    expect(late).toMatchObject({ status: 'CANCELLED', orderId: null, duplicate: true });
    expect(await wmsStock(stack, sku, warehouses)).toEqual(before);
  });

  it('a buyer cancelling an accepted order cancels it once, gives its units back and tells the marketplace', async () => {
    const { sku, warehouses } = pick(1);
    const before = await wmsStock(stack, sku, warehouses);
    const created = await buyerOrder(stack, [{ sku, quantity: 1 }]);
    const accepted = answerOf(await deliver(stack, created));
    expect(accepted.status).toBe('ACCEPTED');
    const cancelled = await buyerCancels(stack, created.externalOrderId);
    const [one, two] = await Promise.all([deliver(stack, cancelled), deliver(stack, cancelled)]);
    for (const d of [one!, two!]) expect(answerOf(d)).toMatchObject({ status: 'CANCELLED', orderId: accepted.orderId, orderStatus: 'CANCELLED' });
    // The stale CREATED, delivered again after all that, changes nothing.
    expect(answerOf(await deliver(stack, created))).toMatchObject({ status: 'ACCEPTED', duplicate: true, orderStatus: 'CANCELLED' });
    expect(totalCommitted(await wmsStock(stack, sku, warehouses))).toBe(totalCommitted(before));
    const told = await pollUntil(() => marketplaceOrder(stack, created.externalOrderId), (o) => o.updates.some((u) => u.kind === 'CANCELLED'), 'the cancellation at the marketplace');
    expect(told.updates.filter((u) => u.kind === 'CANCELLED')).toHaveLength(1);
    const order = await pollUntil(() => readOrder(stack, accepted.orderId!), (o) => o.timeline.some((e: any) => e.type === 'MARKETPLACE_CANCELLATION_CONFIRMED'), 'the cancellation on the timeline');
    expect(order.timeline.filter((e: any) => e.type === 'ORDER_CANCELLED')).toHaveLength(1);
  });

  it('a shipment goes back to the marketplace with its parcel', async () => {
    const { sku } = pick(1);
    const created = await buyerOrder(stack, [{ sku, quantity: 1 }]);
    const accepted = answerOf(await deliver(stack, created));
    const [record] = await rpc<{ fulfillmentLocationId: string }[]>(stack, 'ecom', 'getOrders', [accepted.orderId]);
    const { body } = await stack.queryAs(store(record!.fulfillmentLocationId), SHIP, { input: { idempotencyKey: `ship-${randomUUID()}`, orderId: toGlobalId('Order', accepted.orderId!), carrier: 'DHL', trackingNumber: '00340434161234567890' } });
    expect(body.errors ?? []).toEqual([]);
    expect((body.data as any).shipOrder.userErrors).toEqual([]);
    const told = await pollUntil(() => marketplaceOrder(stack, created.externalOrderId), (o) => o.updates.some((u) => u.kind === 'SHIPPED'), 'the shipment at the marketplace');
    expect(told.updates.find((u) => u.kind === 'SHIPPED')).toMatchObject({ carrier: 'DHL', trackingNumber: '00340434161234567890' });
    await pollUntil(() => readOrder(stack, accepted.orderId!), (o) => o.timeline.some((e: any) => e.type === 'MARKETPLACE_SHIPMENT_CONFIRMED'), 'the shipment on the timeline');
  });

  it('an order we cannot fill is rejected, in the answer and at the marketplace', async () => {
    const { sku } = pick(1);
    const created = await buyerOrder(stack, [{ sku, quantity: 999 }]);
    const answer = answerOf(await deliver(stack, created));
    expect(answer).toMatchObject({ status: 'REJECTED', orderId: null });
    expect(answer.userErrors.map((e) => e.code)).toEqual(['OUT_OF_STOCK']);
    const told = await pollUntil(() => marketplaceOrder(stack, created.externalOrderId), (o) => o.updates.some((u) => u.kind === 'REJECTED'), 'the rejection at the marketplace');
    expect(told.updates.find((u) => u.kind === 'REJECTED')!.reason).toBe('OUT_OF_STOCK');
  });

  it('no client places a MARKETPLACE order through the graph', async () => {
    const { sku } = pick(1);
    for (const caller of [AGENT, shopper('cust-00002')]) {
      const { body } = await stack.queryAs(caller, contractOperation('PlaceOrder'), { input: { idempotencyKey: `mkt-${randomUUID()}`, channel: 'MARKETPLACE', deliveryMethod: 'SHIPPING', lines: [{ sku, quantity: 1 }] } });
      expect(body.errors ?? []).toEqual([]);
      expect((body.data as any).placeOrder.userErrors.map((e: any) => [e.code, e.field])).toEqual([['INVALID_INPUT', 'channel']]);
    }
  });

  it('the stock feed publishes what the marketplace may sell of a SKU after every change, by its channel rule', async () => {
    const { sku } = pick(2);
    const share = async () => {
      const { body } = await stack.queryAs(AGENT, `query($sku: String!) { variant(sku: $sku) { availability(channel: MARKETPLACE) { available } } }`, { sku });
      expect(body.errors ?? []).toEqual([]);
      return (body.data as any).variant.availability.available as number;
    };
    const listed = async () => ((await stack.sandboxCall('GET', `/sandbox/marketplace/listings?sku=${encodeURIComponent(sku)}`)).body as ({ quantity: number } | null)[])[0]?.quantity ?? null;
    const before = await share();
    expect(before).toBeGreaterThanOrEqual(2);
    // A web sale of it changes the marketplace's share too (the same warehouses): published without anyone asking.
    const { body } = await stack.queryAs(shopper('cust-00002'), contractOperation('PlaceOrder'), { input: { idempotencyKey: `feed-${randomUUID()}`, channel: 'WEB', deliveryMethod: 'SHIPPING', customerId: 'cust-00002', lines: [{ sku, quantity: 1 }] } });
    expect((body.data as any).placeOrder.userErrors).toEqual([]);
    const afterWeb = await share();
    await pollUntil(listed, (q) => q === afterWeb, `the listing at ${afterWeb} after the web sale`);
    const answer = answerOf(await deliver(stack, await buyerOrder(stack, [{ sku, quantity: 1 }])));
    expect(answer.status).toBe('ACCEPTED');
    const afterMarketplace = await share();
    expect(afterMarketplace).toBe(afterWeb - 1);
    await pollUntil(listed, (q) => q === afterMarketplace, `the listing at ${afterMarketplace} after the marketplace's own sale`);
  });

  it('a marketplace that is down delays the acknowledgement, never the order', async () => {
    const { sku } = pick(1);
    const notification = await buyerOrder(stack, [{ sku, quantity: 1 }]);
    await stack.sandboxCall('POST', '/sandbox/faults', { system: 'marketplace', down: true });
    try {
      const answer = answerOf(await deliver(stack, notification));
      expect(answer).toMatchObject({ status: 'ACCEPTED', orderStatus: 'CONFIRMED' });
      await stack.sandboxCall('DELETE', '/sandbox/faults');
      const told = await pollUntil(() => marketplaceOrder(stack, notification.externalOrderId), (o) => o.updates.some((u) => u.kind === 'ACKNOWLEDGED'), 'the acknowledgement once the marketplace is back');
      expect(told.updates.filter((u) => u.kind === 'ACKNOWLEDGED')).toHaveLength(1);
    } finally {
      await stack.sandboxCall('DELETE', '/sandbox/faults');
    }
  });
});


describe('the acknowledgement window', () => {
  let stack: TestStack;
  const pick = skuPicker(() => stack);
  beforeAll(async () => {
    stack = await startTestStack({}, { MARKETPLACE_ACK_WINDOW_MS: '300', MARKETPLACE_ACK_SWEEP_MS: '50' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('an order not acknowledged in its window is an exception for agents, with its event; the late acknowledgement still goes out, marked late', async () => {
    const { sku } = pick(1);
    const notification = await buyerOrder(stack, [{ sku, quantity: 1 }]);
    await stack.sandboxCall('POST', '/sandbox/faults', { system: 'marketplace', down: true });
    let orderId: string;
    try {
      const answer = answerOf(await deliver(stack, notification));
      expect(answer.status).toBe('ACCEPTED');
      orderId = answer.orderId!;
      const exceptions = await pollUntil(
        async () => ((await stack.queryAs(AGENT, EXCEPTIONS, { kind: 'ACK_WINDOW_MISSED' })).body.data as any)?.exceptions ?? [],
        (list: any[]) => list.some((e) => e.order?.id === toGlobalId('Order', orderId)),
        'the ACK_WINDOW_MISSED exception',
      );
      const exception = exceptions.find((e: any) => e.order?.id === toGlobalId('Order', orderId));
      expect(exception.detail).toContain(notification.externalOrderId);
      expect(exception.location).not.toBeNull();
      expect((await readOrder(stack, orderId)).marketplace.acknowledgement).toBe('MISSED');
      expect((await marketplaceOrder(stack, notification.externalOrderId)).updates).toEqual([]);
    } finally {
      await stack.sandboxCall('DELETE', '/sandbox/faults');
    }
    const order = await pollUntil(() => readOrder(stack, orderId), (o) => o.marketplace.acknowledgement === 'LATE', 'the late acknowledgement');
    const types = order.timeline.map((e: any) => e.type);
    expect(types.indexOf('ORDER_EXCEPTION_RAISED')).toBeGreaterThan(-1);
    expect(types.indexOf('ORDER_EXCEPTION_RAISED')).toBeLessThan(types.indexOf('MARKETPLACE_ORDER_ACKNOWLEDGED'));
    expect(types.filter((t: string) => t === 'ORDER_EXCEPTION_RAISED')).toHaveLength(1);
    expect((await marketplaceOrder(stack, notification.externalOrderId)).updates.map((u) => u.kind)).toEqual(['ACKNOWLEDGED']);
  });
});

describe('in Redis mode (idempotency records, backbone and stock book in Redis)', () => {
  let stack: TestStack;
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  const pick = skuPicker(() => stack);
  beforeAll(async () => {
    redis = await startRedisServer();
    stack = await startTestStack({}, { REDIS_URL: redis.url, REDIS_PREFIX: `mkt-${process.pid}` });
  });
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  it('deliveries at once are one order, acknowledged once; the buyer cancelling gives the units back', async () => {
    const { sku, warehouses } = pick(1);
    const before = await wmsStock(stack, sku, warehouses);
    const notification = await buyerOrder(stack, [{ sku, quantity: 1 }]);
    const answers = (await Promise.all(Array.from({ length: 4 }, () => deliver(stack, notification)))).map(answerOf);
    expect(new Set(answers.map((a) => a.orderId)).size).toBe(1);
    expect(answers.filter((a) => !a.duplicate)).toHaveLength(1);
    expect(totalCommitted(await wmsStock(stack, sku, warehouses)) - totalCommitted(before)).toBe(1);
    await pollUntil(() => marketplaceOrder(stack, notification.externalOrderId), (o) => o.updates.some((u) => u.kind === 'ACKNOWLEDGED'), 'the acknowledgement');
    const cancelled = answerOf(await deliver(stack, await buyerCancels(stack, notification.externalOrderId)));
    expect(cancelled).toMatchObject({ status: 'CANCELLED', orderStatus: 'CANCELLED' });
    expect(totalCommitted(await wmsStock(stack, sku, warehouses))).toBe(totalCommitted(before));
    const told = await pollUntil(() => marketplaceOrder(stack, notification.externalOrderId), (o) => o.updates.some((u) => u.kind === 'CANCELLED'), 'the cancellation');
    expect(told.updates.map((u) => u.kind)).toEqual(['ACKNOWLEDGED', 'CANCELLED']);
  });
});
