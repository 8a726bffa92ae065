import type { MarketplaceUpdateRecord } from '../../../common/systems/marketplace.js';

/** One update to a marketplace order, under its idempotency reference (a repeat answers the first update). */
export interface MarketplaceUpdate {
  reference: string;
  externalOrderId: string;
  orderId?: string | null | undefined;
  orderNumber?: string | null | undefined;
  reason?: string | null | undefined;
  carrier?: string | null | undefined;
  trackingNumber?: string | null | undefined;
}

/**
 * What the connector tells the marketplace about its orders. System of record: the marketplace.
 *
 * Contract: every call is idempotent by `reference`; a failure rejects with a `SystemUnavailableError`
 * (`MARKETPLACE_UNAVAILABLE`), and the caller tries again later under the same reference.
 */
export interface MarketplacePort {
  acknowledge(update: MarketplaceUpdate): Promise<MarketplaceUpdateRecord>;
  reject(update: MarketplaceUpdate): Promise<MarketplaceUpdateRecord>;
  confirmShipment(update: MarketplaceUpdate): Promise<MarketplaceUpdateRecord>;
  cancel(update: MarketplaceUpdate): Promise<MarketplaceUpdateRecord>;
}
