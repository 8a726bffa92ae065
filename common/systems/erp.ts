import type { ErpProduct, ErpVariant, ItemStatus, PostingRecord, StockPolicy } from './records.js';

/* The ERP's requests and answers: product search, the master-data change feed and its writes, postings, invoices. */

export interface ProductSearch {
  query?: string | null | undefined;
  category?: string | null | undefined;
  offset: number;
  limit: number;
}

/**
 * A change pointer of the ERP's master data (like an OData delta or an SAP change pointer): every change is an
 * upsert of the whole record as it is after the change. Sequences start at 1 and have no gaps.
 */
export type ErpMasterChange =
  | { sequence: number; at: string; kind: 'PRODUCT'; product: ErpProduct }
  | { sequence: number; at: string; kind: 'VARIANT'; variant: ErpVariant }
  | { sequence: number; at: string; kind: 'STOCK_POLICY'; policy: StockPolicy };

/** A change without its pointer: what a master-data write records. */
export type ErpMasterChangeBody =
  | { kind: 'PRODUCT'; product: ErpProduct }
  | { kind: 'VARIANT'; variant: ErpVariant }
  | { kind: 'STOCK_POLICY'; policy: StockPolicy };

/**
 * An answer of the ERP's `getMasterDataChanges`. POSITION_LOST: the ERP no longer holds every change after
 * the position asked for (or never issued that position), so the caller must start over from a snapshot;
 * `oldestSequence` is the oldest change still held (the next one to come when none is held).
 */
export type ErpChangeBatch =
  | { ok: true; changes: ErpMasterChange[]; latestSequence: number }
  | { ok: false; reason: 'POSITION_LOST'; oldestSequence: number; latestSequence: number };

/** Every product, variant and stock policy as of change `sequence`; `at` is when it was read. */
export interface ErpMasterSnapshot {
  sequence: number;
  at: string;
  products: ErpProduct[];
  variants: ErpVariant[];
  policies: StockPolicy[];
}

/** A merchandiser's change to one variant (the ERP's `changeItem`); absent fields keep their value. */
export interface ItemChangeRequest {
  sku: string;
  /** The new list price in minor units of the variant's currency (or of `currency`, when given too). */
  listPriceMinor?: number | undefined;
  currency?: string | undefined;
  status?: ItemStatus | undefined;
}

/** A new variant of a new product (see the ERP's addProduct); it starts ACTIVE. */
export interface NewVariantRequest {
  sku: string;
  name: string;
  color?: string | undefined;
  size?: string | undefined;
  listPriceMinor: number;
  currency: string;
}

/** A new product with its variants (see the ERP's addProduct). */
export interface NewProductRequest {
  id: string;
  name: string;
  description?: string | undefined;
  brand: string;
  category: string;
  variants: NewVariantRequest[];
}

/** A stock policy to set (see the ERP's setStockPolicy). */
export interface StockPolicyRequest {
  sku: string;
  locationId: string;
  safetyStock: number;
  /** Units on their way to the location; absent: the policy's current value (0 for a new policy). */
  incoming?: number | undefined;
}

/** A journal entry to book (see the ERP's postJournal). Amounts are positive minor units; the type says the direction. */
export interface JournalPostingRequest {
  /** The caller's stable posting id: the ERP books each id once. */
  id: string;
  orderId: string;
  type: PostingRecord['type'];
  amountMinor: number;
  currency: string;
  /** The tax included in the amount (booked to tax payable, the rest to revenue); absent: none known. */
  taxMinor?: number | null;
  /** The business date booked (ISO 8601), e.g. when the goods were handed over; default when it is booked. */
  postingDate?: string | null;
  /** The caller's attempt number, kept on the posting for the record. */
  attempt?: number | null;
}

/** An invoice to issue (see the ERP's issueInvoice). */
export interface InvoiceRequest {
  /** The caller's stable invoice id: the ERP issues each id once. */
  id: string;
  orderId: string;
  totalMinor: number;
  currency: string;
  /** The tax included in the total, printed on the invoice; absent: none known. */
  taxMinor?: number | null;
}
