import { describe, expect, it } from 'vitest';
import type { InventoryLocation, StockCount } from './ports.js';
import { availableOf, compareLocations, locationKindOf, stockStatusOf, summarizeAvailability, toStockLevel, type StockLevel } from './stock.js';

const count = (overrides: Partial<StockCount> = {}): StockCount => ({ sku: 'SKU-1', locationId: 'store-001', onHand: 20, committed: 3, reserved: 2, damaged: 1, ...overrides });
const site = (id: string): InventoryLocation => ({
  id,
  name: id,
  kind: id.startsWith('wh-') ? 'WAREHOUSE' : 'STORE',
  pickupEnabled: true,
  address: { line1: 'x', city: 'y', postalCode: 'z', country: 'DE' },
});
const READ_AT = '2030-01-01T00:00:00.000Z';
const level = (locationId: string, available: number): StockLevel => ({ ...count({ locationId }), safetyStock: 0, incoming: 0, available, readAt: READ_AT });

describe('availableOf', () => {
  it('subtracts committed, reserved, safety stock and damaged from on hand', () => {
    expect(availableOf(count(), 4)).toBe(20 - 3 - 2 - 4 - 1);
  });

  it('never goes below zero', () => {
    expect(availableOf(count({ onHand: 2, committed: 5 }), 0)).toBe(0);
    expect(availableOf(count({ onHand: 5, committed: 0, reserved: 0, damaged: 0 }), 6)).toBe(0);
  });
});

describe('toStockLevel', () => {
  it('joins the ERP policy and leaves incoming out of available', () => {
    const result = toStockLevel(count(), { sku: 'SKU-1', locationId: 'store-001', safetyStock: 2, incoming: 50 }, READ_AT);
    expect(result).toMatchObject({ onHand: 20, committed: 3, reserved: 2, damaged: 1, safetyStock: 2, incoming: 50, available: 12, readAt: READ_AT });
  });

  it('reads a missing policy as no safety stock and nothing incoming', () => {
    expect(toStockLevel(count(), null, READ_AT)).toMatchObject({ safetyStock: 0, incoming: 0, available: 14 });
  });
});

describe('stockStatusOf', () => {
  it.each([
    [0, 'OUT_OF_STOCK'],
    [1, 'LOW_STOCK'],
    [5, 'LOW_STOCK'],
    [6, 'IN_STOCK'],
  ] as const)('with threshold 5, %i available is %s', (available, status) => {
    expect(stockStatusOf(available, 5)).toBe(status);
  });

  it('with threshold 0 anything above zero is in stock', () => {
    expect(stockStatusOf(1, 0)).toBe('IN_STOCK');
  });
});

describe('summarizeAvailability', () => {
  it('sums the locations with a record and lists only those, in input order', () => {
    const result = summarizeAvailability(
      [
        { location: site('store-001'), level: level('store-001', 3) },
        { location: site('store-002'), level: null },
        { location: site('wh-01'), level: level('wh-01', 0) },
        { location: site('wh-02'), level: level('wh-02', 40) },
      ],
      5,
    );
    expect(result.available).toBe(43);
    expect(result.status).toBe('IN_STOCK');
    expect(result.locations.map((l) => [l.location.id, l.available, l.status])).toEqual([
      ['store-001', 3, 'LOW_STOCK'],
      ['wh-01', 0, 'OUT_OF_STOCK'],
      ['wh-02', 40, 'IN_STOCK'],
    ]);
  });

  it('is out of stock with nothing considered', () => {
    expect(summarizeAvailability([], 5)).toEqual({ available: 0, status: 'OUT_OF_STOCK', locations: [] });
  });

  it('takes its status from the total, not from any one location', () => {
    const result = summarizeAvailability([{ location: site('store-001'), level: level('store-001', 4) }, { location: site('store-002'), level: level('store-002', 4) }], 5);
    expect(result.status).toBe('IN_STOCK');
  });
});

describe('location routing and order', () => {
  it('routes warehouse ids to the WMS and everything else to the POS', () => {
    expect(locationKindOf('wh-01')).toBe('WAREHOUSE');
    expect(locationKindOf('store-001')).toBe('STORE');
    expect(locationKindOf('nowhere')).toBe('STORE');
  });

  it('orders stores first, then warehouses, each by id', () => {
    const sorted = [site('wh-02'), site('store-010'), site('wh-01'), site('store-002')].sort(compareLocations);
    expect(sorted.map((l) => l.id)).toEqual(['store-002', 'store-010', 'wh-01', 'wh-02']);
  });
});
