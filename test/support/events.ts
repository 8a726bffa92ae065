import { createEvent, type CanonicalEvent, type EventDataByType, type EventMeta, type EventOf, type EventSource, type EventType } from '../../common/events.js';

/*
 * Canonical events for tests, built through `createEvent` with full typed data: a test names only the fields it
 * is about, and every other field has a plausible value, so a consumer under test sees what a producer would send.
 */

/** Full data of every event type: one order of two units of one SKU, 10.00 EUR. */
export const DEFAULT_EVENT_DATA: { readonly [T in EventType]: EventDataByType[T] } = {
  ORDER_PLACED: {
    previousStatus: null,
    status: 'PLACED',
    number: 'SO-TEST-1',
    channel: 'WEB',
    deliveryMethod: 'SHIP',
    total: 1_000,
    currency: 'EUR',
    lines: 1,
    customerId: null,
    pickupLocationId: null,
    fulfillmentLocationId: 'wh-1',
  },
  PAYMENT_AUTHORIZED: { paymentId: 'pay-1', amount: 1_000, currency: 'EUR', method: 'CARD' },
  INVENTORY_RESERVED: { quantity: 2 },
  INVENTORY_RELEASED: { quantity: 2 },
  ORDER_CONFIRMED: { previousStatus: 'PLACED', status: 'CONFIRMED' },
  READY_FOR_PICKUP: { previousStatus: 'CONFIRMED', status: 'READY_FOR_PICKUP' },
  PICKED_UP: { previousStatus: 'READY_FOR_PICKUP', status: 'PICKED_UP', total: 1_000, currency: 'EUR', lines: [{ sku: 'SKU-1', quantity: 2 }] },
  ORDER_SHIPPED: { previousStatus: 'CONFIRMED', status: 'SHIPPED', shipmentId: 'shp-1', carrier: 'DHL', trackingNumber: 'TRK-1', total: 1_000, currency: 'EUR', lines: [{ sku: 'SKU-1', quantity: 2 }] },
  ORDER_DELIVERED: { previousStatus: 'SHIPPED', status: 'DELIVERED', shipmentId: 'shp-1' },
  ORDER_CANCELLED: { previousStatus: 'CONFIRMED', status: 'CANCELLED', reason: 'CUSTOMER_REQUEST', paymentVoided: true },
  RETURN_REQUESTED: { returnId: 'ret-1', reason: 'DAMAGED', lines: [{ sku: 'SKU-1', quantity: 1 }] },
  RETURN_RECEIVED: { previousStatus: 'DELIVERED', status: 'PARTIALLY_RETURNED', returnId: 'ret-1', condition: 'RESELLABLE', lines: [{ sku: 'SKU-1', quantity: 1 }] },
  REFUND_ISSUED: { refundId: 'ref-1', amount: 500, currency: 'EUR', returnId: null },
  INVOICE_ISSUED: { invoiceId: 'inv-1', number: 'INV-1', total: 1_000, currency: 'EUR' },
  JOURNAL_POSTED: { postingId: 'post-1', type: 'SALE', amount: 1_000, currency: 'EUR', documentNumber: 'FI-00000001', attempts: 1 },
  POSTING_FAILED: { postingId: 'post-1', type: 'SALE', amount: 1_000, currency: 'EUR', error: 'ERP unavailable', attempts: 1 },
  INVENTORY_ADJUSTED: { reason: 'RECEIPT', delta: 5, quantity: 5, onHandDelta: 5, damagedDelta: 0, onHand: 15, damaged: 0, available: 15 },
  MASTER_DATA_REJECTED: {
    id: 'rej-1',
    sequence: 1,
    at: '2026-03-01T10:00:00.000Z',
    kind: 'PRICE',
    key: 'SKU-1',
    reason: 'BAD_PRICE',
    message: 'price must be a non-negative integer',
    recordedAt: '2026-03-01T10:00:00.000Z',
  },
  PICKUP_LOCATION_CHANGED: { previousStatus: 'CONFIRMED', status: 'CONFIRMED', fromLocationId: 'store-001', toLocationId: 'store-002', lines: [{ sku: 'SKU-0001-1', quantity: 1 }] },
  LOYALTY_POINTS_EARNED: { customerId: 'cust-1', points: 10, balance: 110, reference: 'loy-ord-1-earn' },
  LOYALTY_POINTS_REVERSED: { customerId: 'cust-1', points: 5, balance: 105, reference: 'loy-ret-1-reverse', returnId: 'ret-1' },
  TAX_ESTIMATED: { basis: 'DEFAULT_RATE', country: 'DE', postalCode: '10115', rateBp: 1900, taxTotal: 399, currency: 'EUR', reason: 'TAX_UNAVAILABLE' },
  MARKETPLACE_ORDER_ACKNOWLEDGED: { marketplace: 'MEGAMART', externalOrderId: 'MM-00000001', acknowledgeBy: '2026-03-01T10:15:00.000Z', late: false },
  MARKETPLACE_ORDER_REJECTED: { marketplace: 'MEGAMART', externalOrderId: 'MM-00000002', reasons: ['OUT_OF_STOCK'] },
  MARKETPLACE_SHIPMENT_CONFIRMED: { marketplace: 'MEGAMART', externalOrderId: 'MM-00000001', shipmentId: 'shp-1', carrier: 'DHL', trackingNumber: '00340434161234567890' },
  MARKETPLACE_CANCELLATION_CONFIRMED: { marketplace: 'MEGAMART', externalOrderId: 'MM-00000001', reason: 'Cancelled by the buyer' },
  ORDER_REROUTED: { previousStatus: 'CONFIRMED', status: 'CONFIRMED', fromLocationId: 'store-001', toLocationId: 'store-002', lines: [{ sku: 'SKU-0001-1', quantity: 2 }], shortLines: [{ sku: 'SKU-0001-1', quantity: 1 }] },
  ORDER_EXCEPTION_RAISED: { exceptionId: 'exc-ack-ord-w-1', kind: 'ACK_WINDOW_MISSED', detail: 'not acknowledged to MEGAMART by 2026-03-01T10:15:00.000Z' },
  STOCK_EXCEPTION_RAISED: { exceptionId: 'exc-1', kind: 'OVERSOLD', transactionId: 'pos-txn-1', quantity: 2, shortfall: 1, onHandShortfall: 0, occurredAt: '2026-03-01T10:00:00.000Z', proposal: [{ orderId: 'ord-w-1', orderNumber: 'W-1', quantity: 1, action: 'CANCEL', rerouteLocationId: null }] },
};

