import { assertNever, type CanonicalEvent, type EventType } from '../../../common/events.js';
import type { MoneyValue } from '../../../common/money.js';
import type { PostingTypeCode } from '../ports.js';
import type { PostingRequest } from './posting-state.js';

/*
 * Which canonical events are money the ERP must book, and for how much (their typed data, common/events.ts,
 * names amount and currency):
 *
 *   PICKED_UP, ORDER_SHIPPED   SALE of data.total (data.taxTotal of it tax), once per order
 *   REFUND_ISSUED              REFUND of data.amount (data.taxAmount of it tax)
 *   RETURN_RECEIVED            consumed, but books nothing: a receipt carries no money (the refund does)
 */

export const SALE_EVENTS: readonly EventType[] = ['PICKED_UP', 'ORDER_SHIPPED'];
export const SOURCE_EVENT_TYPES: ReadonlySet<EventType> = new Set<EventType>([...SALE_EVENTS, 'REFUND_ISSUED', 'RETURN_RECEIVED']);

/** The posting that books a source event: its id is derived from the event id, so a redelivery maps to the same posting. */
export const postingIdFor = (eventId: string): string => `post-${eventId}`;

/**
 * The invoice of an order's sale: one per order, so a second hand-over event cannot invoice twice; a split order's
 * parts are invoiced each (`inv-<orderId>-<fulfillmentId>`), as each part's sale is posted.
 */
export const invoiceIdFor = (orderId: string, fulfillmentId?: string | null): string => (fulfillmentId ? `inv-${orderId}-${fulfillmentId}` : `inv-${orderId}`);

/** The part of a split order a sale event is about (ORDER_SHIPPED of one part), else null. */
export const fulfillmentOf = (event: CanonicalEvent): string | null => (event.type === 'ORDER_SHIPPED' ? (event.data.fulfillmentId ?? null) : null);

export function postingTypeOf(type: EventType): PostingTypeCode | null {
  if (SALE_EVENTS.includes(type)) return 'SALE';
  if (type === 'REFUND_ISSUED') return 'REFUND';
  if (type === 'RETURN_RECEIVED') return 'RETURN';
  return null;
}

export type Priced = { ok: true; amount: MoneyValue; tax: MoneyValue | null; type: PostingTypeCode } | { ok: false; reason: string };

const booked = (type: PostingTypeCode, minor: number, currency: string, event: CanonicalEvent, taxMinor?: number): Priced => {
  if (!Number.isSafeInteger(minor) || minor <= 0) return { ok: false, reason: `${event.type} ${event.id} carries no positive amount` };
  // A tax the amount cannot hold is the event's error, not the ERP's: the amount is still booked, without it.
  const tax = taxMinor !== undefined && Number.isSafeInteger(taxMinor) && taxMinor >= 0 && taxMinor <= minor ? { minor: taxMinor, currency } : null;
  return { ok: true, type, amount: { minor, currency }, tax };
};

/** What a source event books. */
export function priceOf(event: CanonicalEvent): Priced {
  if (!event.orderId) return { ok: false, reason: `${event.type} ${event.id} names no order` };
  switch (event.type) {
    case 'PICKED_UP':
    case 'ORDER_SHIPPED':
      return booked('SALE', event.data.total, event.data.currency, event, event.data.taxTotal);
    case 'REFUND_ISSUED':
      return booked('REFUND', event.data.amount, event.data.currency, event, event.data.taxAmount);
    case 'RETURN_RECEIVED':
      return { ok: false, reason: `${event.type} carries no amount (the refund books the money)` };
    case 'ORDER_PLACED':
    case 'PAYMENT_AUTHORIZED':
    case 'INVENTORY_RESERVED':
    case 'INVENTORY_RELEASED':
    case 'ORDER_CONFIRMED':
    case 'READY_FOR_PICKUP':
    case 'ORDER_DELIVERED':
    case 'ORDER_CANCELLED':
    case 'RETURN_REQUESTED':
    case 'INVOICE_ISSUED':
    case 'JOURNAL_POSTED':
    case 'POSTING_FAILED':
    case 'INVENTORY_ADJUSTED':
    case 'MASTER_DATA_REJECTED':
    case 'LOYALTY_POINTS_EARNED':
    case 'LOYALTY_POINTS_REVERSED':
    case 'PICKUP_LOCATION_CHANGED':
    case 'STOCK_EXCEPTION_RAISED':
    // The estimate is in the order's lines; the sale that books it comes at the hand-over.
    case 'TAX_ESTIMATED':
    // What the marketplace was told, and exceptions for customer service: the sale books at the hand-over as any other.
    case 'MARKETPLACE_ORDER_ACKNOWLEDGED':
    case 'MARKETPLACE_ORDER_REJECTED':
    case 'MARKETPLACE_SHIPMENT_CONFIRMED':
    case 'MARKETPLACE_CANCELLATION_CONFIRMED':
    case 'ORDER_REROUTED':
    case 'ORDER_EXCEPTION_RAISED':
      return { ok: false, reason: `${event.type} books nothing` };
    default:
      return assertNever(event);
  }
}

/** The posting request for a source event, or why there is none. */
export function postingRequestFor(event: CanonicalEvent): { ok: true; request: PostingRequest } | { ok: false; reason: string } {
  const priced = priceOf(event);
  if (!priced.ok) return priced;
  const fulfillmentId = fulfillmentOf(event);
  return {
    ok: true,
    request: {
      id: postingIdFor(event.id),
      orderId: event.orderId as string,
      type: priced.type,
      amount: priced.amount,
      ...(priced.tax ? { tax: priced.tax } : {}),
      ...(fulfillmentId ? { fulfillmentId } : {}),
      sourceEventId: event.id,
      sourceType: event.type,
      sourceOccurredAt: event.occurredAt,
      correlationId: event.correlationId,
      ...(event.trace ? { trace: event.trace } : {}),
    },
  };
}

/** A financial fact of one order, read from its events (see reconciliation). */
export interface SourceItem {
  orderId: string;
  type: PostingTypeCode;
  amount: MoneyValue;
  eventId: string;
  occurredAt: string;
  /** The id of the posting the outbox makes for it. */
  postingId: string;
}

/**
 * Every financial fact in one order's events (oldest first): its sale (the first hand-over or shipment: an order
 * is sold once) and its refunds. Events that book nothing (a return's receipt among them) are left out.
 */
export function sourceItemsOf(events: readonly CanonicalEvent[]): SourceItem[] {
  const items: SourceItem[] = [];
  // One sale per order, or per part of a split order.
  const sold = new Set<string>();
  for (const event of events) {
    const type = postingTypeOf(event.type);
    if (!type || !event.orderId) continue;
    const sale = fulfillmentOf(event) ?? '';
    if (type === 'SALE' && sold.has(sale)) continue;
    const priced = priceOf(event);
    if (!priced.ok) continue;
    if (type === 'SALE') sold.add(sale);
    items.push({ orderId: event.orderId, type, amount: priced.amount, eventId: event.id, occurredAt: event.occurredAt, postingId: postingIdFor(event.id) });
  }
  return items;
}
