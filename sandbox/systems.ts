import type {
  CustomerRecord,
  ErpProduct,
  ErpVariant,
  InvoiceRecord,
  ItemStatus,
  OrderRecord,
  PaymentRecord,
  PostingRecord,
  RefundRecord,
  ReturnRecord,
  ShipmentRecord,
  SiteRecord,
  StockKey,
  StockPolicy,
  StockRecord,
} from './model.js';
import type { SeedData } from './seed.js';
import { callTime } from './clock.js';

/*
 * The sandbox systems of record. Each class plays one vendor system with the batch API a real one would
 * offer (or that its connector would build with a bulk endpoint). Every method is async and takes many keys,
 * and returns results in key order with null (or []) for unknown keys, like a DataLoader batch function wants.
 * Callers must treat returned records as read-only.
 */

function groupBy<T>(items: readonly T[], key: (item: T) => string | null): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === null) continue;
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

function indexBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T> {
  return new Map(items.map((item) => [key(item), item]));
}

/**
 * Records per SKU and location, as nested maps: a listing page looks up 1,500 pairs, and building a
 * `sku@location` string for each lookup showed in profiles.
 */
class PairIndex<T extends StockKey> {
  private readonly bySku = new Map<string, Map<string, T>>();
  constructor(records: readonly T[]) {
    for (const record of records) {
      let perSku = this.bySku.get(record.sku);
      if (!perSku) this.bySku.set(record.sku, (perSku = new Map()));
      perSku.set(record.locationId, record);
    }
  }

  get(key: StockKey): T | null {
    return this.bySku.get(key.sku)?.get(key.locationId) ?? null;
  }

  set(record: T): void {
    let perSku = this.bySku.get(record.sku);
    if (!perSku) this.bySku.set(record.sku, (perSku = new Map()));
    perSku.set(record.locationId, record);
  }

  all(): T[] {
    const records: T[] = [];
    for (const perSku of this.bySku.values()) for (const record of perSku.values()) records.push(record);
    return records;
  }
}

/** A line of a stock commitment: the caller states the safety stock the ERP holds back (see commitStock). */
export interface CommitLine {
  sku: string;
  quantity: number;
  safetyStock: number;
}

export type CommitResult = { ok: true } | { ok: false; shortages: { sku: string; available: number }[] };

export interface StockAdjustment {
  sku: string;
  locationId: string;
  /** Change of on-hand units (negative for a sale or damage write-off). */
  onHandDelta?: number;
  /** Change of damaged units (on hand but not sellable). */
  damagedDelta?: number;
  /** Compare-and-swap: refuse when on hand is not this. */
  expectedOnHand?: number;
  /** A cycle count: set on hand to this (instead of moving it by onHandDelta). */
  countedOnHand?: number;
  /**
   * Refuse (BELOW_PROMISED) a move that lowers the sound units (on hand less damaged) below what is committed
   * and reserved; a move that does not lower them is always let through, even where counts have drifted.
   */
  protectPromised?: boolean;
}

export type AdjustResult =
  | { ok: true; record: StockRecord; previousOnHand?: number }
  | { ok: false; reason: 'STALE_QUANTITY' | 'NEGATIVE_STOCK' | 'BELOW_PROMISED'; record: StockRecord | null };

/** A hold on units at one location (a cart, a transfer) until it is released or expires. */
export interface StockReservationRecord {
  /** `rsv-<sequence>@<locationId>`: the location names the system that holds it. */
  id: string;
  locationId: string;
  lines: { sku: string; quantity: number }[];
  /** ISO 8601 instant after which the reservation may be expired (see expireReservations). */
  expiresAt: string;
  /** The correlation id of the request that made it, for the events of its release. */
  correlationId: string | null;
  /** Who holds it, when only they may end it (a shopper's cart); null for holds any associate may end. */
  holder?: string | null | undefined;
}

/** What a reservation is held for: until when, under which correlation id, and by whom. */
export interface ReservationHold {
  expiresAt: string;
  correlationId?: string | null;
  holder?: string | null;
}

export type ReserveResult = { ok: true; reservation: StockReservationRecord } | { ok: false; shortages: { sku: string; available: number }[] };

/** A compare-and-swap write: the record as written, or (not ok) as it is now, null when unknown. */
export type CasResult<T> = { ok: true; record: T } | { ok: false; record: T | null };

export interface ReturnRequest {
  orderId: string;
  reason: string;
  lines: readonly { sku: string; quantity: number }[];
  requestedAt: string;
}

/** NOT_RETURNABLE lists the refused lines with the units of that SKU still returnable. */
export type ReturnRequestResult =
  | { ok: true; record: ReturnRecord }
  | { ok: false; reason: 'UNKNOWN_ORDER' | 'NOT_RETURNABLE'; lines: { sku: string; returnable: number }[] };

/** A shipment as the WMS records it when the carrier takes the parcel. */
export interface ShipmentRequest {
  orderId: string;
  carrier: string;
  trackingNumber: string;
  shippedAt: string;
}

export interface RefundRequest {
  orderId: string;
  amountMinor: number;
  currency: string;
  reason: string;
  /** The caller's reference (e.g. a return id): the PSP answers a second refund with the same reference with the first. */
  reference: string;
  createdAt: string;
}

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
type ErpMasterChangeBody =
  | { kind: 'PRODUCT'; product: ErpProduct }
  | { kind: 'VARIANT'; variant: ErpVariant }
  | { kind: 'STOCK_POLICY'; policy: StockPolicy };

/**
 * An answer of {@link SandboxErp.getMasterDataChanges}. POSITION_LOST: the ERP no longer holds every change after
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

/** A merchandiser's change to one variant (see SandboxErp.changeItem); absent fields keep their value. */
export interface ItemChangeRequest {
  sku: string;
  /** The new list price in minor units of the variant's currency (or of `currency`, when given too). */
  listPriceMinor?: number | undefined;
  currency?: string | undefined;
  status?: ItemStatus | undefined;
}

/** A new variant of a new product (see SandboxErp.addProduct); it starts ACTIVE. */
export interface NewVariantRequest {
  sku: string;
  name: string;
  color?: string | undefined;
  size?: string | undefined;
  listPriceMinor: number;
  currency: string;
}

/** A new product with its variants (see SandboxErp.addProduct). */
export interface NewProductRequest {
  id: string;
  name: string;
  description?: string | undefined;
  brand: string;
  category: string;
  variants: NewVariantRequest[];
}

/** A stock policy to set (see SandboxErp.setStockPolicy). */
export interface StockPolicyRequest {
  sku: string;
  locationId: string;
  safetyStock: number;
  /** Units on their way to the location; absent: the policy's current value (0 for a new policy). */
  incoming?: number | undefined;
}

