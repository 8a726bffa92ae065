import { EVENT_SOURCES, EVENT_TYPES, type CanonicalEvent, type EventOf, type EventType } from '../../common/events.js';
import { formatMinor } from '../../common/money.js';
import { OrderEvent } from './order-event.js';

/*
 * A human sentence per event, from its typed data (common/events.ts): every event with an amount names its
 * currency, so nothing is assumed here. Optional texts are left out when empty.
 */

const money = (minor: number, currency: string) => `${formatMinor(minor, currency)} ${currency}`;
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const opt = (value: string | null | undefined, render: (v: string) => string) => (value === undefined || value === null || value.trim() === '' ? '' : render(value));
const at = (event: CanonicalEvent) => opt(event.locationId, (l) => ` at ${l}`);
const stock = (event: EventOf<'INVENTORY_RESERVED' | 'INVENTORY_RELEASED'>, verb: string) => `${event.sku ? `${event.data.quantity} × ${event.sku}` : 'Stock'} ${verb}${at(event)}`;

const SUMMARIES: { readonly [K in EventType]: (event: EventOf<K>) => string } = {
  ORDER_PLACED: ({ data: d }) => `Order ${d.number} placed on ${d.channel}: ${plural(d.lines, 'line', 'lines')}, ${money(d.total, d.currency)}`,
  PAYMENT_AUTHORIZED: ({ data: d }) => `Payment of ${money(d.amount, d.currency)} authorized (${d.method})`,
  INVENTORY_RESERVED: (e) => stock(e, 'reserved'),
  INVENTORY_RELEASED: (e) => stock(e, 'released'),
  INVENTORY_ADJUSTED: (e) => `${e.sku ?? 'Stock'} adjusted${opt(e.data.reason, (r) => ` (${r})`)}${at(e)}: ${e.data.delta > 0 ? '+' : ''}${e.data.delta}`,
  ORDER_CONFIRMED: () => 'Order confirmed',
  READY_FOR_PICKUP: (e) => `Ready for pickup${at(e)}`,
  PICKED_UP: (e) => `Picked up${at(e)}`,
  ORDER_SHIPPED: ({ data: d }) => `Shipment ${d.shipmentId} shipped`,
  ORDER_DELIVERED: ({ data: d }) => opt(d.shipmentId, (s) => `Shipment ${s} delivered`) || 'Order delivered',
  ORDER_CANCELLED: ({ data: d }) => `Order cancelled${opt(d.reason, (r) => `: ${r}`)}`,
  RETURN_REQUESTED: ({ data: d }) => `Return ${d.returnId} requested${opt(d.reason, (r) => `: ${r}`)}`,
  RETURN_RECEIVED: (e) => `Return ${e.data.returnId} received${at(e)}`,
  REFUND_ISSUED: ({ data: d }) => `Refund of ${money(d.amount, d.currency)} issued`,
  INVOICE_ISSUED: ({ data: d }) => `Invoice ${d.number} issued for ${money(d.total, d.currency)}`,
  JOURNAL_POSTED: ({ data: d }) => `Journal posting ${d.type} posted${opt(d.documentNumber, (n) => ` as ${n}`)}`,
  // Not an order's event (it names master data), but the vocabulary is one: a timeline never shows it.
  MASTER_DATA_REJECTED: ({ data: d }) => `Master-data change refused: ${d.reason}`,
  PICKUP_LOCATION_CHANGED: ({ data: d }) => `Pickup store changed from ${d.fromLocationId} to ${d.toLocationId}`,
  POSTING_FAILED: ({ data: d }) => `Posting ${d.type} failed after ${plural(d.attempts, 'attempt', 'attempts')}${opt(d.error, (e) => `: ${e}`)}`,
  // Never the balance: whoever sees the order's timeline (its store's associates too) does not see the customer's account.
  LOYALTY_POINTS_EARNED: ({ data: d }) => `${plural(d.points, 'loyalty point', 'loyalty points')} earned`,
  LOYALTY_POINTS_REVERSED: ({ data: d }) => `${plural(d.points, 'loyalty point', 'loyalty points')} reversed for return ${d.returnId}`,
  TAX_ESTIMATED: ({ data: d }) => `Tax estimated at ${d.rateBp / 100} % (${d.basis === 'LAST_RATE' ? 'last known rate' : 'default rate'} for ${d.country}), flagged for review: ${d.reason}`,
  MARKETPLACE_ORDER_ACKNOWLEDGED: ({ data: d }) => `Acknowledged to ${d.marketplace} as ${d.externalOrderId}${d.late ? ' (after its acknowledgement window)' : ''}`,
  // Names no order of ours (none was made): a timeline never shows it.
  MARKETPLACE_ORDER_REJECTED: ({ data: d }) => `${d.marketplace} order ${d.externalOrderId} rejected: ${d.reasons.join(', ')}`,
  MARKETPLACE_SHIPMENT_CONFIRMED: ({ data: d }) => `Shipment confirmed to ${d.marketplace}${opt(d.trackingNumber, (t) => ` (tracking ${t})`)}`,
  MARKETPLACE_CANCELLATION_CONFIRMED: ({ data: d }) => `Cancellation confirmed to ${d.marketplace}: ${d.reason}`,
  ORDER_REROUTED: ({ data: d }) => `Rerouted from ${d.fromLocationId} to ${d.toLocationId}: ${d.shortLines.map((l) => `${l.quantity} × ${l.sku}`).join(', ')} short`,
  ORDER_EXCEPTION_RAISED: ({ data: d }) => `Exception ${d.kind} for customer service: ${d.detail}`,
  // A location's event (it names no order): a timeline never shows it.
  STOCK_EXCEPTION_RAISED: (e) => `${e.data.kind} at ${e.locationId ?? 'a location'}: ${plural(e.data.shortfall, 'unit', 'units')} of ${e.sku ?? 'a SKU'} short`,
};

/** A short human sentence for an event, from its type and data, e.g. "1 × SKU-0413-2 reserved at store-003". */
export function summarizeEvent(event: CanonicalEvent): string {
  // TypeScript cannot correlate the table's key with the event's type; the mapped type above guarantees it.
  return (SUMMARIES[event.type] as (event: CanonicalEvent) => string)(event);
}

const knownTypes: ReadonlySet<string> = new Set(EVENT_TYPES);
const knownSources: ReadonlySet<string> = new Set(EVENT_SOURCES);

/**
 * The timeline of one order: the backbone's events, already oldest first, as the graph shows them. An event
 * whose type or source this schema does not know yet (a newer publisher's) is left out: it could not be
 * serialised, and failing the whole timeline for it would hide every event the client can read.
 */
export function toTimeline(events: readonly CanonicalEvent[]): OrderEvent[] {
  return events
    .filter((e) => knownTypes.has(e.type) && knownSources.has(e.source))
    .map((e) =>
      Object.assign(new OrderEvent(), {
        id: e.id,
        type: e.type,
        source: e.source,
        occurredAt: e.occurredAt,
        correlationId: e.correlationId,
        summary: summarizeEvent(e),
        sku: e.sku ?? null,
        locationId: e.locationId ?? null,
      }),
    );
}
