import { LOCATION_STREAM_TYPES, type CanonicalEvent, type EventBackbone } from '../../../common/events.js';
import type { Logger } from '../../../common/logger.js';
import type { MarketplaceListingPort } from './ports.js';

/** The consuming group: one member per inventory instance, each change published by one of them. */
export const MARKETPLACE_FEED_GROUP = 'inventory-marketplace-feed';

export interface MarketplaceFeedDeps {
  backbone: Pick<EventBackbone, 'consume'>;
  listings: MarketplaceListingPort;
  /** The locations the marketplace sells from, by its channel rule (read again at most every `locationsTtlMs`). */
  eligibleLocations: () => Promise<string[]>;
  /** What the marketplace may sell of each SKU now at those locations, by its channel rule (fresh reads, never a cache). */
  shareOf: (skus: readonly string[], locationIds: readonly string[]) => Promise<number[]>;
  /** How long the list of eligible locations is kept, in ms. @default 60 000 */
  locationsTtlMs?: number | undefined;
  logger: Logger;
  /**
   * How long changes gather before one publication of every SKU they touched, in ms: a burst of sales is one call.
   * @default 200
   */
  batchMs?: number | undefined;
  now?: (() => Date) | undefined;
}

/**
 * The stock feed to the marketplace: every stock change of a SKU at a location the marketplace sells from (a sale,
 * a reservation, an adjustment) republishes what the marketplace may sell of it, computed by the same channel rule checkout commits
 * with (warehouses only, less the buffer, by default). As the `inventory-marketplace-feed` consumer group it takes
 * each change until its publication went out: a marketplace that is down delays the feed, the backbone hands the
 * changes again and they are published then. Each publication is the level read after the change, stamped `asOf`,
 * so the marketplace keeps the newest figure whatever order two publications land in.
 */
export class MarketplaceStockFeed {
  private unsubscribe: (() => void) | null = null;
  private pending: { skus: Set<string>; done: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | null = null;
  private stopped = false;
  private locations: { ids: Promise<Set<string>>; readAt: number } | null = null;

  constructor(private readonly deps: MarketplaceFeedDeps) {}

  /** The eligible locations, kept a while: they change with the site master, not with every sale. */
  private eligible(): Promise<Set<string>> {
    const now = Date.now();
    if (!this.locations || now - this.locations.readAt > (this.deps.locationsTtlMs ?? 60_000)) {
      const ids = this.deps.eligibleLocations().then((list) => new Set(list));
      // A failed read is not kept: the next change asks again.
      ids.catch(() => {
        if (this.locations?.ids === ids) this.locations = null;
      });
      this.locations = { ids, readAt: now };
    }
    return this.locations.ids;
  }

  start(): void {
    if (this.unsubscribe || this.stopped) return;
    this.unsubscribe = this.deps.backbone.consume(MARKETPLACE_FEED_GROUP, LOCATION_STREAM_TYPES, (event) => this.take(event));
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /**
   * Resolves once the SKU's level after this change is published (at once for a change at a location the marketplace
   * does not sell from: its share did not move); rejects (to be handed again) when it could not be.
   */
  async take(event: CanonicalEvent): Promise<void> {
    if (this.stopped) throw new Error('the marketplace feed is stopping');
    if (!event.sku || !event.locationId) return;
    if (!(await this.eligible()).has(event.locationId)) return;
    return this.gather(event.sku);
  }

  private gather(sku: string): Promise<void> {
    if (!this.pending) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // Nobody may be waiting on it when it fails (every handler took its answer already): no unhandled rejection.
      done.catch(() => undefined);
      this.pending = { skus: new Set(), done, resolve, reject };
      const timer = setTimeout(() => void this.flush(), this.deps.batchMs ?? 200);
      timer.unref();
    }
    this.pending.skus.add(sku);
    return this.pending.done;
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = null;
    if (!batch) return;
    const skus = [...batch.skus];
    try {
      const asOf = (this.deps.now ?? (() => new Date()))().toISOString();
      const shares = await this.deps.shareOf(skus, [...(await this.eligible())]);
      await this.deps.listings.publish(skus.map((sku, i) => ({ sku, quantity: shares[i] ?? 0, asOf })));
      this.deps.logger.debug({ skus: skus.length }, 'marketplace feed: listings published');
      batch.resolve();
    } catch (error) {
      this.deps.logger.warn({ err: error, skus: skus.length }, 'marketplace feed: listings not published; the changes are handed again');
      batch.reject(error);
    }
  }
}
