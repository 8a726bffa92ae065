import { describe, expect, it } from 'vitest';
import { formatMinor, sumMoney } from './money.js';

describe('money', () => {
  it('formats minor units without float drift', () => {
    expect(formatMinor(1999, 'EUR')).toBe('19.99');
    expect(formatMinor(5, 'EUR')).toBe('0.05');
    expect(formatMinor(-120, 'EUR')).toBe('-1.20');
    expect(formatMinor(1500, 'JPY')).toBe('1500');
    // 0.1 + 0.2 in floats is 0.30000000000000004; in minor units it is exact.
    expect(formatMinor(sumMoney([{ minor: 10, currency: 'EUR' }, { minor: 20, currency: 'EUR' }], 'EUR').minor, 'EUR')).toBe('0.30');
  });

  it('refuses to mix currencies or fractional minor units', () => {
    expect(() => sumMoney([{ minor: 1, currency: 'USD' }], 'EUR')).toThrow();
    expect(() => formatMinor(1.5, 'EUR')).toThrow();
  });
});