/** The system each type usually comes from. */
export const DEFAULT_EVENT_SOURCE: { readonly [T in EventType]: EventSource } = {
  ORDER_PLACED: 'WEB',
  PAYMENT_AUTHORIZED: 'PSP',
  INVENTORY_RESERVED: 'WMS',
  INVENTORY_RELEASED: 'WMS',
  ORDER_CONFIRMED: 'WEB',
  READY_FOR_PICKUP: 'POS',
  PICKED_UP: 'POS',
  ORDER_SHIPPED: 'WMS',
  ORDER_DELIVERED: 'WMS',
  ORDER_CANCELLED: 'WEB',
  RETURN_REQUESTED: 'CRM',
  RETURN_RECEIVED: 'WMS',
  REFUND_ISSUED: 'PSP',
  INVOICE_ISSUED: 'ERP',
  JOURNAL_POSTED: 'ERP',
  POSTING_FAILED: 'ERP',
  INVENTORY_ADJUSTED: 'POS',
  MASTER_DATA_REJECTED: 'ERP',
  PICKUP_LOCATION_CHANGED: 'WEB',
  LOYALTY_POINTS_EARNED: 'CRM',
  LOYALTY_POINTS_REVERSED: 'CRM',
  TAX_ESTIMATED: 'WEB',
  STOCK_EXCEPTION_RAISED: 'POS',
  MARKETPLACE_ORDER_ACKNOWLEDGED: 'MARKETPLACE',
  MARKETPLACE_ORDER_REJECTED: 'MARKETPLACE',
  MARKETPLACE_SHIPMENT_CONFIRMED: 'MARKETPLACE',
  MARKETPLACE_CANCELLATION_CONFIRMED: 'MARKETPLACE',
  ORDER_EXCEPTION_RAISED: 'MARKETPLACE',
  ORDER_REROUTED: 'POS',
};

/**
 * A canonical event of `type`: `data` overrides fields of {@link DEFAULT_EVENT_DATA}, `meta` the envelope (the
 * source defaults to {@link DEFAULT_EVENT_SOURCE}; id, time and correlation id to what `createEvent` stamps).
 */
export function testEvent<T extends EventType>(type: T, data: Partial<EventDataByType[T]> = {}, meta: Partial<EventMeta> = {}): EventOf<T> & CanonicalEvent {
  // The spread of a default and a partial of the same type is that type; TypeScript cannot see it through `T`.
  const full = { ...DEFAULT_EVENT_DATA[type], ...data } as EventDataByType[T];
  return createEvent(type, full, { source: DEFAULT_EVENT_SOURCE[type], ...meta });
}

/** `events` of `type`, with their data typed. */
export function eventsOfType<T extends EventType>(events: readonly CanonicalEvent[], type: T): Array<EventOf<T>> {
  return events.filter((e): e is EventOf<T> & CanonicalEvent => e.type === type);
}

/** `events`, typed as events of `type`; throws (failing the test) when one is of another type. */
export function allOfType<T extends EventType>(events: readonly CanonicalEvent[], type: T): Array<EventOf<T>> {
  const other = events.find((e) => e.type !== type);
  if (other) throw new Error(`expected only ${type} events, got ${other.type} (${other.id})`);
  return eventsOfType(events, type);
}

/** Events without their ids (which `createEvent` makes fresh), to compare two runs of the same producer. */
export function withoutIds(events: readonly CanonicalEvent[]): Array<Omit<CanonicalEvent, 'id' | 'sequences'>> {
  // The backbone's stamp (the streams' sequences) is not the producer's: compare what the producer made.
  return events.map(({ id: _id, sequences: _sequences, ...rest }) => rest);
}

/** Stream-sequence fixtures (memory and Redis sequencer tests): a till sale of SKU-1 at a location. */
export const adjustedAt = (locationId: string, id: string): CanonicalEvent =>
  createEvent('INVENTORY_ADJUSTED', { reason: 'SALE', delta: -1, quantity: 1, onHandDelta: -1, damagedDelta: 0, onHand: 9, damaged: 0, available: 9 }, { source: 'POS', locationId, sku: 'SKU-1', id });

/** A hand-over of several SKUs at one store: one change per SKU in the location's stream, one status move in the order's. */
export const handOverAt = (orderId: string, locationId: string, id: string, skus: string[]): CanonicalEvent =>
  createEvent('PICKED_UP', { previousStatus: 'READY_FOR_PICKUP', status: 'PICKED_UP', currency: 'EUR', total: 100, lines: skus.map((sku) => ({ sku, quantity: 1 })) }, { source: 'POS', orderId, locationId, id });

/** A hand-over of one unit of SKU-1. */
export const pickedUpAt = (orderId: string, locationId: string, id: string): CanonicalEvent => handOverAt(orderId, locationId, id, ['SKU-1']);

