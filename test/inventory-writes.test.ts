import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '../common/events.js';
import { allOfType } from './support/events.js';
import { contractOperation } from './support/contract.js';
import { expectedLevel } from './support/expect.js';
import { pollUntil } from './support/poll.js';
import { shopper, startTestStack, store, type Caller, type TestStack } from './support/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

let keys = 0;
const key = () => `inv-${process.pid}-${Date.now()}-${++keys}`;
const ADJUST = () => contractOperation('AdjustStock');
const STOCK = () => contractOperation('StoreStock');

// Reservations are not in the client contract yet (carts and transfers call them); these are the documents.
// A cart hold is the shopper's own; a transfer hold is made (and ended) by an associate of the location.
const RESERVE = `mutation Reserve($input: ReserveInventoryInput!) {
  reserveInventory(input: $input) {
    reservation { id expiresAt locationId lines { sku quantity } }
    userErrors { field message code }
  }
}`;
const RELEASE = `mutation Release($input: ReleaseReservationInput!) {
  releaseReservation(input: $input) {
    reservation { id expiresAt locationId lines { sku quantity } }
    userErrors { field message code }
  }
}`;

/** A fresh stock record (one no other test here touches) with at least `min` available and nothing held, from the seed. */
const taken = new Set<string>();
function stockWith(min: number, kind: 'store' | 'wh' = 'store', at?: string) {
  const data = stack.sandbox.data;
  for (const s of data.stock) {
    const id = `${s.sku}@${s.locationId}`;
    if (taken.has(id) || !s.locationId.startsWith(`${kind}-`) || (at && s.locationId !== at) || s.committed || s.reserved || s.damaged) continue;
    if ((expectedLevel(data, s.sku, s.locationId)?.available ?? 0) < min) continue;
    taken.add(id);
    return { sku: s.sku, locationId: s.locationId };
  }
  throw new Error('no such stock in the seed');
}

async function level(locationId: string, sku: string) {
  const { body } = await stack.queryAs(store(locationId), STOCK(), { locationId, skus: [sku] });
  expect(body.errors ?? []).toEqual([]);
  return (body.data as any).location.inventoryLevels[0];
}

/** Every event published while `fn` runs. */
async function eventsDuring(fn: (seen: readonly CanonicalEvent[]) => Promise<unknown>): Promise<CanonicalEvent[]> {
  const seen: CanonicalEvent[] = [];
  const unsubscribe = stack.backbone.subscribe((e) => seen.push(e));
  try {
    await fn(seen);
  } finally {
    unsubscribe();
  }
  return seen;
}

/** A shopper with a cart. */
const SHOPPER = shopper('cust-00042');
/** A stock movement, booked by an associate of the location it names (`as` for the odd case that names another). */
const adjust = (input: Record<string, unknown>, headers: Record<string, string> = {}, as: Caller = store(input.locationId as string)) =>
  stack.queryAs(as, ADJUST(), { input: { idempotencyKey: key(), ...input } }, headers);
const reserve = (caller: Caller, input: Record<string, unknown>, headers: Record<string, string> = {}) => stack.queryAs(caller, RESERVE, { input: { idempotencyKey: key(), ...input } }, headers);
const release = (caller: Caller, input: Record<string, unknown>, headers: Record<string, string> = {}) => stack.queryAs(caller, RELEASE, { input: { idempotencyKey: key(), ...input } }, headers);
const payload = (response: { body: { data?: any; errors?: unknown[] } }, field: string) => {
  expect(response.body.errors ?? []).toEqual([]);
  return response.body.data[field];
};
const codes = (p: { userErrors: { code: string }[] }) => p.userErrors.map((e) => e.code);

