// The graph classes are decorated at import; type-graphql needs the metadata polyfill loaded first.
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type CanonicalEvent, type EventDataByType, type EventMeta, type EventType } from '../../common/events.js';
import { generateSeedData } from '../../sandbox/seed.js';
import { testEvent } from '../../test/support/events.js';
import { summarizeEvent, toTimeline } from './timeline.js';

const event = <T extends EventType>(type: T, data: Partial<EventDataByType[T]> = {}, extra: Partial<EventMeta> = {}) =>
  testEvent(type, data, { id: `evt-${type}`, source: 'WEB', occurredAt: '2026-11-20T10:00:00.000Z', correlationId: 'corr-1', orderId: 'ord-w000001', ...extra });

describe('event summaries', () => {
  it.each<[CanonicalEvent, string]>([
    [event('ORDER_PLACED', { number: 'W1000001', channel: 'WEB', deliveryMethod: 'SHIPPING', total: 58495, currency: 'EUR', lines: 3 }), 'Order W1000001 placed on WEB: 3 lines, 584.95 EUR'],
    [event('ORDER_PLACED', { number: 'S1000002', channel: 'STORE', total: 999, currency: 'EUR', lines: 1 }), 'Order S1000002 placed on STORE: 1 line, 9.99 EUR'],
    [event('PAYMENT_AUTHORIZED', { paymentId: 'pay-1', amount: 58495, currency: 'EUR', method: 'GIFT_CARD' }), 'Payment of 584.95 EUR authorized (GIFT_CARD)'],
    [event('INVENTORY_RESERVED', { quantity: 1 }, { sku: 'SKU-0413-2', locationId: 'store-003' }), '1 × SKU-0413-2 reserved at store-003'],
    [event('INVENTORY_RELEASED', { quantity: 2 }, { sku: 'SKU-0001-1', locationId: 'wh-01' }), '2 × SKU-0001-1 released at wh-01'],
    [event('INVENTORY_ADJUSTED', { reason: 'DAMAGE', delta: -2 }, { sku: 'SKU-0001-1', locationId: 'store-003' }), 'SKU-0001-1 adjusted (DAMAGE) at store-003: -2'],
    [event('ORDER_CONFIRMED'), 'Order confirmed'],
    [event('READY_FOR_PICKUP', {}, { locationId: 'store-003' }), 'Ready for pickup at store-003'],
    [event('PICKED_UP', {}, { locationId: 'store-003' }), 'Picked up at store-003'],
    [event('ORDER_SHIPPED', { shipmentId: 'shp-ord-w000001' }), 'Shipment shp-ord-w000001 shipped'],
    [event('ORDER_DELIVERED', { shipmentId: 'shp-ord-w000001' }), 'Shipment shp-ord-w000001 delivered'],
    [event('ORDER_CANCELLED', { reason: 'Customer request' }), 'Order cancelled: Customer request'],
    [event('RETURN_REQUESTED', { returnId: 'ret-ord-w000001', reason: 'Wrong size' }), 'Return ret-ord-w000001 requested: Wrong size'],
    [event('RETURN_RECEIVED', { returnId: 'ret-ord-w000001' }, { locationId: 'wh-02' }), 'Return ret-ord-w000001 received at wh-02'],
    [event('REFUND_ISSUED', { refundId: 'ref-1', amount: 1299, currency: 'EUR' }), 'Refund of 12.99 EUR issued'],
    [event('INVOICE_ISSUED', { invoiceId: 'inv-1', number: 'INV-2026-000001', total: 58495, currency: 'EUR' }), 'Invoice INV-2026-000001 issued for 584.95 EUR'],
    [event('JOURNAL_POSTED', { postingId: 'p', type: 'SALE', amount: 58495, documentNumber: 'FI-00000001' }), 'Journal posting SALE posted as FI-00000001'],
    [event('POSTING_FAILED', { postingId: 'p', type: 'SALE', error: 'ERP rejected: posting period closed', attempts: 8 }), 'Posting SALE failed after 8 attempts: ERP rejected: posting period closed'],
    [event('MASTER_DATA_REJECTED', { reason: 'BAD_PRICE' }), 'Master-data change refused: BAD_PRICE'],
  ])('%# reads as a sentence', (e, expected) => {
    expect(summarizeEvent(e)).toBe(expected);
  });

  it('leaves out what an event does not have: no SKU, no shipment, no document number, an empty text', () => {
    expect(summarizeEvent(event('INVENTORY_RELEASED'))).toBe('Stock released');
    expect(summarizeEvent(event('INVENTORY_RESERVED', {}, { sku: 'SKU-1' }))).toBe('2 × SKU-1 reserved');
    expect(summarizeEvent(event('ORDER_DELIVERED', { shipmentId: null }))).toBe('Order delivered');
    expect(summarizeEvent(event('ORDER_CANCELLED', { reason: ' ' }))).toBe('Order cancelled');
    expect(summarizeEvent(event('JOURNAL_POSTED', { type: 'REFUND', documentNumber: null }))).toBe('Journal posting REFUND posted');
    expect(summarizeEvent(event('POSTING_FAILED', { type: 'REFUND', attempts: 1, error: '' }))).toBe('Posting REFUND failed after 1 attempt');
  });

  it('uses the currency the event names, never an assumed one', () => {
    expect(summarizeEvent(event('ORDER_PLACED', { number: 'W1', channel: 'WEB', total: 1500, currency: 'JPY', lines: 2 }))).toBe('Order W1 placed on WEB: 2 lines, 1500 JPY');
    expect(summarizeEvent(event('PAYMENT_AUTHORIZED', { amount: 2_500, currency: 'CHF', method: 'CARD' }))).toBe('Payment of 25.00 CHF authorized (CARD)');
    expect(summarizeEvent(event('REFUND_ISSUED', { amount: 1_299, currency: 'GBP' }))).toBe('Refund of 12.99 GBP issued');
    expect(summarizeEvent(event('INVOICE_ISSUED', { number: 'INV-1', total: 700, currency: 'CHF' }))).toBe('Invoice INV-1 issued for 7.00 CHF');
  });

  it('summarises every event the sandbox history holds', () => {
    const { events } = generateSeedData({ seed: 42, scale: 0.05 });
    const seen = new Set<EventType>();
    for (const e of events) {
      const summary = summarizeEvent(e);
      expect(summary.length).toBeGreaterThan(5);
      expect(summary).not.toMatch(/undefined|null|NaN|\[object/);
      seen.add(e.type);
    }
    // Every type but the rare ones shows up in a small history: the table is exercised on real data. Types of flows
    // that only run live are never in the seeded past.
    const liveOnly = new Set<EventType>([
      'LOYALTY_POINTS_EARNED',
      'LOYALTY_POINTS_REVERSED',
      'PICKUP_LOCATION_CHANGED',
      'STOCK_EXCEPTION_RAISED',
      'TAX_ESTIMATED',
      'MARKETPLACE_ORDER_ACKNOWLEDGED',
      'MARKETPLACE_ORDER_REJECTED',
      'MARKETPLACE_SHIPMENT_CONFIRMED',
      'MARKETPLACE_CANCELLATION_CONFIRMED',
      'ORDER_EXCEPTION_RAISED',
      'ORDER_REROUTED',
    ]);
    expect(seen.size).toBeGreaterThanOrEqual(EVENT_TYPES.filter((t) => !liveOnly.has(t)).length - 2);
  });

  it('summarises loyalty entries without the balance (the timeline is not the customer account)', () => {
    expect(summarizeEvent(event('LOYALTY_POINTS_EARNED', { points: 24, balance: 1_024 }))).toBe('24 loyalty points earned');
    expect(summarizeEvent(event('LOYALTY_POINTS_EARNED', { points: 1 }))).toBe('1 loyalty point earned');
    expect(summarizeEvent(event('LOYALTY_POINTS_REVERSED', { points: 8, returnId: 'ret-w000001' }))).toBe('8 loyalty points reversed for return ret-w000001');
  });
});

describe('timeline', () => {
  it('keeps the log order and maps the optional fields to null', () => {
    const log = [event('ORDER_PLACED', { number: 'W1', lines: 1, total: 1_000, currency: 'EUR' }), event('INVENTORY_RESERVED', { quantity: 1 }, { id: 'evt-2', source: 'WMS', sku: 'SKU-1', locationId: 'wh-01' })];
    const timeline = toTimeline(log);
    expect(timeline.map((e) => e.id)).toEqual(['evt-ORDER_PLACED', 'evt-2']);
    expect(timeline[0]).toMatchObject({ type: 'ORDER_PLACED', source: 'WEB', sku: null, locationId: null, correlationId: 'corr-1', occurredAt: '2026-11-20T10:00:00.000Z', summary: 'Order W1 placed on WEB: 1 line, 10.00 EUR' });
    expect(timeline[1]).toMatchObject({ source: 'WMS', sku: 'SKU-1', locationId: 'wh-01', summary: '1 × SKU-1 reserved at wh-01' });
  });

  it('leaves out events whose type or source the schema does not know', () => {
    // What a newer publisher might send: outside this build's types, hence the casts.
    const log = [event('ORDER_CONFIRMED'), { ...event('ORDER_CONFIRMED'), id: 'x', type: 'GIFT_WRAPPED' } as unknown as CanonicalEvent, { ...event('ORDER_CONFIRMED'), id: 'y', source: 'KIOSK' } as unknown as CanonicalEvent];
    expect(toTimeline(log).map((e) => e.id)).toEqual(['evt-ORDER_CONFIRMED']);
  });
});
