import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { MarketplaceUpdateRecord } from '../../../common/systems/marketplace.js';
import type { SandboxMarketplace } from '../../../sandbox/marketplace.js';
import type { MarketplacePort, MarketplaceUpdate } from './ports.js';

type MarketplaceSeller = Pick<SandboxMarketplace, 'acknowledgeOrder' | 'rejectOrder' | 'confirmShipment' | 'cancelOrder'>;

const request = (u: MarketplaceUpdate) => ({
  reference: u.reference,
  externalOrderId: u.externalOrderId,
  orderId: u.orderId ?? null,
  orderNumber: u.orderNumber ?? null,
  reason: u.reason ?? null,
  carrier: u.carrier ?? null,
  trackingNumber: u.trackingNumber ?? null,
});

/** The marketplace's seller API over the sandbox marketplace: one call per update, through the resilience policy (writes: never retried by it). */
export class SandboxMarketplaceSeller implements MarketplacePort {
  private readonly marketplace: MarketplaceSeller;
  constructor(marketplace: MarketplaceSeller, resilience: ResilienceRegistry) {
    this.marketplace = resilience.wrap('marketplace', marketplace);
  }

  acknowledge(update: MarketplaceUpdate): Promise<MarketplaceUpdateRecord> {
    return this.marketplace.acknowledgeOrder(request(update));
  }

  reject(update: MarketplaceUpdate): Promise<MarketplaceUpdateRecord> {
    return this.marketplace.rejectOrder(request(update));
  }

  confirmShipment(update: MarketplaceUpdate): Promise<MarketplaceUpdateRecord> {
    return this.marketplace.confirmShipment(request(update));
  }

  cancel(update: MarketplaceUpdate): Promise<MarketplaceUpdateRecord> {
    return this.marketplace.cancelOrder(request(update));
  }
}