describe('adjustInventory (the contract AdjustStock mutation)', () => {
  it('records a POS sale: the level answered and read back, one INVENTORY_ADJUSTED under the request’s correlation id', async () => {
    const { sku, locationId } = stockWith(3);
    const before = await level(locationId, sku);
    const correlationId = `adjust-${Date.now()}`;
    let result: any;
    const events = await eventsDuring(async () => {
      result = payload(await adjust({ locationId, sku, reason: 'SALE', delta: -2, expectedOnHand: before.onHand }, { 'x-correlation-id': correlationId }), 'adjustInventory');
    });
    expect(result).toEqual({ level: { sku, onHand: before.onHand - 2, available: before.available - 2 }, userErrors: [] });
    expect(await level(locationId, sku)).toEqual({ ...before, onHand: before.onHand - 2, available: before.available - 2 });
    expect(events).toEqual([
      expect.objectContaining({
        type: 'INVENTORY_ADJUSTED',
        source: 'POS',
        correlationId,
        sku,
        locationId,
        data: expect.objectContaining({ reason: 'SALE', delta: -2, quantity: 2, onHand: before.onHand - 2, available: before.available - 2 }),
      }),
    ]);
  });

  it('receipts, damage and cycle counts at a warehouse are the WMS’s moves', async () => {
    const { sku, locationId } = stockWith(3, 'wh');
    const before = await level(locationId, sku);
    const events = await eventsDuring(async () => {
      expect(payload(await adjust({ locationId, sku, reason: 'RECEIPT', delta: 10 }), 'adjustInventory').level).toEqual({ sku, onHand: before.onHand + 10, available: before.available + 10 });
      expect(payload(await adjust({ locationId, sku, reason: 'DAMAGE', delta: 1 }), 'adjustInventory').level).toEqual({ sku, onHand: before.onHand + 10, available: before.available + 9 });
      expect(payload(await adjust({ locationId, sku, reason: 'CYCLE_COUNT', onHand: before.onHand + 4 }), 'adjustInventory').level).toEqual({ sku, onHand: before.onHand + 4, available: before.available + 3 });
    });
    expect(allOfType(events, 'INVENTORY_ADJUSTED').map((e) => [e.type, e.source, e.data.reason, e.data.delta])).toEqual([
      ['INVENTORY_ADJUSTED', 'WMS', 'RECEIPT', 10],
      ['INVENTORY_ADJUSTED', 'WMS', 'DAMAGE', 1],
      ['INVENTORY_ADJUSTED', 'WMS', 'CYCLE_COUNT', -6],
    ]);
    expect(await level(locationId, sku)).toMatchObject({ onHand: before.onHand + 4, damaged: 1 });
  });

  it('a stale expectedOnHand is STALE_QUANTITY and changes and emits nothing', async () => {
    const { sku, locationId } = stockWith(2);
    const before = await level(locationId, sku);
    const events = await eventsDuring(async () => {
      const result = payload(await adjust({ locationId, sku, reason: 'RECEIPT', delta: 5, expectedOnHand: before.onHand + 1 }), 'adjustInventory');
      expect(result).toEqual({ level: null, userErrors: [{ field: 'expectedOnHand', message: expect.stringContaining(`on hand is ${before.onHand}`), code: 'STALE_QUANTITY' }] });
    });
    expect(events).toEqual([]);
    expect(await level(locationId, sku)).toEqual(before);
  });

  it('the same key and input answers the first payload and moves nothing; another input is IDEMPOTENCY_KEY_REUSED', async () => {
    const { sku, locationId } = stockWith(3);
    const input = { idempotencyKey: key(), locationId, sku, reason: 'SALE', delta: -1 };
    const first = payload(await adjust(input), 'adjustInventory');
    const before = await level(locationId, sku);
    let again: any;
    const events = await eventsDuring(async () => {
      const calls = await stack.countCalls(async () => {
        again = payload(await adjust(input), 'adjustInventory');
      });
      expect(calls.pos?.adjustStock ?? 0).toBe(0);
    });
    expect(again).toEqual(first);
    expect(events).toEqual([]);
    expect(await level(locationId, sku)).toEqual(before);
    const other = payload(await adjust({ ...input, delta: -2 }), 'adjustInventory');
    expect(other).toEqual({ level: null, userErrors: [{ field: 'idempotencyKey', message: expect.any(String), code: 'IDEMPOTENCY_KEY_REUSED' }] });
  });
});

