import { EVENT_SOURCES, EVENT_TYPES, type CanonicalEvent, type EventType } from '../../common/events.js';
import { formatMinor } from '../../common/money.js';
import { OrderEvent } from './order-event.js';

/*
 * Event data is whatever the publisher put there, and later publishers may send less. Every reader below
 * returns undefined for a missing or ill-typed value and every summary reads well without it: a summary must
 * never throw, or one odd event would null the whole timeline.
 */
type Data = Record<string, unknown>;

/** Amounts in event data are integer minor units; ORDER_PLACED names the currency, the others are in EUR. */
const DEFAULT_CURRENCY = 'EUR';

function text(data: Data, key: string): string | undefined {
  const value = data[key];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function count(data: Data, key: string): number | undefined {
  const value = data[key];
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function amount(data: Data, key: string): string | undefined {
  const value = data[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return undefined;
  const currency = text(data, 'currency') ?? DEFAULT_CURRENCY;
  return `${formatMinor(value, currency)} ${currency}`;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const opt = (value: string | undefined, render: (v: string) => string) => (value === undefined ? '' : render(value));
const at = (event: CanonicalEvent) => opt(event.locationId, (l) => ` at ${l}`);

function stock(event: CanonicalEvent, verb: string): string {
  const quantity = count(event.data, 'quantity');
  const what = event.sku ? (quantity === undefined ? event.sku : `${quantity} × ${event.sku}`) : 'Stock';
  return `${what} ${verb}${at(event)}`;
}

const SUMMARIES: { readonly [K in EventType]: (event: CanonicalEvent, data: Data) => string } = {
  ORDER_PLACED(_event, d) {
    const lines = count(d, 'lines');
    const details = [lines === undefined ? undefined : plural(lines, 'line', 'lines'), amount(d, 'total')].filter((x) => x !== undefined);
    return `Order${opt(text(d, 'number'), (n) => ` ${n}`)} placed${opt(text(d, 'channel'), (c) => ` on ${c}`)}${details.length ? `: ${details.join(', ')}` : ''}`;
  },
  PAYMENT_AUTHORIZED: (_e, d) => `Payment${opt(amount(d, 'amount'), (a) => ` of ${a}`)} authorized${opt(text(d, 'method'), (m) => ` (${m})`)}`,
  INVENTORY_RESERVED: (e) => stock(e, 'reserved'),
  INVENTORY_RELEASED: (e) => stock(e, 'released'),
  INVENTORY_ADJUSTED: (e, d) => {
    const delta = typeof d.delta === 'number' && Number.isSafeInteger(d.delta) ? d.delta : undefined;
    return `${e.sku ?? 'Stock'} adjusted${opt(text(d, 'reason'), (r) => ` (${r})`)}${at(e)}${delta === undefined ? '' : `: ${delta > 0 ? '+' : ''}${delta}`}`;
  },
  ORDER_CONFIRMED: () => 'Order confirmed',
  READY_FOR_PICKUP: (e) => `Ready for pickup${at(e)}`,
  PICKED_UP: (e) => `Picked up${at(e)}`,
  ORDER_SHIPPED: (_e, d) => opt(text(d, 'shipmentId'), (s) => `Shipment ${s} shipped`) || 'Order shipped',
  ORDER_DELIVERED: (_e, d) => opt(text(d, 'shipmentId'), (s) => `Shipment ${s} delivered`) || 'Order delivered',
  ORDER_CANCELLED: (_e, d) => `Order cancelled${opt(text(d, 'reason'), (r) => `: ${r}`)}`,
  RETURN_REQUESTED: (_e, d) => `Return${opt(text(d, 'returnId'), (r) => ` ${r}`)} requested${opt(text(d, 'reason'), (r) => `: ${r}`)}`,
  RETURN_RECEIVED: (e, d) => `Return${opt(text(d, 'returnId'), (r) => ` ${r}`)} received${at(e)}`,
  REFUND_ISSUED: (_e, d) => `Refund${opt(amount(d, 'amount'), (a) => ` of ${a}`)} issued`,
  INVOICE_ISSUED: (_e, d) => `Invoice${opt(text(d, 'number'), (n) => ` ${n}`)} issued${opt(amount(d, 'total'), (a) => ` for ${a}`)}`,
  JOURNAL_POSTED: (_e, d) => `Journal posting${opt(text(d, 'type'), (t) => ` ${t}`)} posted${opt(text(d, 'documentNumber'), (n) => ` as ${n}`)}`,
  // Not an order's event (it names master data), but the vocabulary is one: a timeline never shows it.
  MASTER_DATA_REJECTED: (_e, d) => `Master-data change refused${opt(text(d, 'reason'), (r) => `: ${r}`)}`,
  POSTING_FAILED(_e, d) {
    const attempts = count(d, 'attempts');
    return `Posting${opt(text(d, 'type'), (t) => ` ${t}`)} failed${attempts === undefined ? '' : ` after ${plural(attempts, 'attempt', 'attempts')}`}${opt(text(d, 'error'), (e) => `: ${e}`)}`;
  },
};

/** A short human sentence for an event, from its type and data, e.g. "1 × SKU-0413-2 reserved at store-003". */
export function summarizeEvent(event: CanonicalEvent): string {
  const data = typeof event.data === 'object' && event.data !== null ? event.data : {};
  return SUMMARIES[event.type](event, data);
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