export interface SandboxErpOptions {
  /**
   * How many of the newest master-data changes the ERP keeps; a reader further behind than that has lost its
   * position and must start over from a snapshot.
   * @default 10000
   */
  changeRetention?: number;
}

/** The most changes one {@link SandboxErp.getMasterDataChanges} call answers. */
export const MAX_CHANGE_BATCH = 5000;

const ITEM_STATUSES: readonly ItemStatus[] = ['ACTIVE', 'DISCONTINUED'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`ERP rejected the change: ${what} must be a non-empty string`);
  return value;
}

function requireText(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`ERP rejected the change: ${what} must be a string`);
  return value;
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value !== undefined && typeof value !== 'string') throw new Error(`ERP rejected the change: ${what} must be a string`);
  return value;
}

function requireInteger(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value)) throw new Error(`ERP rejected the change: ${what} must be an integer`);
  return value as number;
}

/** ERP: item master and prices, stock policy and transfers, invoices and journal postings. */
export class SandboxErp {
  private readonly products: Map<string, ErpProduct>;
  // Replaced, never changed in place: a caller may still hold the array a search answered from.
  private productList: ErpProduct[];
  private readonly haystacks: Map<string, string>;
  private readonly variants: Map<string, ErpVariant>;
  private readonly variantsByProduct: Map<string, ErpVariant[]>;
  private readonly policies: PairIndex<StockPolicy>;
  private readonly invoicesByOrder: Map<string, InvoiceRecord[]>;
  private readonly postingsByOrder: Map<string, PostingRecord[]>;
  private readonly invoicesById: Map<string, InvoiceRecord>;
  private readonly postingsById: Map<string, PostingRecord>;
  /** Posting date (the business date booked) of postings made through postJournal; history uses createdAt. */
  private readonly postingDates = new Map<string, string>();
  private documentSequence: number;
  private invoiceSequence: number;
  /** Sites a stock policy may name: the POS's stores and the WMS's warehouses. */
  private readonly locationIds: Set<string>;
  /** The change feed, oldest first: changes[i] has sequence droppedThrough + 1 + i. */
  private changes: ErpMasterChange[] = [];
  /** The newest sequence no longer held (0: none dropped yet). */
  private droppedThrough = 0;
  /** The newest change's sequence; the seed is the state as of 0. */
  private masterSequence = 0;
  private readonly changeRetention: number;

  constructor(data: SeedData, options: SandboxErpOptions = {}) {
    const retention = options.changeRetention ?? 10_000;
    if (!Number.isSafeInteger(retention) || retention < 1) throw new RangeError(`changeRetention must be a positive integer, got ${retention}`);
    this.changeRetention = retention;
    this.locationIds = new Set([...data.stores, ...data.warehouses].map((s) => s.id));
    this.productList = data.products;
    this.products = indexBy(data.products, (p) => p.id);
    this.variants = indexBy(data.variants, (v) => v.sku);
    this.variantsByProduct = groupBy(data.variants, (v) => v.productId);
    this.haystacks = new Map(data.products.map((p) => [p.id, `${p.name} ${p.brand} ${p.category} ${p.description}`.toLowerCase()]));
    this.policies = new PairIndex(data.policies);
    this.invoicesByOrder = groupBy(data.invoices, (i) => i.orderId);
    this.postingsByOrder = groupBy(data.postings, (p) => p.orderId);
    this.invoicesById = indexBy(data.invoices, (i) => i.id);
    this.postingsById = indexBy(data.postings, (p) => p.id);
    this.documentSequence = data.postings.filter((p) => p.erpDocumentNumber !== null).length;
    this.invoiceSequence = data.invoices.length;
  }

  async getProducts(ids: readonly string[]): Promise<(ErpProduct | null)[]> {
    return ids.map((id) => this.products.get(id) ?? null);
  }

  async getVariants(skus: readonly string[]): Promise<(ErpVariant | null)[]> {
    return skus.map((sku) => this.variants.get(sku) ?? null);
  }

  async getVariantsByProduct(productIds: readonly string[]): Promise<ErpVariant[][]> {
    return productIds.map((id) => this.variantsByProduct.get(id) ?? []);
  }

  /** Case-insensitive match of every word of `query` against name, brand, category and description; ordered by id. */
  async searchProducts(search: ProductSearch): Promise<{ total: number; products: ErpProduct[] }> {
    const words = (search.query ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    const category = search.category?.toLowerCase();
    const matches = this.productList.filter((p) => {
      if (category && p.category !== category) return false;
      const haystack = this.haystacks.get(p.id) ?? '';
      return words.every((w) => haystack.includes(w));
    });
    return { total: matches.length, products: matches.slice(search.offset, search.offset + search.limit) };
  }

  async getStockPolicies(keys: readonly StockKey[]): Promise<(StockPolicy | null)[]> {
    return keys.map((k) => this.policies.get(k));
  }

  /*
   * The master-data change feed and the merchandiser's writes. Every write replaces the records it changes with
   * new objects (the seed's records and the ones already answered or held in the feed stay as they were), and
   * records one change per record it touches. The writes check the shape only and take nonsense values as
   * given (a price of 0 or -5, a currency "XXX", a SKU "bad sku!"), as a misconfigured ERP would: catching
   * them is the job of whoever reads the feed.
   */

  /**
   * The changes with a sequence above `afterSequence`, oldest first, at most `limit` (1..{@link MAX_CHANGE_BATCH}),
   * with the ERP's latest sequence. POSITION_LOST when a change after `afterSequence` was already dropped (the
   * ERP keeps the newest `changeRetention`), or when `afterSequence` is beyond the latest (a position this ERP
   * never issued: it was reset): either way the reader cannot continue from there and starts from a snapshot.
   */
  async getMasterDataChanges(afterSequence: number, limit: number): Promise<ErpChangeBatch> {
    if (!Number.isSafeInteger(afterSequence) || afterSequence < 0) throw new RangeError(`afterSequence must be an integer >= 0, got ${String(afterSequence)}`);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_CHANGE_BATCH) throw new RangeError(`limit must be an integer from 1 to ${MAX_CHANGE_BATCH}, got ${String(limit)}`);
    const latestSequence = this.masterSequence;
    if (afterSequence < this.droppedThrough || afterSequence > latestSequence) {
      return { ok: false, reason: 'POSITION_LOST', oldestSequence: this.droppedThrough + 1, latestSequence };
    }
    const start = afterSequence - this.droppedThrough;
    return { ok: true, changes: this.changes.slice(start, start + limit), latestSequence };
  }

  /** Every product (by id), variant and stock policy as the ERP holds them now, as of the latest sequence. */
  async getMasterDataSnapshot(): Promise<ErpMasterSnapshot> {
    return {
      sequence: this.masterSequence,
      at: callTime().toISOString(),
      products: this.productList.slice(),
      variants: [...this.variants.values()],
      policies: this.policies.all(),
    };
  }

