import { describe, expect, it } from 'vitest';
import { idempotencyKeyErrors as checkIdempotencyKey } from '../../../common/idempotent-mutation.js';
import { checkRelease, checkReservation, planAdjustment, type AdjustInventoryRequest, type ReserveInventoryRequest } from './validation.js';
import { reservationLocationOf } from './ports.js';

const adjust = (extra: Partial<AdjustInventoryRequest>): AdjustInventoryRequest => ({ idempotencyKey: 'k', locationId: 'store-001', sku: 'SKU-1', reason: 'SALE', delta: -1, ...extra });
const codes = (errors: { code: string; field: string | null }[]) => errors.map((e) => `${e.code}@${e.field}`);

describe('planAdjustment', () => {
  it.each([
    ['SALE', -2, { onHandDelta: -2 }],
    ['TRANSFER_OUT', -5, { onHandDelta: -5 }],
    ['RETURN', 1, { onHandDelta: 1 }],
    ['RECEIPT', 100_000, { onHandDelta: 100_000 }],
    ['TRANSFER_IN', 3, { onHandDelta: 3 }],
    ['DAMAGE', 2, { damagedDelta: 2 }],
  ] as const)('%s by %i moves %o', (reason, delta, expected) => {
    const { errors, movement } = planAdjustment(adjust({ reason, delta }));
    expect(errors).toEqual([]);
    expect(movement).toEqual({ sku: 'SKU-1', locationId: 'store-001', ...expected });
  });

  it('turns a cycle count into a set of on hand, compare-and-swap when asked', () => {
    expect(planAdjustment(adjust({ reason: 'CYCLE_COUNT', delta: null, onHand: 0 })).movement).toEqual({ sku: 'SKU-1', locationId: 'store-001', countedOnHand: 0 });
    expect(planAdjustment(adjust({ reason: 'CYCLE_COUNT', delta: null, onHand: 7, expectedOnHand: 9 })).movement).toMatchObject({ countedOnHand: 7, expectedOnHand: 9 });
    expect(planAdjustment(adjust({ delta: -1, expectedOnHand: 0 })).movement).toMatchObject({ onHandDelta: -1, expectedOnHand: 0 });
  });

  it.each<[Partial<AdjustInventoryRequest>, string]>([
    [{ delta: 0 }, 'INVALID_QUANTITY@delta'],
    [{ delta: -100_001 }, 'INVALID_QUANTITY@delta'],
    [{ reason: 'RECEIPT', delta: 1_000_000 }, 'INVALID_QUANTITY@delta'],
    [{ delta: 2 }, 'INVALID_QUANTITY@delta'],
    [{ reason: 'RECEIPT', delta: -2 }, 'INVALID_QUANTITY@delta'],
    [{ reason: 'DAMAGE', delta: -1 }, 'INVALID_QUANTITY@delta'],
    [{ delta: 1.5 }, 'INVALID_QUANTITY@delta'],
    [{ delta: null }, 'INVALID_INPUT@delta'],
    [{ onHand: 4 }, 'INVALID_INPUT@onHand'],
    [{ reason: 'CYCLE_COUNT', delta: null }, 'INVALID_INPUT@onHand'],
    [{ reason: 'CYCLE_COUNT', delta: -1, onHand: 3 }, 'INVALID_INPUT@delta'],
    [{ reason: 'CYCLE_COUNT', delta: null, onHand: -1 }, 'INVALID_QUANTITY@onHand'],
    [{ reason: 'CYCLE_COUNT', delta: null, onHand: 1_000_001 }, 'INVALID_QUANTITY@onHand'],
    [{ expectedOnHand: -1 }, 'INVALID_INPUT@expectedOnHand'],
    [{ sku: '' }, 'UNKNOWN_SKU@sku'],
    [{ sku: 'S'.repeat(65) }, 'UNKNOWN_SKU@sku'],
    [{ locationId: 'x'.repeat(201) }, 'INVALID_INPUT@locationId'],
  ])('refuses %o with %s', (extra, code) => {
    const { errors, movement } = planAdjustment(adjust(extra));
    expect(movement).toBeNull();
    expect(codes(errors)).toContain(code);
  });
});

describe('checkReservation', () => {
  const reserve = (extra: Partial<ReserveInventoryRequest>): ReserveInventoryRequest => ({ idempotencyKey: 'k', locationId: 'store-001', lines: [{ sku: 'A', quantity: 1 }], ...extra });

  it('accepts 1 to 100 lines of 1 to 999 units and a ttl of 1 s to a day (900 s when absent)', () => {
    expect(checkReservation(reserve({}))).toEqual([]);
    expect(checkReservation(reserve({ ttlSeconds: 1, lines: Array.from({ length: 100 }, (_, i) => ({ sku: `S-${i}`, quantity: 999 })) }))).toEqual([]);
    expect(checkReservation(reserve({ ttlSeconds: 86_400 }))).toEqual([]);
  });

  it.each<[Partial<ReserveInventoryRequest>, string]>([
    [{ lines: [] }, 'INVALID_INPUT@lines'],
    [{ lines: Array.from({ length: 101 }, (_, i) => ({ sku: `S-${i}`, quantity: 1 })) }, 'INVALID_INPUT@lines'],
    [{ lines: [{ sku: 'A', quantity: 0 }] }, 'INVALID_QUANTITY@lines.0.quantity'],
    [{ lines: [{ sku: 'A', quantity: -1 }] }, 'INVALID_QUANTITY@lines.0.quantity'],
    [{ lines: [{ sku: 'A', quantity: 1000 }] }, 'INVALID_QUANTITY@lines.0.quantity'],
    [{ lines: [{ sku: 'A', quantity: 1 }, { sku: 'A', quantity: 2 }] }, 'INVALID_INPUT@lines.1.sku'],
    [{ lines: [{ sku: '', quantity: 1 }] }, 'UNKNOWN_SKU@lines.0.sku'],
    [{ ttlSeconds: 0 }, 'INVALID_INPUT@ttlSeconds'],
    [{ ttlSeconds: 86_401 }, 'INVALID_INPUT@ttlSeconds'],
    [{ locationId: '' }, 'INVALID_INPUT@locationId'],
  ])('refuses %o with %s', (extra, code) => {
    expect(codes(checkReservation(reserve(extra)))).toContain(code);
  });
});

describe('keys and ids', () => {
  it('takes idempotency keys of 1 to 255 characters', () => {
    expect(checkIdempotencyKey('k'.repeat(255))).toEqual([]);
    expect(codes(checkIdempotencyKey(''))).toEqual(['INVALID_IDEMPOTENCY_KEY@idempotencyKey']);
    expect(codes(checkIdempotencyKey('k'.repeat(10_240)))).toEqual(['INVALID_IDEMPOTENCY_KEY@idempotencyKey']);
  });

  it('takes reservation ids of 1 to 200 characters and reads the location from them', () => {
    expect(checkRelease({ idempotencyKey: 'k', reservationId: 'rsv-000001@wh-01' })).toEqual([]);
    expect(codes(checkRelease({ idempotencyKey: 'k', reservationId: 'r'.repeat(201) }))).toEqual(['INVALID_INPUT@reservationId']);
    expect(reservationLocationOf('rsv-000001@wh-01')).toBe('wh-01');
    expect(reservationLocationOf('rsv-000001@store-003')).toBe('store-003');
    expect(reservationLocationOf('rsv-000001@')).toBeNull();
    expect(reservationLocationOf('nonsense')).toBeNull();
    expect(reservationLocationOf('ord-w000001@store-003')).toBeNull();
  });
});
