import type { MoneyValue } from '../money.js';
import { assertNever } from '../resilience.js';

/**
 * The graph's view of the ERP's master data: the item master (products, variants with list price and status) and
 * the stock policies (safety stock, incoming units per SKU and location). These are the read models' shapes, not
 * the sandbox's: the source adapter maps the ERP's records onto them. Records handed out by a store are frozen and
 * shared by every reader.
 */

export type ItemStatus = 'ACTIVE' | 'DISCONTINUED';

export interface MasterProduct {
  id: string;
  name: string;
  description: string;
  brand: string;
  category: string;
  /** The SKUs the ERP lists for the product (as it sent them; the variants themselves are checked one by one). */
  skus: string[];
}

export interface MasterVariant {
  sku: string;
  productId: string;
  name: string;
  color: string;
  size: string;
  /** The list price. */
  price: MoneyValue;
  /** DISCONTINUED: still shown (past orders name it), no longer sold. */
  status: ItemStatus;
}

export interface MasterStockPolicy {
  sku: string;
  locationId: string;
  /** Units held back from sale at the location. */
  safetyStock: number;
  /** Units on their way to the location (transfers, purchase orders). */
  incoming: number;
}

/** One entry of the ERP's change feed: an upsert of the whole record as it now is, at `sequence` (ascending). */
export type MasterChange =
  | { sequence: number; at: string; kind: 'PRODUCT'; product: MasterProduct }
  | { sequence: number; at: string; kind: 'VARIANT'; variant: MasterVariant }
  | { sequence: number; at: string; kind: 'STOCK_POLICY'; policy: MasterStockPolicy };

/** Every record as of `sequence`, consistent (what a resync replaces the whole model with). */
export interface MasterSnapshot {
  sequence: number;
  at: string;
  products: MasterProduct[];
  variants: MasterVariant[];
  policies: MasterStockPolicy[];
}

export type MasterDataRejection = 'NON_POSITIVE_PRICE' | 'UNKNOWN_CURRENCY' | 'MALFORMED_SKU' | 'UNKNOWN_LOCATION' | 'UNKNOWN_PRODUCT' | 'NEGATIVE_QUANTITY';

/** A change (or a snapshot's record) the sync refused at the boundary: not applied, the previous version kept. */
export interface MasterDataException {
  /** Stable for the same refusal, so that recording it again after a crash is a no-op. */
  id: string;
  /** The change's sequence (a snapshot's record: the snapshot's). */
  sequence: number;
  /** The ERP's time of the change. */
  at: string;
  kind: MasterChange['kind'];
  /** The record's key: the product id, the SKU, or `sku@locationId` for a policy. */
  key: string;
  reason: MasterDataRejection;
  message: string;
  /** When the sync refused it. */
  recordedAt: string;
}

/** The key an exception names for a record of `kind`. */
export function masterChangeKey(change: MasterChange): string {
  switch (change.kind) {
    case 'PRODUCT':
      return change.product.id;
    case 'VARIANT':
      return change.variant.sku;
    case 'STOCK_POLICY':
      return `${change.policy.sku}@${change.policy.locationId}`;
    default:
      return assertNever(change);
  }
}
