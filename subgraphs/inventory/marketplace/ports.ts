/** The units of a SKU offered on the marketplace, computed at `asOf`. */
export interface MarketplaceListing {
  sku: string;
  quantity: number;
  /** ISO 8601: when the figure was read (the marketplace keeps the newest). */
  asOf: string;
}

/**
 * Where the marketplace's stock offer goes. System of record: the marketplace.
 *
 * Contract: one call for many SKUs; a publication older than what the marketplace holds for a SKU changes nothing; a
 * failure rejects with a `SystemUnavailableError` (`MARKETPLACE_UNAVAILABLE`) and the caller publishes again.
 */
export interface MarketplaceListingPort {
  publish(listings: readonly MarketplaceListing[]): Promise<void>;
}
