import { describe, expect, it } from 'vitest';
import type { LoyaltyOrder } from '../ports.js';
import { DefaultPointsRule } from './default-points-rule.js';

const order = (lines: LoyaltyOrder['lines'], currency = 'EUR', totalMinor = lines.reduce((s, l) => s + l.quantity * l.unitPriceMinor, 0)): LoyaltyOrder => ({ id: 'ord-1', customerId: 'cust-1', currency, totalMinor, lines });

describe('DefaultPointsRule', () => {
  const rule = new DefaultPointsRule();

  it('earns one point per whole currency unit of the total, rounded down', () => {
    expect(rule.earned(order([{ sku: 'A', quantity: 1, unitPriceMinor: 2_499 }]))).toBe(24);
    expect(rule.earned(order([{ sku: 'A', quantity: 3, unitPriceMinor: 1_000 }]))).toBe(30);
    expect(rule.earned(order([{ sku: 'A', quantity: 1, unitPriceMinor: 99 }]))).toBe(0);
    expect(rule.earned(order([], 'EUR', 0))).toBe(0);
  });

  it('knows currencies without minor units, and with three', () => {
    expect(rule.earned(order([{ sku: 'A', quantity: 1, unitPriceMinor: 1_234 }], 'JPY'))).toBe(1_234);
    expect(rule.earned(order([{ sku: 'A', quantity: 1, unitPriceMinor: 12_345 }], 'KWD'))).toBe(12);
  });

  it('scales by pointsPerUnit, and refuses a fraction or a negative', () => {
    expect(new DefaultPointsRule({ pointsPerUnit: 3 }).earned(order([{ sku: 'A', quantity: 1, unitPriceMinor: 1_050 }]))).toBe(30);
    expect(() => new DefaultPointsRule({ pointsPerUnit: 1.5 })).toThrow(RangeError);
    expect(() => new DefaultPointsRule({ pointsPerUnit: -1 })).toThrow(RangeError);
  });

  it('reverses in proportion to the returned lines value, rounded down', () => {
    const o = order([
      { sku: 'A', quantity: 2, unitPriceMinor: 1_000 },
      { sku: 'B', quantity: 1, unitPriceMinor: 3_000 },
    ]); // 50.00 EUR: 50 points
    expect(rule.reversed(o, [{ sku: 'A', quantity: 1 }], 0)).toBe(10);
    expect(rule.reversed(o, [{ sku: 'B', quantity: 1 }], 0)).toBe(30);
    expect(rule.reversed(o, [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }], 0)).toBe(50);
    // Shipping or a rounding in the total: the proportion is of the lines, the points of the total.
    const odd = order([{ sku: 'A', quantity: 3, unitPriceMinor: 333 }], 'EUR', 999); // 9 points
    expect(rule.reversed(odd, [{ sku: 'A', quantity: 1 }], 0)).toBe(3);
  });

  it('never takes back more than the order earned, over all its returns', () => {
    const o = order([{ sku: 'A', quantity: 3, unitPriceMinor: 1_000 }]); // 30 points
    expect(rule.reversed(o, [{ sku: 'A', quantity: 5 }], 0)).toBe(30); // more units than bought count as those bought
    expect(rule.reversed(o, [{ sku: 'A', quantity: 2 }], 20)).toBe(10);
    expect(rule.reversed(o, [{ sku: 'A', quantity: 1 }], 30)).toBe(0);
    expect(rule.reversed(o, [{ sku: 'Z', quantity: 1 }], 0)).toBe(0); // a SKU the order never had
    expect(rule.reversed(o, [{ sku: 'A', quantity: 0 }, { sku: 'A', quantity: -2 }], 0)).toBe(0);
  });

  it('is whole points and deterministic over many orders', () => {
    for (let i = 1; i < 200; i++) {
      const o = order([
        { sku: 'A', quantity: (i % 4) + 1, unitPriceMinor: 17 * i + 3 },
        { sku: 'B', quantity: (i % 3) + 1, unitPriceMinor: 101 * i },
      ]);
      const earned = rule.earned(o);
      const a = rule.reversed(o, [{ sku: 'A', quantity: (i % 4) + 1 }], 0);
      const b = rule.reversed(o, [{ sku: 'B', quantity: (i % 3) + 1 }], a);
      expect(Number.isInteger(a) && Number.isInteger(b)).toBe(true);
      expect(a + b).toBeLessThanOrEqual(earned);
      expect(rule.reversed(o, [{ sku: 'A', quantity: (i % 4) + 1 }], 0)).toBe(a);
    }
  });
});
