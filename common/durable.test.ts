import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { JournaledEventBackbone, JournaledIdempotencyStore, JournaledWrites } from './durable.js';
import { InMemoryEventBackbone, type CanonicalEvent } from './events.js';
import { DAY_MS, InMemoryIdempotencyStore } from './idempotency.js';
import { Journal } from './journal.js';

const MONEY = new Set<CanonicalEvent['type']>(['PICKED_UP']);
const money = (id: string): CanonicalEvent => ({
  id,
  type: 'PICKED_UP',
  occurredAt: '2026-11-23T10:00:00.000Z',
  source: 'POS',
  correlationId: `c-${id}`,
  orderId: `o-${id}`,
  data: { previousStatus: 'READY_FOR_PICKUP', status: 'PICKED_UP', currency: 'EUR', total: 1000, lines: [{ sku: 'SKU-0001-1', quantity: 1 }] },
});

async function open(dir: string) {
  const journal = await Journal.create(dir, { compactOnCloseAfterEntries: 1 });
  const backbone = new JournaledEventBackbone(new InMemoryEventBackbone(), journal);
  await journal.replay();
  return { journal, backbone };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('JournaledEventBackbone consumer groups', () => {
  it('hands a group, after a crash, the events it was owed and had not taken in; never those it had', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'durable-'));
    const first = await open(dir);
    const taken: string[] = [];
    first.backbone.consume('finance', MONEY, async (e) => {
      // The process dies while taking in e2: its handler never finishes.
      if (e.id === 'e2') return new Promise<void>(() => {});
      taken.push(e.id);
    });
    await first.backbone.publish(money('e1'));
    await first.backbone.publish(money('e2'));
    await settle();
    expect(taken).toEqual(['e1']);
    await first.journal.close();

    const second = await open(dir);
    const again: string[] = [];
    second.backbone.consume('finance', MONEY, async (e) => void again.push(e.id));
    await second.backbone.publish(money('e3'));
    await settle();
    expect(again.sort()).toEqual(['e2', 'e3']);
    // Another group that joins now is owed nothing of the past.
    const audit: string[] = [];
    second.backbone.consume('audit', MONEY, async (e) => void audit.push(e.id));
    await settle();
    expect(audit).toEqual([]);
    await second.journal.close();

    const third = await open(dir);
    const none: string[] = [];
    third.backbone.consume('finance', MONEY, async (e) => void none.push(e.id));
    await settle();
    expect(none).toEqual([]);
    await third.journal.close();
  });
});

describe('JournaledEventBackbone join lines', () => {
  const openUncompacted = async (dir: string) => {
    const journal = await Journal.create(dir, { compactOnClose: false });
    const backbone = new JournaledEventBackbone(new InMemoryEventBackbone(), journal);
    await journal.replay();
    return { journal, backbone };
  };
  const confirmed = (id: string): CanonicalEvent => ({ ...money(id), type: 'ORDER_CONFIRMED', data: { previousStatus: 'PLACED', status: 'CONFIRMED' } });

  it("name the group's types, so that a replay owes it only events it takes; a line without them (an earlier version's) owes every event until the group consumes", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'durable-'));
    const first = await openUncompacted(dir);
    first.backbone.consume('finance', MONEY, () => new Promise<void>(() => {})); // dies while taking its events in
    await first.backbone.publish(confirmed('e1'));
    await first.backbone.publish(money('e2'));
    await first.journal.close();
    const lines = readFileSync(join(dir, 'journal.ndjson'), 'utf8').split('\n').filter(Boolean);
    expect(lines.map((l) => JSON.parse(l)).find((e) => e.t === 'join')).toEqual({ t: 'join', group: 'finance', types: ['PICKED_UP'] });

    const groupOf = (backbone: JournaledEventBackbone) => backbone.snapshot().find((r) => r.k === 'group');
    const second = await openUncompacted(dir);
    expect(groupOf(second.backbone)).toMatchObject({ group: 'finance', types: ['PICKED_UP'], owed: ['e2'] });
    await second.journal.close();

    // The same journal with the join line as an earlier version wrote it.
    const old = mkdtempSync(join(tmpdir(), 'durable-'));
    writeFileSync(join(old, 'journal.ndjson'), `${lines.map((l) => (l.startsWith('{"t":"join"') ? '{"t":"join","group":"finance"}' : l)).join('\n')}\n`);
    const third = await openUncompacted(old);
    expect(groupOf(third.backbone)).toMatchObject({ group: 'finance', types: null, owed: ['e1', 'e2'] });
    const handed: string[] = [];
    third.backbone.consume('finance', MONEY, async (e) => void handed.push(e.id));
    await vi.waitFor(() => expect(handed).toEqual(['e2']));
    expect(groupOf(third.backbone)).toMatchObject({ types: ['PICKED_UP'], owed: [] });
    await third.journal.close();
  });
});

