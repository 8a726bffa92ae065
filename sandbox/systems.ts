import type {
  CustomerRecord,
  ErpProduct,
  ErpVariant,
  InvoiceRecord,
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
}

export type AdjustResult = { ok: true; record: StockRecord } | { ok: false; reason: 'STALE_QUANTITY' | 'NEGATIVE_STOCK'; record: StockRecord | null };

export interface ProductSearch {
  query?: string | null | undefined;
  category?: string | null | undefined;
  offset: number;
  limit: number;
}

/** ERP: item master and prices, stock policy and transfers, invoices and journal postings. */
export class SandboxErp {
  private readonly products: Map<string, ErpProduct>;
  private readonly productList: ErpProduct[];
  private readonly haystacks: Map<string, string>;
  private readonly variants: Map<string, ErpVariant>;
  private readonly variantsByProduct: Map<string, ErpVariant[]>;
  private readonly policies: PairIndex<StockPolicy>;
  private readonly invoicesByOrder: Map<string, InvoiceRecord[]>;
  private readonly postingsByOrder: Map<string, PostingRecord[]>;

  constructor(data: SeedData) {
    this.productList = data.products;
    this.products = indexBy(data.products, (p) => p.id);
    this.variants = indexBy(data.variants, (v) => v.sku);
    this.variantsByProduct = groupBy(data.variants, (v) => v.productId);
    this.haystacks = new Map(data.products.map((p) => [p.id, `${p.name} ${p.brand} ${p.category} ${p.description}`.toLowerCase()]));
    this.policies = new PairIndex(data.policies);
    this.invoicesByOrder = groupBy(data.invoices, (i) => i.orderId);
    this.postingsByOrder = groupBy(data.postings, (p) => p.orderId);
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

  async getInvoicesByOrder(orderIds: readonly string[]): Promise<InvoiceRecord[][]> {
    return orderIds.map((id) => this.invoicesByOrder.get(id) ?? []);
  }

  async getPostingsByOrder(orderIds: readonly string[]): Promise<PostingRecord[][]> {
    return orderIds.map((id) => this.postingsByOrder.get(id) ?? []);
  }
}

/** Order lookups shared by the two order-taking systems (POS for till sales, e-commerce for the rest). */
class OrderBook {
  protected readonly orders: Map<string, OrderRecord>;
  protected readonly byNumber: Map<string, OrderRecord>;
  protected readonly byCustomer: Map<string, OrderRecord[]>;
  protected readonly returnsByOrder: Map<string, ReturnRecord[]>;

  constructor(orders: readonly OrderRecord[], returns: readonly ReturnRecord[]) {
    this.orders = indexBy(orders, (o) => o.id);
    this.byNumber = indexBy(orders, (o) => o.number);
    // Newest first: what every "recent orders" screen wants.
    this.byCustomer = groupBy([...orders].sort((a, b) => (a.placedAt < b.placedAt ? 1 : -1)), (o) => o.customerId);
    const ids = new Set(orders.map((o) => o.id));
    this.returnsByOrder = groupBy(returns.filter((r) => ids.has(r.orderId)), (r) => r.orderId);
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
}

class PosOrderBook extends OrderBook {
  create(draft: Omit<OrderRecord, 'id' | 'number'>): OrderRecord {
    return this.insert(draft, 'ord-s', 'S');
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

  /** A stock movement (sale at the till, receipt, damage, cycle count), optionally compare-and-swap on on-hand. */
  async adjustStock(adjustment: StockAdjustment): Promise<AdjustResult> {
    const key = { sku: adjustment.sku, locationId: adjustment.locationId };
    const existing = this.stock.get(key);
    if (adjustment.expectedOnHand !== undefined && (existing?.onHand ?? 0) !== adjustment.expectedOnHand) return { ok: false, reason: 'STALE_QUANTITY', record: existing };
    const record = existing ?? { ...key, onHand: 0, committed: 0, reserved: 0, damaged: 0 };
    const onHand = record.onHand + (adjustment.onHandDelta ?? 0);
    const damaged = record.damaged + (adjustment.damagedDelta ?? 0);
    if (onHand < 0 || damaged < 0 || damaged > onHand) return { ok: false, reason: 'NEGATIVE_STOCK', record: existing };
    record.onHand = onHand;
    record.damaged = damaged;
    if (!existing) this.stock.set(record);
    return { ok: true, record };
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
      createdAt: new Date().toISOString(),
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
}

export interface SandboxSystems {
  erp: SandboxErp;
  pos: SandboxPos;
  wms: SandboxWms;
  crm: SandboxCrm;
  psp: SandboxPsp;
  ecom: SandboxEcom;
}

export function createSystems(data: SeedData): SandboxSystems {
  return {
    erp: new SandboxErp(data),
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
  erp: [],
  pos: ['commitStock', 'releaseStock', 'adjustStock', 'createOrder', 'setStatus'],
  wms: ['commitStock', 'releaseStock', 'adjustStock'],
  crm: [],
  psp: ['authorize'],
  ecom: ['createOrder', 'setStatus'],
};
