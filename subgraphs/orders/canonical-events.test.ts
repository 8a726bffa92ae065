import { EventOutbox } from '../../common/outbox/event-outbox.js';
import { describe, expect, it } from 'vitest';
import { InMemoryEventBackbone, type CanonicalEvent } from '../../common/events.js';
import { withoutIds } from '../../test/support/events.js';
import { cancellationEvents, completeCancellation, orderSourceOf, stockSourceOf, type CancellationDeps } from './canonical-events.js';
import type { SalesOrder } from './ports.js';

const AT = new Date('2026-11-20T10:00:00.000Z');

const order = (fields: Partial<SalesOrder> = {}): SalesOrder => ({
  id: 'ord-w000042',
  number: 'W1000042',
  status: 'CONFIRMED',
  channel: 'WEB',
  deliveryMethod: 'PICKUP',
  customerId: 'cust-1',
  pickupLocationId: 'store-003',
  fulfillmentLocationId: 'store-003',
  lines: [
    { sku: 'SKU-1', quantity: 2, unitPrice: { minor: 1_000, currency: 'EUR' } },
    { sku: 'SKU-2', quantity: 1, unitPrice: { minor: 500, currency: 'EUR' } },
  ],
  total: { minor: 2_500, currency: 'EUR' },
  placedAt: '2026-11-20T09:00:00.000Z',
  correlationId: 'corr-order-42',
  ...fields,
});

/** The systems a cancellation calls, recording the calls in order; each can be made to fail. */
function systems(fail: { release?: boolean; void?: boolean } = {}) {
  const calls: string[] = [];
  const warnings: unknown[] = [];
  const backbone = new InMemoryEventBackbone();
  const published: CanonicalEvent[] = [];
  backbone.subscribe((e) => published.push(e));
  const deps: CancellationDeps = {
    async release(locationId, lines) {
      calls.push(`release ${locationId} ${lines.map((l) => `${l.quantity}×${l.sku}`).join(',')}`);
      if (fail.release) throw new Error('POS unavailable');
    },
    async voidPayment(orderId) {
      calls.push(`void ${orderId}`);
      if (fail.void) throw new Error('PSP unavailable');
    },
    events: new EventOutbox({ backbone }),
    logger: { warn: (...args: unknown[]) => warnings.push(args) },
    now: () => AT,
  };
  return { deps, calls, warnings, published };
}

describe('orderSourceOf / stockSourceOf', () => {
  it('an order event comes from the store POS, the channel front end or the marketplace; stock from the WMS or the POS', () => {
    expect((['WEB', 'MOBILE', 'STORE', 'MARKETPLACE', 'CALL_CENTER'] as const).map(orderSourceOf)).toEqual(['WEB', 'MOBILE', 'POS', 'MARKETPLACE', 'WEB']);
    expect([stockSourceOf('wh-01'), stockSourceOf('store-003')]).toEqual(['WMS', 'POS']);
  });
});

describe('cancellationEvents', () => {
  it('is ORDER_CANCELLED with the move, then one INVENTORY_RELEASED per line at the fulfilment location, all under the order correlation id', () => {
    const events = cancellationEvents(order(), 'READY_FOR_PICKUP', 'Customer request', true, AT);
    expect(withoutIds(events)).toEqual([
      { type: 'ORDER_CANCELLED', source: 'WEB', occurredAt: AT.toISOString(), correlationId: 'corr-order-42', orderId: 'ord-w000042', data: { reason: 'Customer request', paymentVoided: true, previousStatus: 'READY_FOR_PICKUP', status: 'CANCELLED' } },
      { type: 'INVENTORY_RELEASED', source: 'POS', occurredAt: AT.toISOString(), correlationId: 'corr-order-42', orderId: 'ord-w000042', sku: 'SKU-1', locationId: 'store-003', data: { quantity: 2, reason: 'CANCELLED' } },
      { type: 'INVENTORY_RELEASED', source: 'POS', occurredAt: AT.toISOString(), correlationId: 'corr-order-42', orderId: 'ord-w000042', sku: 'SKU-2', locationId: 'store-003', data: { quantity: 1, reason: 'CANCELLED' } },
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });

  it('names the systems the order and its stock belong to', () => {
    const events = cancellationEvents(order({ channel: 'STORE', deliveryMethod: 'SHIPPING', pickupLocationId: null, fulfillmentLocationId: 'wh-02' }), 'PLACED', 'x', false, AT);
    expect(events.map((e) => [e.type, e.source, e.locationId ?? null])).toEqual([
      ['ORDER_CANCELLED', 'POS', null],
      ['INVENTORY_RELEASED', 'WMS', 'wh-02'],
      ['INVENTORY_RELEASED', 'WMS', 'wh-02'],
    ]);
  });
});

describe('completeCancellation', () => {
  it('gives the stock back, voids the payment, then publishes the one cancellation sequence', async () => {
    const { deps, calls, published, warnings } = systems();
    expect(await completeCancellation(deps, order(), 'CONFIRMED', 'Customer request')).toEqual({ paymentVoided: true });
    expect(calls).toEqual(['release store-003 2×SKU-1,1×SKU-2', 'void ord-w000042']);
    expect(withoutIds(published)).toEqual(withoutIds(cancellationEvents(order(), 'CONFIRMED', 'Customer request', true, AT)));
    expect(warnings).toEqual([]);
  });

  it('when the release fails: runs onReleaseFailed, throws, voids nothing and publishes nothing', async () => {
    const { deps, calls, published } = systems({ release: true });
    const reverted: string[] = [];
    await expect(completeCancellation(deps, order(), 'CONFIRMED', 'Customer request', async () => void reverted.push('status back'))).rejects.toThrow('POS unavailable');
    expect(reverted).toEqual(['status back']);
    expect(calls).toEqual(['release store-003 2×SKU-1,1×SKU-2']);
    expect(published).toEqual([]);
  });

  it('when the void fails: still cancels, with paymentVoided false, and warns', async () => {
    const { deps, published, warnings } = systems({ void: true });
    expect(await completeCancellation(deps, order(), 'PLACED', 'Checkout did not finish')).toEqual({ paymentVoided: false });
    expect(withoutIds(published)).toEqual(withoutIds(cancellationEvents(order(), 'PLACED', 'Checkout did not finish', false, AT)));
    expect(published[0]).toMatchObject({ type: 'ORDER_CANCELLED', data: { paymentVoided: false } });
    expect(warnings).toHaveLength(1);
  });
});
