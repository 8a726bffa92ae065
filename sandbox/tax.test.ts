import { describe, expect, it } from 'vitest';
import { SandboxTax } from './tax.js';

describe('the sandbox tax engine', () => {
  const tax = new SandboxTax();
  const lines = [{ sku: 'A' }, { sku: 'B' }];
  it('quotes by country, one rate per line', async () => {
    expect(await tax.quote({ address: { country: 'de', postalCode: '10115' }, lines })).toEqual({ jurisdiction: 'DE', lineRatesBp: [1900, 1900] });
    expect(await tax.quote({ address: { country: 'AT', postalCode: '1010' }, lines: [{ sku: 'A' }] })).toEqual({ jurisdiction: 'AT', lineRatesBp: [2000] });
    expect((await tax.quote({ address: { country: 'NL', postalCode: '1012 AB' }, lines })).lineRatesBp).toEqual([2100, 2100]);
  });
  it('quotes US sales tax by ZIP prefix', async () => {
    expect(await tax.quote({ address: { country: 'US', postalCode: '94105' }, lines: [{ sku: 'A' }] })).toEqual({ jurisdiction: 'US-CA', lineRatesBp: [725] });
    expect(await tax.quote({ address: { country: 'US', postalCode: '97201' }, lines: [{ sku: 'A' }] })).toEqual({ jurisdiction: 'US-OR', lineRatesBp: [0] });
  });
  it('knows no rate for an unknown place', async () => {
    expect(await tax.quote({ address: { country: 'US', postalCode: '00501' }, lines })).toEqual({ jurisdiction: null, lineRatesBp: [] });
    expect(await tax.quote({ address: { country: 'JP', postalCode: '1000001' }, lines })).toEqual({ jurisdiction: null, lineRatesBp: [] });
  });
});