  /**
   * Change a variant's list price, currency or status (absent fields keep their value): one VARIANT change.
   * Throws `no variant <sku>` for an unknown SKU.
   */
  async changeItem(request: ItemChangeRequest): Promise<{ sequence: number }> {
    if (!isObject(request)) throw new Error('ERP rejected the change: the request must be an object');
    const sku = requireString(request.sku, 'sku');
    const priceMinor = request.listPriceMinor === undefined ? undefined : requireInteger(request.listPriceMinor, 'listPriceMinor');
    const currency = optionalString(request.currency, 'currency');
    if (request.status !== undefined && !ITEM_STATUSES.includes(request.status)) throw new Error(`ERP rejected the change: status must be one of ${ITEM_STATUSES.join(', ')}`);
    const current = this.variants.get(sku);
    if (!current) throw new Error(`no variant ${sku}`);
    const variant: ErpVariant = {
      ...current,
      priceMinor: priceMinor ?? current.priceMinor,
      currency: currency ?? current.currency,
      status: request.status ?? current.status,
    };
    this.putVariant(variant);
    return { sequence: this.recordChange({ kind: 'VARIANT', variant }) };
  }

  /**
   * Add a product with its variants (each ACTIVE): a PRODUCT change, then one VARIANT change per variant, in
   * the request's order; answers the last sequence. Throws for a product id or SKU the ERP holds already (or a
   * SKU twice in the request).
   */
  async addProduct(request: NewProductRequest): Promise<{ sequence: number }> {
    if (!isObject(request)) throw new Error('ERP rejected the product: the request must be an object');
    const id = requireString(request.id, 'id');
    if (this.products.has(id)) throw new Error(`product ${id} exists`);
    if (!Array.isArray(request.variants)) throw new Error('ERP rejected the product: variants must be a list');
    const skus = new Set<string>();
    const variants: ErpVariant[] = request.variants.map((v: unknown, i) => {
      if (!isObject(v)) throw new Error(`ERP rejected the product: variants[${i}] must be an object`);
      const sku = requireString(v.sku, `variants[${i}].sku`);
      if (this.variants.has(sku) || skus.has(sku)) throw new Error(`variant ${sku} exists`);
      skus.add(sku);
      return {
        sku,
        productId: id,
        name: requireText(v.name, `variants[${i}].name`),
        color: optionalString(v.color, `variants[${i}].color`) ?? '',
        size: optionalString(v.size, `variants[${i}].size`) ?? '',
        priceMinor: requireInteger(v.listPriceMinor, `variants[${i}].listPriceMinor`),
        currency: requireText(v.currency, `variants[${i}].currency`),
        status: 'ACTIVE',
      };
    });
    const product: ErpProduct = {
      id,
      name: requireText(request.name, 'name'),
      description: optionalString(request.description, 'description') ?? '',
      brand: requireText(request.brand, 'brand'),
      category: requireText(request.category, 'category'),
      skus: variants.map((v) => v.sku),
    };
    this.products.set(id, product);
    const list = this.productList.slice();
    let at = list.length;
    while (at > 0 && (list[at - 1] as ErpProduct).id > id) at--;
    list.splice(at, 0, product);
    this.productList = list;
    this.haystacks.set(id, `${product.name} ${product.brand} ${product.category} ${product.description}`.toLowerCase());
    this.variantsByProduct.set(id, variants);
    for (const variant of variants) this.variants.set(variant.sku, variant);
    let sequence = this.recordChange({ kind: 'PRODUCT', product });
    for (const variant of variants) sequence = this.recordChange({ kind: 'VARIANT', variant });
    return { sequence };
  }

  /**
   * Set the safety stock (and, when given, the incoming units) of a SKU at a location: one STOCK_POLICY change.
   * Throws for an unknown SKU or location (a store of the POS or a warehouse of the WMS).
   */
  async setStockPolicy(request: StockPolicyRequest): Promise<{ sequence: number }> {
    if (!isObject(request)) throw new Error('ERP rejected the policy: the request must be an object');
    const sku = requireString(request.sku, 'sku');
    const locationId = requireString(request.locationId, 'locationId');
    const safetyStock = requireInteger(request.safetyStock, 'safetyStock');
    const incoming = request.incoming === undefined ? undefined : requireInteger(request.incoming, 'incoming');
    if (!this.variants.has(sku)) throw new Error(`no variant ${sku}`);
    if (!this.locationIds.has(locationId)) throw new Error(`no location ${locationId}`);
    const policy: StockPolicy = { sku, locationId, safetyStock, incoming: incoming ?? this.policies.get({ sku, locationId })?.incoming ?? 0 };
    this.policies.set(policy);
    return { sequence: this.recordChange({ kind: 'STOCK_POLICY', policy }) };
  }

  /** Drop all but the newest `keep` changes, as retention would (tests: a reader that lost its position). */
  async trimMasterDataChanges(keep: number): Promise<{ oldestSequence: number }> {
    if (!Number.isSafeInteger(keep) || keep < 0) throw new RangeError(`keep must be an integer >= 0, got ${String(keep)}`);
    this.dropChanges(this.changes.length - keep);
    return { oldestSequence: this.droppedThrough + 1 };
  }

  private putVariant(variant: ErpVariant): void {
    this.variants.set(variant.sku, variant);
    const siblings = this.variantsByProduct.get(variant.productId) ?? [];
    this.variantsByProduct.set(
      variant.productId,
      siblings.map((v) => (v.sku === variant.sku ? variant : v)),
    );
  }

  private recordChange(body: ErpMasterChangeBody): number {
    const sequence = ++this.masterSequence;
    this.changes.push({ sequence, at: callTime().toISOString(), ...body });
    this.dropChanges(this.changes.length - this.changeRetention);
    return sequence;
  }

  private dropChanges(count: number): void {
    if (count <= 0) return;
    this.changes = this.changes.slice(count);
    this.droppedThrough += count;
  }

  async getInvoicesByOrder(orderIds: readonly string[]): Promise<InvoiceRecord[][]> {
    return orderIds.map((id) => this.invoicesByOrder.get(id) ?? []);
  }

  async getPostingsByOrder(orderIds: readonly string[]): Promise<PostingRecord[][]> {
    return orderIds.map((id) => this.postingsByOrder.get(id) ?? []);
  }

  /** Journal postings by id, in id order; null for an unknown id. */
  async getPostings(ids: readonly string[]): Promise<(PostingRecord | null)[]> {
    return ids.map((id) => this.postingsById.get(id) ?? null);
  }

