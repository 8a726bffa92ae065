import type { SiteRecord, StockRecord } from '../../../common/systems/records.js';
import type { InventoryLocation, LocationKind, StockCount } from '../ports.js';

/*
 * Record mapping shared by the POS and WMS adapters: both systems keep sites and stock counts in the same
 * shapes. The kind comes from the system the record was read from, not from the record, so that a location's
 * type always agrees with the system its id is routed to.
 */

export function toLocation(site: SiteRecord, kind: LocationKind): InventoryLocation {
  const { line1, city, postalCode, country } = site.address;
  return { id: site.id, name: site.name, kind, pickupEnabled: site.pickupEnabled, address: { line1, city, postalCode, country } };
}

export function toStockCount(record: StockRecord): StockCount {
  return {
    sku: record.sku,
    locationId: record.locationId,
    onHand: record.onHand,
    committed: record.committed,
    reserved: record.reserved,
    damaged: record.damaged,
  };
}
