import type { MasterChange, MasterDataException, MasterProduct, MasterSnapshot, MasterStockPolicy, MasterVariant } from './model.js';

/** Where a read model stands in the ERP's change feed. */
export interface ReadModelPosition {
  /** The sequence of the last change applied or skipped (or of the snapshot replaced); null: never synced. */
  sequence: number | null;
  /** The ERP time of the last applied change (or of the snapshot). */
  changeAt: string | null;
  /** When this store last moved its position. */
  appliedAt: string | null;
}

/**
 * A product search, with the semantics of `SandboxErp.searchProducts`: every whitespace-separated word of `query`
 * must occur (case-insensitive) in the product's name, brand, category or description; `category` (lower-cased)
 * must equal the product's category exactly; matches are ordered by product id, `offset`/`limit` page them.
 */
export interface ProductSearch {
  query?: string | null;
  category?: string | null;
  offset: number;
  limit: number;
}

/**
 * The item master's read model: products, variants, list prices, currency and status, as the ERP last said them.
 * What catalog and checkout read.
 *
 * Contract: synchronous reads from this process's memory, never a call to the ERP; each costs O(its result) (a
 * search: O(the products of the category, or all of them, when there are words)). Batch reads answer one entry
 * per key, in key order (null or [] for an unknown key). Returned records are frozen and shared: read-only.
 * "Fresh" and "a gap": see {@link MasterDataStore}.
 */
export interface ItemMasterReadModel {
  getProducts(ids: readonly string[]): (MasterProduct | null)[];
  getVariants(skus: readonly string[]): (MasterVariant | null)[];
  /** Each product's variants, in the order the ERP first sent them. */
  getVariantsByProduct(productIds: readonly string[]): MasterVariant[][];
  searchProducts(search: ProductSearch): { total: number; products: MasterProduct[] };
  position(): ReadModelPosition;
}

/**
 * The stock policies' read model: safety stock and incoming transfers per SKU and location, as the ERP last said
 * them. What inventory and checkout read. Same contract as {@link ItemMasterReadModel}; a key without a policy is
 * null (no safety stock, nothing incoming).
 */
export interface StockPolicyReadModel {
  getStockPolicies(keys: readonly { sku: string; locationId: string }[]): (MasterStockPolicy | null)[];
  position(): ReadModelPosition;
}

/**
 * The store of both read models, kept in step with the ERP's change feed by the sync (`sync.ts`): the readers hold
 * it as {@link ItemMasterReadModel} or {@link StockPolicyReadModel}; the sync writes it. Every channel read and every
 * checkout reads this instead of the ERP.
 *
 * Contract:
 * - Freshness: the models are "fresh" when their position's sequence is the ERP's latest sequence as of the sync's
 *   last successful poll (`MasterDataSync.status().latestSequence`). They lag by at most a poll interval under
 *   normal conditions, and keep answering (stale) while the ERP is down.
 * - Writes belong to the sync. Each is atomic: a reader sees all of a batch or snapshot or none of it, never a
 *   half-applied one. `apply` is at most once per change: a change at or below the position is skipped. On a gap
 *   in the feed (POSITION_LOST) the sync replaces the whole model from a snapshot rather than patching it.
 * - A never-synced store (position null) answers empty until the sync's first snapshot lands.
 * - A store restores what it held at start (the DATA_DIR journal, or Redis) and resumes from its position.
 */
export interface MasterDataStore extends ItemMasterReadModel, StockPolicyReadModel {
  /** The most recent exceptions, newest first, at most `limit`. */
  exceptions(limit: number): MasterDataException[];

  /** Apply the changes in order; those at or below the position are skipped. Position := the last change's. */
  apply(changes: readonly MasterChange[]): Promise<void>;
  /** Swap the whole model for the snapshot at once. Position := the snapshot's sequence. */
  replace(snapshot: MasterSnapshot): Promise<void>;
  /** Move the position past a refused change (when above it) without applying anything. */
  skip(sequence: number, at: string): Promise<void>;
  /** Keep an exception (idempotent by its id); the list is capped, the oldest go first. */
  recordException(exception: MasterDataException): Promise<void>;
  close(): Promise<void>;
}
