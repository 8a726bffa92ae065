import type { OrderRecord } from '../common/systems/records.js';
import { OrderBook, type OrderBookState } from './order-book.js';
import { IMPORT_STATE } from './state.js';
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

  /** Pickup orders still to be handed over at each location (CONFIRMED or READY_FOR_PICKUP), oldest first. */
  async getPickupQueue(locationIds: readonly string[]): Promise<OrderRecord[][]> {
    return locationIds.map((id) => (this.pickupByLocation.get(id) ?? []).filter((o) => o.status === 'CONFIRMED' || o.status === 'READY_FOR_PICKUP'));
  }

  /** The pickup queues are rebuilt as the constructor and `createOrder` built them: the seed's by `placedAt`, then the rest in order. */
  override [IMPORT_STATE](state: OrderBookState): void {
    super[IMPORT_STATE](state);
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
