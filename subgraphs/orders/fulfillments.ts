import { copyFulfillments, type FulfillmentPartRecord } from '../../common/systems/records.js';
import type { SalesOrder } from './ports.js';

/*
 * Split shipments: an order no single location can take ships in parts, one per location, each committed there
 * under the order's checkout reference (the stock books key commitments by location and reference, so an order has
 * at most one part per location). Every stock path goes through `fulfillmentsOf`, which answers one implicit part for
 * an order shipped whole, so split and unsplit orders are handled alike.
 */

export type FulfillmentPart = FulfillmentPartRecord;

/** The order's shipments: its parts when split, else one at its fulfilment location with every line. */
export function fulfillmentsOf(order: Pick<SalesOrder, 'status' | 'fulfillmentLocationId' | 'lines' | 'fulfillments'>): FulfillmentPart[] {
  if (order.fulfillments && order.fulfillments.length > 1) return copyFulfillments(order.fulfillments);
  const status = order.status === 'CANCELLED' ? 'CANCELLED' : order.status === 'PLACED' || order.status === 'CONFIRMED' || order.status === 'READY_FOR_PICKUP' ? 'OPEN' : 'SHIPPED';
  return [{ id: 'f1', locationId: order.fulfillmentLocationId, lines: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })), status }];
}

/** Whether the order ships in more than one part. */
export const isSplit = (order: Pick<SalesOrder, 'fulfillments'>): boolean => (order.fulfillments?.length ?? 0) > 1;

/** Parts from a routing's plan: ids in routing order. */
export const partsOf = (plan: readonly { locationId: string; lines: readonly { sku: string; quantity: number }[] }[]): FulfillmentPart[] =>
  plan.map((p, i) => ({ id: `f${i + 1}`, locationId: p.locationId, lines: p.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })), status: 'OPEN' }));
