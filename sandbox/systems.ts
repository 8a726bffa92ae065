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
}

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

/** Store stock counts per SKU and site, kept by the POS (stores) or the WMS (warehouses). */
class StockBook {
  protected readonly stock: PairIndex<StockRecord>;
  constructor(records: readonly StockRecord[]) {
    this.stock = new PairIndex(records);
  }

  async getStock(keys: readonly StockKey[]): Promise<(StockRecord | null)[]> {
    return keys.map((k) => this.stock.get(k));
  }
}

/** POS: the store master, store stock, till sales and store returns. */
export class SandboxPos extends StockBook {
  private readonly stores: SiteRecord[];
  private readonly storesById: Map<string, SiteRecord>;
  private readonly book: OrderBook;

  constructor(data: SeedData) {
    const storeIds = new Set(data.stores.map((s) => s.id));
    super(data.stock.filter((s) => storeIds.has(s.locationId)));
    this.stores = data.stores;
    this.storesById = indexBy(data.stores, (s) => s.id);
    this.book = new OrderBook(data.orders.filter((o) => o.channel === 'STORE'), data.returns);
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
