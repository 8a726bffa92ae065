import { describe, expect, it, vi } from 'vitest';
import { InMemoryEventBackbone } from '../../../common/events.js';
import type { SubscriptionQueue } from '../../../common/subscription-queue.js';
import { testEvent } from '../../../test/support/events.js';
import { OrderStatusFeed, statusChangeOf, type OrderKeysLookup, type OrderStatusChangeValue } from './order-status-feed.js';

/* PICKUP_LOCATION_CHANGED in the order status feed: both stores hear of it, and later moves are the new store's. */

let n = 0;
const meta = (orderId: string, locationId?: string) => ({ id: `evt-pcf-${++n}`, source: 'WEB' as const, correlationId: `corr-${orderId}`, orderId, ...(locationId ? { locationId } : {}) });
const keys = { customerId: 'cust-1', pickupLocationId: 'store-001', fulfillmentLocationId: 'store-001' };

async function drain(queue: SubscriptionQueue<OrderStatusChangeValue>): Promise<string[]> {
  const out: string[] = [];
  while (queue.size > 0) {
    const c = (await queue.next()).value as OrderStatusChangeValue;
    out.push(`${c.orderId} ${c.previousStatus ?? '-'}>${c.status}`);
  }
  return out;
}

describe('PICKUP_LOCATION_CHANGED in the order status feed', () => {
  it('is a change of the order’s stream that keeps its status', () => {
    const e = testEvent('PICKUP_LOCATION_CHANGED', { previousStatus: 'CONFIRMED', status: 'CONFIRMED', fromLocationId: 'store-001', toLocationId: 'store-002' }, meta('ord-w1', 'store-002'));
    expect(statusChangeOf(e)).toMatchObject({ orderId: 'ord-w1', previousStatus: 'CONFIRMED', status: 'CONFIRMED' });
  });

  it('reaches the old and the new store, and the order’s later moves reach the new store only', async () => {
    const backbone = new InMemoryEventBackbone();
    const lookup = vi.fn<OrderKeysLookup>(async (ids) => ids.map(() => new Error('no lookup expected')));
    const feed = new OrderStatusFeed({ backbone, lookup });
    const oldStore = feed.subscribe({ orderId: null, customerId: null, locationId: 'store-001' });
    const newStore = feed.subscribe({ orderId: null, customerId: null, locationId: 'store-002' });
    const customer = feed.subscribe({ orderId: null, customerId: 'cust-1', locationId: null });

    await backbone.publish(testEvent('ORDER_PLACED', { number: 'W1', previousStatus: null, status: 'PLACED', ...keys }, meta('ord-w1')));
    await backbone.publish(testEvent('PICKUP_LOCATION_CHANGED', { previousStatus: 'PLACED', status: 'PLACED', fromLocationId: 'store-001', toLocationId: 'store-002' }, meta('ord-w1', 'store-002')));
    await backbone.publish(testEvent('ORDER_CONFIRMED', { previousStatus: 'PLACED', status: 'CONFIRMED' }, meta('ord-w1')));

    expect(await drain(oldStore)).toEqual(['ord-w1 ->PLACED', 'ord-w1 PLACED>PLACED']);
    expect(await drain(newStore)).toEqual(['ord-w1 PLACED>PLACED', 'ord-w1 PLACED>CONFIRMED']);
    expect(await drain(customer)).toEqual(['ord-w1 ->PLACED', 'ord-w1 PLACED>PLACED', 'ord-w1 PLACED>CONFIRMED']);
    expect(lookup).not.toHaveBeenCalled();
    feed.close();
  });
});