  /**
   * The general-ledger journal by posting date: every posting (whatever its status) whose posting date is in
   * [from, to), by posting date. The posting date is the business date it books (postJournal's `postingDate`);
   * for the history, when the posting was created.
   */
  async getPostingsByDate(from: string, to: string): Promise<PostingRecord[]> {
    const start = Date.parse(from);
    const end = Date.parse(to);
    const dated: { at: number; record: PostingRecord }[] = [];
    for (const record of this.postingsById.values()) {
      const at = Date.parse(this.postingDates.get(record.id) ?? record.createdAt);
      if (at >= start && at < end) dated.push({ at, record });
    }
    return dated.sort((a, b) => a.at - b.at || (a.record.id < b.record.id ? -1 : 1)).map((d) => d.record);
  }

  /**
   * Book a journal entry. Idempotent by the posting id, as an ERP's idempotent posting API is: a second post of
   * an id already POSTED answers the existing posting (same document number) and books nothing; that is what
   * makes at-least-once delivery safe. An id the ERP holds unposted (a dead-lettered posting of the history)
   * is booked now. Rejects an entry it cannot book (bad amount, currency or type) with an error.
   */
  async postJournal(request: JournalPostingRequest): Promise<PostingRecord> {
    return this.book(request);
  }

  /**
   * Book several journal entries in one call, in order, each exactly as {@link postJournal} books it (idempotent
   * per posting id, an id twice in one batch is booked once). An entry the ERP cannot book does not stop the
   * others: its answer is a FAILED posting with the reason in `lastError`, which the ERP does not keep (as a
   * refused postJournal keeps nothing), so the same id may be posted again once corrected.
   */
  async postJournalBatch(requests: JournalPostingRequest[]): Promise<PostingRecord[]> {
    if (!Array.isArray(requests)) throw new Error('ERP rejected the batch: the postings must be a list');
    return requests.map((request) => {
      try {
        return this.book(request);
      } catch (error) {
        return refusedPosting(request, error instanceof Error ? error.message : String(error));
      }
    });
  }

  private book(request: JournalPostingRequest): PostingRecord {
    const existing = this.postingsById.get(request.id);
    if (existing?.status === 'POSTED') return existing;
    if (!request.id || request.id.length > 200 || !request.orderId) throw new Error('ERP rejected the posting: id and orderId are required');
    if (!['SALE', 'REFUND', 'RETURN'].includes(request.type)) throw new Error(`ERP rejected posting ${request.id}: unknown type ${String(request.type)}`);
    if (!Number.isSafeInteger(request.amountMinor) || request.amountMinor < 0) throw new Error(`ERP rejected posting ${request.id}: amount must be whole minor units, not negative`);
    if (!/^[A-Z]{3}$/.test(request.currency)) throw new Error(`ERP rejected posting ${request.id}: currency must be an ISO 4217 code`);
    const now = callTime().toISOString();
    const record: PostingRecord = {
      id: request.id,
      orderId: request.orderId,
      type: request.type,
      status: 'POSTED',
      attempts: Math.max(1, request.attempt ?? 1, (existing?.attempts ?? 0) + 1),
      amountMinor: request.amountMinor,
      currency: request.currency,
      erpDocumentNumber: `FI-${String(++this.documentSequence).padStart(8, '0')}`,
      lastError: null,
      postedAt: now,
      createdAt: existing?.createdAt ?? now,
    };
    // A new object rather than an update: the history's records are shared with the seed data.
    this.postingsById.set(record.id, record);
    if (request.postingDate && Number.isFinite(Date.parse(request.postingDate))) this.postingDates.set(record.id, request.postingDate);
    const list = this.postingsByOrder.get(record.orderId);
    const index = list ? list.findIndex((p) => p.id === record.id) : -1;
    if (list && index >= 0) list[index] = record;
    else if (list) list.push(record);
    else this.postingsByOrder.set(record.orderId, [record]);
    return record;
  }

  /**
   * Issue an invoice for an order (status ISSUED, the next invoice number). Idempotent by the invoice id: a second
   * call with an id already issued answers that invoice and issues nothing.
   */
  async issueInvoice(request: InvoiceRequest): Promise<InvoiceRecord> {
    const existing = this.invoicesById.get(request.id);
    if (existing) return existing;
    if (!request.id || request.id.length > 200 || !request.orderId) throw new Error('ERP rejected the invoice: id and orderId are required');
    if (!Number.isSafeInteger(request.totalMinor) || request.totalMinor < 0) throw new Error(`ERP rejected invoice ${request.id}: total must be whole minor units, not negative`);
    if (!/^[A-Z]{3}$/.test(request.currency)) throw new Error(`ERP rejected invoice ${request.id}: currency must be an ISO 4217 code`);
    const now = callTime();
    const record: InvoiceRecord = {
      id: request.id,
      orderId: request.orderId,
      number: `INV-${now.getUTCFullYear()}-${String(++this.invoiceSequence).padStart(6, '0')}`,
      status: 'ISSUED',
      totalMinor: request.totalMinor,
      currency: request.currency,
      issuedAt: now.toISOString(),
    };
    this.invoicesById.set(record.id, record);
    const list = this.invoicesByOrder.get(record.orderId);
    if (list) list.push(record);
    else this.invoicesByOrder.set(record.orderId, [record]);
    return record;
  }
}

/** A journal entry to book (see SandboxErp.postJournal). Amounts are positive minor units; the type says the direction. */
export interface JournalPostingRequest {
  /** The caller's stable posting id: the ERP books each id once. */
  id: string;
  orderId: string;
  type: PostingRecord['type'];
  amountMinor: number;
  currency: string;
  /** The business date booked (ISO 8601), e.g. when the goods were handed over; default when it is booked. */
  postingDate?: string | null;
  /** The caller's attempt number, kept on the posting for the record. */
  attempt?: number | null;
}

/** The answer for an entry of postJournalBatch the ERP refused: FAILED, with why, and kept nowhere. */
function refusedPosting(request: unknown, reason: string): PostingRecord {
  const r = isObject(request) ? request : {};
  const now = callTime().toISOString();
  return {
    id: typeof r.id === 'string' ? r.id : '',
    orderId: typeof r.orderId === 'string' ? r.orderId : '',
    type: r.type === 'SALE' || r.type === 'REFUND' || r.type === 'RETURN' ? r.type : 'SALE',
    status: 'FAILED',
    attempts: Number.isSafeInteger(r.attempt) && (r.attempt as number) > 0 ? (r.attempt as number) : 1,
    amountMinor: typeof r.amountMinor === 'number' ? r.amountMinor : 0,
    currency: typeof r.currency === 'string' ? r.currency : '',
    erpDocumentNumber: null,
    lastError: reason,
    postedAt: null,
    createdAt: now,
  };
}

