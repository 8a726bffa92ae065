import type { ExceptionQuery, ExceptionRecord } from '../common/systems/exceptions.js';
import type { OrderRecord } from '../common/systems/records.js';
import { OrderBook, type OrderBookState } from './order-book.js';
import { EXPORT_STATE, IMPORT_STATE, listPart } from './state.js';
import type { SeedData } from './seed.js';
import { groupBy } from './shared.js';

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

  /** The order leaves its old store's pickup queue and joins the new one's, by when it was placed. */
  protected override relocated(record: OrderRecord, fromLocationId: string): void {
    const old = this.pickupByLocation.get(fromLocationId);
    if (old) this.pickupByLocation.set(fromLocationId, old.filter((o) => o !== record));
    if (!record.pickupLocationId) return;
    const list = [...(this.pickupByLocation.get(record.pickupLocationId) ?? []), record].sort((a, b) => (a.placedAt < b.placedAt ? -1 : a.placedAt > b.placedAt ? 1 : 0));
    this.pickupByLocation.set(record.pickupLocationId, list);
  }

  /** Pickup orders still to be handed over at each location (CONFIRMED or READY_FOR_PICKUP), oldest first. */
  async getPickupQueue(locationIds: readonly string[]): Promise<OrderRecord[][]> {
    return locationIds.map((id) => (this.pickupByLocation.get(id) ?? []).filter((o) => o.status === 'CONFIRMED' || o.status === 'READY_FOR_PICKUP'));
  }

  /** The exception register (see common/systems/exceptions.ts), in the order raised. */
  private readonly exceptions = new Map<string, ExceptionRecord>();

  /** Record an exception; one already recorded under its id is kept as it is (a repeat changes nothing) and answered. */
  async recordException(record: ExceptionRecord): Promise<ExceptionRecord> {
    const existing = this.exceptions.get(record.id);
    if (existing) return existing;
    const copy = { ...record, proposal: record.proposal.map((p) => ({ ...p })) };
    this.exceptions.set(copy.id, copy);
    return copy;
  }

  /** Exceptions matching the query, newest raised first (ties: the later recorded first). */
  async listExceptions(query: ExceptionQuery): Promise<ExceptionRecord[]> {
    const found = [...this.exceptions.values()].filter((e) => (!query.kind || e.kind === query.kind) && (!query.status || e.status === query.status) && (!query.locationId || e.locationId === query.locationId));
    return found.reverse().sort((a, b) => (a.raisedAt < b.raisedAt ? 1 : a.raisedAt > b.raisedAt ? -1 : 0)).slice(0, Math.max(0, query.limit));
  }

  override [EXPORT_STATE](): EcomState {
    return { ...super[EXPORT_STATE](), exceptions: [...this.exceptions.values()].map((e) => ({ ...e, proposal: e.proposal.map((p) => ({ ...p })) })) };
  }

  /** The pickup queues are rebuilt as the constructor and `createOrder` built them: the seed's by `placedAt`, then the rest in order. */
  override [IMPORT_STATE](state: EcomState): void {
    super[IMPORT_STATE](state);
    this.exceptions.clear();
    if (state.exceptions !== undefined) for (const record of listPart<ExceptionRecord>(state, 'exceptions', 'the exception register')) this.exceptions.set(record.id, record);
    this.pickupByLocation.clear();
    const orders = [...this.orders.values()];
    const seededPickups = orders.slice(0, this.seededOrders).filter((o) => o.deliveryMethod === 'PICKUP');
    for (const [location, list] of groupBy(seededPickups.sort((a, b) => (a.placedAt < b.placedAt ? -1 : 1)), (o) => o.pickupLocationId)) this.pickupByLocation.set(location, list);
    for (const record of orders.slice(this.seededOrders)) {
      if (record.deliveryMethod !== 'PICKUP' || !record.pickupLocationId) continue;
      const list = this.pickupByLocation.get(record.pickupLocationId);
      if (list) list.push(record);
      else this.pickupByLocation.set(record.pickupLocationId, [record]);
    }
  }
}

/** What e-commerce holds, as a snapshot keeps it: its order book and its exception register (absent in snapshots written before it). */
export interface EcomState extends OrderBookState {
  exceptions?: ExceptionRecord[];
}
