import DataLoader from 'dataloader';
import type { ScopedContext } from '../../common/http.js';
import { listLocationsByKind, loadLocations, loadStockLevels, stockKeyOf } from './batching.js';
import type { InventoryLocation, InventoryPorts, LocationKind, StockKey } from './ports.js';
import type { StockLevel } from './stock.js';

/** A fresh set per request: caching lives exactly as long as one query (the dataloader README's advice). */
export function createInventoryLoaders(ports: InventoryPorts) {
  return {
    location: new DataLoader<string, InventoryLocation | null>((ids) => loadLocations(ports, ids)),
    /** Each kind's full site list, so "all locations" is fetched once per request however many variants ask. */
    locationsByKind: new DataLoader<LocationKind, InventoryLocation[]>((kinds) => listLocationsByKind(ports, kinds)),
    stockLevel: new DataLoader<StockKey, StockLevel | null, string>((keys) => loadStockLevels(ports, keys), { cacheKeyFn: stockKeyOf }),
  };
}

export type InventoryLoaders = ReturnType<typeof createInventoryLoaders>;

export interface InventoryContext extends ScopedContext {
  loaders: InventoryLoaders;
  /** `available` at or under this is LOW_STOCK (from configuration). */
  lowStockThreshold: number;
}
