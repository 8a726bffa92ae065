import { describe, expect, it, vi } from 'vitest';
import { createEvent, InMemoryEventBackbone, type CanonicalEvent, type EventBackbone, type EventDataByType, type EventMeta, type EventType } from '../../../common/events.js';
import type { SubscriptionQueue } from '../../../common/subscription-queue.js';
import { StockChangeFeed, stockChangesOf, type StockChange } from './stock-change-feed.js';
import { CountingBackbone } from '../../../test/support/counting-backbone.js';
import { DEFAULT_EVENT_DATA, testEvent } from '../../../test/support/events.js';

let sequence = 0;
function meta(fields: Partial<EventMeta> = {}): Partial<EventMeta> {
  sequence++;
  return { id: `evt-${sequence}`, source: 'POS', occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, sequence)).toISOString(), correlationId: `corr-${sequence}`, ...fields };
}

const event = <T extends EventType>(type: T, fields: Partial<EventMeta> = {}, data: Partial<EventDataByType[T]> = {}) => testEvent(type, data, meta(fields));

const adjusted = (locationId: string, sku: string, reason: string, delta: number) => event('INVENTORY_ADJUSTED', { sku, locationId }, { reason, delta, quantity: Math.abs(delta) });


/** Everything a queue holds now, without waiting. */
async function drain(queue: SubscriptionQueue<StockChange>): Promise<StockChange[]> {
  const out: StockChange[] = [];
  while (queue.size > 0) out.push((await queue.next()).value as StockChange);
  return out;
}

const brief = (changes: StockChange[]) => changes.map((c) => `${c.reason} ${c.sku}@${c.locationId} ${c.delta > 0 ? '+' : ''}${c.delta}`);

describe('stockChangesOf', () => {
  it('maps INVENTORY_ADJUSTED to its reason and delta, for every movement reason', () => {
    for (const [reason, delta] of [['SALE', -2], ['RETURN', 1], ['RECEIPT', 10], ['DAMAGE', 3], ['CYCLE_COUNT', -4], ['CYCLE_COUNT', 0], ['TRANSFER_IN', 5], ['TRANSFER_OUT', -5]] as const) {
      const e = adjusted('store-001', 'SKU-1', reason, delta);
      expect(stockChangesOf(e)).toEqual([{ eventId: e.id, sku: 'SKU-1', locationId: 'store-001', reason, delta, occurredAt: e.occurredAt, correlationId: e.correlationId, sequence: 0 }]);
    }
  });

  it('tells an order commitment (with orderId) from a cart hold, and releases are negative', () => {
    const commit = event('INVENTORY_RESERVED', { orderId: 'ord-w1', sku: 'SKU-1', locationId: 'wh-01' }, { quantity: 2 });
    const hold = event('INVENTORY_RESERVED', { sku: 'SKU-1', locationId: 'store-001' }, { quantity: 3, reservationId: 'res-1' });
    const release = event('INVENTORY_RELEASED', { sku: 'SKU-1', locationId: 'store-001' }, { quantity: 3, reason: 'EXPIRED' });
    expect(brief([...stockChangesOf(commit), ...stockChangesOf(hold), ...stockChangesOf(release)])).toEqual([
      'ORDER_COMMITTED SKU-1@wh-01 +2',
      'RESERVED SKU-1@store-001 +3',
      'RELEASED SKU-1@store-001 -3',
    ]);
  });

  it('gives one FULFILLED change per line of a hand-over or shipment, and one RETURN_RECEIVED per returned line', () => {
    const lines = [
      { sku: 'SKU-1', quantity: 2 },
      { sku: 'SKU-2', quantity: 1 },
      { sku: 'SKU-1', quantity: 1 },
    ];
    const pickedUp = event('PICKED_UP', { orderId: 'ord-w1', locationId: 'store-003' }, { lines, total: 100 });
    const shipped = event('ORDER_SHIPPED', { orderId: 'ord-w2', locationId: 'wh-02' }, { lines: lines.slice(0, 2) });
    const returned = event('RETURN_RECEIVED', { orderId: 'ord-w2', locationId: 'wh-02' }, { condition: 'DAMAGED', lines: [{ sku: 'SKU-2', quantity: 1 }] });
    expect(brief(stockChangesOf(pickedUp))).toEqual(['FULFILLED SKU-1@store-003 -3', 'FULFILLED SKU-2@store-003 -1']);
    expect(brief(stockChangesOf(shipped))).toEqual(['FULFILLED SKU-1@wh-02 -2', 'FULFILLED SKU-2@wh-02 -1']);
    expect(brief(stockChangesOf(returned))).toEqual(['RETURN_RECEIVED SKU-2@wh-02 +1']);
    expect(stockChangesOf(pickedUp).every((c) => c.eventId === pickedUp.id)).toBe(true);
  });

  it('ignores events that move no stock, and those that name no location, SKU or movement reason', () => {
    for (const type of ['ORDER_PLACED', 'ORDER_CONFIRMED', 'ORDER_CANCELLED', 'REFUND_ISSUED', 'JOURNAL_POSTED'] as const) {
      expect(stockChangesOf(event(type, { orderId: 'o', locationId: 'store-001', sku: 'S' }))).toEqual([]);
    }
    expect(stockChangesOf(event('PICKED_UP', { orderId: 'o', locationId: 'store-001' }, { lines: [] }))).toEqual([]);
    expect(stockChangesOf(event('PICKED_UP', { orderId: 'o' }, { lines: [{ sku: 'S', quantity: 1 }] }))).toEqual([]);
    expect(stockChangesOf(adjusted('store-001', 'S', 'STOLEN', -1))).toEqual([]);
    expect(stockChangesOf(event('INVENTORY_RELEASED', { locationId: 'store-001' }, { quantity: 1 }))).toEqual([]);
  });
});

