import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { SandboxMarketplace } from '../../../sandbox/marketplace.js';
import type { MarketplaceListing, MarketplaceListingPort } from './ports.js';

/** The marketplace's listings API over the sandbox marketplace: one call per publication, through the resilience policy. */
export class SandboxMarketplaceListings implements MarketplaceListingPort {
  private readonly marketplace: Pick<SandboxMarketplace, 'publishInventory'>;
  constructor(marketplace: Pick<SandboxMarketplace, 'publishInventory'>, resilience: ResilienceRegistry) {
    this.marketplace = resilience.wrap('marketplace', marketplace);
  }

  async publish(listings: readonly MarketplaceListing[]): Promise<void> {
    await this.marketplace.publishInventory(listings.map((l) => ({ ...l, reference: `feed-${l.sku}-${l.asOf}` })));
  }
}
