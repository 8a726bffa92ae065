import type { AllocationStrategy, RoutedPart } from './allocation-strategy.js';
import { byProximity } from './postal-proximity.js';

type Line = { sku: string; quantity: number };
type Shortages = { ok: false; shortages: { sku: string; available: number }[] };

/**
 * The default routing: the nearest candidate to the destination's postal code that has every line (see
 * postal-proximity.ts; without a destination, candidates by id), so one shipment. When none has every line and
 * splits are allowed: the fewest shipments, then the nearest — what each candidate could not take is known from its
 * refused commitment (its shortages), so the parts are planned without another read: repeatedly the candidate that
 * takes the most of the lines still open (whole lines; ties to the nearer), until every line has a place. Each part
 * is then committed at its location; should one fail (sold meanwhile), the parts made are given back and the
 * shortages answered. Shortages reported are those of the candidate that came closest.
 */
export class DefaultAllocationStrategy implements AllocationStrategy {
  async allocate(...[candidates, lines, stock, destination, options]: Parameters<AllocationStrategy['allocate']>): ReturnType<AllocationStrategy['allocate']> {
    let best: Shortages = { ok: false, shortages: lines.map((l) => ({ sku: l.sku, available: 0 })) };
    let bestMissing = Number.POSITIVE_INFINITY;
    const ordered = byProximity(candidates, destination);
    /** Per candidate (nearest first), the SKUs it could not take in full. */
    const short: { locationId: string; skus: Set<string> }[] = [];
    for (const site of ordered) {
      const result = await stock.commit(site.id, lines);
      if (result.ok) return { locationId: site.id };
      short.push({ locationId: site.id, skus: new Set(result.shortages.filter((s) => s.available < (lines.find((l) => l.sku === s.sku)?.quantity ?? 0)).map((s) => s.sku)) });
      const missing = result.shortages.reduce((sum, s) => sum + (lines.find((l) => l.sku === s.sku)?.quantity ?? 0) - s.available, 0);
      if (missing < bestMissing) {
        best = result;
        bestMissing = missing;
      }
    }
    if (!options?.split || !stock.release || lines.length < 2) return best;
    const plan = planSplit(lines, short);
    if (!plan) return best;
    const made: RoutedPart[] = [];
    for (const part of plan) {
      const result = await stock.commit(part.locationId, part.lines);
      if (!result.ok) {
        for (const done of made) await stock.release(done.locationId, done.lines);
        return result;
      }
      made.push(part);
    }
    return { locationId: made[0]!.locationId, parts: made };
  }
}

/** The fewest parts, then the nearest: greedy set cover over whole lines. Null when some line fits nowhere. */
export function planSplit(lines: readonly Line[], short: readonly { locationId: string; skus: ReadonlySet<string> }[]): RoutedPart[] | null {
  let open = [...lines];
  const parts: RoutedPart[] = [];
  while (open.length > 0) {
    let pick: { locationId: string; take: Line[] } | null = null;
    for (const candidate of short) {
      if (parts.some((p) => p.locationId === candidate.locationId)) continue;
      const take = open.filter((l) => !candidate.skus.has(l.sku));
      if (take.length > (pick?.take.length ?? 0)) pick = { locationId: candidate.locationId, take };
    }
    if (!pick) return null;
    parts.push({ locationId: pick.locationId, lines: pick.take.map((l) => ({ sku: l.sku, quantity: l.quantity })) });
    const taken = new Set(pick.take.map((l) => l.sku));
    open = open.filter((l) => !taken.has(l.sku));
  }
  return parts;
}
