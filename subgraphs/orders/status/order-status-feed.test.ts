import { describe, expect, it, vi } from 'vitest';
import { InMemoryEventBackbone, type CanonicalEvent, type EventDataByType, type EventMeta, type EventType, type OrderStatusName, type StatusMove } from '../../../common/events.js';
import { DEFAULT_EVENT_DATA, testEvent } from '../../../test/support/events.js';
import type { SubscriptionQueue } from '../../../common/subscription-queue.js';
import { OrderStatusFeed, orderKeysOf, statusChangeOf, type OrderKeys, type OrderKeysLookup, type OrderStatusChangeValue } from './order-status-feed.js';

let sequence = 0;
function event<T extends EventType>(type: T, orderId: string | undefined, data: Partial<EventDataByType[T]> = {}, fields: Partial<EventMeta> = {}) {
  sequence++;
  return testEvent(type, data, { id: `evt-${sequence}`, source: 'WEB', occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, sequence)).toISOString(), correlationId: `corr-${orderId}`, orderId, ...fields });
}

/** The event types that move an order's status (their data is a StatusMove). */
type MovingType = { [T in EventType]: EventDataByType[T] extends StatusMove ? T : never }[EventType];
const MOVING_TYPES = ['ORDER_PLACED', 'ORDER_CONFIRMED', 'READY_FOR_PICKUP', 'PICKED_UP', 'ORDER_SHIPPED', 'ORDER_DELIVERED', 'ORDER_CANCELLED', 'RETURN_RECEIVED'] as const satisfies readonly MovingType[];

/** ORDER_PLACED as checkout publishes it: with the order's keys. */
const placed = (orderId: string, keys: OrderKeys) => event('ORDER_PLACED', orderId, { number: 'W1', previousStatus: null, status: 'PLACED', ...keys });
const moved = <T extends MovingType>(type: T, orderId: string, previousStatus: OrderStatusName | null, status: OrderStatusName, fields: Partial<EventMeta> = {}) =>
  // A StatusMove is part of every moving type's data; TypeScript cannot see it through `T`.
  event(type, orderId, { previousStatus, status } as Partial<EventDataByType[T]>, fields);

const PICKUP_AT_3: OrderKeys = { customerId: 'cust-1', pickupLocationId: 'store-003', fulfillmentLocationId: 'store-003' };
const SHIPPED_FROM_WH1: OrderKeys = { customerId: 'cust-2', pickupLocationId: null, fulfillmentLocationId: 'wh-01' };

async function drain(queue: SubscriptionQueue<OrderStatusChangeValue>): Promise<string[]> {
  const out: string[] = [];
  while (queue.size > 0) {
    const c = (await queue.next()).value as OrderStatusChangeValue;
    out.push(`${c.orderId} ${c.previousStatus ?? '-'}>${c.status}`);
  }
  return out;
}