describe('StockChangeFeed', () => {
  it('hands a change only to the listeners of its location, and of its SKU when they named SKUs', async () => {
    const backbone = new InMemoryEventBackbone();
    const feed = new StockChangeFeed({ backbone });
    const store1 = feed.subscribe({ locationId: 'store-001', skus: null });
    const store1Sku2 = feed.subscribe({ locationId: 'store-001', skus: ['SKU-2'] });
    const store2 = feed.subscribe({ locationId: 'store-002', skus: null });
    const pushes = vi.spyOn(store2, 'push');
    await backbone.publish(adjusted('store-001', 'SKU-1', 'SALE', -1));
    await backbone.publish(adjusted('store-001', 'SKU-2', 'RECEIPT', 4));
    await backbone.publish(event('PICKED_UP', { orderId: 'o', locationId: 'store-001' }, { lines: [{ sku: 'SKU-2', quantity: 1 }, { sku: 'SKU-3', quantity: 1 }] }));
    // Another store's listener is never handed anything, not even to drop it.
    expect(pushes).not.toHaveBeenCalled();
    expect(brief(await drain(store1))).toEqual(['SALE SKU-1@store-001 -1', 'RECEIPT SKU-2@store-001 +4', 'FULFILLED SKU-2@store-001 -1', 'FULFILLED SKU-3@store-001 -1']);
    expect(brief(await drain(store1Sku2))).toEqual(['RECEIPT SKU-2@store-001 +4', 'FULFILLED SKU-2@store-001 -1']);
    expect(await drain(store2)).toEqual([]);
  });

  it('numbers the changes of a multi-line event one by one, as the location stream counts them, and resumes inside one', async () => {
    const backbone = new InMemoryEventBackbone();
    const lines = [
      { sku: 'SKU-1', quantity: 2 },
      { sku: 'SKU-2', quantity: 1 },
      { sku: 'SKU-1', quantity: 1 },
      { sku: 'SKU-3', quantity: 0 },
    ];
    await backbone.publish(event('INVENTORY_ADJUSTED', { locationId: 'store-007', sku: 'SKU-9' }, { reason: 'RECEIPT', delta: 1, quantity: 1 }));
    const handOver = event('PICKED_UP', { orderId: 'ord-m1', locationId: 'store-007' }, { lines, total: 100 });
    await backbone.publish(handOver);
    const feed = new StockChangeFeed({ backbone });
    // Saw the first line of the hand-over (2), then went away.
    const resumed = feed.subscribe({ locationId: 'store-007', skus: null, after: 2 });
    await backbone.publish(event('INVENTORY_ADJUSTED', { locationId: 'store-007', sku: 'SKU-9' }, { reason: 'RECEIPT', delta: 1, quantity: 1 }));
    feed.close();
    expect((await drain(resumed)).map((c) => `${c.sequence} ${c.sku} ${c.delta}`)).toEqual(['3 SKU-2 -1', '4 SKU-9 1']);
    const all = stockChangesOf((await backbone.streamSince({ kind: 'location', id: 'store-007' }, 0)).events[1]!);
    expect(all.map((c) => `${c.sequence} ${c.sku}`)).toEqual(['2 SKU-1', '3 SKU-2']);
  });

  it('does not even map the events of locations nobody listens to', async () => {
    // A backbone that hands the event as it is (a real one reads the lines to number the location's changes).
    const handlers = new Set<(event: CanonicalEvent) => void>();
    const backbone = { subscribe: (h: (event: CanonicalEvent) => void) => (handlers.add(h), () => handlers.delete(h)), streamSince: async () => ({ events: [], oldest: 1, latest: 0 }), streamSinceNow: () => ({ events: [], oldest: 1, latest: 0 }) };
    const feed = new StockChangeFeed({ backbone });
    feed.subscribe({ locationId: 'store-001', skus: null });
    const lines = vi.fn(() => [{ sku: 'S', quantity: 1 }]);
    // createEvent directly: the fixture's spread of data would read the getter itself.
    const shipped = createEvent('ORDER_SHIPPED', { ...DEFAULT_EVENT_DATA.ORDER_SHIPPED, get lines() { return lines(); } }, { source: 'WMS', orderId: 'o', locationId: 'wh-01' });
    for (const handler of handlers) handler(shipped);
    expect(lines).not.toHaveBeenCalled();
  });

  it('keeps the order in which the changes happened', async () => {
    const backbone = new InMemoryEventBackbone();
    const feed = new StockChangeFeed({ backbone });
    const queue = feed.subscribe({ locationId: 'store-001', skus: ['SKU-1'] });
    const deltas = Array.from({ length: 50 }, (_, i) => (i % 2 ? -(i + 1) : i + 1));
    for (const delta of deltas) await backbone.publish(adjusted('store-001', 'SKU-1', delta < 0 ? 'SALE' : 'RECEIPT', delta));
    expect((await drain(queue)).map((c) => c.delta)).toEqual(deltas);
  });

  it('removes a listener the moment it returns, and lets go of the backbone with the last one', async () => {
    const backbone = new CountingBackbone();
    const feed = new StockChangeFeed({ backbone });
    expect(backbone.live).toBe(0);
    const a = feed.subscribe({ locationId: 'store-001', skus: ['SKU-1', 'SKU-2'] });
    const b = feed.subscribe({ locationId: 'store-001', skus: null });
    expect(backbone.live).toBe(1);
    expect(feed.listenerCount('store-001')).toBe(2);
    const waiting = a.next();
    await a.return();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(feed.listenerCount('store-001')).toBe(1);
    await backbone.publish(adjusted('store-001', 'SKU-1', 'SALE', -1));
    expect(a.size).toBe(0);
    await b.return();
    expect(feed.listenerCount()).toBe(0);
    expect(feed.listening).toBe(false);
    expect(backbone.live).toBe(0);
  });

  it('ends a listener that falls behind with SUBSCRIPTION_OVERFLOW, without disturbing the others', async () => {
    const backbone = new InMemoryEventBackbone();
    const feed = new StockChangeFeed({ backbone, capacity: 3 });
    const slow = feed.subscribe({ locationId: 'store-001', skus: null });
    const other = feed.subscribe({ locationId: 'store-001', skus: null });
    for (let i = 1; i <= 4; i++) {
      await backbone.publish(adjusted('store-001', 'SKU-1', 'RECEIPT', i));
      if (i < 4) await other.next();
    }
    expect(feed.listenerCount('store-001')).toBe(1);
    await expect(slow.next()).rejects.toMatchObject({ extensions: { code: 'SUBSCRIPTION_OVERFLOW' } });
    expect((await other.next()).value?.delta).toBe(4);
  });

  it('hands an event out once, however often an at-least-once backbone repeats it', async () => {
    const handlers = new Set<(event: CanonicalEvent) => void>();
    const backbone = { subscribe: (h: (event: CanonicalEvent) => void) => (handlers.add(h), () => handlers.delete(h)), streamSince: async () => ({ events: [], oldest: 1, latest: 0 }), streamSinceNow: () => ({ events: [], oldest: 1, latest: 0 }) };
    const feed = new StockChangeFeed({ backbone });
    const queue = feed.subscribe({ locationId: 'store-001', skus: null });
    const e = adjusted('store-001', 'SKU-1', 'SALE', -1);
    for (let i = 0; i < 3; i++) for (const h of handlers) h(e);
    expect(brief(await drain(queue))).toEqual(['SALE SKU-1@store-001 -1']);
  });

  it('never fails the publisher, even when a listener cannot take a change', async () => {
    const backbone = new InMemoryEventBackbone();
    const error = vi.fn();
    const feed = new StockChangeFeed({ backbone, logger: { error } });
    const queue = feed.subscribe({ locationId: 'store-001', skus: null });
    vi.spyOn(queue, 'push').mockImplementation(() => {
      throw new Error('boom');
    });
    await expect(backbone.publish(adjusted('store-001', 'SKU-1', 'SALE', -1))).resolves.toBe(true);
    expect(error).toHaveBeenCalledTimes(1);
  });

  it('close() ends every listener after what it holds, and refuses new ones', async () => {
    const backbone: EventBackbone = new CountingBackbone();
    const feed = new StockChangeFeed({ backbone });
    const queue = feed.subscribe({ locationId: 'store-001', skus: null });
    await backbone.publish(adjusted('store-001', 'SKU-1', 'SALE', -1));
    feed.close();
    expect((await queue.next()).value?.delta).toBe(-1);
    expect(await queue.next()).toEqual({ done: true, value: undefined });
    expect((backbone as CountingBackbone).live).toBe(0);
    expect(() => feed.subscribe({ locationId: 'store-001', skus: null })).toThrow(/closed/);
  });
});
