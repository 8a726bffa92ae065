import type { ChannelAllocationRule, SalesChannel } from '../../common/channels/channel-allocation-rule.js';
import { loadAll } from './batching.js';
import type { InventoryLoaders } from './context.js';
import type { InventoryLocation, LocationKind } from './ports.js';
import { compareLocations, summarizeAvailability, type AvailabilityValue, type StockLevel } from './stock.js';

/*
 * What the resolvers delegate to. Every read goes through the request's loaders, and each function awaits its
 * location step once and then asks for all its stock keys at once, so that the loads of every resolver in a
 * request land in the same DataLoader batch.
 */

const ALL_KINDS: readonly LocationKind[] = ['STORE', 'WAREHOUSE'];

const isPresent = <T>(value: T | null): value is T => value !== null;

/** Locations of one kind (calling only its system) or of all kinds, in the graph's location order. */
export async function findLocations(loaders: InventoryLoaders, kind: LocationKind | null, pickupEnabled: boolean | null): Promise<InventoryLocation[]> {
  const lists = await loadAll(loaders.locationsByKind, kind ? [kind] : ALL_KINDS);
  const all = lists.flat();
  // A location listed here and then looked up by id (InventoryLevel.location) costs no second call.
  for (const location of all) loaders.location.prime(location.id, location);
  return all.filter((l) => pickupEnabled === null || l.pickupEnabled === pickupEnabled).sort(compareLocations);
}

/** The stock levels of `skus` at a known location, in `skus` order, leaving out SKUs it holds no record of. */
export async function stockLevelsAt(loaders: InventoryLoaders, locationId: string, skus: readonly string[]): Promise<StockLevel[]> {
  const levels = await loadAll(loaders.stockLevel, skus.map((sku) => ({ sku, locationId })));
  return levels.filter(isPresent);
}

/**
 * A SKU's availability over the given locations (unknown ids ignored, only their owning systems asked) or over
 * every location when `locationIds` is null.
 */
export async function availabilityOf(
  loaders: InventoryLoaders,
  sku: string,
  locationIds: readonly string[] | null,
  lowStockThreshold: number,
  forChannel: { channel: SalesChannel; rule: ChannelAllocationRule } | null = null,
): Promise<AvailabilityValue> {
  let entries: { location: InventoryLocation; level: StockLevel | null }[];
  if (!locationIds) {
    const everywhere = await loaders.stockEverywhere.load(sku);
    entries = everywhere.locations.map((location, i) => ({ location, level: everywhere.levels[i] ?? null }));
  } else {
    const locations = (await loadAll(loaders.location, locationIds)).filter(isPresent).sort(compareLocations);
    const levels = await loadAll(loaders.stockLevel, locations.map((location) => ({ sku, locationId: location.id })));
    entries = locations.map((location, i) => ({ location, level: levels[i] ?? null }));
  }
  return summarizeAvailability(forChannel ? channelShare(entries, sku, forChannel.channel, forChannel.rule) : entries, lowStockThreshold);
}

/** What `channel` may sell of each entry: the same numbers checkout's commitment checks (the rule's hold-back on top of the safety stock). */
function channelShare(entries: readonly { location: InventoryLocation; level: StockLevel | null }[], sku: string, channel: SalesChannel, rule: ChannelAllocationRule) {
  return entries
    .filter(({ location }) => rule.eligible(channel, location))
    .map(({ location, level }) => ({ location, level: level ? { ...level, available: Math.max(0, level.available - rule.holdBack(channel, location.id, sku)) } : null }));
}
