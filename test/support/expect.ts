import { formatMinor } from '../../common/money.js';
import type { SeedData } from '../../sandbox/seed.js';

/** Independent re-computation of what the graph should answer, straight from the seeded systems. */
export function expectedLevel(data: SeedData, sku: string, locationId: string) {
  const stock = data.stock.find((s) => s.sku === sku && s.locationId === locationId);
  if (!stock) return null;
  const policy = data.policies.find((p) => p.sku === sku && p.locationId === locationId) ?? { safetyStock: 0, incoming: 0 };
  const available = Math.max(0, stock.onHand - stock.committed - stock.reserved - policy.safetyStock - stock.damaged);
  return { onHand: stock.onHand, committed: stock.committed, reserved: stock.reserved, safetyStock: policy.safetyStock, damaged: stock.damaged, incoming: policy.incoming, available };
}

/** A pickup store and a SKU it has `min` sellable units of (the `skip`th such pair, so tests do not share stock). */
export function pickupStockIn(data: SeedData, min: number, skip: number): { sku: string; locationId: string } {
  const stores = new Set(data.stores.filter((s) => s.pickupEnabled).map((s) => s.id));
  let seen = 0;
  for (const s of data.stock) {
    if (!stores.has(s.locationId) || (expectedLevel(data, s.sku, s.locationId)?.available ?? 0) < min) continue;
    if (seen++ === skip) return { sku: s.sku, locationId: s.locationId };
  }
  throw new Error('no such stock in the seed');
}

export function allLocationIds(data: SeedData): string[] {
  return [...data.stores, ...data.warehouses].map((l) => l.id);
}

export function expectedAvailability(data: SeedData, sku: string, locationIds = allLocationIds(data)): number {
  return locationIds.reduce((sum, id) => sum + (expectedLevel(data, sku, id)?.available ?? 0), 0);
}

export function eur(minor: number) {
  return { amount: formatMinor(minor, 'EUR'), currencyCode: 'EUR' };
}

export function customerName(data: SeedData, id: string | null): string | null {
  const c = id ? data.customers.find((x) => x.id === id) : undefined;
  return c ? `${c.firstName} ${c.lastName}` : null;
}
