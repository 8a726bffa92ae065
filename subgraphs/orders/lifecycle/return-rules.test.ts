import { describe, expect, it } from 'vitest';
import type { OrderReturn, SalesOrder } from '../ports.js';
import { allUnitsReturned, checkReturnLines, refundAmount, returnableBySku, validateReturnShape } from './return-rules.js';

const eur = (minor: number) => ({ minor, currency: 'EUR' });
const order: Pick<SalesOrder, 'id' | 'lines' | 'total'> = {
  id: 'ord-w1',
  lines: [
    { sku: 'A', quantity: 3, unitPrice: eur(1999) },
    { sku: 'B', quantity: 1, unitPrice: eur(500) },
  ],
  total: eur(3 * 1999 + 500),
};
const ret = (status: OrderReturn['status'], lines: { sku: string; quantity: number }[]) => ({ status, lines });

describe('return rules', () => {
  it('validates the shape: reason, lines, quantities, one line per SKU', () => {
    expect(validateReturnShape({ reason: 'Too small', lines: [{ sku: 'A', quantity: 1 }] })).toEqual([]);
    const codes = (input: Parameters<typeof validateReturnShape>[0]) => validateReturnShape(input).map((e) => [e.code, e.field]);
    expect(codes({ reason: ' ', lines: [{ sku: 'A', quantity: 1 }] })).toEqual([['INVALID_INPUT', 'reason']]);
    expect(codes({ reason: 'x', lines: [] })).toEqual([['INVALID_INPUT', 'lines']]);
    expect(codes({ reason: 'x', lines: [{ sku: 'A', quantity: 0 }] })).toEqual([['INVALID_QUANTITY', 'lines.0.quantity']]);
    expect(codes({ reason: 'x', lines: [{ sku: 'A', quantity: -2 }] })).toEqual([['INVALID_QUANTITY', 'lines.0.quantity']]);
    expect(codes({ reason: 'x', lines: [{ sku: 'A', quantity: 1.5 }] })).toEqual([['INVALID_QUANTITY', 'lines.0.quantity']]);
    expect(codes({ reason: 'x', lines: [{ sku: 'A', quantity: 1 }, { sku: 'A', quantity: 1 }] })).toEqual([['INVALID_INPUT', 'lines.1.sku']]);
    expect(codes({ reason: 'x', lines: Array.from({ length: 101 }, (_, i) => ({ sku: `S${i}`, quantity: 1 })) })).toEqual([['INVALID_INPUT', 'lines']]);
  });

  it('counts what is still returnable: bought less every earlier return, whatever its status', () => {
    expect(returnableBySku(order, [])).toEqual(new Map([['A', 3], ['B', 1]]));
    expect(returnableBySku(order, [ret('REFUNDED', [{ sku: 'A', quantity: 1 }]), ret('REQUESTED', [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }])])).toEqual(
      new Map([['A', 1], ['B', 0]]),
    );
  });

  it('refuses SKUs not on the order and quantities above what is returnable', () => {
    const earlier = [ret('REFUNDED', [{ sku: 'A', quantity: 2 }])];
    expect(checkReturnLines(order, earlier, [{ sku: 'A', quantity: 1 }])).toEqual([]);
    expect(checkReturnLines(order, earlier, [{ sku: 'A', quantity: 2 }, { sku: 'C', quantity: 1 }])).toEqual([
      { code: 'INVALID_QUANTITY', message: 'only 1 of A can still be returned, 2 asked', field: 'lines.0.quantity' },
      { code: 'UNKNOWN_SKU', message: 'C is not on order ord-w1', field: 'lines.1.sku' },
    ]);
  });

  it('refunds quantity × the unit price paid, in integer minor units', () => {
    expect(refundAmount(order, [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }])).toEqual(eur(2 * 1999 + 500));
    expect(() => refundAmount(order, [{ sku: 'C', quantity: 1 }])).toThrow(/not on order/);
  });

  it('knows when every unit bought has come back (received returns only)', () => {
    expect(allUnitsReturned(order, [ret('RECEIVED', [{ sku: 'A', quantity: 3 }])])).toBe(false);
    expect(allUnitsReturned(order, [ret('RECEIVED', [{ sku: 'A', quantity: 3 }]), ret('REQUESTED', [{ sku: 'B', quantity: 1 }])])).toBe(false);
    expect(allUnitsReturned(order, [ret('REFUNDED', [{ sku: 'A', quantity: 2 }]), ret('RECEIVED', [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }])])).toBe(true);
  });
});
