import { createEvent, type CanonicalEvent, type EventBackbone, type EventSource, type OrderStatusName, type StockLineData } from '../../common/events.js';
import type { Logger } from '../../common/logger.js';
import type { ChannelCode, SalesOrder } from './ports.js';

/*
 * The canonical events of an order's life, for checkout, the lifecycle and checkout recovery alike: where an order
 * event comes from, and the one way an order is cancelled.
 */

/** The system an order's events come from: the store's POS, else the channel's front end. */
export const orderSourceOf = (channel: ChannelCode): EventSource => (channel === 'STORE' ? 'POS' : channel === 'MOBILE' ? 'MOBILE' : 'WEB');

/** Stock at a warehouse is the WMS's, at a store the POS's. */
export const stockSourceOf = (locationId: string): EventSource => (locationId.startsWith('wh-') ? 'WMS' : 'POS');

/** The units of each line of an order. */
export const stockLinesOf = (order: SalesOrder): StockLineData[] => order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity }));

/**
 * The events of a cancellation, in the one order every path publishes them: ORDER_CANCELLED (with the move and
 * whether the payment was voided), then one INVENTORY_RELEASED per line at the fulfilment location.
 */
export function cancellationEvents(order: SalesOrder, from: OrderStatusName, reason: string, paymentVoided: boolean, at: Date): CanonicalEvent[] {
  const meta = { correlationId: order.correlationId, orderId: order.id, occurredAt: at };
  const locationId = order.fulfillmentLocationId;
  return [
    createEvent('ORDER_CANCELLED', { reason, paymentVoided, previousStatus: from, status: 'CANCELLED' }, { ...meta, source: orderSourceOf(order.channel) }),
    ...stockLinesOf(order).map((line) =>
      createEvent('INVENTORY_RELEASED', { quantity: line.quantity, reason: 'CANCELLED' }, { ...meta, source: stockSourceOf(locationId), sku: line.sku, locationId }),
    ),
  ];
}

/** What cancelling needs of the systems, whoever cancels. */
export interface CancellationDeps {
  /** Give the order's committed units back (throws when the stock system cannot). */
  release(locationId: string, lines: readonly StockLineData[]): Promise<unknown>;
  /** Void the order's open payment authorizations (voiding none is a no-op). */
  voidPayment(orderId: string): Promise<unknown>;
  backbone: Pick<EventBackbone, 'publish'>;
  logger?: Pick<Logger, 'warn'> | undefined;
  now?: (() => Date) | undefined;
}

/**
 * The one cancellation path, run by whoever won the order's move to CANCELLED (`cancelOrder`, checkout's
 * compensation, checkout recovery): the stock goes back, the payment authorization is voided (best effort: an
 * uncaptured authorization lapses at the PSP by itself), and the events are published. When the release fails,
 * `onReleaseFailed` runs (the caller may put the status back) and the error is thrown; nothing is published.
 */
export async function completeCancellation(
  deps: CancellationDeps,
  order: SalesOrder,
  from: OrderStatusName,
  reason: string,
  onReleaseFailed?: () => Promise<void>,
): Promise<{ paymentVoided: boolean }> {
  try {
    await deps.release(order.fulfillmentLocationId, stockLinesOf(order));
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
  for (const event of cancellationEvents(order, from, reason, paymentVoided, (deps.now ?? (() => new Date()))())) await deps.backbone.publish(event);
  return { paymentVoided };
}
