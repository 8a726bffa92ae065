import type { CasResult, ReturnRequest, ReturnRequestResult } from '../common/systems/orders.js';
import { copyFulfillments, type OrderRecord, type ReturnRecord } from '../common/systems/records.js';
import { callTime } from './clock.js';
import { groupBy, indexBy } from './shared.js';
import { EXPORT_STATE, IMPORT_STATE, listPart, type SystemState } from './state.js';

/** Order lookups shared by the two order-taking systems (POS for till sales, e-commerce for the rest). */
export class OrderBook {
  protected readonly orders: Map<string, OrderRecord>;
  protected readonly byNumber: Map<string, OrderRecord>;
  protected readonly byCustomer: Map<string, OrderRecord[]>;
  protected readonly returnsByOrder: Map<string, ReturnRecord[]>;
  protected readonly returnsById: Map<string, ReturnRecord>;
  protected readonly byCheckout = new Map<string, OrderRecord>();
  /** How many of `orders` (the first, in insertion order) came from the seed: a restore sorts those as the constructor did. */
  protected readonly seededOrders: number;

  constructor(orders: readonly OrderRecord[], returns: readonly ReturnRecord[]) {
    this.orders = indexBy(orders, (o) => o.id);
    this.byNumber = indexBy(orders, (o) => o.number);
    // Newest first: what every "recent orders" screen wants.
    this.byCustomer = groupBy([...orders].sort((a, b) => (a.placedAt < b.placedAt ? 1 : -1)), (o) => o.customerId);
    const ids = new Set(orders.map((o) => o.id));
    this.returnsByOrder = groupBy(returns.filter((r) => ids.has(r.orderId)), (r) => r.orderId);
    this.returnsById = indexBy(returns.filter((r) => ids.has(r.orderId)), (r) => r.id);
    this.seededOrders = this.orders.size;
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
    if (record.checkoutReference) this.byCheckout.set(record.checkoutReference, record);
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

  /**
   * How many orders are in each of `statuses`, and since when the oldest waits; and the `oldest` oldest of them all.
   * What an order system's aging report answers; a scan here, where the sandbox holds tens of thousands at most.
   */
  async openOrders(statuses: readonly OrderRecord['status'][], oldest: number): Promise<{ byStatus: { status: OrderRecord['status']; count: number; oldestPlacedAt: string | null }[]; oldest: OrderRecord[] }> {
    const wanted = new Set(statuses);
    const tally = new Map<OrderRecord['status'], { count: number; oldestPlacedAt: string | null }>(statuses.map((s) => [s, { count: 0, oldestPlacedAt: null }]));
    const open: OrderRecord[] = [];
    for (const order of this.orders.values()) {
      if (!wanted.has(order.status)) continue;
      const entry = tally.get(order.status)!;
      entry.count++;
      if (entry.oldestPlacedAt === null || order.placedAt < entry.oldestPlacedAt) entry.oldestPlacedAt = order.placedAt;
      open.push(order);
    }
    open.sort((a, b) => (a.placedAt < b.placedAt ? -1 : a.placedAt > b.placedAt ? 1 : 0));
    return { byStatus: statuses.map((status) => ({ status, ...tally.get(status)! })), oldest: open.slice(0, Math.max(0, oldest)) };
  }

  /** The orders recorded under each checkout reference (null: none). */
  async getOrdersByCheckout(references: readonly string[]): Promise<(OrderRecord | null)[]> {
    return references.map((r) => this.byCheckout.get(r) ?? null);
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
  async compareAndSetStatus(id: string, expected: OrderRecord['status'], status: OrderRecord['status'], reference?: string | null): Promise<CasResult<OrderRecord>> {
    const record = this.orders.get(id);
    // The same move again (its first answer was lost to a timeout or a crash): done already, nothing changes.
    if (record && reference && record.lastMove?.reference === reference && record.status === status) return { ok: true, record };
    if (!record || record.status !== expected) return { ok: false, record: record ?? null };
    record.status = status;
    record.lastMove = reference ? { reference, from: expected, settled: false, at: callTime().toISOString() } : null;
    return { ok: true, record };
  }

  /**
   * An order's location changes, by compare-and-swap: a pickup order's store (pickup and fulfilment location both),
   * a shipped order's fulfilment location (a reroute); only while its status is one of `statuses` and it is at
   * `fromLocationId`; else not ok with the order as it is. The same change
   * again (its first answer was lost) answers ok. The change is remembered (`lastRelocation`) until settled.
   */
  async moveOrderLocation(id: string, statuses: readonly OrderRecord['status'][], fromLocationId: string, toLocationId: string, reference: string): Promise<CasResult<OrderRecord>> {
    const record = this.orders.get(id);
    // A pickup order is where it is collected; a shipped one where it leaves from (a reroute after a pick shortage).
    const locationOf = (r: OrderRecord) => (r.deliveryMethod === 'PICKUP' ? r.pickupLocationId : r.fulfillmentLocationId);
    if (record && record.lastRelocation?.reference === reference && locationOf(record) === toLocationId) return { ok: true, record };
    if (!record || !statuses.includes(record.status) || locationOf(record) !== fromLocationId) return { ok: false, record: record ?? null };
    if (record.deliveryMethod === 'PICKUP') record.pickupLocationId = toLocationId;
    record.fulfillmentLocationId = toLocationId;
    record.lastRelocation = { reference, fromLocationId, toLocationId, settled: false, at: callTime().toISOString() };
    if (record.deliveryMethod === 'PICKUP') this.relocated(record, fromLocationId);
    return { ok: true, record };
  }

  /**
   * One part of a split order shipped (in `shipmentId`), by compare-and-swap: only an OPEN part of a CONFIRMED order;
   * with the last part the order is SHIPPED (its move remembered under `reference`, settled). The same part and
   * shipment again (its first answer was lost) answers ok.
   */
  async shipFulfillment(id: string, partId: string, shipmentId: string, reference: string): Promise<CasResult<OrderRecord>> {
    const record = this.orders.get(id);
    const part = record?.fulfillments?.find((p) => p.id === partId);
    if (!record || !part) return { ok: false, record: record ?? null };
    if (part.status === 'SHIPPED' && part.shipmentId === shipmentId) return { ok: true, record };
    if (part.status !== 'OPEN' || record.status !== 'CONFIRMED') return { ok: false, record };
    part.status = 'SHIPPED';
    part.shipmentId = shipmentId;
    if (record.fulfillments!.every((p) => p.status === 'SHIPPED')) {
      record.status = 'SHIPPED';
      record.lastMove = { reference, from: 'CONFIRMED', settled: true, at: callTime().toISOString() };
    }
    return { ok: true, record };
  }

  /** What follows the change `reference` is done (its events handed over). A no-op when another change came since. */
  async settleRelocation(id: string, reference: string): Promise<boolean> {
    const change = this.orders.get(id)?.lastRelocation;
    if (!change || change.reference !== reference) return false;
    change.settled = true;
    return true;
  }

  /** A hook for books that index orders by pickup store. */
  protected relocated(_record: OrderRecord, _fromLocationId: string): void {}

  /** Orders whose last move is unsettled and was made before `before` (an instant), oldest first, at most `limit`. A scan. */
  async listUnsettledMoves(before: string, limit: number): Promise<OrderRecord[]> {
    const found: OrderRecord[] = [];
    for (const order of this.orders.values()) if (order.lastMove && !order.lastMove.settled && (order.lastMove.at ?? '') < before) found.push(order);
    return found.sort((a, b) => ((a.lastMove!.at ?? '') < (b.lastMove!.at ?? '') ? -1 : 1)).slice(0, Math.max(0, limit));
  }

  /**
   * The caller finished what follows the move `reference` (its side effects and events): a repeat of it is no
   * longer to be resumed. A no-op when another move came since.
   */
  async settleMove(id: string, reference: string): Promise<boolean> {
    const move = this.orders.get(id)?.lastMove;
    if (!move || move.reference !== reference) return false;
    move.settled = true;
    return true;
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

  /** Its orders and returns, for a snapshot (see sandbox/state.ts): copies, since moves change them in place. */
  [EXPORT_STATE](): OrderBookState {
    return {
      orders: [...this.orders.values()].map((o) => ({
        ...o,
        ...(o.lastMove ? { lastMove: { ...o.lastMove } } : {}),
        // Parts change in place when they ship: copied, as the moves are.
        ...(o.fulfillments ? { fulfillments: copyFulfillments(o.fulfillments) } : {}),
      })),
      returns: [...this.returnsById.values()].map((r) => ({ ...r })),
    };
  }

  /**
   * Replace its orders and returns by a snapshot's and rebuild the indexes exactly as the constructor and the writes
   * built them: the seed's orders of a customer newest first by `placedAt`, each later one in front of them.
   */
  [IMPORT_STATE](state: OrderBookState): void {
    const orders = listPart<OrderRecord>(state, 'orders', 'an order book');
    const returns = listPart<ReturnRecord>(state, 'returns', 'an order book');
    for (const map of [this.orders, this.byNumber, this.byCustomer, this.returnsByOrder, this.returnsById, this.byCheckout]) map.clear();
    for (const record of orders) {
      this.orders.set(record.id, record);
      this.byNumber.set(record.number, record);
    }
    const seeded = orders.slice(0, this.seededOrders);
    for (const [customer, list] of groupBy([...seeded].sort((a, b) => (a.placedAt < b.placedAt ? 1 : -1)), (o) => o.customerId)) this.byCustomer.set(customer, list);
    for (const record of orders.slice(this.seededOrders)) {
      if (record.checkoutReference) this.byCheckout.set(record.checkoutReference, record);
      if (!record.customerId) continue;
      const list = this.byCustomer.get(record.customerId);
      if (list) list.unshift(record);
      else this.byCustomer.set(record.customerId, [record]);
    }
    for (const record of returns) {
      this.returnsById.set(record.id, record);
      const list = this.returnsByOrder.get(record.orderId);
      if (list) list.push(record);
      else this.returnsByOrder.set(record.orderId, [record]);
    }
  }
}

export interface OrderBookState extends SystemState {
  /** Every order, in the order the book recorded them (the seed's first). */
  orders: OrderRecord[];
  /** Every return, in the order the book recorded them. */
  returns: ReturnRecord[];
}

export class PosOrderBook extends OrderBook {
  create(draft: Omit<OrderRecord, 'id' | 'number'>): OrderRecord {
    return this.insert(draft, 'ord-s', 'S');
  }
}