const noLookup: OrderKeysLookup = async (ids) => ids.map(() => new Error('no lookup expected'));

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('statusChangeOf', () => {
  it('reads the move from the event data', () => {
    const e = moved('RETURN_RECEIVED', 'ord-w1', 'PICKED_UP', 'PARTIALLY_RETURNED', { locationId: 'store-003' });
    expect(statusChangeOf(e)).toEqual({ eventId: e.id, orderId: 'ord-w1', previousStatus: 'PICKED_UP', status: 'PARTIALLY_RETURNED', occurredAt: e.occurredAt, correlationId: e.correlationId, sequence: 0 });
    expect(statusChangeOf(moved('ORDER_CANCELLED', 'ord-w1', 'READY_FOR_PICKUP', 'CANCELLED'))).toMatchObject({ previousStatus: 'READY_FOR_PICKUP', status: 'CANCELLED' });
    expect(statusChangeOf(placed('ord-w1', PICKUP_AT_3))).toMatchObject({ previousStatus: null, status: 'PLACED' });
  });

  it('every status event yields the move its data names, whatever the type would suggest', () => {
    for (const type of MOVING_TYPES) {
      const { previousStatus, status } = DEFAULT_EVENT_DATA[type];
      expect(statusChangeOf(event(type, 'ord-w1')), type).toMatchObject({ orderId: 'ord-w1', previousStatus, status });
    }
    // The data, not the type, says where a move came from and went.
    expect(statusChangeOf(moved('RETURN_RECEIVED', 'ord-w1', 'PARTIALLY_RETURNED', 'RETURNED'))).toMatchObject({ previousStatus: 'PARTIALLY_RETURNED', status: 'RETURNED' });
    expect(statusChangeOf(moved('ORDER_CANCELLED', 'ord-w1', 'PLACED', 'CANCELLED'))).toMatchObject({ previousStatus: 'PLACED', status: 'CANCELLED' });
  });

  it('is null for events that move no status, or that belong to no order', () => {
    for (const type of ['PAYMENT_AUTHORIZED', 'INVENTORY_RESERVED', 'INVENTORY_RELEASED', 'RETURN_REQUESTED', 'REFUND_ISSUED', 'INVOICE_ISSUED', 'JOURNAL_POSTED', 'POSTING_FAILED', 'INVENTORY_ADJUSTED', 'MASTER_DATA_REJECTED'] as const) {
      expect(statusChangeOf(event(type, 'ord-w1')), type).toBeNull();
    }
    expect(statusChangeOf(event('ORDER_CONFIRMED', undefined))).toBeNull();
  });

  it("takes an order's keys from its ORDER_PLACED, and from no other event", () => {
    expect(orderKeysOf(placed('ord-w1', SHIPPED_FROM_WH1))).toEqual(SHIPPED_FROM_WH1);
    expect(orderKeysOf(placed('ord-w2', PICKUP_AT_3))).toEqual(PICKUP_AT_3);
    expect(orderKeysOf(moved('ORDER_CONFIRMED', 'ord-w1', 'PLACED', 'CONFIRMED'))).toBeNull();
  });
});

