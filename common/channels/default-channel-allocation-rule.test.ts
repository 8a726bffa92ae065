import { describe, expect, it } from 'vitest';
import { DefaultChannelAllocationRule } from './default-channel-allocation-rule.js';

const store = { id: 'store-001', kind: 'STORE' as const };
const other = { id: 'store-002', kind: 'STORE' as const };
const warehouse = { id: 'wh-01', kind: 'WAREHOUSE' as const };

describe('DefaultChannelAllocationRule', () => {
  it('by default: the own channels sell everywhere, the marketplace from warehouses less 2 units', () => {
    const rule = new DefaultChannelAllocationRule();
    for (const channel of ['WEB', 'MOBILE', 'CALL_CENTER', 'STORE'] as const) {
      expect([rule.eligible(channel, store), rule.eligible(channel, warehouse)]).toEqual([true, true]);
      expect(rule.holdBack(channel)).toBe(0);
    }
    expect([rule.eligible('MARKETPLACE', store), rule.eligible('MARKETPLACE', warehouse)]).toEqual([false, true]);
    expect(rule.holdBack('MARKETPLACE')).toBe(2);
  });

  it('stores excluded from online selling sell at their till only; ALL lets the marketplace sell the other stores', () => {
    const rule = new DefaultChannelAllocationRule({ onlineExcludedStores: ['store-001'], marketplaceLocations: 'ALL', marketplaceBuffer: 0 });
    expect(rule.eligible('STORE', store)).toBe(true);
    for (const channel of ['WEB', 'MOBILE', 'CALL_CENTER', 'MARKETPLACE'] as const) expect([rule.eligible(channel, store), rule.eligible(channel, other)]).toEqual([false, true]);
    expect(rule.holdBack('MARKETPLACE')).toBe(0);
  });

  it('a buffer that is not a whole number of units, 0 or more, is refused', () => {
    for (const marketplaceBuffer of [-1, 1.5, Number.NaN]) expect(() => new DefaultChannelAllocationRule({ marketplaceBuffer })).toThrow(/marketplaceBuffer/);
  });
});
