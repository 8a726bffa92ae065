/*
 * Which stock a sales channel may sell: allocation rules per channel, a strategy with its default beside it
 * (default-channel-allocation-rule.ts). Inventory answers `availability(channel:)` with it and checkout commits with
 * it, so that what a channel is shown is what it can take, and no channel takes more than its share.
 */

/** The channels orders come from (the orders subgraph's `Channel`). */
export const SALES_CHANNELS = ['WEB', 'MOBILE', 'STORE', 'MARKETPLACE', 'CALL_CENTER'] as const;
export type SalesChannel = (typeof SALES_CHANNELS)[number];

/** A location as the rule sees it. */
export interface ChannelLocation {
  id: string;
  kind: 'STORE' | 'WAREHOUSE';
}

export interface ChannelAllocationRule {
  /** Whether `channel` may sell stock at `location` at all (an ineligible location shows it 0 and is never committed for it). */
  eligible(channel: SalesChannel, location: ChannelLocation): boolean;
  /**
   * Units of `sku` at `locationId` held back from `channel` on top of the ERP's safety stock: checkout adds them to
   * the safety stock of its commitment, so the stock book's one atomic check enforces the share.
   */
  holdBack(channel: SalesChannel, locationId: string, sku: string): number;
}