describe('reserveInventory and releaseReservation', () => {
  it('a reservation lowers available; at its expiry (ttlSeconds: 1) the sweeper restores it, with the events', async () => {
    const { sku, locationId } = stockWith(3);
    const before = await level(locationId, sku);
    const correlationId = `cart-${Date.now()}`;
    let reservation: any;
    const events = await eventsDuring(async (seen) => {
      const result = payload(await reserve(SHOPPER, { locationId, lines: [{ sku, quantity: 2 }], ttlSeconds: 1 }, { 'x-correlation-id': correlationId }), 'reserveInventory');
      expect(result.userErrors).toEqual([]);
      reservation = result.reservation;
      expect(reservation).toEqual({ id: expect.any(String), expiresAt: expect.any(String), locationId, lines: [{ sku, quantity: 2 }] });
      expect(Date.parse(reservation.expiresAt) - Date.now()).toBeLessThanOrEqual(1000);
      expect(await level(locationId, sku)).toMatchObject({ reserved: before.reserved + 2, available: before.available - 2 });
      // The sweeper gives the units back, then publishes: wait for both, so the event does not land in a later test.
      // (The reservation's real 1 s expiry is what is under test; the wait ends on what the sweeper did.)
      await pollUntil(
        async () => ({ reserved: (await level(locationId, sku)).reserved, released: seen.some((e) => e.type === 'INVENTORY_RELEASED') }),
        (now) => now.reserved === before.reserved && now.released,
        'the sweeper to release the expired reservation',
        10_000,
        100,
      );
    });
    expect(await level(locationId, sku)).toEqual(before);
    const hold = (e: CanonicalEvent) => (e.type === 'INVENTORY_RESERVED' || e.type === 'INVENTORY_RELEASED' ? { quantity: e.data.quantity, reservationId: e.data.reservationId } : {});
    expect(events.map((e) => ({ type: e.type, source: e.source, correlationId: e.correlationId, sku: e.sku, locationId: e.locationId, ...hold(e) }))).toEqual([
      { type: 'INVENTORY_RESERVED', source: 'POS', correlationId, sku, locationId, quantity: 2, reservationId: reservation.id },
      { type: 'INVENTORY_RELEASED', source: 'POS', correlationId, sku, locationId, quantity: 2, reservationId: reservation.id },
    ]);
    expect(allOfType(events.slice(1), 'INVENTORY_RELEASED')[0]?.data.reason).toBe('EXPIRED');
    // Expired is ended: releasing it now is INVALID_STATE.
    expect(codes(payload(await release(SHOPPER, { reservationId: reservation.id }), 'releaseReservation'))).toEqual(['INVALID_STATE']);
  });

  it('beyond available is OUT_OF_STOCK, all lines or none: nothing reserved, nothing emitted', async () => {
    const a = stockWith(2, 'wh');
    const b = stockWith(1, 'wh', a.locationId);
    const [beforeA, beforeB] = [await level(a.locationId, a.sku), await level(b.locationId, b.sku)];
    const events = await eventsDuring(async () => {
      const result = payload(await reserve(store(a.locationId), { locationId: a.locationId, lines: [{ sku: b.sku, quantity: 1 }, { sku: a.sku, quantity: beforeA.available + 1 }] }), 'reserveInventory');
      expect(result).toEqual({ reservation: null, userErrors: [{ field: 'lines.1.quantity', message: expect.stringContaining(`only ${beforeA.available}`), code: 'OUT_OF_STOCK' }] });
    });
    expect(events).toEqual([]);
    expect(await level(a.locationId, a.sku)).toEqual(beforeA);
    expect(await level(b.locationId, b.sku)).toEqual(beforeB);
  });

  it('a release gives the units back once (INVALID_STATE after); replays of both answer the first payload and change nothing', async () => {
    const { sku, locationId } = stockWith(3, 'wh');
    const before = await level(locationId, sku);
    const associate = store(locationId);
    const reserveInput = { idempotencyKey: key(), locationId, lines: [{ sku, quantity: 1 }], ttlSeconds: 600 };
    const reserved = payload(await reserve(associate, reserveInput), 'reserveInventory');
    expect(reserved.userErrors).toEqual([]);
    const releaseInput = { idempotencyKey: key(), reservationId: reserved.reservation.id };

    const replays = await eventsDuring(async () => {
      const calls = await stack.countCalls(async () => {
        expect(payload(await reserve(associate, reserveInput), 'reserveInventory')).toEqual(reserved);
      });
      expect(calls.wms?.reserveStock ?? 0).toBe(0);
    });
    expect(replays).toEqual([]);
    expect(await level(locationId, sku)).toMatchObject({ reserved: before.reserved + 1, available: before.available - 1 });

    let released: any;
    const events = await eventsDuring(async () => {
      released = payload(await release(associate, releaseInput), 'releaseReservation');
    });
    expect(released).toEqual({ reservation: reserved.reservation, userErrors: [] });
    expect(allOfType(events, 'INVENTORY_RELEASED').map((e) => [e.type, e.source, e.sku, e.data.quantity, e.data.reservationId, e.data.reason])).toEqual([['INVENTORY_RELEASED', 'WMS', sku, 1, reserved.reservation.id, 'RELEASED']]);
    expect(await level(locationId, sku)).toEqual(before);

    const again = await eventsDuring(async () => {
      expect(payload(await release(associate, releaseInput), 'releaseReservation')).toEqual(released);
      expect(payload(await release(associate, { reservationId: reserved.reservation.id }), 'releaseReservation')).toEqual({
        reservation: null,
        userErrors: [{ field: 'reservationId', message: expect.any(String), code: 'INVALID_STATE' }],
      });
    });
    expect(again).toEqual([]);
    expect(await level(locationId, sku)).toEqual(before);
  });
});

