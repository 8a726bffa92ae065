import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { CanonicalEvent } from '../common/events.js';
import { fromGlobalId, toGlobalId } from '../common/global-id.js';
import { contractOperation } from './support/contract.js';
import { pickupStockIn, expectedLevel } from './support/expect.js';
import { pollUntil } from './support/poll.js';
import { AGENT, shopper, startTestStack, store, type Caller, type TestStack } from './support/stack.js';
import { untilSystemsUp } from './support/systems.js';

/*
 * Loyalty at fulfilment, end to end through the real gateway: points are earned in the CRM when an order is picked up
 * or delivered (never at checkout), taken back when a return is received, once each, shown in the contract's
 * MyAccount and on the order's timeline. Each call is made as the client that makes it: the shopper places the order
 * and reads their account; the store's associates mark it ready, hand it over and book returns in; the warehouse's
 * ship; a service agent creates returns, marks deliveries and reads timelines. Each test has its own customer, so that
 * balances are its own.
 */

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

let keys = 0;
const key = () => `loyalty-${process.pid}-${Date.now()}-${++keys}`;
const op = (name: string) => contractOperation(name);

const HISTORY = /* GraphQL */ `
  query History($id: ID!) {
    customer(id: $id) { loyalty { pointsBalance history(first: 20) { reference kind points balance order { id number } returnId occurredAt } } }
  }
`;
const TIMELINE = /* GraphQL */ `
  query Timeline($id: ID!) {
    order(id: $id) { id status timeline { id type source occurredAt summary } }
  }
`;
const RECEIVE = /* GraphQL */ `
  mutation Receive($input: ReceiveReturnInput!) {
    receiveReturn(input: $input) { return { id status } order { id status } userErrors { field message code } }
  }
`;
const SHIP = /* GraphQL */ `
  mutation Ship($input: ShipOrderInput!) {
    shipOrder(input: $input) { order { id status } userErrors { field message code } }
  }
`;
const DELIVER = /* GraphQL */ `
  mutation Deliver($orderId: ID!, $key: String!) {
    markDelivered(orderId: $orderId, idempotencyKey: $key) { order { id status } userErrors { field message code } }
  }
`;

interface Entry {
  reference: string;
  kind: 'EARNED' | 'REVERSED';
  points: number;
  balance: number;
  order: { id: string; number: string | null } | null;
  returnId: string | null;
  occurredAt: string;
}
interface TimelineEvent {
  id: string;
  type: string;
  source: string;
  occurredAt: string;
  summary: string;
}

async function call(caller: Caller, document: string, variables: Record<string, unknown> = {}) {
  const { status, body } = await stack.queryAs(caller, document, variables);
  expect(status).toBe(200);
  expect(body.errors ?? []).toEqual([]);
  return Object.values(body.data as Record<string, any>)[0];
}

/** The shopper's balance as the storefront's account page reads it: the contract's MyAccount, as written. */
async function myBalance(customerId: string): Promise<number> {
  const me = await call(shopper(customerId), op('MyAccount'));
  expect(me.id).toBe(toGlobalId('Customer', customerId));
  return me.loyalty.pointsBalance as number;
}

async function historyOf(customerId: string): Promise<{ pointsBalance: number; history: Entry[] }> {
  return (await call(shopper(customerId), HISTORY, { id: toGlobalId('Customer', customerId) })).loyalty;
}

async function timelineOf(orderId: string): Promise<TimelineEvent[]> {
  return (await call(AGENT, TIMELINE, { id: orderId })).timeline;
}

const loyaltyEvents = (timeline: TimelineEvent[]) => timeline.filter((e) => e.type.startsWith('LOYALTY_'));

/** The order's timeline once it shows `count` loyalty events (an entry's event is published just after the CRM booked it). */
const timelineWithLoyalty = (orderId: string, count: number) => pollUntil(() => timelineOf(orderId), (t) => loyaltyEvents(t).length >= count, `${count} loyalty events on the timeline of ${orderId}`);

/** The order's total in the system that holds it (minor units), and so the points it earns: one per whole euro. */
async function totalMinorOf(orderId: string): Promise<number> {
  const id = fromGlobalId('Order', orderId);
  const [[ecom], [pos]] = await Promise.all([stack.sandbox.systems.ecom.getOrders([id]), stack.sandbox.systems.pos.getOrders([id])]);
  const order = ecom ?? pos;
  expect(order).toBeTruthy();
  return order!.totalMinor;
}