/** An invoice to issue (see SandboxErp.issueInvoice). */
export interface InvoiceRequest {
  /** The caller's stable invoice id: the ERP issues each id once. */
  id: string;
  orderId: string;
  totalMinor: number;
  currency: string;
}

/** Order lookups shared by the two order-taking systems (POS for till sales, e-commerce for the rest). */
class OrderBook {
  protected readonly orders: Map<string, OrderRecord>;
  protected readonly byNumber: Map<string, OrderRecord>;
  protected readonly byCustomer: Map<string, OrderRecord[]>;
  protected readonly returnsByOrder: Map<string, ReturnRecord[]>;
  protected readonly returnsById: Map<string, ReturnRecord>;

  constructor(orders: readonly OrderRecord[], returns: readonly ReturnRecord[]) {
    this.orders = indexBy(orders, (o) => o.id);
    this.byNumber = indexBy(orders, (o) => o.number);
    // Newest first: what every "recent orders" screen wants.
    this.byCustomer = groupBy([...orders].sort((a, b) => (a.placedAt < b.placedAt ? 1 : -1)), (o) => o.customerId);
    const ids = new Set(orders.map((o) => o.id));
    this.returnsByOrder = groupBy(returns.filter((r) => ids.has(r.orderId)), (r) => r.orderId);
    this.returnsById = indexBy(returns.filter((r) => ids.has(r.orderId)), (r) => r.id);
  }

  async getOrders(ids: readonly string[]): Promise<(OrderRecord | null)[]> {
    return ids.map((id) => this.orders.get(id) ?? null);
  }

  /** Record a new order; the system assigns its id and number (`prefix` tells the two systems' ranges apart). */
  protected insert(draft: Omit<OrderRecord, 'id' | 'number'>, idPrefix: string, numberPrefix: string): OrderRecord {
    const sequence = this.orders.size + 1;
    const record: OrderRecord = { ...draft, id: `${idPrefix}${String(sequence).padStart(6, '0')}`, number: `${numberPrefix}${String(1_000_000 + sequence).padStart(7, '0')}` };
    this.orders.set(record.id, record);
    this.byNumber.set(record.number, record);
    if (record.customerId) {
      const list = this.byCustomer.get(record.customerId);
      if (list) list.unshift(record);
      else this.byCustomer.set(record.customerId, [record]);
    }
    return record;
  }

  /** Move an order to a new status; null when the order is unknown. */
  async setStatus(id: string, status: OrderRecord['status']): Promise<OrderRecord | null> {
    const record = this.orders.get(id);
    if (!record) return null;
    record.status = status;
    return record;
  }

  /**
   * Orders in `status` placed before `placedBefore` (an instant), oldest first, at most `limit`: what a job that
   * finishes or undoes stuck orders asks. A scan; the sandbox holds tens of thousands of orders at most.
   */
  async listByStatus(status: OrderRecord['status'], placedBefore: string, limit: number): Promise<OrderRecord[]> {
    const before = Date.parse(placedBefore);
    const found: OrderRecord[] = [];
    for (const order of this.orders.values()) if (order.status === status && Date.parse(order.placedAt) < before) found.push(order);
    return found.sort((a, b) => (a.placedAt < b.placedAt ? -1 : a.placedAt > b.placedAt ? 1 : 0)).slice(0, Math.max(0, limit));
  }

  async getOrdersByNumber(numbers: readonly string[]): Promise<(OrderRecord | null)[]> {
    return numbers.map((n) => this.byNumber.get(n) ?? null);
  }

  /** Every order of each customer, newest first. */
  async getOrdersByCustomer(customerIds: readonly string[]): Promise<OrderRecord[][]> {
    return customerIds.map((id) => this.byCustomer.get(id) ?? []);
  }

  async getReturnsByOrder(orderIds: readonly string[]): Promise<ReturnRecord[][]> {
    return orderIds.map((id) => this.returnsByOrder.get(id) ?? []);
  }

  /**
   * Move an order from `expected` to `status` in one synchronous step, compare-and-swap: of two concurrent moves
   * from the same status exactly one lands. Not ok (with the current record, or null for an unknown order) when
   * the order is not in `expected`.
   */
  async compareAndSetStatus(id: string, expected: OrderRecord['status'], status: OrderRecord['status']): Promise<CasResult<OrderRecord>> {
    const record = this.orders.get(id);
    if (!record || record.status !== expected) return { ok: false, record: record ?? null };
    record.status = status;
    return { ok: true, record };
  }

  async getReturns(ids: readonly string[]): Promise<(ReturnRecord | null)[]> {
    return ids.map((id) => this.returnsById.get(id) ?? null);
  }

  /**
   * Record a return request (REQUESTED) on an order, all or nothing: every SKU must be on the order and each
   * quantity at most what was bought less what the order's earlier returns (whatever their status) take back.
   * The check and the write are one synchronous step, so two requests can never return the same unit twice.
   */
  async createReturn(request: ReturnRequest): Promise<ReturnRequestResult> {
    const order = this.orders.get(request.orderId);
    if (!order) return { ok: false, reason: 'UNKNOWN_ORDER', lines: [] };
    const earlier = this.returnsByOrder.get(order.id) ?? [];
    const lines = request.lines.map((line) => {
      const bought = order.lines.filter((l) => l.sku === line.sku).reduce((sum, l) => sum + l.quantity, 0);
      const taken = earlier.reduce((sum, r) => sum + r.lines.filter((l) => l.sku === line.sku).reduce((s, l) => s + l.quantity, 0), 0);
      return { sku: line.sku, quantity: line.quantity, returnable: Math.max(0, bought - taken) };
    });
    const refused = lines.filter((l) => l.quantity > l.returnable).map((l) => ({ sku: l.sku, returnable: l.returnable }));
    if (refused.length) return { ok: false, reason: 'NOT_RETURNABLE', lines: refused };
    const record: ReturnRecord = {
      id: `ret-${order.id}-${earlier.length + 1}`,
      orderId: order.id,
      status: 'REQUESTED',
      reason: request.reason,
      lines: request.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      requestedAt: request.requestedAt,
      receivedAt: null,
    };
    if (earlier.length) earlier.push(record);
    else this.returnsByOrder.set(order.id, [record]);
    this.returnsById.set(record.id, record);
    return { ok: true, record };
  }

  /** Move a return from `expected` to `status`, compare-and-swap; `at` is stamped as receivedAt when it is received. */
  async setReturnStatus(id: string, expected: ReturnRecord['status'], status: ReturnRecord['status'], at?: string | null): Promise<CasResult<ReturnRecord>> {
    const record = this.returnsById.get(id);
    if (!record || record.status !== expected) return { ok: false, record: record ?? null };
    record.status = status;
    if (status === 'RECEIVED') record.receivedAt = at ?? callTime().toISOString();
    if (status === 'REQUESTED') record.receivedAt = null;
    return { ok: true, record };
  }
}

