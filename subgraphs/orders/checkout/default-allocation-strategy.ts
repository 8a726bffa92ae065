import type { AllocationStrategy } from './allocation-strategy.js';
import { byProximity } from './postal-proximity.js';

/**
 * The default routing: the nearest candidate to the destination's postal code that has every line (see
 * postal-proximity.ts; without a destination, candidates by id), the whole order from one location, so one
 * shipment. Shortages reported are those of the candidate that came closest. Split shipments are not made: an
 * order no single location can take is refused (OUT_OF_STOCK) — see README "Routing and rerouting".
 */
export class DefaultAllocationStrategy implements AllocationStrategy {
  async allocate(...[candidates, lines, stock, destination]: Parameters<AllocationStrategy['allocate']>): ReturnType<AllocationStrategy['allocate']> {
    let best: { ok: false; shortages: { sku: string; available: number }[] } = { ok: false, shortages: lines.map((l) => ({ sku: l.sku, available: 0 })) };
    let bestMissing = Number.POSITIVE_INFINITY;
    for (const site of byProximity(candidates, destination)) {
      const result = await stock.commit(site.id, lines);
      if (result.ok) return { locationId: site.id };
      const missing = result.shortages.reduce((sum, s) => sum + (lines.find((l) => l.sku === s.sku)?.quantity ?? 0) - s.available, 0);
      if (missing < bestMissing) {
        best = result;
        bestMissing = missing;
      }
    }
    return best;
  }
}
