// The graph classes are decorated at import; type-graphql needs the metadata polyfill loaded first.
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type CanonicalEvent, type EventType } from '../../common/events.js';
import { generateSeedData } from '../../sandbox/seed.js';
import { summarizeEvent, toTimeline } from './timeline.js';

const event = (type: EventType, data: Record<string, unknown> = {}, extra: Partial<CanonicalEvent> = {}): CanonicalEvent => ({
  id: `evt-${type}`,
  type,
  source: 'WEB',
  occurredAt: '2026-11-20T10:00:00.000Z',
  correlationId: 'corr-1',
  orderId: 'ord-w000001',
  data,
  ...extra,
});

describe('event summaries', () => {
  it.each<[EventType, Record<string, unknown>, Partial<CanonicalEvent>, string]>([
    ['ORDER_PLACED', { number: 'W1000001', channel: 'WEB', deliveryMethod: 'SHIPPING', total: 58495, currency: 'EUR', lines: 3 }, {}, 'Order W1000001 placed on WEB: 3 lines, 584.95 EUR'],
    ['ORDER_PLACED', { number: 'S1000002', channel: 'STORE', total: 999, currency: 'EUR', lines: 1 }, {}, 'Order S1000002 placed on STORE: 1 line, 9.99 EUR'],
    ['PAYMENT_AUTHORIZED', { paymentId: 'pay-1', amount: 58495, method: 'GIFT_CARD' }, {}, 'Payment of 584.95 EUR authorized (GIFT_CARD)'],
    ['INVENTORY_RESERVED', { quantity: 1 }, { sku: 'SKU-0413-2', locationId: 'store-003' }, '1 × SKU-0413-2 reserved at store-003'],
    ['INVENTORY_RELEASED', { quantity: 2 }, { sku: 'SKU-0001-1', locationId: 'wh-01' }, '2 × SKU-0001-1 released at wh-01'],
    ['ORDER_CONFIRMED', {}, {}, 'Order confirmed'],
    ['READY_FOR_PICKUP', {}, { locationId: 'store-003' }, 'Ready for pickup at store-003'],
    ['PICKED_UP', {}, { locationId: 'store-003' }, 'Picked up at store-003'],
    ['ORDER_SHIPPED', { shipmentId: 'shp-ord-w000001' }, {}, 'Shipment shp-ord-w000001 shipped'],
    ['ORDER_DELIVERED', { shipmentId: 'shp-ord-w000001' }, {}, 'Shipment shp-ord-w000001 delivered'],
    ['ORDER_CANCELLED', { reason: 'Customer request' }, {}, 'Order cancelled: Customer request'],
    ['RETURN_REQUESTED', { returnId: 'ret-ord-w000001', reason: 'Wrong size' }, {}, 'Return ret-ord-w000001 requested: Wrong size'],
    ['RETURN_RECEIVED', { returnId: 'ret-ord-w000001' }, { locationId: 'wh-02' }, 'Return ret-ord-w000001 received at wh-02'],
    ['REFUND_ISSUED', { refundId: 'ref-1', amount: 1299 }, {}, 'Refund of 12.99 EUR issued'],
    ['INVOICE_ISSUED', { invoiceId: 'inv-1', number: 'INV-2026-000001', total: 58495 }, {}, 'Invoice INV-2026-000001 issued for 584.95 EUR'],
    ['JOURNAL_POSTED', { postingId: 'p', type: 'SALE', amount: 58495, documentNumber: 'FI-00000001' }, {}, 'Journal posting SALE posted as FI-00000001'],
    ['POSTING_FAILED', { postingId: 'p', type: 'SALE', error: 'ERP rejected: posting period closed', attempts: 8 }, {}, 'Posting SALE failed after 8 attempts: ERP rejected: posting period closed'],
  ])('%s reads as a sentence', (type, data, extra, expected) => {
    expect(summarizeEvent(event(type, data, extra))).toBe(expected);
  });

  it('still reads well when the data is missing or of the wrong type', () => {
    expect(summarizeEvent(event('ORDER_PLACED'))).toBe('Order placed');
    expect(summarizeEvent(event('PAYMENT_AUTHORIZED', { amount: 12.5, method: 42 }))).toBe('Payment authorized');
    expect(summarizeEvent(event('INVENTORY_RESERVED', { quantity: 'one' }, { sku: 'SKU-1' }))).toBe('SKU-1 reserved');
    expect(summarizeEvent(event('INVENTORY_RELEASED'))).toBe('Stock released');
    expect(summarizeEvent(event('ORDER_SHIPPED'))).toBe('Order shipped');
    expect(summarizeEvent(event('POSTING_FAILED', { type: 'REFUND', attempts: 1 }))).toBe('Posting REFUND failed after 1 attempt');
    expect(summarizeEvent(event('REFUND_ISSUED', { amount: Number.MAX_VALUE }))).toBe('Refund issued');
    expect(summarizeEvent({ ...event('ORDER_CONFIRMED'), data: null as unknown as Record<string, unknown> })).toBe('Order confirmed');
  });

  it('uses the currency the event names', () => {
    expect(summarizeEvent(event('ORDER_PLACED', { number: 'W1', channel: 'WEB', total: 1500, currency: 'JPY', lines: 2 }))).toBe('Order W1 placed on WEB: 2 lines, 1500 JPY');
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
    // Every type but the rare ones shows up in a small history: the table is exercised on real data.
    expect(seen.size).toBeGreaterThanOrEqual(EVENT_TYPES.length - 2);
  });
});

describe('timeline', () => {
  it('keeps the log order and maps the optional fields to null', () => {
    const log = [event('ORDER_PLACED', { number: 'W1' }), event('INVENTORY_RESERVED', { quantity: 1 }, { id: 'evt-2', source: 'WMS', sku: 'SKU-1', locationId: 'wh-01' })];
    const timeline = toTimeline(log);
    expect(timeline.map((e) => e.id)).toEqual(['evt-ORDER_PLACED', 'evt-2']);
    expect(timeline[0]).toMatchObject({ type: 'ORDER_PLACED', source: 'WEB', sku: null, locationId: null, correlationId: 'corr-1', occurredAt: '2026-11-20T10:00:00.000Z', summary: 'Order W1 placed' });
    expect(timeline[1]).toMatchObject({ source: 'WMS', sku: 'SKU-1', locationId: 'wh-01', summary: '1 × SKU-1 reserved at wh-01' });
  });

  it('leaves out events whose type or source the schema does not know', () => {
    const log = [event('ORDER_CONFIRMED'), { ...event('ORDER_CONFIRMED'), id: 'x', type: 'GIFT_WRAPPED' as EventType }, { ...event('ORDER_CONFIRMED'), id: 'y', source: 'KIOSK' as 'WEB' }];
    expect(toTimeline(log).map((e) => e.id)).toEqual(['evt-ORDER_CONFIRMED']);
  });
});