class PosOrderBook extends OrderBook {
  create(draft: Omit<OrderRecord, 'id' | 'number'>): OrderRecord {
    return this.insert(draft, 'ord-s', 'S');
  }
}

/** Units of `lines` at `locationId` that do not fit in what is sellable (see commitStock), with what is. */
function shortagesAt(stock: PairIndex<StockRecord>, locationId: string, lines: readonly CommitLine[]): { sku: string; available: number }[] {
  const shortages: { sku: string; available: number }[] = [];
  for (const line of lines) {
    const record = stock.get({ sku: line.sku, locationId });
    const available = record ? Math.max(0, record.onHand - record.committed - record.reserved - record.damaged - line.safetyStock) : 0;
    if (available < line.quantity) shortages.push({ sku: line.sku, available });
  }
  return shortages;
}

/** A reservation's units are no longer held. Never below zero. */
function giveBackReserved(stock: PairIndex<StockRecord>, reservation: StockReservationRecord): void {
  for (const line of reservation.lines) {
    const record = stock.get({ sku: line.sku, locationId: reservation.locationId });
    if (record) record.reserved = Math.max(0, record.reserved - line.quantity);
  }
}

/** Store stock counts per SKU and site, kept by the POS (stores) or the WMS (warehouses). */
class StockBook {
  protected readonly stock: PairIndex<StockRecord>;
  constructor(records: readonly StockRecord[]) {
    this.stock = new PairIndex(records);
  }

  async getStock(keys: readonly StockKey[]): Promise<(StockRecord | null)[]> {
    return keys.map((k) => this.stock.get(k));
  }

  /**
   * Promise units of several SKUs at one location to an order, all or nothing: either every line fits in
   * what is sellable (on hand less committed, reserved, damaged and the given safety stock) and all are
   * committed, or nothing changes and the shortages are reported. The check and the write happen in one
   * synchronous step, so no two commitments can both take the last unit.
   */
  async commitStock(locationId: string, lines: readonly CommitLine[]): Promise<CommitResult> {
    const shortages: { sku: string; available: number }[] = [];
    for (const line of lines) {
      const record = this.stock.get({ sku: line.sku, locationId });
      const available = record ? Math.max(0, record.onHand - record.committed - record.reserved - record.damaged - line.safetyStock) : 0;
      if (available < line.quantity) shortages.push({ sku: line.sku, available });
    }
    if (shortages.length) return { ok: false, shortages };
    for (const line of lines) (this.stock.get({ sku: line.sku, locationId }) as StockRecord).committed += line.quantity;
    return { ok: true };
  }

  /** Give committed units back (a declined payment, a cancellation). Never below zero. */
  async releaseStock(locationId: string, lines: readonly { sku: string; quantity: number }[]): Promise<void> {
    for (const line of lines) {
      const record = this.stock.get({ sku: line.sku, locationId });
      if (record) record.committed = Math.max(0, record.committed - line.quantity);
    }
  }

  /**
   * Committed units leave the location (handed over at the counter, or shipped): on hand and committed both go
   * down by the quantity. Never below zero; damaged never exceeds what is left on hand.
   */
  async fulfillStock(locationId: string, lines: readonly { sku: string; quantity: number }[]): Promise<void> {
    for (const line of lines) {
      const record = this.stock.get({ sku: line.sku, locationId });
      if (!record) continue;
      record.onHand = Math.max(0, record.onHand - line.quantity);
      record.committed = Math.max(0, record.committed - line.quantity);
      record.damaged = Math.min(record.damaged, record.onHand);
    }
  }

  /** A stock movement (sale at the till, receipt, damage, cycle count), optionally compare-and-swap on on-hand. */
  async adjustStock(adjustment: StockAdjustment): Promise<AdjustResult> {
    const key = { sku: adjustment.sku, locationId: adjustment.locationId };
    const existing = this.stock.get(key);
    if (adjustment.expectedOnHand != null && (existing?.onHand ?? 0) !== adjustment.expectedOnHand) return { ok: false, reason: 'STALE_QUANTITY', record: existing };
    const record = existing ?? { ...key, onHand: 0, committed: 0, reserved: 0, damaged: 0 };
    const previousOnHand = record.onHand;
    const onHand = adjustment.countedOnHand != null ? adjustment.countedOnHand : record.onHand + (adjustment.onHandDelta ?? 0);
    const damaged = record.damaged + (adjustment.damagedDelta ?? 0);
    if (onHand < 0 || damaged < 0 || damaged > onHand) return { ok: false, reason: 'NEGATIVE_STOCK', record: existing };
    const sound = onHand - damaged;
    if (adjustment.protectPromised && sound < record.committed + record.reserved && sound < record.onHand - record.damaged) return { ok: false, reason: 'BELOW_PROMISED', record: existing };
    record.onHand = onHand;
    record.damaged = damaged;
    if (!existing) this.stock.set(record);
    return { ok: true, record, previousOnHand };
  }

  private readonly reservations = new Map<string, StockReservationRecord>();
  private reservationSequence = 0;

  /**
   * Hold units of several SKUs at one location for a cart or a transfer until `expiresAt`, all or nothing and
   * atomic against every commitment and reservation, exactly like commitStock; the units count as `reserved`.
   */
  async reserveStock(locationId: string, lines: readonly CommitLine[], hold: ReservationHold): Promise<ReserveResult> {
    const shortages = shortagesAt(this.stock, locationId, lines);
    if (shortages.length) return { ok: false, shortages };
    for (const line of lines) (this.stock.get({ sku: line.sku, locationId }) as StockRecord).reserved += line.quantity;
    const reservation: StockReservationRecord = {
      id: `rsv-${String(++this.reservationSequence).padStart(6, '0')}@${locationId}`,
      locationId,
      lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      expiresAt: hold.expiresAt,
      correlationId: hold.correlationId ?? null,
      holder: hold.holder ?? null,
    };
    this.reservations.set(reservation.id, reservation);
    return { ok: true, reservation };
  }

  /**
   * End a live reservation and give its units back; null when it is unknown, released or expired already, or (with
   * `holder`) held by someone else.
   */
  async releaseReservation(id: string, holder?: string | null): Promise<StockReservationRecord | null> {
    const reservation = this.reservations.get(id);
    if (!reservation) return null;
    if (holder && reservation.holder !== holder) return null;
    this.reservations.delete(id);
    giveBackReserved(this.stock, reservation);
    return reservation;
  }

