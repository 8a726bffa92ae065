import type { CanonicalEvent, EventType } from '../../../common/events.js';
import type { MoneyValue } from '../../../common/money.js';
import type { PostingTypeCode } from '../ports.js';
import type { PostingRequest } from './posting-state.js';

/*
 * Which canonical events are money the ERP must book, and for how much. Event data is whatever the publisher put
 * there: every reader here accepts only well-typed values and skips an event it cannot price, never throws.
 *
 *   PICKED_UP, ORDER_SHIPPED   SALE of the order's total (data.total, else the ORDER_PLACED event's), once per order
 *   REFUND_ISSUED              REFUND of data.amount
 *   RETURN_RECEIVED            RETURN of data.amount, when it carries one
 */

export const SALE_EVENTS: readonly EventType[] = ['PICKED_UP', 'ORDER_SHIPPED'];
export const SOURCE_EVENT_TYPES: ReadonlySet<EventType> = new Set<EventType>([...SALE_EVENTS, 'REFUND_ISSUED', 'RETURN_RECEIVED']);

/** The currency of amounts in event data that name none (the sandbox's, as the orders timeline assumes too). */
export const DEFAULT_CURRENCY = 'EUR';

/** The posting that books a source event: its id is derived from the event id, so a redelivery maps to the same posting. */
export const postingIdFor = (eventId: string): string => `post-${eventId}`;

/** The invoice of an order's sale: one per order, so a second hand-over event cannot invoice twice. */
export const invoiceIdFor = (orderId: string): string => `inv-${orderId}`;

function amountOf(data: unknown, key: string): number | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const value = (data as Record<string, unknown>)[key];
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

function currencyOf(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const value = (data as Record<string, unknown>).currency;
  return typeof value === 'string' && /^[A-Z]{3}$/.test(value) ? value : undefined;
}

export function postingTypeOf(type: EventType): PostingTypeCode | null {
  if (SALE_EVENTS.includes(type)) return 'SALE';
  if (type === 'REFUND_ISSUED') return 'REFUND';
  if (type === 'RETURN_RECEIVED') return 'RETURN';
  return null;
}

/** Whether the event needs the order's ORDER_PLACED event to be priced (a hand-over without a total, or no currency). */
export function needsPlacedEvent(event: CanonicalEvent): boolean {
  const type = postingTypeOf(event.type);
  if (!type) return false;
  if (type === 'SALE' && amountOf(event.data, 'total') === undefined) return true;
  return currencyOf(event.data) === undefined;
}

export type Priced = { ok: true; amount: MoneyValue; type: PostingTypeCode } | { ok: false; reason: string };

/** What a source event books, using the order's ORDER_PLACED event (if known) for a missing total or currency. */
export function priceOf(event: CanonicalEvent, placed: CanonicalEvent | undefined): Priced {
  const type = postingTypeOf(event.type);
  if (!type) return { ok: false, reason: `${event.type} books nothing` };
  if (!event.orderId) return { ok: false, reason: `${event.type} ${event.id} names no order` };
  const minor = type === 'SALE' ? (amountOf(event.data, 'total') ?? amountOf(placed?.data, 'total')) : amountOf(event.data, 'amount');
  if (minor === undefined) {
    return { ok: false, reason: type === 'SALE' ? `no total for order ${event.orderId} (neither on ${event.type} nor on ORDER_PLACED)` : `${event.type} ${event.id} carries no amount` };
  }
  const currency = currencyOf(event.data) ?? currencyOf(placed?.data) ?? DEFAULT_CURRENCY;
  return { ok: true, type, amount: { minor, currency } };
}

/** The posting request for a source event, or why there is none. */
export function postingRequestFor(event: CanonicalEvent, placed: CanonicalEvent | undefined): { ok: true; request: PostingRequest } | { ok: false; reason: string } {
  const priced = priceOf(event, placed);
  if (!priced.ok) return priced;
  return {
    ok: true,
    request: {
      id: postingIdFor(event.id),
      orderId: event.orderId as string,
      type: priced.type,
      amount: priced.amount,
      sourceEventId: event.id,
      sourceType: event.type,
      sourceOccurredAt: event.occurredAt,
      correlationId: event.correlationId,
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
 * is sold once), its refunds and its returns that carry an amount. Events that cannot be priced are left out.
 */
export function sourceItemsOf(events: readonly CanonicalEvent[]): SourceItem[] {
  const placed = events.find((e) => e.type === 'ORDER_PLACED');
  const items: SourceItem[] = [];
  let sold = false;
  for (const event of events) {
    const type = postingTypeOf(event.type);
    if (!type || !event.orderId) continue;
    if (type === 'SALE' && sold) continue;
    const priced = priceOf(event, placed);
    if (!priced.ok) continue;
    if (type === 'SALE') sold = true;
    items.push({ orderId: event.orderId, type, amount: priced.amount, eventId: event.id, occurredAt: event.occurredAt, postingId: postingIdFor(event.id) });
  }
  return items;
}
