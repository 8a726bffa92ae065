/**
 * Money is carried as integer minor units everywhere inside the graph and only turned into a decimal
 * string at the edge, so no binary floating-point drift can reach a total.
 */
export interface MoneyValue {
  /** Integer minor units (cents for EUR). */
  minor: number;
  /** ISO 4217 code. */
  currency: string;
}

const EXPONENTS: Record<string, number> = { JPY: 0, KRW: 0, BHD: 3, KWD: 3 };

export function currencyExponent(currency: string): number {
  return EXPONENTS[currency] ?? 2;
}

/** Decimal string of a minor-unit amount: `formatMinor(1999, 'EUR')` is `"19.99"`. */
export function formatMinor(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`money amount must be an integer of minor units, got ${minor}`);
  const exponent = currencyExponent(currency);
  const sign = minor < 0 ? '-' : '';
  const digits = Math.abs(minor).toString().padStart(exponent + 1, '0');
  if (exponent === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

export function sumMoney(values: readonly MoneyValue[], currency: string): MoneyValue {
  let minor = 0;
  for (const value of values) {
    if (value.currency !== currency) throw new Error(`cannot add ${value.currency} to ${currency}`);
    minor += value.minor;
  }
  return { minor, currency };
}
