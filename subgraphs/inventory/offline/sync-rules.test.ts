import { describe, expect, it } from 'vitest';
import { applyOrder, checkBatch, MAX_TRANSACTIONS, proposeCompensation, saleEffect, type StoreTransaction } from './sync-rules.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const sale = (id: string, occurredAt: string, quantity = 1, sku = 'SKU-1'): StoreTransaction => ({ id, occurredAt, kind: 'SALE', lines: [{ sku, quantity }] });
const codes = (errors: { code: string; field: string | null }[]) => errors.map((e) => `${e.code}@${e.field}`);

describe('applyOrder', () => {
  it('applies by when each happened at the till, ties by id, whatever order they were sent in', () => {
    const batch = [sale('c', '2026-03-01T10:00:02.000Z'), sale('b', '2026-03-01T10:00:01.000Z'), sale('a', '2026-03-01T10:00:02.000Z'), sale('z', '2026-03-01T09:59:59.000Z')];
    expect(applyOrder(batch).map((t) => t.id)).toEqual(['z', 'b', 'a', 'c']);
  });

  it('compares instants, not strings (another offset, fewer digits)', () => {
    const batch = [sale('late', '2026-03-01T10:30:00Z'), sale('early', '2026-03-01T11:00:00+01:00')];
    expect(applyOrder(batch).map((t) => t.id)).toEqual(['early', 'late']);
  });

  it('leaves the batch it was given as it was', () => {
    const batch = [sale('b', '2026-03-01T10:00:01.000Z'), sale('a', '2026-03-01T10:00:00.000Z')];
    applyOrder(batch);
    expect(batch.map((t) => t.id)).toEqual(['b', 'a']);
  });
});

describe('checkBatch', () => {
  it('accepts a sound batch', () => {
    expect(checkBatch({ locationId: 'store-001', transactions: [sale('a', '2026-03-01T10:00:00.000Z', 3)] }, NOW)).toEqual([]);
  });

  it('refuses an empty batch and one over the bound', () => {
    expect(codes(checkBatch({ locationId: 'store-001', transactions: [] }, NOW))).toEqual(['INVALID_INPUT@transactions']);
    const many = Array.from({ length: MAX_TRANSACTIONS + 1 }, (_, i) => sale(`t${i}`, '2026-03-01T10:00:00.000Z'));
    expect(codes(checkBatch({ locationId: 'store-001', transactions: many }, NOW))).toEqual(['INVALID_INPUT@transactions']);
  });

  it('names every bad field: ids, times, lines, quantities', () => {
    const transactions: StoreTransaction[] = [
      sale('', '2026-03-01T10:00:00.000Z'),
      sale('x'.repeat(101), '2026-03-01T10:00:00.000Z'),
      sale('dup', '2026-03-01T10:00:00.000Z'),
      sale('dup', '2026-03-01T10:00:00.000Z'),
      sale('when', 'yesterday'),
      sale('future', '2026-03-01T12:10:00.000Z'),
      { id: 'empty', occurredAt: '2026-03-01T10:00:00.000Z', kind: 'SALE', lines: [] },
      { id: 'long', occurredAt: '2026-03-01T10:00:00.000Z', kind: 'SALE', lines: Array.from({ length: 101 }, () => ({ sku: 'SKU-1', quantity: 1 })) },
      sale('zero', '2026-03-01T10:00:00.000Z', 0),
      sale('huge', '2026-03-01T10:00:00.000Z', 100_001),
      sale('blank', '2026-03-01T10:00:00.000Z', 1, ' '),
    ];
    expect(codes(checkBatch({ locationId: 'store-001', transactions }, NOW))).toEqual([
      'INVALID_INPUT@transactions.0.id',
      'INVALID_INPUT@transactions.1.id',
      'INVALID_INPUT@transactions.3.id',
      'INVALID_INPUT@transactions.4.occurredAt',
      'INVALID_INPUT@transactions.5.occurredAt',
      'INVALID_INPUT@transactions.6.lines',
      'INVALID_INPUT@transactions.7.lines',
      'INVALID_INPUT@transactions.8.lines.0.quantity',
      'INVALID_INPUT@transactions.9.lines.0.quantity',
      'INVALID_INPUT@transactions.10.lines.0.sku',
    ]);
  });

  it('allows a till a few minutes ahead of the server (clock skew)', () => {
    expect(checkBatch({ locationId: 'store-001', transactions: [sale('a', '2026-03-01T12:04:00.000Z')] }, NOW)).toEqual([]);
  });
});

