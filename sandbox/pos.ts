import type { ReturnRequest } from '../common/systems/orders.js';
import type { OrderRecord, ReturnRecord, SiteRecord } from '../common/systems/records.js';
import type { StockBook } from '../common/systems/stock-book.js';
import { PosOrderBook, type OrderBookState } from './order-book.js';
import type { SeedData } from './seed.js';
import { indexBy } from './shared.js';
import { MemoryStockBook, StockKeeper, type StockBookState } from './stock-book.js';
import { EXPORT_STATE, IMPORT_STATE, type SystemState } from './state.js';

/** POS: the store master, store stock, till sales and store returns. */
export class SandboxPos extends StockKeeper {
  private readonly stores: SiteRecord[];
  private readonly storesById: Map<string, SiteRecord>;
  private readonly book: PosOrderBook;

  /** Its own stock book (null: it was given a shared one, which keeps its own state). */
  private readonly ownStock: MemoryStockBook | null;

  /** `stock`: the book its store stock is kept in; default its own, in memory, seeded with the stores' counts. */
  constructor(data: SeedData, stock?: StockBook) {
    const storeIds = new Set(data.stores.map((s) => s.id));
    super(stock ?? new MemoryStockBook(data.stock.filter((s) => storeIds.has(s.locationId))));
    this.ownStock = stock ? null : (this.stockBook as MemoryStockBook);
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
  getOrdersByCheckout(references: readonly string[]) {
    return this.book.getOrdersByCheckout(references);
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
  compareAndSetStatus(id: string, expected: OrderRecord['status'], status: OrderRecord['status'], reference?: string | null) {
    return this.book.compareAndSetStatus(id, expected, status, reference);
  }
  settleMove(id: string, reference: string) {
    return this.book.settleMove(id, reference);
  }
  moveOrderLocation(id: string, statuses: readonly OrderRecord['status'][], fromLocationId: string, toLocationId: string, reference: string) {
    return this.book.moveOrderLocation(id, statuses, fromLocationId, toLocationId, reference);
  }
  settleRelocation(id: string, reference: string) {
    return this.book.settleRelocation(id, reference);
  }
  shipFulfillment(id: string, partId: string, shipmentId: string, reference: string) {
    return this.book.shipFulfillment(id, partId, shipmentId, reference);
  }
  listUnsettledMoves(before: string, limit: number) {
    return this.book.listUnsettledMoves(before, limit);
  }
  async listByStatus(status: OrderRecord['status'], placedBefore: string, limit: number): Promise<OrderRecord[]> {
    return this.book.listByStatus(status, placedBefore, limit);
  }
  openOrders(statuses: readonly OrderRecord['status'][], oldest: number) {
    return this.book.openOrders(statuses, oldest);
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

  /** Its orders and returns and, when the stock book is its own (not Redis's shared one), the book's state. */
  [EXPORT_STATE](): SystemState {
    return { ...this.book[EXPORT_STATE](), ...(this.ownStock ? this.ownStock[EXPORT_STATE]() : {}) };
  }

  /** A shared stock book keeps its own state: a snapshot's stock parts are then not for it. */
  [IMPORT_STATE](state: SystemState): void {
    this.book[IMPORT_STATE](state as OrderBookState);
    if (this.ownStock && state.stock !== undefined) this.ownStock[IMPORT_STATE](state as StockBookState);
  }
}
