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

/** An amount a record may lack (a tax on records from before tax): null when its minor units are absent (a system's record, or an OData entity's field). */
export const moneyOrNull = (minor: unknown, currency: string): MoneyValue | null => (minor === null || minor === undefined ? null : { minor: Number(minor), currency });

const EXPONENTS: Record<string, number> = { JPY: 0, KRW: 0, BHD: 3, KWD: 3 };

export function currencyExponent(currency: string): number {
  return EXPONENTS[currency] ?? 2;
}

/**
 * The ISO 4217 codes of currencies in circulation (List One, 2025), for checking data that arrives from outside
 * (the ERP's master data). Left out on purpose though ISO lists them: funds codes (BOV, CHE, CHW, CLF, COU, MXV,
 * USN, UYI, UYW), precious metals and units of account (XAG, XAU, XPD, XPT, XBA–XBD, XDR, XSU, XUA) and the
 * test and "no currency" codes (XTS, XXX): none of them can price an item. ANG stays while the Caribbean guilder
 * (XCG) replaces it.
 */
export const ACTIVE_CURRENCIES: ReadonlySet<string> = new Set(
  (
    'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF ' +
    'CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG ' +
    'HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA ' +
    'MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD ' +
    'RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX ' +
    'USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG'
  ).split(' '),
);

/** Whether `code` is an active ISO 4217 currency (see {@link ACTIVE_CURRENCIES}); exact, upper case. */
export function isActiveCurrency(code: string): boolean {
  return ACTIVE_CURRENCIES.has(code);
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
