import { Availability, LocationAvailability } from './availability.js';
import { InventoryLevel } from './inventory-level.js';
import { Address, Location, LocationType } from './location.js';
import type { InventoryLocation } from './ports.js';
import { stockStatusOf, type AvailabilityValue, type LocationAvailabilityValue, type StockLevel } from './stock.js';
import { StockStatus } from './stock-status.js';
import { ProductVariant } from './variant.js';
import { StockReservation, StockReservationLine } from './writes/reservation.js';
import type { ReservationView } from './writes/stock-writes.service.js';

export function toLocation(l: InventoryLocation): Location {
  const address = Object.assign(new Address(), l.address);
  return Object.assign(new Location(), { id: l.id, name: l.name, type: LocationType[l.kind], pickupEnabled: l.pickupEnabled, address });
}

export function toInventoryLevel(level: StockLevel, lowStockThreshold: number): InventoryLevel {
  const { sku, locationId, onHand, committed, reserved, safetyStock, damaged, incoming, available, readAt } = level;
  const status = StockStatus[stockStatusOf(available, lowStockThreshold)];
  return Object.assign(new InventoryLevel(), { sku, locationId, onHand, committed, reserved, safetyStock, damaged, incoming, available, status, readAt });
}

export function toAvailability(value: AvailabilityValue): Availability {
  return Object.assign(new Availability(), { available: value.available, status: StockStatus[value.status], entries: value.locations });
}

export function toLocationAvailability(entry: LocationAvailabilityValue): LocationAvailability {
  return Object.assign(new LocationAvailability(), { location: toLocation(entry.location), available: entry.available, status: StockStatus[entry.status] });
}

/** A bare reference: the gateway fetches the rest of the variant from catalog. */
export function toVariantReference(sku: string): ProductVariant {
  return Object.assign(new ProductVariant(), { sku });
}

export function toStockReservation(r: ReservationView): StockReservation {
  const lines = r.lines.map((l) => Object.assign(new StockReservationLine(), { sku: l.sku, quantity: l.quantity }));
  return Object.assign(new StockReservation(), { id: r.id, locationId: r.locationId, expiresAt: r.expiresAt, lines });
}
