import type { ShipmentRequest } from '../common/systems/orders.js';
import type { ShipmentRecord, SiteRecord } from '../common/systems/records.js';
import type { StockBook } from '../common/systems/stock-book.js';
import type { SeedData } from './seed.js';
import { groupBy, indexBy } from './shared.js';
import { MemoryStockBook, StockKeeper, type StockBookState } from './stock-book.js';
import { EXPORT_STATE, IMPORT_STATE, listPart, type SystemState } from './state.js';

/** WMS: warehouses, warehouse stock and shipments. */
export class SandboxWms extends StockKeeper {
  private readonly warehouses: SiteRecord[];
  private readonly warehousesById: Map<string, SiteRecord>;
  private readonly shipmentsByOrder: Map<string, ShipmentRecord[]>;

  /** Its own stock book (null: it was given a shared one, which keeps its own state). */
  private readonly ownStock: MemoryStockBook | null;

  /** `stock`: the book its warehouse stock is kept in; default its own, in memory, seeded with the warehouses' counts. */
  constructor(data: SeedData, stock?: StockBook) {
    const ids = new Set(data.warehouses.map((w) => w.id));
    super(stock ?? new MemoryStockBook(data.stock.filter((s) => ids.has(s.locationId))));
    this.ownStock = stock ? null : (this.stockBook as MemoryStockBook);
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

  /** Its shipments (copies: the carrier's news changes them in place) and, when the stock book is its own, the book's state. */
  [EXPORT_STATE](): SystemState {
    return { shipments: [...this.shipmentsByOrder.values()].flat().map((s) => ({ ...s })), ...(this.ownStock ? this.ownStock[EXPORT_STATE]() : {}) };
  }

  [IMPORT_STATE](state: SystemState): void {
    this.shipmentsByOrder.clear();
    for (const [orderId, list] of groupBy(listPart<ShipmentRecord>(state, 'shipments', 'the WMS'), (s) => s.orderId)) this.shipmentsByOrder.set(orderId, list);
    if (this.ownStock && state.stock !== undefined) this.ownStock[IMPORT_STATE](state as StockBookState);
  }
}
