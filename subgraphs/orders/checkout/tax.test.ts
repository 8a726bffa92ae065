import { describe, expect, it } from 'vitest';
import { SystemUnavailableError } from '../../../common/resilience.js';
import { includedTax, TaxService, type TaxEnginePort, type TaxQuote } from './tax.js';

/** An engine that answers `quote` (or fails as an outage) and counts its calls. */
function engine(answer: () => TaxQuote | null | Error) {
  const calls: number[] = [];
  const port: TaxEnginePort = {
    async quote(_address, lines) {
      calls.push(lines.length);
      const a = answer();
      if (a instanceof Error) throw a;
      return a;
    },
  };
  return { port, calls };
}
const DOWN = () => new SystemUnavailableError('tax', 'down');
const DE = { country: 'de', postalCode: '10115' };
const lines = [{ sku: 'A', grossMinor: 11900 }, { sku: 'B', grossMinor: 999 }];

describe('includedTax (tax-inclusive prices, rounded per line, half up)', () => {
  it('takes the tax share out of a gross amount', () => {
    expect(includedTax(11900, 1900)).toBe(1900); // 100.00 net + 19.00
    expect(includedTax(999, 1900)).toBe(160); // 159.5… rounds half up to 160
    expect(includedTax(1, 1900)).toBe(0);
    expect(includedTax(12000, 2000)).toBe(2000);
    expect(includedTax(10725, 725)).toBe(725);
    expect(includedTax(5000, 0)).toBe(0);
  });
  it('rounds exactly half up without floats deciding', () => {
    // 10 500 × 500 / 10 500 = 500 exactly; 21 × 1900 / 11 900 = 3.35… → 3; 37 × 1900 / 11 900 = 5.907… → 6
    expect(includedTax(10500, 500)).toBe(500);
    expect(includedTax(21, 1900)).toBe(3);
    expect(includedTax(37, 1900)).toBe(6);
  });
});

describe('TaxService: the quote and the outage policy', () => {
  it('quotes once per order, whatever the number of lines, and sums the lines', async () => {
    const { port, calls } = engine(() => ({ jurisdiction: 'DE', lineRatesBp: [1900, 1900] }));
    const outcome = await new TaxService(port).taxOrder(DE, lines);
    expect(calls).toEqual([2]);
    expect(outcome?.tax).toMatchObject({ status: 'CALCULATED', basis: 'ENGINE', reviewRequired: false, country: 'DE', jurisdiction: 'DE', taxMinor: 1900 + 160 });
    expect(outcome?.lines).toEqual([{ taxMinor: 1900, taxRateBp: 1900 }, { taxMinor: 160, taxRateBp: 1900 }]);
    expect(outcome?.estimate).toBeNull();
  });

  it('answers null for a place the engine does not know', async () => {
    const { port } = engine(() => null);
    expect(await new TaxService(port).taxOrder({ country: 'US', postalCode: '00501' }, lines)).toBeNull();
  });

  it('estimates from the last rate quoted for the country and postal prefix, flagged for review', async () => {
    let down = false;
    const { port } = engine(() => (down ? DOWN() : { jurisdiction: 'US-CA', lineRatesBp: [725, 725] }));
    const tax = new TaxService(port);
    await tax.taxOrder({ country: 'US', postalCode: '94105' }, lines);
    down = true;
    const outcome = await tax.taxOrder({ country: 'US', postalCode: '94016' }, lines);
    expect(outcome?.tax).toMatchObject({ status: 'ESTIMATED', basis: 'LAST_RATE', reviewRequired: true, jurisdiction: 'US-CA' });
    expect(outcome?.estimate).toMatchObject({ basis: 'LAST_RATE', rateBp: 725 });
    expect(outcome?.lines.map((l) => l.taxRateBp)).toEqual([725, 725]);
  });

  it('falls back to the default rate of the country (configured over the built-in), else 0, flagged', async () => {
    const { port } = engine(DOWN);
    const tax = new TaxService(port, { defaultRatesBp: { AT: 1000 } });
    expect((await tax.taxOrder({ country: 'AT', postalCode: '1010' }, lines))?.estimate).toMatchObject({ basis: 'DEFAULT_RATE', rateBp: 1000 });
    expect((await tax.taxOrder(DE, lines))?.estimate).toMatchObject({ basis: 'DEFAULT_RATE', rateBp: 1900 });
    const unknown = await tax.taxOrder({ country: 'JP', postalCode: '1000001' }, lines);
    expect(unknown?.tax).toMatchObject({ status: 'ESTIMATED', reviewRequired: true, taxMinor: 0 });
  });

  it('forgets a last rate older than lastRateMaxAgeMs', async () => {
    let now = 0;
    let down = false;
    const { port } = engine(() => (down ? DOWN() : { jurisdiction: 'NL', lineRatesBp: [900, 900] }));
    const tax = new TaxService(port, { lastRateMaxAgeMs: 1000, now: () => now });
    await tax.taxOrder({ country: 'NL', postalCode: '1012' }, lines);
    down = true;
    now = 1000;
    expect((await tax.taxOrder({ country: 'NL', postalCode: '1012' }, lines))?.estimate?.basis).toBe('LAST_RATE');
    now = 1001;
    expect((await tax.taxOrder({ country: 'NL', postalCode: '1012' }, lines))?.estimate).toMatchObject({ basis: 'DEFAULT_RATE', rateBp: 2100 });
  });

  it('does not price over a failure that is no outage of the tax engine', async () => {
    const { port } = engine(() => new TypeError('bug'));
    await expect(new TaxService(port).taxOrder(DE, lines)).rejects.toThrow('bug');
    const other = engine(() => new SystemUnavailableError('erp', 'down'));
    await expect(new TaxService(other.port).taxOrder(DE, lines)).rejects.toThrow('ERP is unavailable');
  });
});
