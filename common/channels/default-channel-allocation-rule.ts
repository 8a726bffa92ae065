import { assertNever } from '../events.js';
import type { ChannelAllocationRule, ChannelLocation, SalesChannel } from './channel-allocation-rule.js';

export interface DefaultChannelAllocationOptions {
  /**
   * Units of each SKU held back from the marketplace at every location it may sell from, so that a burst of
   * marketplace orders never takes the last units the own channels sell.
   * @default 2
   */
  marketplaceBuffer?: number;
  /**
   * Where the marketplace may sell from: `WAREHOUSE` (its orders ship from the warehouses) or `ALL` (stores too,
   * except those excluded from online selling).
   * @default 'WAREHOUSE'
   */
  marketplaceLocations?: 'WAREHOUSE' | 'ALL';
  /**
   * Stores whose stock is not sold online (WEB, MOBILE, CALL_CENTER, MARKETPLACE): no pickup there, no
   * ship-from-store; their tills (channel STORE) still sell it.
   * @default [] (none)
   */
  onlineExcludedStores?: readonly string[];
}

/**
 * The default rules: the own online channels sell everything but the excluded stores; the till sells everything
 * (a store associate hands over what is on the shelf); the marketplace sells its locations' stock less a buffer.
 */
export class DefaultChannelAllocationRule implements ChannelAllocationRule {
  private readonly buffer: number;
  private readonly marketplaceLocations: 'WAREHOUSE' | 'ALL';
  private readonly excluded: ReadonlySet<string>;

  constructor(options: DefaultChannelAllocationOptions = {}) {
    const buffer = options.marketplaceBuffer ?? 2;
    if (!Number.isInteger(buffer) || buffer < 0) throw new Error(`marketplaceBuffer must be a whole number of units, 0 or more (got ${buffer})`);
    this.buffer = buffer;
    this.marketplaceLocations = options.marketplaceLocations ?? 'WAREHOUSE';
    this.excluded = new Set(options.onlineExcludedStores ?? []);
  }

  eligible(channel: SalesChannel, location: ChannelLocation): boolean {
    switch (channel) {
      case 'STORE':
        return true;
      case 'WEB':
      case 'MOBILE':
      case 'CALL_CENTER':
        return !this.excluded.has(location.id);
      case 'MARKETPLACE':
        return location.kind === 'WAREHOUSE' || (this.marketplaceLocations === 'ALL' && !this.excluded.has(location.id));
      default:
        return assertNever(channel);
    }
  }

  holdBack(channel: SalesChannel): number {
    return channel === 'MARKETPLACE' ? this.buffer : 0;
  }
}
