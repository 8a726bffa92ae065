import { createEvent, type CanonicalEvent, type EventDataByType, type EventSource } from '../../../common/events.js';
import { locationKindOf } from '../stock.js';
import type { Reservation } from './ports.js';

/*
 * The canonical events of stock writes. Each carries the SKU and location it is about, the correlation id of
 * the request that caused it, and `data.quantity` (units moved, never negative) that timeline summaries read.
 */

/** Stores are the POS's, warehouses the WMS's. */
export const stockSourceOf = (locationId: string): EventSource => (locationKindOf(locationId) === 'WAREHOUSE' ? 'WMS' : 'POS');

type StockEventType = 'INVENTORY_ADJUSTED' | 'INVENTORY_RESERVED' | 'INVENTORY_RELEASED';

export function stockEvent<T extends StockEventType>(type: T, at: Date, correlationId: string, key: { sku: string; locationId: string }, data: EventDataByType[T]): CanonicalEvent {
  return createEvent(type, data, { source: stockSourceOf(key.locationId), occurredAt: at, correlationId, sku: key.sku, locationId: key.locationId });
}

/** One INVENTORY_RELEASED per line of a reservation that ended (`RELEASED` by a client, or `EXPIRED`). */
export function releasedEvents(reservation: Reservation, at: Date, correlationId: string, reason: 'RELEASED' | 'EXPIRED'): CanonicalEvent[] {
  return reservation.lines.map((line) =>
    stockEvent('INVENTORY_RELEASED', at, correlationId, { sku: line.sku, locationId: reservation.locationId }, { quantity: line.quantity, reservationId: reservation.id, reason }),
  );
}
