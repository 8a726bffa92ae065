import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createEvent, InMemoryEventBackbone, type CanonicalEvent, type EventBackbone } from '../events.js';
import { Journal } from '../journal.js';
import { EventOutbox, InMemoryOutboxStore, type EventOutboxStore, type OutboxBatch } from './event-outbox.js';
import { JournaledEventOutboxStore } from './stores.js';

const event = (orderId: string, n: number): CanonicalEvent =>
  createEvent('ORDER_CONFIRMED', { previousStatus: 'PLACED', status: 'CONFIRMED' }, { id: `evt-${orderId}-${n}`, source: 'WEB', orderId, correlationId: `corr-${orderId}` });

/** A backbone whose publish fails while `down` is true. */
function flakyBackbone() {
  const inner = new InMemoryEventBackbone();
  const seen: string[] = [];
  inner.subscribe((e) => seen.push(e.id));
  const state = { down: false, attempts: 0 };
  const backbone: Pick<EventBackbone, 'publish'> = {
    async publish(e) {
      state.attempts++;
      if (state.down) throw new Error('backbone unavailable');
      return inner.publish(e);
    },
  };
  return { backbone, seen, state };
}

describe('EventOutbox', () => {
  it('publishes each batch in order and leaves nothing in the store', async () => {
    const { backbone, seen } = flakyBackbone();
    const store = new InMemoryOutboxStore();
    const outbox = new EventOutbox({ backbone, store });
    await outbox.emit([event('o1', 1), event('o1', 2)]);
    await outbox.emit([event('o1', 3)]);
    expect(seen).toEqual(['evt-o1-1', 'evt-o1-2', 'evt-o1-3']);
    expect(await store.depth()).toBe(0);
    expect(outbox.stats()).toMatchObject({ recorded: 2, published: 3, publishFailures: 0 });
  });

  it('a publish failure delays the events, never loses them, and never fails the producer', async () => {
    const { backbone, seen, state } = flakyBackbone();
    const store = new InMemoryOutboxStore();
    const outbox = new EventOutbox({ backbone, store, retryBaseMs: 5, retryCapMs: 20 });
    state.down = true;
    await expect(outbox.emit([event('o1', 1)])).resolves.toBeUndefined();
    await expect(outbox.emit([event('o1', 2)])).resolves.toBeUndefined();
    expect(seen).toEqual([]);
    expect(await outbox.depth()).toBe(2);
    await vi.waitFor(() => expect(state.attempts).toBeGreaterThan(3));
    state.down = false;
    await vi.waitFor(() => expect(seen).toEqual(['evt-o1-1', 'evt-o1-2']));
    await vi.waitFor(async () => expect(await store.depth()).toBe(0));
    await outbox.stop();
  });

  it('a batch the store could not record is still published, from memory', async () => {
    const { backbone, seen } = flakyBackbone();
    const broken: EventOutboxStore = { add: () => Promise.reject(new Error('disk full')), remove: async () => undefined, pending: async () => [], depth: async () => 0 };
    const outbox = new EventOutbox({ backbone, store: broken });
    await outbox.emit([event('o2', 1)]);
    expect(seen).toEqual(['evt-o2-1']);
    expect(outbox.stats().storeFailures).toBe(1);
  });

  it('the next run publishes what a stopped (or crashed) run left in the store, each event once', async () => {
    const { backbone, seen, state } = flakyBackbone();
    const store = new InMemoryOutboxStore();
    const first = new EventOutbox({ backbone, store, retryBaseMs: 5 });
    state.down = true;
    await first.emit([event('o3', 1), event('o3', 2)]);
    await first.stop();
    state.down = false;
    expect(await store.depth()).toBe(1);
    const second = new EventOutbox({ backbone, store });
    await second.start();
    await second.drained();
    await vi.waitFor(async () => expect(await store.depth()).toBe(0));
    expect(seen).toEqual(['evt-o3-1', 'evt-o3-2']);
    await second.stop();
  });

  it('another instance takes a batch only once it is older than claimAfterMs; a repeat publish is dropped by the backbone', async () => {
    const { backbone, seen } = flakyBackbone();
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const store = new InMemoryOutboxStore();
    const young: OutboxBatch = { id: 'obx-young', at: new Date(clock).toISOString(), events: [event('o4', 1)] };
    await store.add(young);
    const other = new EventOutbox({ backbone, store, claimAfterMs: 10_000, sweepIntervalMs: 5, now: () => clock });
    // At start every batch left is taken (an earlier run's); make it look like another live instance's instead.
    await store.remove(young.id);
    await other.start();
    await store.add(young);
    await new Promise((r) => setTimeout(r, 30));
    expect(seen).toEqual([]);
    clock += 10_001;
    await vi.waitFor(() => expect(seen).toEqual(['evt-o4-1']));
    await vi.waitFor(async () => expect(await store.depth()).toBe(0));
    await other.stop();
  });
});

