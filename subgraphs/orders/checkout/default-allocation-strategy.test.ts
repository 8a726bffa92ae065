import { describe, expect, it } from 'vitest';
import { DefaultAllocationStrategy, planSplit } from './default-allocation-strategy.js';
import type { Site, StockCommitResult } from './ports.js';

const site = (id: string, country: string, postalCode: string): Site => ({ id, kind: 'WAREHOUSE', pickupEnabled: false, address: { country, postalCode } });
const KASSEL = site('wh-01', 'DE', '34117');
const LINZ = site('wh-04', 'AT', '4020');
const VENLO = site('wh-03', 'NL', '5928');

/** A stock book of sellable units per location and SKU, committing all or nothing, recording what it did. */
function book(levels: Record<string, Record<string, number>>) {
  const log: string[] = [];
  return {
    log,
    levels,
    async commit(locationId: string, lines: readonly { sku: string; quantity: number }[]): Promise<StockCommitResult> {
      const at = levels[locationId] ?? {};
      const shortages = lines.filter((l) => (at[l.sku] ?? 0) < l.quantity).map((l) => ({ sku: l.sku, available: at[l.sku] ?? 0 }));
      if (shortages.length) return { ok: false, shortages };
      for (const l of lines) at[l.sku] = (at[l.sku] ?? 0) - l.quantity;
      log.push(`commit ${locationId} ${lines.map((l) => `${l.quantity}×${l.sku}`).join(',')}`);
      return { ok: true };
    },
    async release(locationId: string, lines: readonly { sku: string; quantity: number }[]) {
      const at = levels[locationId] ?? {};
      for (const l of lines) at[l.sku] = (at[l.sku] ?? 0) + l.quantity;
      log.push(`release ${locationId}`);
    },
  };
}

describe('DefaultAllocationStrategy', () => {
  it('takes the nearest location with every line', async () => {
    const stock = book({ 'wh-01': { A: 5 }, 'wh-03': { A: 5 }, 'wh-04': { A: 5 } });
    expect(await new DefaultAllocationStrategy().allocate([KASSEL, LINZ, VENLO], [{ sku: 'A', quantity: 1 }], stock, { country: 'AT', postalCode: '4600' })).toEqual({ locationId: 'wh-04' });
    expect(await new DefaultAllocationStrategy().allocate([KASSEL, LINZ, VENLO], [{ sku: 'A', quantity: 1 }], stock, { country: 'NL', postalCode: '5911' })).toEqual({ locationId: 'wh-03' });
  });

  it('splits only when allowed and no location has every line: fewest parts, then the nearest', async () => {
    const lines = [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }, { sku: 'C', quantity: 1 }];
    const levels = { 'wh-01': { A: 1 }, 'wh-03': { B: 1, C: 1 }, 'wh-04': { A: 1, B: 1 } };
    const strategy = new DefaultAllocationStrategy();
    expect(await strategy.allocate([KASSEL, LINZ, VENLO], lines, book(structuredClone(levels)), { country: 'DE', postalCode: '34000' })).toMatchObject({ ok: false });
    const stock = book(structuredClone(levels));
    const split = await strategy.allocate([KASSEL, LINZ, VENLO], lines, stock, { country: 'DE', postalCode: '34000' }, { split: true });
    // Two parts, not three: Venlo takes B and C, the nearer of the two with A (Kassel) takes A.
    expect(split).toEqual({ locationId: 'wh-03', parts: [{ locationId: 'wh-03', lines: [{ sku: 'B', quantity: 1 }, { sku: 'C', quantity: 1 }] }, { locationId: 'wh-01', lines: [{ sku: 'A', quantity: 1 }] }] });
    expect(stock.levels['wh-01']).toEqual({ A: 0 });
  });

  it('a part that can no longer be committed gives back the parts made; a line no location has is no split', async () => {
    expect(planSplit([{ sku: 'A', quantity: 1 }, { sku: 'Z', quantity: 1 }], [{ locationId: 'wh-01', skus: new Set(['Z']) }, { locationId: 'wh-03', skus: new Set(['A', 'Z']) }])).toBeNull();
    const stock = book({ 'wh-01': { A: 1 }, 'wh-03': { B: 1 } });
    let calls = 0;
    const racing = {
      ...stock,
      // The second part's location sells its last unit between the plan and the commit.
      commit: async (locationId: string, lines: readonly { sku: string; quantity: number }[]) => (++calls === 4 ? { ok: false as const, shortages: [{ sku: 'B', available: 0 }] } : stock.commit(locationId, lines)),
    };
    const result = await new DefaultAllocationStrategy().allocate([KASSEL, VENLO], [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }], racing, null, { split: true });
    expect(result).toEqual({ ok: false, shortages: [{ sku: 'B', available: 0 }] });
    expect(stock.levels).toEqual({ 'wh-01': { A: 1 }, 'wh-03': { B: 1 } });
    expect(stock.log).toEqual(['commit wh-01 1×A', 'release wh-01']);
  });
});
