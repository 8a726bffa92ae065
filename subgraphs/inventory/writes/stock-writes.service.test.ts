import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryEventBackbone, type CanonicalEvent } from '../../../common/events.js';
import { InMemoryIdempotencyStore } from '../../../common/idempotency.js';
import { ResilienceRegistry } from '../../../common/resilience.js';
import { createSandbox } from '../../../sandbox/index.js';
import { inventoryPortsFrom, inventoryWritesFrom } from '../wiring.js';
import { toStockLevel } from '../stock.js';
import { announceLeftovers } from './announce.js';
import { ReservationSweeper } from './reservation-sweeper.js';
import { adjustInventory, releaseReservation, reserveInventory, type StockWriteDeps } from './stock-writes.service.js';
import { seededMasterData } from '../../../test/support/master-data.js';
import { allOfType } from '../../../test/support/events.js';

/*
 * The write service over the in-process sandbox systems (real stock books, real adapters), with a clock the
 * tests move: the business rules end to end below GraphQL.
 */

const sandbox = createSandbox({ seed: 7, scale: 0.2 });
const resilience = new ResilienceRegistry({ timeoutMs: 1000, retries: 0, breakerFailures: 1_000_000, breakerResetMs: 1000 });
const masterData = await seededMasterData(sandbox.systems);
const ports = inventoryPortsFrom({ systems: sandbox.systems, resilience, masterData });
let clock = Date.parse('2030-06-01T10:00:00.000Z');
const now = () => new Date(clock);

let deps: StockWriteDeps;
let events: CanonicalEvent[];
let sweeper: ReservationSweeper;
beforeEach(() => {
  const backbone = new InMemoryEventBackbone();
  events = [];
  backbone.subscribe((e) => events.push(e));
  const writes = inventoryWritesFrom({ systems: sandbox.systems, resilience, idempotency: new InMemoryIdempotencyStore(), backbone, masterData });
  sweeper = new ReservationSweeper({ writers: writes.writers, events: writes.events, now });
  deps = { ...writes, locations: ports.locations, policies: ports.policies, now, onReserved: (kind, at) => sweeper.note(kind, at) };
});

const scope = (correlationId = 'corr-1') => ({ correlationId });
let keys = 0;
const key = () => `key-${++keys}`;

/** The level as the graph computes it, read straight from the systems. */
async function level(sku: string, locationId: string) {
  const book = locationId.startsWith('wh-') ? sandbox.systems.wms : sandbox.systems.pos;
  const [count] = await book.getStock([{ sku, locationId }]);
  const [policy] = await sandbox.systems.erp.getStockPolicies([{ sku, locationId }]);
  return count ? toStockLevel({ ...count }, policy ?? null, now().toISOString()) : null;
}

/** Stock records with at least `min` available and nothing committed or reserved, the n-th such one. */
const used = new Set<string>();
async function freshStock(min: number, where: 'store' | 'wh' = 'store', at?: string) {
  for (const s of sandbox.data.stock) {
    const id = `${s.sku}@${s.locationId}`;
    if (used.has(id) || !s.locationId.startsWith(where) || (at && s.locationId !== at)) continue;
    const l = await level(s.sku, s.locationId);
    if (!l || l.available < min || l.committed || l.reserved || l.damaged) continue;
    used.add(id);
    return { sku: s.sku, locationId: s.locationId, level: l };
  }
  throw new Error('no such stock');
}

