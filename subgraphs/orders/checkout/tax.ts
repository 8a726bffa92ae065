import { SystemUnavailableError } from '../../../common/resilience.js';
import type { OrderTaxRecord } from '../../../common/systems/records.js';
import type { TaxAddress } from '../../../common/systems/tax.js';

/*
 * Tax at checkout. Prices are tax-inclusive (the seeded catalog sells in EUR to consumers, where shelf prices
 * include VAT): a line's total stays quantity × unit price, and its tax is the share of it that is tax, rounded per
 * line. So the order's total is still the sum of its lines, the PSP authorizes that total (tax included), and
 * `subtotal` (net) = total − taxTotal.
 */

/** The tax engine's answer: the jurisdiction it found and a rate per line (basis points), or null for an unknown place. */
export interface TaxQuote {
  jurisdiction: string;
  lineRatesBp: number[];
}

/** The tax engine (a system of record: faults, timeouts and its breaker apply); one call per checkout, never per line. */
export interface TaxEnginePort {
  /**
   * @returns null when the engine knows no such place (a bad address: the checkout answers INVALID_ADDRESS).
   * @throws SystemUnavailableError (`TAX_UNAVAILABLE`) when the engine is down, too slow or its circuit open.
   */
  quote(address: TaxAddress, lines: readonly { sku: string }[]): Promise<TaxQuote | null>;
}

/**
 * The tax included in a tax-inclusive amount, in minor units, rounded half up: gross × rate / (10 000 + rate).
 * Integer arithmetic only, so no float rounding decides a cent.
 */
export function includedTax(grossMinor: number, rateBp: number): number {
  if (rateBp <= 0 || grossMinor <= 0) return 0;
  const divisor = 10_000 + rateBp;
  return Math.floor((2 * grossMinor * rateBp + divisor) / (2 * divisor));
}

/** Built-in default rates (basis points) per country, for an outage with no recent quote (`TAX_DEFAULT_RATES` overrides). */
export const DEFAULT_TAX_RATES_BP: Readonly<Record<string, number>> = { DE: 1900, AT: 2000, FR: 2000, NL: 2100, BE: 2100, CH: 810, DK: 2500, IT: 2200, ES: 2100, PL: 2300 };

export interface TaxServiceOptions {
  /** Rates per country (ISO alpha-2 → basis points) used when the engine is out and no recent quote is known, over the built-in ones. @default DEFAULT_TAX_RATES_BP */
  defaultRatesBp?: Readonly<Record<string, number>> | undefined;
  /** How long a quote's rate stays the "last known rate" for its country and postal prefix, in ms. @default 86400000 (24 h) */
  lastRateMaxAgeMs?: number | undefined;
  /** Country and postal-prefix keys remembered at most (the oldest is forgotten first). @default 1000 */
  lastRateCapacity?: number | undefined;
  /** @default Date.now */
  now?: (() => number) | undefined;
}

/** Characters of the postal code that key the last known rate (a state or region in most schemes). */
export const POSTAL_PREFIX_LENGTH = 2;

export interface OrderTaxOutcome {
  tax: OrderTaxRecord;
  /** Per line, in order. */
  lines: { taxMinor: number; taxRateBp: number }[];
  /** Set when the outage policy estimated it: the event TAX_ESTIMATED says so. */
  estimate: { basis: 'LAST_RATE' | 'DEFAULT_RATE'; rateBp: number; reason: string } | null;
}

/** A checkout's taxable lines: SKU and gross line total (quantity × unit price) in minor units. */
export type TaxableLine = { sku: string; grossMinor: number };

/**
 * The tax of one order: the engine's quote, or, when the engine cannot answer (down, past its timeout, circuit
 * open), an estimate by the outage policy instead of a failed checkout: the last rate quoted for the same country
 * and postal prefix (remembered per process, for `lastRateMaxAgeMs`), else the configured default rate of the
 * country, else 0; an estimate is flagged `reviewRequired`.
 */