describe('OrderStatusFeed', () => {
  it('hands a move to the listeners of its order, customer and locations only, every given key matching', async () => {
    const backbone = new InMemoryEventBackbone();
    const lookup = vi.fn(noLookup);
    const feed = new OrderStatusFeed({ backbone, lookup });
    const order1 = feed.subscribe({ orderId: 'ord-w1', customerId: null, locationId: null });
    const customer1 = feed.subscribe({ orderId: null, customerId: 'cust-1', locationId: null });
    const store3 = feed.subscribe({ orderId: null, customerId: null, locationId: 'store-003' });
    const wh1 = feed.subscribe({ orderId: null, customerId: null, locationId: 'wh-01' });
    const customer2AtStore3 = feed.subscribe({ orderId: null, customerId: 'cust-2', locationId: 'store-003' });
    const otherOrder = feed.subscribe({ orderId: 'ord-w9', customerId: null, locationId: null });

    await backbone.publish(placed('ord-w1', PICKUP_AT_3));
    await backbone.publish(placed('ord-w2', SHIPPED_FROM_WH1));
    await backbone.publish(event('PAYMENT_AUTHORIZED', 'ord-w1'));
    await backbone.publish(moved('ORDER_CONFIRMED', 'ord-w1', 'PLACED', 'CONFIRMED'));
    await backbone.publish(moved('ORDER_SHIPPED', 'ord-w2', 'CONFIRMED', 'SHIPPED', { locationId: 'wh-01' }));
    await backbone.publish(moved('READY_FOR_PICKUP', 'ord-w1', 'CONFIRMED', 'READY_FOR_PICKUP', { locationId: 'store-003' }));

    expect(await drain(order1)).toEqual(['ord-w1 ->PLACED', 'ord-w1 PLACED>CONFIRMED', 'ord-w1 CONFIRMED>READY_FOR_PICKUP']);
    expect(await drain(customer1)).toEqual(['ord-w1 ->PLACED', 'ord-w1 PLACED>CONFIRMED', 'ord-w1 CONFIRMED>READY_FOR_PICKUP']);
    expect(await drain(store3)).toEqual(['ord-w1 ->PLACED', 'ord-w1 PLACED>CONFIRMED', 'ord-w1 CONFIRMED>READY_FOR_PICKUP']);
    expect(await drain(wh1)).toEqual(['ord-w2 ->PLACED', 'ord-w2 CONFIRMED>SHIPPED']);
    expect(await drain(customer2AtStore3)).toEqual([]);
    expect(await drain(otherOrder)).toEqual([]);
    // Every key came with ORDER_PLACED: the order systems were never asked.
    expect(lookup).not.toHaveBeenCalled();
  });

  it('looks up the keys of orders placed before it listened, once, for the next waiting events together', async () => {
    const backbone = new InMemoryEventBackbone();
    const gate = deferred<void>();
    const lookup = vi.fn<OrderKeysLookup>(async (ids) => {
      await gate.promise;
      return ids.map((id) => (id === 'ord-w1' ? PICKUP_AT_3 : id === 'ord-w2' ? SHIPPED_FROM_WH1 : null));
    });
    const feed = new OrderStatusFeed({ backbone, lookup });
    const store3 = feed.subscribe({ orderId: null, customerId: null, locationId: 'store-003' });
    const customer2 = feed.subscribe({ orderId: null, customerId: 'cust-2', locationId: null });

    await backbone.publish(moved('READY_FOR_PICKUP', 'ord-w1', 'CONFIRMED', 'READY_FOR_PICKUP', { locationId: 'store-003' }));
    await backbone.publish(moved('ORDER_SHIPPED', 'ord-w2', 'CONFIRMED', 'SHIPPED', { locationId: 'wh-01' }));
    await backbone.publish(moved('ORDER_CONFIRMED', 'ord-w4', 'PLACED', 'CONFIRMED'));
    await backbone.publish(placed('ord-w3', { customerId: 'cust-2', pickupLocationId: 'store-003', fulfillmentLocationId: 'store-003' }));
    // The first move waits for its order's keys, and holds back those behind it: nothing is out of order.
    await tick();
    expect([store3.size, customer2.size]).toEqual([0, 0]);
    gate.resolve();
    await tick();
    expect(await drain(store3)).toEqual(['ord-w1 CONFIRMED>READY_FOR_PICKUP', 'ord-w3 ->PLACED']);
    expect(await drain(customer2)).toEqual(['ord-w2 CONFIRMED>SHIPPED', 'ord-w3 ->PLACED']);
    // The first move's lookup went out alone; the orders that queued up behind it were asked for in one call.
    expect(lookup.mock.calls.map(([ids]) => ids)).toEqual([['ord-w1'], ['ord-w2', 'ord-w4']]);

    // Keys are kept: the next move of the same order costs no lookup.
    await backbone.publish(moved('PICKED_UP', 'ord-w1', 'READY_FOR_PICKUP', 'PICKED_UP', { locationId: 'store-003' }));
    expect(await drain(store3)).toEqual(['ord-w1 READY_FOR_PICKUP>PICKED_UP']);
    expect(lookup).toHaveBeenCalledTimes(2);
    expect(feed.cachedKeys).toBe(3);
  });

  it('needs no lookup while only order listeners are there', async () => {
    const backbone = new InMemoryEventBackbone();
    const lookup = vi.fn(noLookup);
    const feed = new OrderStatusFeed({ backbone, lookup });
    const order1 = feed.subscribe({ orderId: 'ord-s1', customerId: null, locationId: null });
    await backbone.publish(moved('ORDER_CANCELLED', 'ord-s1', 'CONFIRMED', 'CANCELLED'));
    expect(await drain(order1)).toEqual(['ord-s1 CONFIRMED>CANCELLED']);
    expect(lookup).not.toHaveBeenCalled();
  });

  it('while the order systems are down, location listeners still get the moves that name their location', async () => {
    const backbone = new InMemoryEventBackbone();
    const warn = vi.fn();
    const feed = new OrderStatusFeed({ backbone, lookup: async () => Promise.reject(new Error('ECOM is unavailable')), logger: { warn, error: vi.fn() } });
    const store3 = feed.subscribe({ orderId: null, customerId: null, locationId: 'store-003' });
    const customer1 = feed.subscribe({ orderId: null, customerId: 'cust-1', locationId: null });
    await backbone.publish(moved('READY_FOR_PICKUP', 'ord-w1', 'CONFIRMED', 'READY_FOR_PICKUP', { locationId: 'store-003' }));
    await backbone.publish(moved('ORDER_CANCELLED', 'ord-w1', 'READY_FOR_PICKUP', 'CANCELLED'));
    await tick();
    expect(await drain(store3)).toEqual(['ord-w1 CONFIRMED>READY_FOR_PICKUP']);
    expect(await drain(customer1)).toEqual([]);
    expect(warn).toHaveBeenCalled();
  });

  it('removes a listener the moment it returns, and lets go of the backbone with the last one', async () => {
    const backbone = new InMemoryEventBackbone();
    const subscribe = vi.spyOn(backbone, 'subscribe');
    const feed = new OrderStatusFeed({ backbone, lookup: noLookup });
    const a = feed.subscribe({ orderId: 'ord-w1', customerId: null, locationId: null });
    const b = feed.subscribe({ orderId: null, customerId: 'cust-1', locationId: null });
    expect(subscribe).toHaveBeenCalledTimes(1);
    const waiting = a.next();
    await a.return();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(feed.listenerCount()).toBe(1);
    await b.return();
    expect(feed.listenerCount()).toBe(0);
    expect(feed.listening).toBe(false);
    await backbone.publish(placed('ord-w1', PICKUP_AT_3));
    expect(a.size + b.size).toBe(0);
  });

  it('hands a move out once, however often an at-least-once backbone repeats it', async () => {
    const handlers = new Set<(event: CanonicalEvent) => void>();
    const history = { events: [], oldest: 1, latest: 0 };
    const backbone = { subscribe: (h: (event: CanonicalEvent) => void) => (handlers.add(h), () => handlers.delete(h)), streamSince: async () => history, streamSinceNow: () => history };
    const feed = new OrderStatusFeed({ backbone, lookup: noLookup });
    const order1 = feed.subscribe({ orderId: 'ord-w1', customerId: null, locationId: null });
    const e = moved('ORDER_CONFIRMED', 'ord-w1', 'PLACED', 'CONFIRMED');
    for (let i = 0; i < 3; i++) for (const h of handlers) h(e);
    expect(await drain(order1)).toEqual(['ord-w1 PLACED>CONFIRMED']);
  });

  it('ends a listener that falls behind with SUBSCRIPTION_OVERFLOW', async () => {
    const backbone = new InMemoryEventBackbone();
    const feed = new OrderStatusFeed({ backbone, lookup: noLookup, capacity: 2 });
    const order1 = feed.subscribe({ orderId: 'ord-w1', customerId: null, locationId: null });
    await backbone.publish(placed('ord-w1', PICKUP_AT_3));
    await backbone.publish(moved('ORDER_CONFIRMED', 'ord-w1', 'PLACED', 'CONFIRMED'));
    await backbone.publish(moved('READY_FOR_PICKUP', 'ord-w1', 'CONFIRMED', 'READY_FOR_PICKUP'));
    expect(feed.listenerCount()).toBe(0);
    await expect(order1.next()).rejects.toMatchObject({ extensions: { code: 'SUBSCRIPTION_OVERFLOW' } });
  });

  it('ends every listener rather than queue without bound behind a lookup that does not answer', async () => {
    const backbone = new InMemoryEventBackbone();
    const feed = new OrderStatusFeed({ backbone, lookup: () => new Promise(() => {}), maxPending: 3 });
    const store3 = feed.subscribe({ orderId: null, customerId: null, locationId: 'store-003' });
    for (let i = 0; i < 4; i++) await backbone.publish(moved('ORDER_CONFIRMED', `ord-w${i}`, 'PLACED', 'CONFIRMED'));
    expect(feed.listenerCount()).toBe(0);
    await expect(store3.next()).rejects.toMatchObject({ extensions: { code: 'SUBSCRIPTION_OVERFLOW' } });
  });
});
