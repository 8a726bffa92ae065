import type { MarketplaceListingRecord, MarketplaceOrderNotification, MarketplaceOrderRecord, MarketplaceUpdateKind, MarketplaceUpdateRecord } from '../common/systems/marketplace.js';
import type { Address } from '../common/systems/records.js';
import { callTime } from './clock.js';
import { EXPORT_STATE, IMPORT_STATE, intPart, listPart, type SystemState } from './state.js';

/** What we send back about one order: the update's kind and details, under the update's reference. */
export interface MarketplaceUpdateRequest {
  reference: string;
  externalOrderId: string;
  orderId?: string | null;
  orderNumber?: string | null;
  reason?: string | null;
  carrier?: string | null;
  trackingNumber?: string | null;
}

/**
 * The sandbox marketplace (an Amazon or Walmart seller API, reduced): the buyer's orders, which it notifies our
 * webhook of (see sandbox/marketplace-webhook.ts), our updates back (acknowledge, reject, ship, cancel, each kept
 * once per reference), and the stock we publish to it. Faults and call counters apply as to every system
 * (`marketplace`); every write is journaled.
 */
export class SandboxMarketplace {
  readonly name = 'MEGAMART';
  private readonly orders = new Map<string, MarketplaceOrderRecord>();
  private readonly updates = new Map<string, MarketplaceUpdateRecord>();
  private readonly listings = new Map<string, MarketplaceListingRecord>();
  private sequence = 0;

  /** A buyer places an order: its notification (version 1), which the marketplace then pushes to the seller. */
  async placeBuyerOrder(draft: { lines: { sku: string; quantity: number }[]; shippingAddress: Address; externalOrderId?: string }): Promise<MarketplaceOrderNotification> {
    this.sequence++;
    const externalOrderId = draft.externalOrderId ?? `MM-${String(this.sequence).padStart(8, '0')}`;
    const existing = this.orders.get(externalOrderId);
    if (existing) return copyNotification(existing.notification);
    const notification: MarketplaceOrderNotification = {
      marketplace: this.name,
      externalOrderId,
      version: 1,
      status: 'CREATED',
      placedAt: callTime().toISOString(),
      lines: draft.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      shippingAddress: { ...draft.shippingAddress },
    };
    this.orders.set(externalOrderId, { notification, updates: [] });
    return copyNotification(notification);
  }

  /** The buyer cancels: the next version, CANCELLED (null for an unknown order). */
  async cancelBuyerOrder(externalOrderId: string): Promise<MarketplaceOrderNotification | null> {
    const order = this.orders.get(externalOrderId);
    if (!order) return null;
    if (order.notification.status !== 'CANCELLED') order.notification = { ...order.notification, version: order.notification.version + 1, status: 'CANCELLED' };
    return copyNotification(order.notification);
  }

  acknowledgeOrder(request: MarketplaceUpdateRequest): Promise<MarketplaceUpdateRecord> {
    return this.update('ACKNOWLEDGED', request);
  }

  rejectOrder(request: MarketplaceUpdateRequest): Promise<MarketplaceUpdateRecord> {
    return this.update('REJECTED', request);
  }

  confirmShipment(request: MarketplaceUpdateRequest): Promise<MarketplaceUpdateRecord> {
    return this.update('SHIPPED', request);
  }

  cancelOrder(request: MarketplaceUpdateRequest): Promise<MarketplaceUpdateRecord> {
    return this.update('CANCELLED', request);
  }

  /** The marketplace's orders with the updates we sent, in the order asked (null: no such order). */
  async getOrders(externalOrderIds: readonly string[]): Promise<(MarketplaceOrderRecord | null)[]> {
    return externalOrderIds.map((id) => {
      const order = this.orders.get(id);
      return order ? { notification: copyNotification(order.notification), updates: order.updates.map((u) => ({ ...u })) } : null;
    });
  }

  /**
   * Our stock offer, SKU by SKU. A publication whose `asOf` is older than the listing's is ignored (two publishers
   * racing cannot leave the older figure standing); a repeat of a reference changes nothing.
   */
  async publishInventory(listings: readonly MarketplaceListingRecord[]): Promise<MarketplaceListingRecord[]> {
    return listings.map((listing) => {
      const current = this.listings.get(listing.sku);
      if (current && (current.reference === listing.reference || current.asOf > listing.asOf)) return { ...current };
      const record = { sku: listing.sku, quantity: Math.max(0, Math.trunc(listing.quantity)), asOf: listing.asOf, reference: listing.reference };
      this.listings.set(record.sku, record);
      return { ...record };
    });
  }

  /** The listings of these SKUs (null: never published). */
  async listInventory(skus: readonly string[]): Promise<(MarketplaceListingRecord | null)[]> {
    return skus.map((sku) => {
      const listing = this.listings.get(sku);
      return listing ? { ...listing } : null;
    });
  }

  private async update(kind: MarketplaceUpdateKind, request: MarketplaceUpdateRequest): Promise<MarketplaceUpdateRecord> {
    const known = this.updates.get(request.reference);
    if (known) return { ...known };
    const order = this.orders.get(request.externalOrderId);
    if (!order) throw new Error(`the marketplace has no order ${request.externalOrderId}`);
    const record: MarketplaceUpdateRecord = {
      reference: request.reference,
      externalOrderId: request.externalOrderId,
      kind,
      orderId: request.orderId ?? null,
      orderNumber: request.orderNumber ?? null,
      reason: request.reason ?? null,
      carrier: request.carrier ?? null,
      trackingNumber: request.trackingNumber ?? null,
      at: callTime().toISOString(),
    };
    order.updates.push(record);
    this.updates.set(record.reference, record);
    return { ...record };
  }

  [EXPORT_STATE](): SystemState {
    return {
      orders: [...this.orders.values()].map((o) => ({ notification: copyNotification(o.notification), updates: o.updates.map((u) => ({ ...u })) })),
      listings: [...this.listings.values()].map((l) => ({ ...l })),
      sequence: this.sequence,
    };
  }

  [IMPORT_STATE](state: SystemState): void {
    this.orders.clear();
    this.updates.clear();
    this.listings.clear();
    for (const order of listPart<MarketplaceOrderRecord>(state, 'orders', 'the marketplace')) {
      this.orders.set(order.notification.externalOrderId, order);
      for (const update of order.updates) this.updates.set(update.reference, update);
    }
    for (const listing of listPart<MarketplaceListingRecord>(state, 'listings', 'the marketplace')) this.listings.set(listing.sku, listing);
    this.sequence = intPart(state, 'sequence', 'the marketplace');
  }
}

const copyNotification = (n: MarketplaceOrderNotification): MarketplaceOrderNotification => ({ ...n, lines: n.lines.map((l) => ({ ...l })), shippingAddress: { ...n.shippingAddress } });