async function placePickup(customerId: string | null, sku: string, locationId: string, quantity: number) {
  const caller = customerId ? shopper(customerId) : AGENT;
  const placed = await call(caller, op('PlaceOrder'), { input: { idempotencyKey: key(), channel: 'WEB', deliveryMethod: 'PICKUP', ...(customerId ? { customerId } : {}), pickupLocationId: locationId, lines: [{ sku, quantity }] } });
  expect(placed.userErrors).toEqual([]);
  expect(placed.order.status).toBe('CONFIRMED');
  return placed.order as { id: string; number: string };
}

async function handOver(orderId: string, locationId: string) {
  expect((await call(store(locationId), op('ReadyForPickup'), { orderId })).userErrors).toEqual([]);
  const handed = await call(store(locationId), op('HandOver'), { orderId });
  expect(handed.userErrors).toEqual([]);
  expect(handed.order.status).toBe('PICKED_UP');
}

/** A log line of the customers service about `orderId` (or the event `eventId`) with this message, once it is written. */
const logged = (msg: string, match: { orderId?: string; eventId?: string }) =>
  pollUntil(
    async () => stack.logs.filter((l) => l.msg === msg && (match.orderId === undefined || l.orderId === match.orderId) && (match.eventId === undefined || l.eventId === match.eventId)),
    (lines) => lines.length > 0,
    `log "${msg}" for ${JSON.stringify(match)}`,
  );

const pickupStock = (min: number, skip: number) => pickupStockIn(stack.sandbox.data, min, skip);

