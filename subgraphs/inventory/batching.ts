import type DataLoader from 'dataloader';
import type { InventoryLocation, InventoryPorts, LocationKind, StockKey, StockPolicy } from './ports.js';
import { locationKindOf, toStockLevel, type StockLevel } from './stock.js';

/*
 * DataLoader batch functions over the ports. Keys are split by the system that owns them, so one batch makes at
 * most one call per system, and only to systems that own a key. A system's failure becomes an Error for its
 * own keys only (DataLoader rejects just those loads): a WMS outage nulls warehouse fields, not store fields.
 */

const asError = (reason: unknown): Error => (reason instanceof Error ? reason : new Error(String(reason)));

/** Split `keys` by owning system, make one call per system, put each answer back at its key's position. */
async function routeByKind<K, V>(
  keys: readonly K[],
  kindOf: (key: K) => LocationKind,
  call: (kind: LocationKind, keys: K[]) => Promise<readonly V[]>,
): Promise<(V | Error)[]> {
  const groups = new Map<LocationKind, number[]>();
  keys.forEach((key, index) => {
    const kind = kindOf(key);
    const group = groups.get(kind);
    if (group) group.push(index);
    else groups.set(kind, [index]);
  });
  const results = new Array<V | Error>(keys.length);
  await Promise.all(
    [...groups].map(async ([kind, indexes]) => {
      try {
        const answers = await call(kind, indexes.map((i) => keys[i] as K));
        if (answers.length !== indexes.length) throw new Error(`${kind} system answered ${answers.length} entries for ${indexes.length} keys`);
        indexes.forEach((keyIndex, i) => (results[keyIndex] = answers[i] as V));
      } catch (error) {
        for (const keyIndex of indexes) results[keyIndex] = asError(error);
      }
    }),
  );
  return results;
}

/** Locations by id: one POS call for store ids, one WMS call for warehouse ids; null for unknown ids. */
export function loadLocations(ports: InventoryPorts, ids: readonly string[]): Promise<(InventoryLocation | null | Error)[]> {
  return routeByKind(ids, locationKindOf, (kind, part) => ports.locations[kind].getLocations(part));
}

/** Every location of each kind asked for: one list call per system. */
export function listLocationsByKind(ports: InventoryPorts, kinds: readonly LocationKind[]): Promise<(InventoryLocation[] | Error)[]> {
  return routeByKind(kinds, (kind) => kind, async (kind, part) => {
    const all = await ports.locations[kind].listLocations();
    return part.map(() => all);
  });
}

/**
 * Stock levels by (sku, location): at most one POS call, one WMS call and one ERP call per batch, made side by
 * side. Null where the operational system has no stock record, whatever the ERP says (a policy without stock
 * is not a level), which also keeps an ERP outage from failing keys that have no stock anyway.
 */
export async function loadStockLevels(ports: InventoryPorts, keys: readonly StockKey[]): Promise<(StockLevel | null | Error)[]> {
  const [counts, policies] = await Promise.all([
    routeByKind(keys, (key) => locationKindOf(key.locationId), (kind, part) => ports.stock[kind].getStock(part)),
    ports.policies.getStockPolicies(keys).then(
      (answers): readonly (StockPolicy | null)[] | Error =>
        answers.length === keys.length ? answers : new Error(`ERP answered ${answers.length} stock policies for ${keys.length} keys`),
      asError,
    ),
  ]);
  // One time for the batch: every count in it came back from one round of calls.
  const readAt = new Date().toISOString();
  return counts.map((count, i) => {
    if (count === null || count instanceof Error) return count;
    if (policies instanceof Error) return policies;
    return toStockLevel(count, policies[i] ?? null, readAt);
  });
}

/** The cache key of a stock read; location ids never contain `@` (only known locations reach the stock loader). */
export const stockKeyOf = (key: StockKey): string => `${key.sku}@${key.locationId}`;

/** `loadMany`, but failing like `load` does: the first key's error rejects the whole list. */
export async function loadAll<K, V, C>(loader: DataLoader<K, V, C>, keys: readonly K[]): Promise<V[]> {
  const values = await loader.loadMany(keys);
  const failed = values.find((value): value is Error => value instanceof Error);
  if (failed) throw failed;
  return values as V[];
}