describe('bad input', () => {
  it('is a user error, and changes, writes and emits nothing', async () => {
    const { sku, locationId } = stockWith(3);
    const before = await level(locationId, sku);
    const hugeKey = 'k'.repeat(10_240);
    const adjustCases: [Record<string, unknown>, string][] = [
      [{ reason: 'SALE', delta: 0 }, 'INVALID_QUANTITY'],
      [{ reason: 'RECEIPT', delta: -3 }, 'INVALID_QUANTITY'],
      [{ reason: 'SALE', delta: 4 }, 'INVALID_QUANTITY'],
      [{ reason: 'RECEIPT', delta: 1_000_000 }, 'INVALID_QUANTITY'],
      [{ reason: 'SALE', delta: -1_000_000 }, 'INVALID_QUANTITY'],
      [{ reason: 'SALE', delta: -(before.onHand + 1) }, 'INVALID_QUANTITY'],
      [{ reason: 'CYCLE_COUNT', onHand: -1 }, 'INVALID_QUANTITY'],
      [{ reason: 'CYCLE_COUNT', onHand: 2_000_000 }, 'INVALID_QUANTITY'],
      [{ reason: 'CYCLE_COUNT' }, 'INVALID_INPUT'],
      [{ reason: 'RECEIPT' }, 'INVALID_INPUT'],
      [{ reason: 'RECEIPT', delta: 1, sku: 'SKU-NOPE-1' }, 'UNKNOWN_SKU'],
      [{ reason: 'RECEIPT', delta: 1, idempotencyKey: hugeKey }, 'INVALID_IDEMPOTENCY_KEY'],
      [{ reason: 'RECEIPT', delta: 1, idempotencyKey: '' }, 'INVALID_IDEMPOTENCY_KEY'],
    ];
    // An associate books movements at their own location only: one that names another (unknown) location is refused
    // before anything is read or written.
    const foreignLocations = ['store-999', 'wh-99', 'x'.repeat(10_000)];
    const reserveCases: [Record<string, unknown>, string][] = [
      [{ lines: [{ sku, quantity: 0 }] }, 'INVALID_QUANTITY'],
      [{ lines: [{ sku, quantity: -1 }] }, 'INVALID_QUANTITY'],
      [{ lines: [{ sku, quantity: 1_000_000 }] }, 'INVALID_QUANTITY'],
      [{ lines: [{ sku: 'SKU-NOPE-1', quantity: 1 }] }, 'UNKNOWN_SKU'],
      [{ lines: [{ sku, quantity: 1 }, { sku, quantity: 1 }] }, 'INVALID_INPUT'],
      [{ lines: [] }, 'INVALID_INPUT'],
      [{ lines: Array.from({ length: 101 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1 })) }, 'INVALID_INPUT'],
      [{ lines: [{ sku, quantity: 1 }], ttlSeconds: 0 }, 'INVALID_INPUT'],
      [{ lines: [{ sku, quantity: 1 }], ttlSeconds: 86_401 }, 'INVALID_INPUT'],
      [{ lines: [{ sku, quantity: 1 }], locationId: 'store-999' }, 'INVALID_INPUT'],
      [{ lines: [{ sku, quantity: 1 }], idempotencyKey: hugeKey }, 'INVALID_IDEMPOTENCY_KEY'],
    ];
    const releaseCases: [Record<string, unknown>, string][] = [
      [{ reservationId: 'rsv-999999@store-001' }, 'INVALID_STATE'],
      [{ reservationId: 'nonsense' }, 'INVALID_STATE'],
      [{ reservationId: 'r'.repeat(10_000) }, 'INVALID_INPUT'],
      [{ reservationId: 'rsv-000001@store-001', idempotencyKey: hugeKey }, 'INVALID_IDEMPOTENCY_KEY'],
    ];
    const events = await eventsDuring(async () => {
      const calls = await stack.countCalls(async () => {
        for (const [overrides, code] of adjustCases) {
          const response = await adjust({ locationId, sku, ...overrides });
          expect(response.status).toBe(200);
          const result = payload(response, 'adjustInventory');
          expect(result.level).toBeNull();
          expect(codes(result), JSON.stringify(overrides).slice(0, 80)).toContain(code);
        }
        for (const other of foreignLocations) {
          const response = await adjust({ locationId: other, sku, reason: 'RECEIPT', delta: 1 }, {}, store(locationId));
          expect(response.status).toBe(200);
          expect(response.body.data?.adjustInventory ?? null, other.slice(0, 80)).toBeNull();
          expect(response.body.errors?.map((e) => e.extensions?.code), other.slice(0, 80)).toEqual(['FORBIDDEN']);
        }
        for (const [overrides, code] of reserveCases) {
          const result = payload(await reserve(SHOPPER, { locationId, ...overrides }), 'reserveInventory');
          expect(result.reservation).toBeNull();
          expect(codes(result), JSON.stringify(overrides).slice(0, 80)).toContain(code);
        }
        for (const [overrides, code] of releaseCases) {
          const result = payload(await release(SHOPPER, overrides), 'releaseReservation');
          expect(result.reservation).toBeNull();
          expect(codes(result), JSON.stringify(overrides).slice(0, 80)).toContain(code);
        }
      });
      for (const system of ['pos', 'wms'] as const) {
        // Only the one sale beyond on hand reaches the POS, which refuses it (INVALID_QUANTITY); nothing else writes.
        expect(calls[system]?.adjustStock ?? 0).toBe(system === 'pos' ? 1 : 0);
        expect(calls[system]?.reserveStock ?? 0).toBe(0);
      }
    });
    expect(events).toEqual([]);
    expect(await level(locationId, sku)).toEqual(before);
  });
});