describe('JournaledEventOutboxStore', () => {
  it('a batch recorded before a restart is published by the next process from the journal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'event-outbox-'));
    const { backbone, seen, state } = flakyBackbone();
    state.down = true;
    const journal = await Journal.create(dir);
    const store = new JournaledEventOutboxStore(journal);
    await journal.replay();
    const outbox = new EventOutbox({ backbone, store, retryBaseMs: 5 });
    await outbox.start();
    await outbox.emit([event('o5', 1), event('o5', 2)]);
    await outbox.stop();
    await journal.close();

    state.down = false;
    const reopened = await Journal.create(dir);
    const again = new JournaledEventOutboxStore(reopened);
    await reopened.replay();
    expect(await again.depth()).toBe(1);
    const next = new EventOutbox({ backbone, store: again });
    await next.start();
    await next.drained();
    await vi.waitFor(async () => expect(await again.depth()).toBe(0));
    expect(seen).toEqual(['evt-o5-1', 'evt-o5-2']);
    await next.stop();
    await reopened.close();

    // Published and marked done: a third run finds nothing to publish.
    const third = await Journal.create(dir);
    const last = new JournaledEventOutboxStore(third);
    await third.replay();
    expect(await last.depth()).toBe(0);
    await third.close();
  });
  it('replays its lines unparsed: the batches still waiting come back whole and in the order they were recorded, across a snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'event-outbox-'));
    const journal = await Journal.create(dir, { compactOnClose: false });
    const store = new JournaledEventOutboxStore(journal);
    await journal.replay();
    const batch = (n: number) => ({ id: `b-${n}`, at: new Date(Date.UTC(2026, 11, 1, 0, 0, n)).toISOString(), events: [event(`o${n}`, 1), event(`o${n}`, 2)] });
    for (let n = 1; n <= 4; n++) await store.add(batch(n));
    await store.remove('b-2');
    await journal.compact();
    // After the snapshot (b-1, b-3, b-4): b-3 published, b-5 to b-7 recorded, b-6 published, b-8 with an id to escape.
    await store.remove('b-3');
    for (let n = 5; n <= 7; n++) await store.add(batch(n));
    await store.remove('b-6');
    await store.add({ ...batch(8), id: 'b-"8"' });
    const expected = await store.pending(100);
    await journal.close();

    const reopened = await Journal.create(dir);
    const again = new JournaledEventOutboxStore(reopened);
    await reopened.replay();
    expect((await again.pending(100)).map((b) => b.id)).toEqual(['b-1', 'b-4', 'b-5', 'b-7', 'b-"8"']);
    expect(await again.pending(100)).toEqual(expected);
    await reopened.close();
  });

  it('refuses to start on a waiting batch whose line does not parse, with a coded error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'event-outbox-'));
    writeFileSync(join(dir, 'journal.ndjson'), '{"t":"outbox","op":"add","batch":{"id":"b-1","at":"2026-12-01T00:00:00.000Z","events":[{]}}\n');
    const journal = await Journal.create(dir);
    new JournaledEventOutboxStore(journal);
    await expect(journal.replay()).rejects.toThrow(/JOURNAL_ENTRY_CORRUPT/);
  });
});
