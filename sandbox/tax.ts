import type { TaxQuoteRecord, TaxQuoteRequest } from '../common/systems/tax.js';

/**
 * The sandbox tax engine: rates by country and postal-code prefix, deterministic, in basis points. Read only (a
 * quote), so nothing is journaled. Faults and call counters apply as to every system (`tax`).
 */

interface CountryRule {
  standardBp: number;
  /** A reduced rate for some catalog categories (books, food…); the seeded catalog has none, kept for the shape. */
  reducedBp?: number;
}

const COUNTRIES: Readonly<Record<string, CountryRule>> = {
  DE: { standardBp: 1900, reducedBp: 700 },
  AT: { standardBp: 2000, reducedBp: 1000 },
  FR: { standardBp: 2000, reducedBp: 550 },
  NL: { standardBp: 2100, reducedBp: 900 },
  BE: { standardBp: 2100, reducedBp: 600 },
  CH: { standardBp: 810, reducedBp: 260 },
  IT: { standardBp: 2200, reducedBp: 1000 },
  ES: { standardBp: 2100, reducedBp: 1000 },
  PL: { standardBp: 2300, reducedBp: 800 },
  DK: { standardBp: 2500 },
};

/** US sales tax by the first digit(s) of the ZIP code: a state's base rate (the sandbox knows no local rates). */
const US_ZIP_PREFIXES: readonly [prefix: string, state: string, bp: number][] = [
  ['10', 'NY', 400], ['11', 'NY', 400], ['12', 'NY', 400], ['13', 'NY', 400], ['14', 'NY', 400],
  ['90', 'CA', 725], ['91', 'CA', 725], ['92', 'CA', 725], ['93', 'CA', 725], ['94', 'CA', 725], ['95', 'CA', 725], ['96', 'CA', 725],
  ['97', 'OR', 0],
  ['75', 'TX', 625], ['76', 'TX', 625], ['77', 'TX', 625], ['78', 'TX', 625], ['79', 'TX', 625],
  ['98', 'WA', 650], ['99', 'WA', 650],
];

/** Categories taxed at the reduced rate where a country has one. */
const REDUCED_CATEGORIES: ReadonlySet<string> = new Set(['Books', 'Food']);

export class SandboxTax {
  /** One quote for all the lines of an order (never a call per line). */
  async quote(request: TaxQuoteRequest): Promise<TaxQuoteRecord> {
    const country = request.address.country.toUpperCase();
    const postal = request.address.postalCode.replace(/\s+/g, '');
    if (country === 'US') {
      const hit = US_ZIP_PREFIXES.find(([prefix]) => postal.startsWith(prefix));
      if (!hit) return { jurisdiction: null, lineRatesBp: [] };
      return { jurisdiction: `US-${hit[1]}`, lineRatesBp: request.lines.map(() => hit[2]) };
    }
    const rule = COUNTRIES[country];
    if (!rule) return { jurisdiction: null, lineRatesBp: [] };
    return {
      jurisdiction: country,
      lineRatesBp: request.lines.map((line) => (rule.reducedBp !== undefined && line.category && REDUCED_CATEGORIES.has(line.category) ? rule.reducedBp : rule.standardBp)),
    };
  }
}
