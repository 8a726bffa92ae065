import type { ErpChangeBatch, ErpMasterChange, ErpMasterChangeBody, ErpMasterSnapshot, InvoiceRequest, ItemChangeRequest, JournalPostingRequest, NewProductRequest, ProductSearch, StockPolicyRequest } from '../common/systems/erp.js';
import type { ErpProduct, ErpVariant, InvoiceRecord, ItemStatus, PostingRecord, StockKey, StockPolicy } from '../common/systems/records.js';
import { callTime } from './clock.js';
import type { SeedData } from './seed.js';
import { groupBy, indexBy, PairIndex } from './shared.js';
import { EXPORT_STATE, IMPORT_STATE, intPart, listPart, type SystemState } from './state.js';

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
    const tax = request.taxMinor ?? null;
    if (tax !== null && (!Number.isSafeInteger(tax) || tax < 0 || tax > request.amountMinor)) throw new Error(`ERP rejected posting ${request.id}: tax must be whole minor units from 0 to the amount`);
    const now = callTime().toISOString();
    const record: PostingRecord = {
      id: request.id,
      orderId: request.orderId,
      type: request.type,
      status: 'POSTED',
      attempts: Math.max(1, request.attempt ?? 1, (existing?.attempts ?? 0) + 1),
      amountMinor: request.amountMinor,
      currency: request.currency,
      ...(tax !== null ? { taxMinor: tax } : {}),
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
    const tax = request.taxMinor ?? null;
    if (tax !== null && (!Number.isSafeInteger(tax) || tax < 0 || tax > request.totalMinor)) throw new Error(`ERP rejected invoice ${request.id}: tax must be whole minor units from 0 to the total`);
    const now = callTime();
    const record: InvoiceRecord = {
      id: request.id,
      orderId: request.orderId,
      number: `INV-${now.getUTCFullYear()}-${String(++this.invoiceSequence).padStart(6, '0')}`,
      status: 'ISSUED',
      totalMinor: request.totalMinor,
      currency: request.currency,
      issuedAt: now.toISOString(),
      ...(tax !== null ? { taxMinor: tax } : {}),
    };
    this.invoicesById.set(record.id, record);
    const list = this.invoicesByOrder.get(record.orderId);
    if (list) list.push(record);
    else this.invoicesByOrder.set(record.orderId, [record]);
    return record;
  }

  /**
   * The item master, stock policies, invoices, postings and the change feed, with their sequences. The records are the
   * live ones: the ERP replaces a record it changes, never changes one in place; the lists are copies.
   */
  [EXPORT_STATE](): SystemState {
    return {
      products: this.productList.slice(),
      variants: [...this.variants.values()],
      policies: this.policies.all(),
      invoices: [...this.invoicesById.values()],
      postings: [...this.postingsById.values()],
      postingDates: [...this.postingDates.entries()],
      documentSequence: this.documentSequence,
      invoiceSequence: this.invoiceSequence,
      changes: this.changes.slice(),
      droppedThrough: this.droppedThrough,
      masterSequence: this.masterSequence,
    };
  }

  /** Replace all of it by a snapshot's, each index rebuilt in the order the constructor and the writes keep. */
  [IMPORT_STATE](state: SystemState): void {
    const owner = 'the ERP';
    this.productList = listPart<ErpProduct>(state, 'products', owner);
    this.products.clear();
    this.haystacks.clear();
    for (const p of this.productList) {
      this.products.set(p.id, p);
      this.haystacks.set(p.id, `${p.name} ${p.brand} ${p.category} ${p.description}`.toLowerCase());
    }
    const variants = listPart<ErpVariant>(state, 'variants', owner);
    this.variants.clear();
    for (const v of variants) this.variants.set(v.sku, v);
    this.variantsByProduct.clear();
    for (const [productId, list] of groupBy(variants, (v) => v.productId)) this.variantsByProduct.set(productId, list);
    this.policies.clear();
    for (const policy of listPart<StockPolicy>(state, 'policies', owner)) this.policies.set(policy);
    const invoices = listPart<InvoiceRecord>(state, 'invoices', owner);
    this.invoicesById.clear();
    for (const i of invoices) this.invoicesById.set(i.id, i);
    this.invoicesByOrder.clear();
    for (const [orderId, list] of groupBy(invoices, (i) => i.orderId)) this.invoicesByOrder.set(orderId, list);
    const postings = listPart<PostingRecord>(state, 'postings', owner);
    this.postingsById.clear();
    for (const p of postings) this.postingsById.set(p.id, p);
    this.postingsByOrder.clear();
    for (const [orderId, list] of groupBy(postings, (p) => p.orderId)) this.postingsByOrder.set(orderId, list);
    this.postingDates.clear();
    for (const [id, date] of listPart<[string, string]>(state, 'postingDates', owner)) this.postingDates.set(id, date);
    this.documentSequence = intPart(state, 'documentSequence', owner);
    this.invoiceSequence = intPart(state, 'invoiceSequence', owner);
    this.changes = listPart<ErpMasterChange>(state, 'changes', owner);
    this.droppedThrough = intPart(state, 'droppedThrough', owner);
    this.masterSequence = intPart(state, 'masterSequence', owner);
  }
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