describe('saleEffect', () => {
  it('a sale within what is sellable takes its units and oversells nothing', () => {
    expect(saleEffect({ onHand: 10, committed: 2, reserved: 1, damaged: 0 }, 7)).toEqual({ removed: 7, shortfall: 0, onHandShortfall: 0 });
  });

  it('a sale of promised units still takes them; the shortfall is what was not sellable', () => {
    expect(saleEffect({ onHand: 3, committed: 3, reserved: 0, damaged: 0 }, 2)).toEqual({ removed: 2, shortfall: 2, onHandShortfall: 0 });
    expect(saleEffect({ onHand: 5, committed: 2, reserved: 1, damaged: 0 }, 4)).toEqual({ removed: 4, shortfall: 2, onHandShortfall: 0 });
  });

  it('on hand stops at 0 (never below the damaged units): the rest is an on-hand shortfall', () => {
    expect(saleEffect({ onHand: 2, committed: 2, reserved: 0, damaged: 0 }, 5)).toEqual({ removed: 2, shortfall: 5, onHandShortfall: 3 });
    expect(saleEffect({ onHand: 3, committed: 0, reserved: 0, damaged: 1 }, 3)).toEqual({ removed: 2, shortfall: 1, onHandShortfall: 1 });
    expect(saleEffect({ onHand: 0, committed: 0, reserved: 0, damaged: 0 }, 1)).toEqual({ removed: 0, shortfall: 1, onHandShortfall: 1 });
  });
});

describe('proposeCompensation', () => {
  const order = (orderId: string, placedAt: string, quantity: number, pickup = true) => ({ orderId, orderNumber: orderId.toUpperCase(), placedAt, quantity, pickup });

  it('proposes the newest orders first, until they hold the shortfall', () => {
    const orders = [order('o1', '2026-03-01T08:00:00.000Z', 1), order('o3', '2026-03-01T10:00:00.000Z', 1), order('o2', '2026-03-01T09:00:00.000Z', 2)];
    const proposal = proposeCompensation(orders, 2, []);
    expect(proposal.map((p) => p.orderId)).toEqual(['o3', 'o2']);
    expect(proposal.every((p) => p.action === 'CANCEL' && p.rerouteLocationId === null)).toBe(true);
  });

  it('reroutes where the units are sellable, never two orders to the same units, else cancels', () => {
    const orders = [order('a', '2026-03-01T10:00:00.000Z', 2), order('b', '2026-03-01T09:00:00.000Z', 2), order('c', '2026-03-01T08:00:00.000Z', 1)];
    const elsewhere = [
      { locationId: 'store-002', available: 3, pickupEnabled: true },
      { locationId: 'store-003', available: 1, pickupEnabled: true },
    ];
    expect(proposeCompensation(orders, 5, elsewhere)).toEqual([
      { orderId: 'a', orderNumber: 'A', quantity: 2, action: 'REROUTE', rerouteLocationId: 'store-002' },
      { orderId: 'b', orderNumber: 'B', quantity: 2, action: 'CANCEL', rerouteLocationId: null },
      { orderId: 'c', orderNumber: 'C', quantity: 1, action: 'REROUTE', rerouteLocationId: 'store-002' },
    ]);
  });

  it('a pickup order goes to a store customers collect at; a shipped one anywhere with the units', () => {
    const elsewhere = [
      { locationId: 'store-009', available: 5, pickupEnabled: false },
      { locationId: 'wh-001', available: 5, pickupEnabled: false },
    ];
    expect(proposeCompensation([order('p', '2026-03-01T10:00:00.000Z', 1, true)], 1, elsewhere)[0]).toMatchObject({ action: 'CANCEL' });
    expect(proposeCompensation([order('s', '2026-03-01T10:00:00.000Z', 1, false)], 1, elsewhere)[0]).toMatchObject({ action: 'REROUTE', rerouteLocationId: 'store-009' });
  });

  it('proposes nothing when no order holds the SKU there', () => {
    expect(proposeCompensation([], 3, [{ locationId: 'wh-001', available: 9, pickupEnabled: false }])).toEqual([]);
  });
});
