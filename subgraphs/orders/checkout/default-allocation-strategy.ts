import type { AllocationStrategy } from './allocation-strategy.js';

/**
 * The default: the whole order from one location (no split shipments), trying candidates in the order given
 * (warehouses by id), first fit wins. Shortages reported are those of the candidate that came closest.
 */
export class DefaultAllocationStrategy implements AllocationStrategy {
  async allocate(...[candidates, lines, stock]: Parameters<AllocationStrategy['allocate']>): ReturnType<AllocationStrategy['allocate']> {
    let best: { ok: false; shortages: { sku: string; available: number }[] } = { ok: false, shortages: lines.map((l) => ({ sku: l.sku, available: 0 })) };
    let bestMissing = Number.POSITIVE_INFINITY;
    for (const locationId of candidates) {
      const result = await stock.commit(locationId, lines);
      if (result.ok) return { locationId };
      const missing = result.shortages.reduce((sum, s) => sum + (lines.find((l) => l.sku === s.sku)?.quantity ?? 0) - s.available, 0);
      if (missing < bestMissing) {
        best = result;
        bestMissing = missing;
      }
    }
    return best;
  }
}