  /**
   * Release every reservation due at `asOf` (expiresAt at or before it), giving its units back, and say when the
   * next live one is due (null: none left). Each reservation ends once, by release or by expiry.
   */
  async expireReservations(asOf: string): Promise<{ expired: StockReservationRecord[]; nextExpiresAt: string | null }> {
    const due = Date.parse(asOf);
    const expired: StockReservationRecord[] = [];
    let next: StockReservationRecord | null = null;
    for (const reservation of this.reservations.values()) {
      if (Date.parse(reservation.expiresAt) <= due) expired.push(reservation);
      else if (!next || Date.parse(reservation.expiresAt) < Date.parse(next.expiresAt)) next = reservation;
    }
    for (const reservation of expired) {
      this.reservations.delete(reservation.id);
      giveBackReserved(this.stock, reservation);
    }
    return { expired, nextExpiresAt: next?.expiresAt ?? null };
  }
}

/** POS: the store master, store stock, till sales and store returns. */
export class SandboxPos extends StockBook {
  private readonly stores: SiteRecord[];
  private readonly storesById: Map<string, SiteRecord>;
  private readonly book: PosOrderBook;

  constructor(data: SeedData) {
    const storeIds = new Set(data.stores.map((s) => s.id));
    super(data.stock.filter((s) => storeIds.has(s.locationId)));
    this.stores = data.stores;
    this.storesById = indexBy(data.stores, (s) => s.id);
    this.book = new PosOrderBook(data.orders.filter((o) => o.channel === 'STORE'), data.returns);
  }

  async listStores(): Promise<SiteRecord[]> {
    return this.stores;
  }

  async getStores(ids: readonly string[]): Promise<(SiteRecord | null)[]> {
    return ids.map((id) => this.storesById.get(id) ?? null);
  }

  getOrders(ids: readonly string[]) {
    return this.book.getOrders(ids);
  }
  getOrdersByNumber(numbers: readonly string[]) {
    return this.book.getOrdersByNumber(numbers);
  }
  getOrdersByCustomer(customerIds: readonly string[]) {
    return this.book.getOrdersByCustomer(customerIds);
  }
  getReturnsByOrder(orderIds: readonly string[]) {
    return this.book.getReturnsByOrder(orderIds);
  }
  async createOrder(draft: Omit<OrderRecord, 'id' | 'number'>): Promise<OrderRecord> {
    return this.book.create(draft);
  }
  setStatus(id: string, status: OrderRecord['status']) {
    return this.book.setStatus(id, status);
  }
  compareAndSetStatus(id: string, expected: OrderRecord['status'], status: OrderRecord['status']) {
    return this.book.compareAndSetStatus(id, expected, status);
  }
  async listByStatus(status: OrderRecord['status'], placedBefore: string, limit: number): Promise<OrderRecord[]> {
    return this.book.listByStatus(status, placedBefore, limit);
  }
  getReturns(ids: readonly string[]) {
    return this.book.getReturns(ids);
  }
  createReturn(request: ReturnRequest) {
    return this.book.createReturn(request);
  }
  setReturnStatus(id: string, expected: ReturnRecord['status'], status: ReturnRecord['status'], at?: string | null) {
    return this.book.setReturnStatus(id, expected, status, at);
  }
}

/** WMS: warehouses, warehouse stock and shipments. */
export class SandboxWms extends StockBook {
  private readonly warehouses: SiteRecord[];
  private readonly warehousesById: Map<string, SiteRecord>;
  private readonly shipmentsByOrder: Map<string, ShipmentRecord[]>;

  constructor(data: SeedData) {
    const ids = new Set(data.warehouses.map((w) => w.id));
    super(data.stock.filter((s) => ids.has(s.locationId)));
    this.warehouses = data.warehouses;
    this.warehousesById = indexBy(data.warehouses, (w) => w.id);
    this.shipmentsByOrder = groupBy(data.shipments, (s) => s.orderId);
  }

  async listWarehouses(): Promise<SiteRecord[]> {
    return this.warehouses;
  }

  async getWarehouses(ids: readonly string[]): Promise<(SiteRecord | null)[]> {
    return ids.map((id) => this.warehousesById.get(id) ?? null);
  }

  async getShipmentsByOrder(orderIds: readonly string[]): Promise<ShipmentRecord[][]> {
    return orderIds.map((id) => this.shipmentsByOrder.get(id) ?? []);
  }

  /**
   * The carrier took the order's parcel: its PENDING shipment becomes SHIPPED with the carrier's details, or a
   * new SHIPPED one is recorded. Sent again for a shipment already recorded with the same tracking number, it
   * answers that shipment and changes nothing.
   */
  async recordShipment(request: ShipmentRequest): Promise<ShipmentRecord> {
    const list = this.shipmentsByOrder.get(request.orderId) ?? [];
    const same = list.find((s) => s.status !== 'PENDING' && s.carrier === request.carrier && s.trackingNumber === request.trackingNumber);
    if (same) return same;
    const pending = list.find((s) => s.status === 'PENDING');
    const record: ShipmentRecord = pending ?? { id: list.length ? `shp-${request.orderId}-${list.length + 1}` : `shp-${request.orderId}`, orderId: request.orderId, status: 'PENDING', carrier: '', trackingNumber: '', shippedAt: null, deliveredAt: null };
    record.status = 'SHIPPED';
    record.carrier = request.carrier;
    record.trackingNumber = request.trackingNumber;
    record.shippedAt = request.shippedAt;
    if (!pending) {
      if (list.length) list.push(record);
      else this.shipmentsByOrder.set(request.orderId, [record]);
    }
    return record;
  }

  /** The carrier delivered: the order's SHIPPED shipments become DELIVERED. Answers all of the order's shipments. */
  async recordDelivery(orderId: string, deliveredAt: string): Promise<ShipmentRecord[]> {
    const list = this.shipmentsByOrder.get(orderId) ?? [];
    for (const shipment of list) {
      if (shipment.status !== 'SHIPPED') continue;
      shipment.status = 'DELIVERED';
      shipment.deliveredAt = deliveredAt;
    }
    return list;
  }
}

/** E-commerce order management: web, mobile, marketplace and call-centre orders and their returns. */
export class SandboxEcom extends OrderBook {
  private readonly pickupByLocation: Map<string, OrderRecord[]>;

  constructor(data: SeedData) {
    super(data.orders.filter((o) => o.channel !== 'STORE'), data.returns);
    this.pickupByLocation = groupBy(
      [...this.orders.values()].filter((o) => o.deliveryMethod === 'PICKUP').sort((a, b) => (a.placedAt < b.placedAt ? -1 : 1)),
      (o) => o.pickupLocationId,
    );
  }