export class TaxService {
  private readonly lastRates = new Map<string, { rateBp: number; jurisdiction: string; at: number }>();
  private readonly defaults: Readonly<Record<string, number>>;
  private readonly maxAgeMs: number;
  private readonly capacity: number;
  private readonly now: () => number;

  constructor(
    private readonly engine: TaxEnginePort,
    options: TaxServiceOptions = {},
  ) {
    this.defaults = { ...DEFAULT_TAX_RATES_BP, ...options.defaultRatesBp };
    this.maxAgeMs = options.lastRateMaxAgeMs ?? 86_400_000;
    this.capacity = Math.max(1, options.lastRateCapacity ?? 1000);
    this.now = options.now ?? Date.now;
  }

  /** @returns null when the engine knows no such place. */
  async taxOrder(address: TaxAddress, lines: readonly TaxableLine[]): Promise<OrderTaxOutcome | null> {
    const place = { country: address.country.toUpperCase(), postalCode: address.postalCode.trim() };
    let quote: TaxQuote | null;
    try {
      quote = await this.engine.quote(place, lines.map((l) => ({ sku: l.sku })));
    } catch (error) {
      // Only an outage is estimated; anything else is a bug that must not be priced over.
      if (!(error instanceof SystemUnavailableError) || error.system !== 'tax') throw error;
      return this.estimate(place, lines, String(error.extensions.reason ?? error.message));
    }
    if (!quote) return null;
    const rates = lines.map((_, i) => quote.lineRatesBp[i] ?? 0);
    // The last rate is one per place: the standard rate the lines share (the highest, should categories differ).
    this.remember(place, Math.max(0, ...rates), quote.jurisdiction);
    return this.outcome(place, lines, rates, { status: 'CALCULATED', basis: 'ENGINE', reviewRequired: false, jurisdiction: quote.jurisdiction }, null);
  }

  private estimate(place: TaxAddress, lines: readonly TaxableLine[], reason: string): OrderTaxOutcome {
    const last = this.lastRates.get(keyOf(place));
    const fresh = last && this.now() - last.at <= this.maxAgeMs ? last : undefined;
    const basis = fresh ? 'LAST_RATE' : 'DEFAULT_RATE';
    const rateBp = fresh ? fresh.rateBp : (this.defaults[place.country] ?? 0);
    const jurisdiction = fresh ? fresh.jurisdiction : place.country;
    return this.outcome(place, lines, lines.map(() => rateBp), { status: 'ESTIMATED', basis, reviewRequired: true, jurisdiction }, { basis, rateBp, reason });
  }

  private outcome(place: TaxAddress, lines: readonly TaxableLine[], rates: number[], how: Pick<OrderTaxRecord, 'status' | 'basis' | 'reviewRequired' | 'jurisdiction'>, estimate: OrderTaxOutcome['estimate']): OrderTaxOutcome {
    const taxed = lines.map((line, i) => ({ taxMinor: includedTax(line.grossMinor, rates[i] ?? 0), taxRateBp: rates[i] ?? 0 }));
    return { tax: { ...how, country: place.country, postalCode: place.postalCode, taxMinor: taxed.reduce((sum, l) => sum + l.taxMinor, 0) }, lines: taxed, estimate };
  }

  private remember(place: TaxAddress, rateBp: number, jurisdiction: string): void {
    const key = keyOf(place);
    this.lastRates.delete(key);
    this.lastRates.set(key, { rateBp, jurisdiction, at: this.now() });
    while (this.lastRates.size > this.capacity) {
      const oldest = this.lastRates.keys().next().value;
      if (oldest === undefined) break;
      this.lastRates.delete(oldest);
    }
  }
}

const keyOf = (place: TaxAddress) => `${place.country}:${place.postalCode.replace(/\s+/g, '').slice(0, POSTAL_PREFIX_LENGTH).toUpperCase()}`;
