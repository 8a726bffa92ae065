/*
 * The inventory subgraph's view of its systems of record. Locations and physical stock counts live in the
 * operational system that owns a site (the POS for stores, the WMS for warehouses); stock policy and transfers
 * live in the ERP. Each port is one system's contract, so a real connector is another adapter behind it.
 */

/** Which kind of site a location is; it also names the system that owns it (STORE: POS, WAREHOUSE: WMS). */
export type LocationKind = 'STORE' | 'WAREHOUSE';

export interface SiteAddress {
  line1: string;
  city: string;
  postalCode: string;
  country: string;
}

export interface InventoryLocation {
  id: string;
  name: string;
  kind: LocationKind;
  pickupEnabled: boolean;
  address: SiteAddress;
}

/** One SKU at one location: the key of every stock read (and, later, of every stock write). */
export interface StockKey {
  sku: string;
  locationId: string;
}

/** Physical stock as the operational system counts it. Raw numbers: `available` is ours to compute. */
export interface StockCount {
  sku: string;
  locationId: string;
  onHand: number;
  committed: number;
  reserved: number;
  damaged: number;
}

/** What the ERP plans for a SKU at a location. */
export interface StockPolicy {
  sku: string;
  locationId: string;
  safetyStock: number;
  incoming: number;
}

/**
 * The site master of one operational system. System of record: the POS for stores, the WMS for warehouses.
 *
 * Contract: `getLocations` returns one entry per id, in id order, null for an id the system does not know, in
 * a single call to the system; `listLocations` returns every site of the system. A system failure rejects with
 * a `SystemUnavailableError` (`POS_UNAVAILABLE` / `WMS_UNAVAILABLE`).
 */
export interface LocationDirectoryPort {
  listLocations(): Promise<InventoryLocation[]>;
  getLocations(ids: readonly string[]): Promise<(InventoryLocation | null)[]>;
}

/**
 * Physical stock of one operational system's sites. System of record: the POS for stores, the WMS for
 * warehouses. Reads only for now; stock writes (reservations, adjustments) belong beside `getStock`.
 *
 * Contract: one entry per key, in key order, null when the system holds no stock record for that SKU at that
 * location, in a single call to the system. A system failure rejects with a `SystemUnavailableError`
 * (`POS_UNAVAILABLE` / `WMS_UNAVAILABLE`).
 */
export interface StockPort {
  getStock(keys: readonly StockKey[]): Promise<(StockCount | null)[]>;
}

/**
 * Safety stock and incoming transfers per SKU and location. System of record: the ERP.
 *
 * Contract: one entry per key, in key order, null when the ERP has no policy for the key (callers read that
 * as zero safety stock and nothing incoming), in a single call. A system failure rejects with a
 * `SystemUnavailableError` (`ERP_UNAVAILABLE`).
 */
export interface StockPolicyPort {
  getStockPolicies(keys: readonly StockKey[]): Promise<(StockPolicy | null)[]>;
}

/** Everything the subgraph reads, with the site and stock ports of each kind of location. */
export interface InventoryPorts {
  locations: Record<LocationKind, LocationDirectoryPort>;
  stock: Record<LocationKind, StockPort>;
  policies: StockPolicyPort;
}