  async createOrder(draft: Omit<OrderRecord, 'id' | 'number'>): Promise<OrderRecord> {
    const record = this.insert(draft, 'ord-w', 'W');
    if (record.deliveryMethod === 'PICKUP' && record.pickupLocationId) {
      const list = this.pickupByLocation.get(record.pickupLocationId);
      if (list) list.push(record);
      else this.pickupByLocation.set(record.pickupLocationId, [record]);
    }
    return record;
  }

  /** Pickup orders still to be handed over at each location (CONFIRMED or READY_FOR_PICKUP), oldest first. */
  async getPickupQueue(locationIds: readonly string[]): Promise<OrderRecord[][]> {
    return locationIds.map((id) => (this.pickupByLocation.get(id) ?? []).filter((o) => o.status === 'CONFIRMED' || o.status === 'READY_FOR_PICKUP'));
  }
}

/** CRM: customer master, loyalty and consent. */
export class SandboxCrm {
  private readonly customers: Map<string, CustomerRecord>;
  private readonly list: CustomerRecord[];
  private readonly haystacks: string[];

  constructor(data: SeedData) {
    this.list = data.customers;
    this.customers = indexBy(data.customers, (c) => c.id);
    this.haystacks = data.customers.map((c) => `${c.firstName} ${c.lastName}\n${c.email}`.toLowerCase());
  }

  async getCustomers(ids: readonly string[]): Promise<(CustomerRecord | null)[]> {
    return ids.map((id) => this.customers.get(id) ?? null);
  }

  /**
   * Case-insensitive search by name, email or phone (a phone query matches on digits, so "+49 30" and "4930"
   * find the same people). At most `limit` results, ordered by last name, first name, id.
   */
  async searchCustomers(query: string, limit: number): Promise<CustomerRecord[]> {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    const digits = q.replace(/\D/g, '');
    const phoneLike = digits.length >= 3 && /^[\d\s+()./-]+$/.test(q);
    const hits: CustomerRecord[] = [];
    this.list.forEach((c, i) => {
      if ((this.haystacks[i] ?? '').includes(q) || (phoneLike && c.phone.replace(/\D/g, '').includes(digits))) hits.push(c);
    });
    hits.sort((a, b) => a.lastName.localeCompare(b.lastName) || a.firstName.localeCompare(b.firstName) || a.id.localeCompare(b.id));
    return hits.slice(0, limit);
  }
}

/** Payment service provider: authorizations, captures and refunds. */
export class SandboxPsp {
  private readonly paymentsByOrder: Map<string, PaymentRecord[]>;
  private readonly refundsByOrder: Map<string, RefundRecord[]>;

  constructor(data: SeedData) {
    this.paymentsByOrder = groupBy(data.payments, (p) => p.orderId);
    this.refundsByOrder = groupBy(data.refunds, (r) => r.orderId);
  }

  /**
   * Authorize a payment. The sandbox declines the test token `tok_decline` (as real PSPs have test cards that
   * always decline); everything else is authorized.
   */
  async authorize(request: { orderId: string; amountMinor: number; currency: string; method: PaymentRecord['method']; token?: string | null }): Promise<PaymentRecord> {
    const payment: PaymentRecord = {
      id: `pay-${request.orderId}`,
      orderId: request.orderId,
      status: request.token === 'tok_decline' ? 'DECLINED' : 'AUTHORIZED',
      method: request.method,
      amountMinor: request.amountMinor,
      currency: request.currency,
      createdAt: callTime().toISOString(),
    };
    const list = this.paymentsByOrder.get(request.orderId);
    if (list) list.push(payment);
    else this.paymentsByOrder.set(request.orderId, [payment]);
    return payment;
  }

  async getPaymentsByOrder(orderIds: readonly string[]): Promise<PaymentRecord[][]> {
    return orderIds.map((id) => this.paymentsByOrder.get(id) ?? []);
  }

  async getRefundsByOrder(orderIds: readonly string[]): Promise<RefundRecord[][]> {
    return orderIds.map((id) => this.refundsByOrder.get(id) ?? []);
  }

  /** Void the order's open authorizations (nothing is captured yet). Answers the payments it voided; again, none. */
  async voidPayment(orderId: string): Promise<PaymentRecord[]> {
    const voided: PaymentRecord[] = [];
    for (const payment of this.paymentsByOrder.get(orderId) ?? []) {
      if (payment.status !== 'AUTHORIZED') continue;
      payment.status = 'VOIDED';
      voided.push(payment);
    }
    return voided;
  }

  /**
   * Pay money back on an order. Idempotent by the caller's reference, as real PSPs are by idempotency key: a
   * second refund with the same reference answers the first and pays nothing.
   */
  async refund(request: RefundRequest): Promise<RefundRecord> {
    const id = `ref-${request.reference}`;
    const list = this.refundsByOrder.get(request.orderId);
    const existing = list?.find((r) => r.id === id);
    if (existing) return existing;
    const refund: RefundRecord = { id, orderId: request.orderId, status: 'SUCCEEDED', amountMinor: request.amountMinor, currency: request.currency, reason: request.reason, createdAt: request.createdAt };
    if (list) list.push(refund);
    else this.refundsByOrder.set(request.orderId, [refund]);
    return refund;
  }
}

export interface SandboxSystems {
  erp: SandboxErp;
  pos: SandboxPos;
  wms: SandboxWms;
  crm: SandboxCrm;
  psp: SandboxPsp;
  ecom: SandboxEcom;
}

export function createSystems(data: SeedData, options: { erp?: SandboxErpOptions } = {}): SandboxSystems {
  return {
    erp: new SandboxErp(data, options.erp),
    pos: new SandboxPos(data),
    wms: new SandboxWms(data),
    crm: new SandboxCrm(data),
    psp: new SandboxPsp(data),
    ecom: new SandboxEcom(data),
  };
}

/**
 * The methods of each system that change its state. The sandbox journals exactly these (DATA_DIR) and the
 * adapters must list them as writes so the resilience policy never retries them. A new write method goes here.
 */
export const WRITE_METHODS: { readonly [S in keyof SandboxSystems]: readonly string[] } = {
  erp: ['postJournal', 'issueInvoice', 'changeItem', 'addProduct', 'setStockPolicy', 'postJournalBatch'],
  pos: ['commitStock', 'releaseStock', 'adjustStock', 'createOrder', 'setStatus', 'fulfillStock', 'compareAndSetStatus', 'createReturn', 'setReturnStatus', 'reserveStock', 'releaseReservation', 'expireReservations'],
  wms: ['commitStock', 'releaseStock', 'adjustStock', 'fulfillStock', 'recordShipment', 'recordDelivery', 'reserveStock', 'releaseReservation', 'expireReservations'],
  crm: [],
  psp: ['authorize', 'voidPayment', 'refund'],
  ecom: ['createOrder', 'setStatus', 'compareAndSetStatus', 'createReturn', 'setReturnStatus'],
};