describe('adjustInventory', () => {
  it('a sale lowers on hand and available, answers the level, and publishes one INVENTORY_ADJUSTED', async () => {
    const { sku, locationId, level: before } = await freshStock(3);
    const outcome = await adjustInventory(deps, scope('corr-sale'), { idempotencyKey: key(), locationId, sku, reason: 'SALE', delta: -2 });
    expect(outcome.userErrors).toEqual([]);
    expect(outcome.level).toMatchObject({ sku, locationId, onHand: before.onHand - 2, available: before.available - 2 });
    expect(await level(sku, locationId)).toEqual(outcome.level);
    expect(events).toEqual([
      {
        id: expect.stringMatching(/^evt-/),
        type: 'INVENTORY_ADJUSTED',
        source: 'POS',
        occurredAt: now().toISOString(),
        correlationId: 'corr-sale',
        sku,
        locationId,
        data: { reason: 'SALE', delta: -2, quantity: 2, onHandDelta: -2, damagedDelta: 0, onHand: before.onHand - 2, damaged: 0, available: before.available - 2 },
        // The backbone stamps the location stream's sequence at publish.
        sequences: { location: expect.any(Number) },
      },
    ]);
  });

  it('damage keeps on hand and takes the units out of available; a warehouse move is the WMS’s', async () => {
    const { sku, locationId, level: before } = await freshStock(3, 'wh');
    const outcome = await adjustInventory(deps, scope(), { idempotencyKey: key(), locationId, sku, reason: 'DAMAGE', delta: 2 });
    expect(outcome.level).toMatchObject({ onHand: before.onHand, damaged: 2, available: before.available - 2 });
    expect(events[0]).toMatchObject({ source: 'WMS', data: { reason: 'DAMAGE', delta: 2, quantity: 2, onHandDelta: 0, damagedDelta: 2 } });
  });

  it('a cycle count sets on hand and reports the difference as its delta', async () => {
    const { sku, locationId, level: before } = await freshStock(2);
    const outcome = await adjustInventory(deps, scope(), { idempotencyKey: key(), locationId, sku, reason: 'CYCLE_COUNT', onHand: before.onHand + 5, expectedOnHand: before.onHand });
    expect(outcome.level?.onHand).toBe(before.onHand + 5);
    expect(events[0]?.data).toMatchObject({ reason: 'CYCLE_COUNT', delta: 5, quantity: 5, onHandDelta: 5 });
  });

  it('a stale expectedOnHand is STALE_QUANTITY and changes and publishes nothing', async () => {
    const { sku, locationId, level: before } = await freshStock(2);
    const outcome = await adjustInventory(deps, scope(), { idempotencyKey: key(), locationId, sku, reason: 'RECEIPT', delta: 4, expectedOnHand: before.onHand + 1 });
    expect(outcome).toEqual({ level: null, userErrors: [{ code: 'STALE_QUANTITY', field: 'expectedOnHand', message: expect.stringContaining(`on hand is ${before.onHand}`) }] });
    expect(await level(sku, locationId)).toEqual(before);
    expect(events).toEqual([]);
  });

  it('never takes on hand below what is committed and reserved (INVALID_QUANTITY), nor below zero', async () => {
    const { sku, locationId, level: before } = await freshStock(4);
    const reserved = await reserveInventory(deps, scope(), { idempotencyKey: key(), locationId, lines: [{ sku, quantity: 3 }] });
    expect(reserved.userErrors).toEqual([]);
    events.length = 0;
    const tooMuch = await adjustInventory(deps, scope(), { idempotencyKey: key(), locationId, sku, reason: 'SALE', delta: -(before.onHand - 2) });
    expect(tooMuch.userErrors.map((e) => `${e.code}@${e.field}`)).toEqual(['INVALID_QUANTITY@delta']);
    const countTooLow = await adjustInventory(deps, scope(), { idempotencyKey: key(), locationId, sku, reason: 'CYCLE_COUNT', onHand: 2 });
    expect(countTooLow.userErrors.map((e) => `${e.code}@${e.field}`)).toEqual(['INVALID_QUANTITY@onHand']);
    const fits = await adjustInventory(deps, scope(), { idempotencyKey: key(), locationId, sku, reason: 'SALE', delta: -(before.onHand - 3) });
    expect(fits.level).toMatchObject({ onHand: 3, reserved: 3 });
    expect(events).toHaveLength(1);
  });

  it('a receipt of a known SKU the location never held starts its stock record', async () => {
    const store = sandbox.data.stores[0]!.id;
    const sku = sandbox.data.variants.find((v) => !sandbox.data.stock.some((s) => s.sku === v.sku && s.locationId === store))?.sku;
    if (!sku) return;
    const outcome = await adjustInventory(deps, scope(), { idempotencyKey: key(), locationId: store, sku, reason: 'RECEIPT', delta: 6 });
    expect(outcome.level).toMatchObject({ sku, locationId: store, onHand: 6, committed: 0, reserved: 0 });
  });

  it('unknown SKUs and locations are user errors, asked of no stock system', async () => {
    const { sku, locationId } = await freshStock(1);
    sandbox.control.resetCalls();
    const unknownSku = await adjustInventory(deps, scope(), { idempotencyKey: key(), locationId, sku: 'SKU-NOPE-1', reason: 'RECEIPT', delta: 1 });
    expect(unknownSku.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_SKU']);
    const unknownLocation = await adjustInventory(deps, scope(), { idempotencyKey: key(), locationId: 'store-999', sku, reason: 'RECEIPT', delta: 1 });
    expect(unknownLocation.userErrors.map((e) => `${e.code}@${e.field}`)).toEqual(['INVALID_INPUT@locationId']);
    expect(sandbox.control.calls().pos?.adjustStock ?? 0).toBe(0);
    expect(events).toEqual([]);
  });

  it('replays the same key and input without a second write; another input is IDEMPOTENCY_KEY_REUSED', async () => {
    const { sku, locationId, level: before } = await freshStock(2);
    const input = { idempotencyKey: key(), locationId, sku, reason: 'SALE' as const, delta: -1 };
    const first = await adjustInventory(deps, scope(), input);
    const again = await adjustInventory(deps, scope(), { ...input });
    expect(again).toEqual(first);
    expect((await level(sku, locationId))?.onHand).toBe(before.onHand - 1);
    expect(events).toHaveLength(1);
    const other = await adjustInventory(deps, scope(), { ...input, delta: -2 });
    expect(other.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    // Keys are per caller: another caller's same key is a new request.
    const otherCaller = await adjustInventory(deps, { correlationId: 'c', authorization: 'Bearer other' }, input);
    expect(otherCaller.level?.onHand).toBe(before.onHand - 2);
  });
});

describe('reservations', () => {
  it('hold units (reserved up, available down), all lines or none, and publish one INVENTORY_RESERVED per line', async () => {
    const a = await freshStock(3);
    const b = await freshStock(2, 'store', a.locationId);
    const lines = [{ sku: a.sku, quantity: 2 }, { sku: b.sku, quantity: 1 }];
    const outcome = await reserveInventory(deps, scope('corr-cart'), { idempotencyKey: key(), locationId: a.locationId, lines, ttlSeconds: 60 });
    expect(outcome.userErrors).toEqual([]);
    expect(outcome.reservation).toEqual({ id: expect.stringMatching(/^rsv-\d+@/), locationId: a.locationId, expiresAt: new Date(clock + 60_000).toISOString(), lines });
    expect(await level(a.sku, a.locationId)).toMatchObject({ reserved: 2, available: a.level.available - 2 });
    expect(await level(b.sku, b.locationId)).toMatchObject({ reserved: 1, available: b.level.available - 1 });
    expect(allOfType(events, 'INVENTORY_RESERVED').map((e) => [e.type, e.sku, e.correlationId, e.data.quantity, e.data.reservationId])).toEqual(lines.map((l) => ['INVENTORY_RESERVED', l.sku, 'corr-cart', l.quantity, outcome.reservation!.id]));
  });

  it('beyond available is OUT_OF_STOCK for the short lines, and nothing is reserved', async () => {
    const a = await freshStock(2);
    const b = await freshStock(1, 'store', a.locationId);
    const lines = [{ sku: b.sku, quantity: 1 }, { sku: a.sku, quantity: a.level.available + 1 }];
    const outcome = await reserveInventory(deps, scope(), { idempotencyKey: key(), locationId: a.locationId, lines });
    expect(outcome).toEqual({ reservation: null, userErrors: [{ code: 'OUT_OF_STOCK', field: 'lines.1.quantity', message: expect.stringContaining(`only ${a.level.available}`) }] });
    // The same counts as before the hold (read later, so the level is as of a later time).
    expect(await level(a.sku, a.locationId)).toEqual({ ...a.level, readAt: expect.any(String) });
    expect(await level(b.sku, b.locationId)).toEqual(b.level);
    expect(events).toEqual([]);
  });

  it('never hold more than is available, however many run at once', async () => {
    const a = await freshStock(1);
    const results = await Promise.all(Array.from({ length: a.level.available + 10 }, () => reserveInventory(deps, scope(), { idempotencyKey: key(), locationId: a.locationId, lines: [{ sku: a.sku, quantity: 1 }] })));
    expect(results.filter((r) => r.reservation).length).toBe(a.level.available);
    expect(results.filter((r) => r.userErrors[0]?.code === 'OUT_OF_STOCK').length).toBe(10);
    expect((await level(a.sku, a.locationId))?.available).toBe(0);
  });

  it('a release gives the units back once; a second release is INVALID_STATE', async () => {
    const a = await freshStock(2);
    const { reservation } = await reserveInventory(deps, scope(), { idempotencyKey: key(), locationId: a.locationId, lines: [{ sku: a.sku, quantity: 2 }] });
    events.length = 0;
    const released = await releaseReservation(deps, scope('corr-rel'), { idempotencyKey: key(), reservationId: reservation!.id });
    expect(released).toEqual({ reservation, userErrors: [] });
    // The same counts as before the hold (read later, so the level is as of a later time).
    expect(await level(a.sku, a.locationId)).toEqual({ ...a.level, readAt: expect.any(String) });
    expect(events.map((e) => [e.type, e.sku, e.correlationId, e.data])).toEqual([['INVENTORY_RELEASED', a.sku, 'corr-rel', { quantity: 2, reservationId: reservation!.id, reason: 'RELEASED' }]]);
    const twice = await releaseReservation(deps, scope(), { idempotencyKey: key(), reservationId: reservation!.id });
    expect(twice.userErrors.map((e) => e.code)).toEqual(['INVALID_STATE']);
    for (const id of ['rsv-999999@store-001', 'nonsense', 'rsv-1@wh-99']) {
      expect((await releaseReservation(deps, scope(), { idempotencyKey: key(), reservationId: id })).userErrors.map((e) => e.code)).toEqual(['INVALID_STATE']);
    }
    expect(events).toHaveLength(1);
  });

  it('expire when due: the sweeper gives the units back under the reservation’s correlation id', async () => {
    await sweeper.start();
    const a = await freshStock(2, 'wh');
    const { reservation } = await reserveInventory(deps, scope('corr-ttl'), { idempotencyKey: key(), locationId: a.locationId, lines: [{ sku: a.sku, quantity: 1 }], ttlSeconds: 30 });
    events.length = 0;
    clock += 29_999;
    await sweeper.tick();
    expect((await level(a.sku, a.locationId))?.reserved).toBe(1);
    clock += 1;
    await sweeper.tick();
    // The same counts as before the hold (read later, so the level is as of a later time).
    expect(await level(a.sku, a.locationId)).toEqual({ ...a.level, readAt: expect.any(String) });
    expect(events.map((e) => [e.type, e.source, e.correlationId, e.data])).toEqual([['INVENTORY_RELEASED', 'WMS', 'corr-ttl', { quantity: 1, reservationId: reservation!.id, reason: 'EXPIRED' }]]);
    const late = await releaseReservation(deps, scope(), { idempotencyKey: key(), reservationId: reservation!.id });
    expect(late.userErrors.map((e) => e.code)).toEqual(['INVALID_STATE']);
    await sweeper.stop();
  });

  it('replays reserve and release by key without holding or releasing twice', async () => {
    const a = await freshStock(3);
    const input = { idempotencyKey: key(), locationId: a.locationId, lines: [{ sku: a.sku, quantity: 1 }] };
    const first = await reserveInventory(deps, scope(), input);
    expect(await reserveInventory(deps, scope(), { ...input, ttlSeconds: 900 })).toEqual(first);
    expect((await level(a.sku, a.locationId))?.reserved).toBe(1);
    const release = { idempotencyKey: key(), reservationId: first.reservation!.id };
    const released = await releaseReservation(deps, scope(), release);
    expect(await releaseReservation(deps, scope(), release)).toEqual(released);
    expect(released.userErrors).toEqual([]);
    expect(events.filter((e) => e.type === 'INVENTORY_RELEASED')).toHaveLength(1);
  });
});

describe('a writer that dies between a write and its events', () => {
  /** The process dies before the outbox recorded anything: the emit never returns (here: it throws). */
  const dying = () => ({ ...deps, events: { emit: () => Promise.reject(new Error('killed')) } });
  const recover = () => announceLeftovers({ ...deps, now }, 0);
  const of = (sku: string, locationId: string) => events.filter((e) => e.sku === sku && e.locationId === locationId);

  it('leaves an adjustment\'s event to recovery, which publishes it once; the client\'s retry under its key moves and publishes nothing more', async () => {
    const { sku, locationId, level: before } = await freshStock(3);
    const request = { idempotencyKey: key(), locationId, sku, reason: 'SALE' as const, delta: -2 };
    await expect(adjustInventory(dying(), scope('corr-died'), request)).rejects.toThrow('killed');
    expect((await level(sku, locationId))?.onHand).toBe(before.onHand - 2);
    expect(of(sku, locationId)).toEqual([]);

    expect(await recover()).toBeGreaterThanOrEqual(1);
    await expect.poll(() => of(sku, locationId).length).toBe(1);
    expect(of(sku, locationId)[0]).toMatchObject({ type: 'INVENTORY_ADJUSTED', correlationId: 'corr-died', data: { reason: 'SALE', delta: -2, quantity: 2, onHandDelta: -2, onHand: before.onHand - 2, available: before.available - 2 } });

    // The key was given back (the call failed), so the client's retry runs: the system answers the first move.
    const retried = await adjustInventory(deps, scope('corr-died'), request);
    expect(retried.level).toMatchObject({ onHand: before.onHand - 2, available: before.available - 2 });
    expect((await level(sku, locationId))?.onHand).toBe(before.onHand - 2);
    expect(await recover()).toBe(0);
    expect(of(sku, locationId)).toHaveLength(1);
  });

  it('a reservation whose answer was lost is not made twice by the client\'s retry under its key', async () => {
    const { sku, locationId } = await freshStock(3);
    const lost = {
      ...deps,
      writers: {
        ...deps.writers,
        STORE: Object.assign(Object.create(Object.getPrototypeOf(deps.writers.STORE) as object) as typeof deps.writers.STORE, deps.writers.STORE, {
          reserve: async (...args: Parameters<typeof deps.writers.STORE.reserve>) => {
            await deps.writers.STORE.reserve(...args);
            throw new Error('timed out after the write landed');
          },
        }),
      },
    };
    const request = { idempotencyKey: key(), locationId, lines: [{ sku, quantity: 2 }] };
    await expect(reserveInventory(lost, scope('corr-lost'), request)).rejects.toThrow('timed out');
    const retried = await reserveInventory(deps, scope('corr-lost'), request);
    expect(retried.userErrors).toEqual([]);
    expect((await level(sku, locationId))?.reserved).toBe(2);
    await expect.poll(() => of(sku, locationId).map((e) => e.type)).toEqual(['INVENTORY_RESERVED']);
    expect(of(sku, locationId)[0]?.data).toMatchObject({ quantity: 2, reservationId: retried.reservation?.id });
  });

  it('leaves a reservation\'s and a release\'s events to recovery, each published once however often recovery runs', async () => {
    const { sku, locationId } = await freshStock(3);
    await expect(reserveInventory(dying(), scope('corr-rsv'), { idempotencyKey: key(), locationId, lines: [{ sku, quantity: 2 }] })).rejects.toThrow('killed');
    const [held] = (await sandbox.systems.pos.unannouncedWrites(new Date(Date.now() + 60_000).toISOString(), 10_000)).filter((w) => w.kind === 'RESERVED' && w.reservation.lines[0]?.sku === sku && w.locationId === locationId);
    expect(held).toBeDefined();
    expect((await level(sku, locationId))?.reserved).toBe(2);
    await recover();
    await expect.poll(() => of(sku, locationId).map((e) => e.type)).toEqual(['INVENTORY_RESERVED']);

    const reservationId = held!.kind === 'RESERVED' ? held!.reservation.id : '';
    await expect(releaseReservation(dying(), scope('corr-rel'), { idempotencyKey: key(), reservationId })).rejects.toThrow('killed');
    expect((await level(sku, locationId))?.reserved).toBe(0);
    await recover();
    await expect.poll(() => of(sku, locationId).map((e) => e.type)).toEqual(['INVENTORY_RESERVED', 'INVENTORY_RELEASED']);
    expect(of(sku, locationId)[1]).toMatchObject({ correlationId: 'corr-rel', data: { quantity: 2, reservationId, reason: 'RELEASED' } });
    // A second recovery, or the writer's own late copy of the same write, is the same event id: not delivered again.
    await recover();
    expect(of(sku, locationId)).toHaveLength(2);
  });
});
