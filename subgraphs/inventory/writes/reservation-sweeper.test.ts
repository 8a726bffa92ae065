import { EventOutbox } from '../../../common/outbox/event-outbox.js';
import { describe, expect, it } from 'vitest';
import { InMemoryEventBackbone, type CanonicalEvent } from '../../../common/events.js';
import { SystemUnavailableError } from '../../../common/resilience.js';
import type { LocationKind } from '../ports.js';
import type { Reservation, StockWriterPort } from './ports.js';
import { ReservationSweeper } from './reservation-sweeper.js';
import { allOfType } from '../../../test/support/events.js';

/** Fake systems holding reservations, and a clock the test moves. */
function setup() {
  let now = Date.parse('2030-01-01T00:00:00.000Z');
  const held: Record<LocationKind, Reservation[]> = { STORE: [], WAREHOUSE: [] };
  const calls: string[] = [];
  const down = new Set<LocationKind>();
  const announced: string[] = [];
  const writer = (kind: LocationKind): Pick<StockWriterPort, 'expire' | 'announced' | 'unannounced'> => ({
    async announced(_locationId, ids) {
      announced.push(...ids);
    },
    async unannounced() {
      return [];
    },
    async expire(asOf) {
      calls.push(`${kind}@${asOf}`);
      if (down.has(kind)) throw new SystemUnavailableError(kind === 'STORE' ? 'pos' : 'wms', 'test outage');
      const due = held[kind].filter((r) => Date.parse(r.expiresAt) <= Date.parse(asOf));
      held[kind] = held[kind].filter((r) => !due.includes(r));
      const next = held[kind].map((r) => r.expiresAt).sort()[0] ?? null;
      return { expired: due, nextExpiresAt: next };
    },
  });
  const backbone = new InMemoryEventBackbone();
  const events: CanonicalEvent[] = [];
  backbone.subscribe((e) => events.push(e));
  const sweeper = new ReservationSweeper({ writers: { STORE: writer('STORE'), WAREHOUSE: writer('WAREHOUSE') }, events: new EventOutbox({ backbone }), now: () => new Date(now), intervalMs: 60_000 });
  const reservation = (id: string, locationId: string, inMs: number, lines = [{ sku: 'A', quantity: 2 }]): Reservation => ({
    id,
    locationId,
    lines,
    expiresAt: new Date(now + inMs).toISOString(),
    correlationId: `corr-${id}`,
  });
  return {
    sweeper,
    announced,
    held,
    calls,
    down,
    events,
    reservation,
    advance: (ms: number) => (now += ms),
  };
}

describe('ReservationSweeper', () => {
  it('sweeps every system once at start, then calls nothing while nothing is due', async () => {
    const t = setup();
    await t.sweeper.start();
    expect(t.calls).toHaveLength(2);
    t.advance(3_600_000);
    await t.sweeper.tick();
    await t.sweeper.tick();
    expect(t.calls).toHaveLength(2);
    await t.sweeper.stop();
  });

  it('learns from the start sweep when reservations already held are due', async () => {
    const t = setup();
    t.held.WAREHOUSE.push(t.reservation('rsv-1@wh-01', 'wh-01', 5_000));
    await t.sweeper.start();
    expect(t.sweeper.dueAt().WAREHOUSE).not.toBeNull();
    expect(t.sweeper.dueAt().STORE).toBeNull();
    t.advance(5_000);
    await t.sweeper.tick();
    expect(allOfType(t.events, 'INVENTORY_RELEASED').map((e) => [e.type, e.locationId, e.source, e.data.reason])).toEqual([['INVENTORY_RELEASED', 'wh-01', 'WMS', 'EXPIRED']]);
    await t.sweeper.stop();
  });

  it('expires a noted reservation when it is due, not before, with one release event per line under its correlation id', async () => {
    const t = setup();
    await t.sweeper.start();
    t.calls.length = 0;
    const r = t.reservation('rsv-2@store-001', 'store-001', 1_000, [
      { sku: 'A', quantity: 2 },
      { sku: 'B', quantity: 1 },
    ]);
    t.held.STORE.push(r);
    t.sweeper.note('STORE', r.expiresAt);
    t.advance(999);
    await t.sweeper.tick();
    expect(t.calls).toEqual([]);
    t.advance(1);
    await t.sweeper.tick();
    expect(t.calls).toHaveLength(1);
    expect(t.events.map((e) => ({ type: e.type, sku: e.sku, locationId: e.locationId, source: e.source, correlationId: e.correlationId, data: e.data }))).toEqual([
      { type: 'INVENTORY_RELEASED', sku: 'A', locationId: 'store-001', source: 'POS', correlationId: 'corr-rsv-2@store-001', data: { quantity: 2, reservationId: r.id, reason: 'EXPIRED' } },
      { type: 'INVENTORY_RELEASED', sku: 'B', locationId: 'store-001', source: 'POS', correlationId: 'corr-rsv-2@store-001', data: { quantity: 1, reservationId: r.id, reason: 'EXPIRED' } },
    ]);
    // Handed over, so the system may forget the expiry's unannounced write.
    expect(t.announced).toEqual([`ended:${r.id}`]);
    // Nothing left: idle again.
    t.advance(60_000);
    await t.sweeper.tick();
    expect(t.calls).toHaveLength(1);
    await t.sweeper.stop();
  });

  it('follows the next due time the system reports', async () => {
    const t = setup();
    await t.sweeper.start();
    const first = t.reservation('rsv-3@store-001', 'store-001', 1_000);
    const second = t.reservation('rsv-4@store-001', 'store-001', 5_000);
    t.held.STORE.push(first, second);
    t.sweeper.note('STORE', first.expiresAt);
    t.advance(1_000);
    await t.sweeper.tick();
    expect(allOfType(t.events, 'INVENTORY_RELEASED').map((e) => e.data.reservationId)).toEqual([first.id]);
    expect(t.sweeper.dueAt().STORE).toBe(Date.parse(second.expiresAt));
    t.advance(4_000);
    await t.sweeper.tick();
    expect(allOfType(t.events, 'INVENTORY_RELEASED').map((e) => e.data.reservationId)).toEqual([first.id, second.id]);
    await t.sweeper.stop();
  });

  it('tries a failed system again on the next tick and leaves the other alone', async () => {
    const t = setup();
    await t.sweeper.start();
    const r = t.reservation('rsv-5@wh-02', 'wh-02', 1_000);
    t.held.WAREHOUSE.push(r);
    t.sweeper.note('WAREHOUSE', r.expiresAt);
    t.down.add('WAREHOUSE');
    t.advance(1_000);
    t.calls.length = 0;
    await t.sweeper.tick();
    expect(t.calls.map((c) => c.split('@')[0])).toEqual(['WAREHOUSE']);
    expect(t.events).toEqual([]);
    t.down.clear();
    await t.sweeper.tick();
    expect(allOfType(t.events, 'INVENTORY_RELEASED').map((e) => e.data.reservationId)).toEqual([r.id]);
    await t.sweeper.stop();
  });

  it('keeps a reservation noted while a sweep runs', async () => {
    const t = setup();
    await t.sweeper.start();
    const r = t.reservation('rsv-6@store-001', 'store-001', 1_000);
    t.sweeper.note('STORE', r.expiresAt);
    t.advance(1_000);
    const sweeping = t.sweeper.tick();
    const later = t.reservation('rsv-7@store-001', 'store-001', 10_000);
    t.sweeper.note('STORE', later.expiresAt);
    await sweeping;
    expect(t.sweeper.dueAt().STORE).toBe(Date.parse(later.expiresAt));
    await t.sweeper.stop();
  });
});
