import { fulfillmentsOf } from './fulfillments.js';
import { randomUUID } from 'node:crypto';
import { createEvent, type CanonicalEvent, type EventSource, type EventType, type OrderStatusName, type StockLineData } from '../../common/events.js';
import type { EventEmitter } from '../../common/outbox/event-outbox.js';
import type { Logger } from '../../common/logger.js';
import type { ChannelCode, SalesOrder } from './ports.js';
import { shortDigest } from '../../common/digest.js';

/*
 * The canonical events of an order's life, for checkout, the lifecycle and checkout recovery alike: where an order
 * event comes from, and the one way an order is cancelled.
 */

/** The system an order's events come from: the store's POS, else the channel's front end. */
export const orderSourceOf = (channel: ChannelCode): EventSource => (channel === 'STORE' ? 'POS' : channel === 'MOBILE' ? 'MOBILE' : channel === 'MARKETPLACE' ? 'MARKETPLACE' : 'WEB');

/** Stock at a warehouse is the WMS's, at a store the POS's. */
export const stockSourceOf = (locationId: string): EventSource => (locationId.startsWith('wh-') ? 'WMS' : 'POS');

/** The units of each line of an order. */
export const stockLinesOf = (order: SalesOrder): StockLineData[] => order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity }));

/**
 * The events of a cancellation, in the one order every path publishes them: ORDER_CANCELLED (with the move and
 * whether the payment was voided), then one INVENTORY_RELEASED per line at the fulfilment location.
 */
export function cancellationEvents(order: SalesOrder, from: OrderStatusName, reason: string, paymentVoided: boolean, at: Date, idPrefix?: string): CanonicalEvent[] {
  const meta = { correlationId: order.correlationId, orderId: order.id, occurredAt: at };
  const id = (suffix: string) => (idPrefix ? { id: `${idPrefix}-${suffix}` } : {});
  // Per part of a split order, at its location; the numbering runs on, so a single-part order's ids are as they were.
  let n = 0;
  const released = fulfillmentsOf(order).flatMap((part) =>
    part.lines.map((line) => {
      const i = n++;
      return createEvent('INVENTORY_RELEASED', { quantity: line.quantity, reason: 'CANCELLED' }, { ...meta, ...id(`released-${i}`), source: stockSourceOf(part.locationId), sku: line.sku, locationId: part.locationId });
    }),
  );
  return [createEvent('ORDER_CANCELLED', { reason, paymentVoided, previousStatus: from, status: 'CANCELLED' }, { ...meta, ...id('cancelled'), source: orderSourceOf(order.channel) }), ...released];
}

/** An event of a move, by the move's reference: whoever says it again (a resume, recovery) says the same event. */
export const moveEventId = (reference: string, type: EventType): string => `evt-mv-${shortDigest(reference)}-${type}`;

/**
 * The reference of a cancellation that checkout or checkout recovery makes (`by`), for the status move PLACED →
 * CANCELLED: the order keeps the move unsettled until its stock is back and its events are out, so that a runner
 * that dies in between (kill -9), or whose release fails, leaves it to move recovery (lifecycle.service.ts
 * `recoverUnsettledMoves`), which releases by the checkout's reference once. Never a CANCELLED order still holding
 * its units, and never an order put back to PLACED after a release that may have landed. One of its own per run: of two
 * runs cancelling the same order (two instances' recovery), the status move lets exactly one through, where a shared
 * reference would answer the second as a repeat of the first.
 */
export const checkoutCancelReference = (order: SalesOrder, by: 'checkout' | 'recovery'): string => `${order.id}:CANCEL:${by}-${randomUUID()}`;

/** What cancelling needs of the systems, whoever cancels. */
export interface CancellationDeps {
  /** Give the order's committed units back: its checkout's commitment, once, when it has one (throws when the stock system cannot). */
  release(locationId: string, lines: readonly StockLineData[], reference: string | null): Promise<unknown>;
  /** Void the order's open payment authorizations (voiding none is a no-op). */
  voidPayment(orderId: string): Promise<unknown>;
  events: EventEmitter;
  logger?: Pick<Logger, 'warn'> | undefined;
  now?: (() => Date) | undefined;
}

/**
 * The one cancellation path, run by whoever won the order's move to CANCELLED (`cancelOrder`, checkout's
 * compensation, checkout recovery): the stock goes back, the payment authorization is voided (best effort: an
 * uncaptured authorization lapses at the PSP by itself), and the events go to the outbox as one batch. When the release fails,
 * `onReleaseFailed` runs (the caller may put the status back) and the error is thrown; nothing is published.
 */
export async function completeCancellation(
  deps: CancellationDeps,
  order: SalesOrder,
  from: OrderStatusName,
  reason: string,
  onReleaseFailed?: () => Promise<void>,
  /** Ids for the events, so that finishing the same cancellation again (a resume, recovery) says nothing twice. @default fresh ids */
  idPrefix?: string,
): Promise<{ paymentVoided: boolean }> {
  try {
    // Every part's commitment (one for an order shipped whole), each once by the checkout's reference.
    for (const part of fulfillmentsOf(order)) await deps.release(part.locationId, part.lines, order.checkoutReference ?? null);
  } catch (error) {
    await onReleaseFailed?.();
    throw error;
  }
  let paymentVoided = true;
  try {
    await deps.voidPayment(order.id);
  } catch (error) {
    paymentVoided = false;
    deps.logger?.warn({ orderId: order.id, err: (error as Error).message }, 'cancelled order: the payment authorization could not be voided; it lapses at the PSP');
  }
  await deps.events.emit(cancellationEvents(order, from, reason, paymentVoided, (deps.now ?? (() => new Date()))(), idPrefix));
  return { paymentVoided };
}