describe('loyalty at fulfilment', () => {
  it('earns nothing at checkout and the rule’s points at PICKED_UP: MyAccount, the history and the timeline show it; a received return reverses its share', async () => {
    const customerId = 'cust-00021';
    const { sku, locationId } = pickupStock(5, 30);
    const before = await myBalance(customerId);

    const order = await placePickup(customerId, sku, locationId, 3);
    const points = Math.floor((await totalMinorOf(order.id)) / 100);
    expect(points).toBeGreaterThan(0);
    // Placed and paid for: no points yet, and nothing booked for the order.
    expect(await myBalance(customerId)).toBe(before);
    expect((await historyOf(customerId)).history.filter((e) => e.order?.id === order.id)).toEqual([]);

    await handOver(order.id, locationId);
    expect(await pollUntil(() => myBalance(customerId), (b) => b !== before, 'balance after the hand-over')).toBe(before + points);

    const { history } = await historyOf(customerId);
    expect(history[0]).toEqual({ reference: `loy-${fromGlobalId('Order', order.id)}-earn`, kind: 'EARNED', points, balance: before + points, order: { id: order.id, number: order.number }, returnId: null, occurredAt: expect.any(String) });
    const timeline = await timelineWithLoyalty(order.id, 1);
    const earned = loyaltyEvents(timeline);
    expect(earned).toEqual([{ id: `evt-loy-${fromGlobalId('Order', order.id)}-earn`, type: 'LOYALTY_POINTS_EARNED', source: 'CRM', occurredAt: history[0]!.occurredAt, summary: `${points} loyalty points earned` }]);
    // Earned at the hand-over, not before it.
    const pickedUp = timeline.find((e) => e.type === 'PICKED_UP')!;
    expect(earned[0]!.occurredAt >= pickedUp.occurredAt).toBe(true);

    // One of the three units comes back: a third of the points, rounded down, go.
    const created = await call(AGENT, op('CreateReturn'), { input: { idempotencyKey: key(), orderId: order.id, reason: 'Too small', lines: [{ sku, quantity: 1 }] } });
    expect(created.userErrors).toEqual([]);
    const returnId = created.return.id as string;
    // Requested is not received: nothing reversed yet.
    expect(await myBalance(customerId)).toBe(before + points);
    const received = await call(store(locationId), RECEIVE, { input: { idempotencyKey: key(), returnId, condition: 'RESTOCK' } });
    expect(received.userErrors).toEqual([]);
    const reversed = Math.floor(points / 3);
    expect(await pollUntil(() => myBalance(customerId), (b) => b !== before + points, 'balance after the return')).toBe(before + points - reversed);
    const after = await historyOf(customerId);
    expect(after.history.slice(0, 2).map((e) => [e.kind, e.points, e.balance, e.returnId])).toEqual([
      ['REVERSED', reversed, before + points - reversed, returnId],
      ['EARNED', points, before + points, null],
    ]);
    expect(loyaltyEvents(await timelineWithLoyalty(order.id, 2)).map((e) => [e.type, e.summary])).toEqual([
      ['LOYALTY_POINTS_EARNED', `${points} loyalty points earned`],
      ['LOYALTY_POINTS_REVERSED', `${reversed} loyalty points reversed for return ${returnId}`],
    ]);
  });

  it('a shipped order earns at DELIVERED', async () => {
    const customerId = 'cust-00023';
    const data = stack.sandbox.data;
    const sku = data.stock.find((s) => s.locationId === 'wh-01' && (expectedLevel(data, s.sku, 'wh-01')?.available ?? 0) > 5)!.sku;
    const before = await myBalance(customerId);
    const placed = await call(shopper(customerId), op('PlaceOrder'), { input: { idempotencyKey: key(), channel: 'MOBILE', deliveryMethod: 'SHIPPING', customerId, lines: [{ sku, quantity: 2 }] } });
    expect(placed.userErrors).toEqual([]);
    const orderId = placed.order.id as string;
    const points = Math.floor((await totalMinorOf(orderId)) / 100);
    const warehouse = fromGlobalId('Location', (await call(AGENT, '{ order(id: "' + orderId + '") { fulfillmentLocation { id } } }')).fulfillmentLocation.id as string);

    expect((await call(store(warehouse), SHIP, { input: { idempotencyKey: key(), orderId, carrier: 'DHL', trackingNumber: 'JD0009876543' } })).order.status).toBe('SHIPPED');
    expect(await myBalance(customerId)).toBe(before);
    expect((await call(AGENT, DELIVER, { orderId, key: key() })).order.status).toBe('DELIVERED');

    expect(await pollUntil(() => myBalance(customerId), (b) => b !== before, 'balance after the delivery')).toBe(before + points);
    const timeline = await timelineWithLoyalty(orderId, 1);
    const [earned, ...more] = loyaltyEvents(timeline);
    expect(more).toEqual([]);
    expect(earned).toMatchObject({ type: 'LOYALTY_POINTS_EARNED', source: 'CRM' });
    expect(earned!.occurredAt >= timeline.find((e) => e.type === 'ORDER_DELIVERED')!.occurredAt).toBe(true);
  });

  it('earns once for the same event delivered twice, and for a second hand-over event of the order', async () => {
    const customerId = 'cust-00025';
    const { sku, locationId } = pickupStock(3, 31);
    const before = await myBalance(customerId);
    const order = await placePickup(customerId, sku, locationId, 1);
    const points = Math.floor((await totalMinorOf(order.id)) / 100);
    await handOver(order.id, locationId);
    expect(await pollUntil(() => myBalance(customerId), (b) => b !== before, 'balance after the hand-over')).toBe(before + points);

    const [events = []] = await stack.backbone.eventsForOrders([fromGlobalId('Order', order.id)]);
    const pickedUp = events.find((e) => e.type === 'PICKED_UP')!;
    // The same event again: the backbone drops it.
    expect(await stack.backbone.publish(pickedUp)).toBe(false);
    // The hand-over replayed under another event id (a producer that lost its first answer): the consumer takes it,
    // and the CRM's reference makes it book nothing.
    const replayed = { ...pickedUp, id: `${pickedUp.id}-replayed` } as CanonicalEvent;
    delete (replayed as { sequences?: unknown }).sequences;
    expect(await stack.backbone.publish(replayed)).toBe(true);
    await logged('loyalty: points booked', { eventId: replayed.id });

    expect(await myBalance(customerId)).toBe(before + points);
    expect((await historyOf(customerId)).history.filter((e) => e.order?.id === order.id)).toHaveLength(1);
    expect(loyaltyEvents(await timelineWithLoyalty(order.id, 1))).toHaveLength(1);
  });

  it('a CRM outage while the order is picked up delays the points; once the CRM is back they arrive, exactly once', async () => {
    const customerId = 'cust-00027';
    const { sku, locationId } = pickupStock(3, 32);
    const before = await myBalance(customerId);
    const order = await placePickup(customerId, sku, locationId, 2);
    const points = Math.floor((await totalMinorOf(order.id)) / 100);
    expect((await call(store(locationId), op('ReadyForPickup'), { orderId: order.id })).userErrors).toEqual([]);

    expect((await stack.sandboxCall('POST', '/sandbox/faults', { system: 'crm', down: true })).status).toBe(200);
    try {
      const handed = await call(store(locationId), op('HandOver'), { orderId: order.id });
      expect(handed.order.status).toBe('PICKED_UP');
      // The consumer tried and failed (twice, so the backbone handed the event again): nothing is lost, it waits.
      await pollUntil(async () => stack.logs.filter((l) => l.msg === 'loyalty: could not book points yet; the event is handed again' && l.orderId === fromGlobalId('Order', order.id)), (l) => l.length >= 2, 'failed attempts while the CRM is down');
    } finally {
      expect((await stack.sandboxCall('DELETE', '/sandbox/faults')).status).toBe(200);
    }
    await untilSystemsUp(stack);

    expect(await pollUntil(() => myBalance(customerId), (b) => b !== before, 'balance once the CRM is back')).toBe(before + points);
    const entries = (await historyOf(customerId)).history.filter((e) => e.order?.id === order.id);
    expect(entries.map((e) => [e.kind, e.points])).toEqual([['EARNED', points]]);
    expect(loyaltyEvents(await timelineWithLoyalty(order.id, 1)).map((e) => e.type)).toEqual(['LOYALTY_POINTS_EARNED']);
  });

  it('a guest order earns nothing', async () => {
    const { sku, locationId } = pickupStock(3, 33);
    const order = await placePickup(null, sku, locationId, 1);
    await handOver(order.id, locationId);
    await logged('loyalty: a guest order earns nothing', { orderId: fromGlobalId('Order', order.id) });
    expect(loyaltyEvents(await timelineOf(order.id))).toEqual([]);
  });

  it('shows the history to the customer themselves and agents only', async () => {
    const owner = 'cust-00021';
    const variables = { id: toGlobalId('Customer', owner) };
    // Another shopper: the customer reads as unknown, so no ledger.
    const other = await stack.queryAs(shopper('cust-00022'), HISTORY, variables);
    expect(other.body).toEqual({ data: { customer: null } });
    // A store associate may not read customers by id at all; anonymous callers must sign in.
    const atStore = await stack.queryAs(store('store-001'), HISTORY, variables);
    expect(atStore.body.data?.customer ?? null).toBeNull();
    expect(atStore.body.errors?.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
    const anonymous = await stack.query(HISTORY, variables);
    expect(anonymous.body.errors?.map((e: any) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
    // An agent sees what the owner sees.
    const asAgent = await call(AGENT, HISTORY, variables);
    expect(asAgent.loyalty).toEqual((await call(shopper(owner), HISTORY, variables)).loyalty);
    // Bad `first` is refused with a coded error.
    const tooMany = await stack.queryAs(AGENT, '{ customer(id: "' + variables.id + '") { loyalty { history(first: 101) { points } } } }');
    expect(tooMany.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('loyalty across a restart (DATA_DIR)', () => {
  it('keeps the ledger and the balance, and books nothing again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retail-loyalty-'));
    const customerId = 'cust-00029';
    // The helpers above talk to `stack`: pointed at each of the two stacks in turn, then back.
    const shared = stack;
    onTestFinished(() => {
      stack = shared;
    });
    const first = await startTestStack({}, { DATA_DIR: dir });
    let earned: { balance: number; history: Entry[] };
    try {
      stack = first;
      const { sku, locationId } = pickupStock(3, 34);
      const before = await myBalance(customerId);
      const order = await placePickup(customerId, sku, locationId, 1);
      await handOver(order.id, locationId);
      await pollUntil(() => myBalance(customerId), (b) => b !== before, 'balance after the hand-over');
      await timelineWithLoyalty(order.id, 1);
      const { pointsBalance, history } = await historyOf(customerId);
      earned = { balance: pointsBalance, history };
    } finally {
      await first.stop();
    }
    const second = await startTestStack({}, { DATA_DIR: dir });
    try {
      stack = second;
      expect(await myBalance(customerId)).toBe(earned.balance);
      expect((await historyOf(customerId)).history).toEqual(earned.history);
      const orderId = earned.history[0]!.order!.id;
      expect(loyaltyEvents(await timelineOf(orderId)).map((e) => e.type)).toEqual(['LOYALTY_POINTS_EARNED']);
    } finally {
      await second.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
