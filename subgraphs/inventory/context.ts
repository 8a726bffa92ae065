import type { ChannelAllocationRule } from '../../common/channels/channel-allocation-rule.js';
import DataLoader from 'dataloader';
import type { ScopedContext } from '../../common/http.js';
import { listLocationsByKind, loadAll, loadLocations, loadStockLevels, stockKeyOf } from './batching.js';
import type { StockChangeFeed } from './changes/stock-change-feed.js';
import type { InventoryLocation, InventoryPorts, LocationKind, StockKey } from './ports.js';
import { compareLocations, type StockLevel } from './stock.js';
import type { StockWriteDeps } from './writes/stock-writes.service.js';
import type { ExceptionRegisterPort } from './offline/ports.js';
import type { StoreSyncDeps } from './offline/store-sync.service.js';

/** Offline store sales (`syncStoreTransactions`) and the exception register they raise into (`exceptions`). */
export type StoreSyncContext = StoreSyncDeps & { exceptions: ExceptionRegisterPort };

/** A fresh set per request: caching lives exactly as long as one query (the dataloader README's advice). */
export function createInventoryLoaders(ports: InventoryPorts) {
  const locationsByKind = new DataLoader<LocationKind, InventoryLocation[]>((kinds) => listLocationsByKind(ports, kinds));
  return {
    location: new DataLoader<string, InventoryLocation | null>((ids) => loadLocations(ports, ids)),
    /** Each kind's full site list, so "all locations" is fetched once per request however many variants ask. */
    locationsByKind,
    stockLevel: new DataLoader<StockKey, StockLevel | null, string>((keys) => loadStockLevels(ports, keys), { cacheKeyFn: stockKeyOf }),
    /**
     * Every location's level of each SKU, in location order. A listing page asks availability over all 25
     * locations for 60 SKUs: keyed by SKU, that is 60 loads instead of 1,500, with the same system calls.
     */
    stockEverywhere: new DataLoader<string, StockEverywhere>((skus) => loadStockEverywhere(ports, locationsByKind, skus)),
  };
}

export interface StockEverywhere {
  locations: InventoryLocation[];
  /** Parallel to `locations`; null where the location holds no record of the SKU. */
  levels: (StockLevel | null)[];
}

export type InventoryLoaders = ReturnType<typeof createInventoryLoaders>;

export interface InventoryContext extends ScopedContext {
  loaders: InventoryLoaders;
  /** `available` at or under this is LOW_STOCK (from configuration). */
  lowStockThreshold: number;
  /** The write side (stock movements, reservations): ports, idempotency, event backbone. */
  writes: StockWriteDeps;
  /** The instance's stock changes, filtered by location at the source (the `inventoryChanged` subscription). */
  changes: StockChangeFeed;
  storeSync: StoreSyncContext;
  /** Which stock each channel may sell (`availability(channel:)`): the rule checkout commits with. */
  channels: ChannelAllocationRule;
}

async function loadStockEverywhere(
  ports: InventoryPorts,
  locationsByKind: DataLoader<LocationKind, InventoryLocation[]>,
  skus: readonly string[],
): Promise<(StockEverywhere | Error)[]> {
  let locations: InventoryLocation[];
  try {
    locations = (await loadAll(locationsByKind, ['STORE', 'WAREHOUSE'])).flat().sort(compareLocations);
  } catch (error) {
    return skus.map(() => error as Error);
  }
  const keys: StockKey[] = [];
  for (const sku of skus) for (const location of locations) keys.push({ sku, locationId: location.id });
  const levels = await loadStockLevels(ports, keys);
  return skus.map((_, s) => {
    const slice = levels.slice(s * locations.length, (s + 1) * locations.length);
    const failed = slice.find((level): level is Error => level instanceof Error);
    return failed ?? { locations, levels: slice as (StockLevel | null)[] };
  });
}
