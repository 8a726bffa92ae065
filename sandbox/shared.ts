import type { StockKey } from '../common/systems/records.js';

/*
 * What the sandbox systems of record share. Each system (erp.ts, pos.ts, wms.ts, crm.ts, psp.ts, ecom.ts) plays
 * one vendor system with the batch API a real one would offer (or that its connector would build with a bulk
 * endpoint). Every method is async and takes many keys, and returns results in key order with null (or []) for
 * unknown keys, like a DataLoader batch function wants. Callers must treat returned records as read-only.
 */

export function groupBy<T>(items: readonly T[], key: (item: T) => string | null): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === null) continue;
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

export function indexBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T> {
  return new Map(items.map((item) => [key(item), item]));
}

/**
 * Records per SKU and location, as nested maps: a listing page looks up 1,500 pairs, and building a
 * `sku@location` string for each lookup showed in profiles.
 */
export class PairIndex<T extends StockKey> {
  private readonly bySku = new Map<string, Map<string, T>>();
  constructor(records: readonly T[]) {
    for (const record of records) {
      let perSku = this.bySku.get(record.sku);
      if (!perSku) this.bySku.set(record.sku, (perSku = new Map()));
      perSku.set(record.locationId, record);
    }
  }

  get(key: StockKey): T | null {
    return this.bySku.get(key.sku)?.get(key.locationId) ?? null;
  }

  set(record: T): void {
    let perSku = this.bySku.get(record.sku);
    if (!perSku) this.bySku.set(record.sku, (perSku = new Map()));
    perSku.set(record.locationId, record);
  }

  clear(): void {
    this.bySku.clear();
  }

  all(): T[] {
    const records: T[] = [];
    for (const perSku of this.bySku.values()) for (const record of perSku.values()) records.push(record);
    return records;
  }
}