/** The lines of the snapshot file, parsed (owner and record). */
const snapshotOf = (dir: string) =>
  readFileSync(join(dir, 'journal.snapshot.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { o?: string; r?: any });

describe('JournaledEventBackbone across a compaction', () => {
  it('keeps every event for the timeline, folds joins and takes into what each group still owes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'durable-'));
    const first = await open(dir);
    const taken: string[] = [];
    first.backbone.consume('finance', MONEY, async (e) => {
      if (e.id === 'e2') return new Promise<void>(() => {}); // dies while taking e2 in
      taken.push(e.id);
    });
    await first.backbone.publish(money('e1'));
    await first.backbone.publish(money('e2'));
    await first.backbone.publish({ ...money('e3'), type: 'ORDER_CONFIRMED', orderId: 'o-e1', data: { previousStatus: 'PLACED', status: 'CONFIRMED' } });
    await vi.waitFor(() => expect(taken).toEqual(['e1']));
    const timeline = await first.backbone.eventsForOrders(['o-e1', 'o-e2']);
    await first.journal.close();

    // Nothing but the snapshot is left, and in it no 'join' or 'taken' bookkeeping: the events, and what is owed.
    expect(readFileSync(join(dir, 'journal.ndjson'), 'utf8')).toBe('');
    const records = snapshotOf(dir).filter((l) => l.o === 'events').map((l) => l.r);
    expect(records.filter((r) => r.k === 'event').map((r) => r.event.id)).toEqual(['e1', 'e2', 'e3']);
    expect(records.filter((r) => r.k === 'group')).toEqual([{ k: 'group', group: 'finance', types: ['PICKED_UP'], owed: ['e2'], early: [] }]);

    const second = await open(dir);
    expect(await second.backbone.eventsForOrders(['o-e1', 'o-e2'])).toEqual(timeline);
    const again: string[] = [];
    second.backbone.consume('finance', MONEY, async (e) => void again.push(e.id));
    await vi.waitFor(() => expect(again).toEqual(['e2']));
    await second.journal.close();

    // Taken in now: owed nothing after the next restart.
    const third = await open(dir);
    const none: string[] = [];
    third.backbone.consume('finance', MONEY, async (e) => void none.push(e.id));
    await third.backbone.publish(money('e4'));
    await vi.waitFor(() => expect(none).toEqual(['e4']));
    await third.journal.close();
  });
});

describe('JournaledIdempotencyStore: a record keeps its original time across restarts', () => {
  const T0 = Date.parse('2026-11-23T10:00:00.000Z');
  const HOUR = 3_600_000;

  async function openAt(dir: string, at: number) {
    const journal = await Journal.create(dir, { compactOnCloseAfterEntries: 1 });
    const store = new JournaledIdempotencyStore(new InMemoryIdempotencyStore({ now: () => at }), journal);
    await journal.replay();
    return { journal, store };
  }

  it('from the journal: replayed until 24 h after it completed, not 24 h after the restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'durable-idem-'));
    const first = await openAt(dir, T0);
    expect(await first.store.begin('shopper:c1', 'k1', 'fp')).toEqual({ kind: 'started' });
    await first.store.complete('shopper:c1', 'k1', 'fp', { orderId: 'o1' });
    await first.journal.close({ compact: false }); // as after kill -9: entries, no snapshot

    const before = await openAt(dir, T0 + 23 * HOUR);
    expect(await before.store.begin('shopper:c1', 'k1', 'fp')).toEqual({ kind: 'replay', response: { orderId: 'o1' } });
    await before.journal.close({ compact: false });
    const after = await openAt(dir, T0 + DAY_MS + HOUR);
    expect(await after.store.begin('shopper:c1', 'k1', 'fp')).toEqual({ kind: 'started' });
    await after.journal.close({ compact: false });
  });

  it('through a snapshot: the time is kept, and what expired is not in it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'durable-idem-'));
    const first = await openAt(dir, T0);
    await first.store.complete('shopper:c1', 'k1', 'fp', { orderId: 'o1' });
    await first.journal.close({ compact: false });
    const later = await openAt(dir, T0 + 20 * HOUR);
    await later.store.complete('shopper:c1', 'k2', 'fp', { orderId: 'o2' });
    await later.journal.close({ compact: false });

    // Compacted 30 h after the first: k1 has expired, k2 has 14 h left.
    const compacting = await openAt(dir, T0 + 30 * HOUR);
    await compacting.journal.close();
    const kept = snapshotOf(dir).filter((l) => l.o === 'idempotency').map((l) => l.r);
    expect(kept).toEqual([{ scope: 'shopper:c1', key: 'k2', fingerprint: 'fp', response: { orderId: 'o2' }, at: new Date(T0 + 20 * HOUR).toISOString() }]);

    const within = await openAt(dir, T0 + 43 * HOUR);
    expect(await within.store.begin('shopper:c1', 'k2', 'fp')).toEqual({ kind: 'replay', response: { orderId: 'o2' } });
    expect(await within.store.begin('shopper:c1', 'k1', 'fp')).toEqual({ kind: 'started' });
    await within.journal.close({ compact: false });
    const beyond = await openAt(dir, T0 + 45 * HOUR);
    expect(await beyond.store.begin('shopper:c1', 'k2', 'fp')).toEqual({ kind: 'started' });
    await beyond.journal.close({ compact: false });
  });
});

describe('JournaledWrites', () => {
  it('keeps the systems\' writes, in order, through a snapshot and the entries after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'durable-writes-'));
    const openWrites = async () => {
      const journal = await Journal.create(dir, { compactOnCloseAfterEntries: 1 });
      const writes = new JournaledWrites(journal);
      await journal.replay();
      return { journal, writes };
    };
    const at = '2026-11-23T10:00:00.000Z';
    const first = await openWrites();
    await first.writes.record({ system: 'pos', method: 'adjustStock', args: [{ sku: 'S1', locationId: 'store-001', onHandDelta: 1 }], at });
    await first.journal.close();
    const second = await openWrites();
    await second.writes.record({ system: 'ecom', method: 'setStatus', args: ['o1', 'CONFIRMED'], at });
    await second.journal.close({ compact: false });
    const third = await openWrites();
    expect(third.writes.list().map((w) => `${w.system}.${w.method}`)).toEqual(['pos.adjustStock', 'ecom.setStatus']);
    await third.journal.close({ compact: false });
  });
});
