import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adjustedAt as adjusted, handOverAt as handOver, pickedUpAt as pickedUp } from '../test/support/events.js';
import { JournaledEventBackbone } from './durable.js';
import { createEvent, InMemoryEventBackbone, sequenceIn, streamsOf, type CanonicalEvent, type EventBackbone, type EventStream, type StreamHistory } from './events.js';
import { Journal } from './journal.js';
import { RESUME_TOO_OLD, StreamSequencer } from './stream-sequencer.js';

const confirmed = (orderId: string, id: string): CanonicalEvent => createEvent('ORDER_CONFIRMED', { previousStatus: 'PLACED', status: 'CONFIRMED' }, { source: 'WEB', orderId, id });

const LOC: EventStream = { kind: 'location', id: 'store-001' };
const ORDER: EventStream = { kind: 'order', id: 'ord-1' };
const seqs = (history: StreamHistory, kind: EventStream['kind']) => history.events.map((e) => sequenceIn(e, kind));

async function openJournaled(dir: string, retention?: number) {
  const journal = await Journal.create(dir, { compactOnCloseAfterEntries: 1 });
  const backbone = new JournaledEventBackbone(new InMemoryEventBackbone({ retention }), journal);
  await journal.replay();
  return { journal, backbone };
}

describe('streamsOf', () => {
  it('puts stock moves in the location stream and status moves in the order stream; a hand-over in both', () => {
    expect(streamsOf(adjusted('store-001', 'a'))).toEqual([LOC]);
    expect(streamsOf(confirmed('ord-1', 'b'))).toEqual([ORDER]);
    expect(streamsOf(pickedUp('ord-1', 'store-001', 'c'))).toEqual([ORDER, LOC]);
    expect(streamsOf(createEvent('PAYMENT_AUTHORIZED', { currency: 'EUR', paymentId: 'p', amount: 1, method: 'CARD' }, { source: 'PSP', orderId: 'ord-1' }))).toEqual([]);
  });
});

describe.each([
  ['in memory', async () => ({ backbone: new InMemoryEventBackbone({ retention: 3 }) as EventBackbone, close: async () => undefined })],
  [
    'journaled',
    async () => {
      const { journal, backbone } = await openJournaled(mkdtempSync(join(tmpdir(), 'seq-')), 3);
      return { backbone: backbone as EventBackbone, close: () => journal.close() };
    },
  ],
])('sequences per stream (%s)', (_name, make) => {
  it('numbers each stream from 1, apart from the others, and stamps what subscribers get', async () => {
    const { backbone, close } = await make();
    const live: CanonicalEvent[] = [];
    backbone.subscribe((e) => live.push(e));
    await backbone.publish(adjusted('store-001', 'a1'));
    await backbone.publish(adjusted('store-002', 'b1'));
    await backbone.publish(confirmed('ord-1', 'o1'));
    await backbone.publish(pickedUp('ord-1', 'store-001', 'o2'));
    expect(live.map((e) => [e.id, e.sequences])).toEqual([
      ['a1', { location: 1 }],
      ['b1', { location: 1 }],
      ['o1', { order: 1 }],
      ['o2', { order: 2, location: 2 }],
    ]);
    const [timeline] = await backbone.eventsForOrders(['ord-1']);
    expect(timeline?.map((e) => e.sequences?.order)).toEqual([1, 2]);
    await close();
  });

  it('keeps the first sequence of an event published twice, and delivers it once', async () => {
    const { backbone, close } = await make();
    const live: string[] = [];
    backbone.subscribe((e) => live.push(`${e.id}:${e.sequences?.location}`));
    const event = adjusted('store-001', 'dup');
    expect(await backbone.publish(event)).toBe(true);
    expect(await backbone.publish({ ...event, sequences: { location: 99 } })).toBe(false);
    await backbone.publish(adjusted('store-001', 'next'));
    expect(live).toEqual(['dup:1', 'next:2']);
    await close();
  });

  it('gives a multi-line event one location sequence per change (a block), and its order one', async () => {
    const { backbone, close } = await make();
    const live: CanonicalEvent[] = [];
    backbone.subscribe((e) => live.push(e));
    await backbone.publish(adjusted('store-009', 'm1'));
    await backbone.publish(handOver('ord-9', 'store-009', 'm2', ['A', 'B', 'C']));
    await backbone.publish(adjusted('store-009', 'm3'));
    expect(live.map((e) => [e.id, e.sequences])).toEqual([
      ['m1', { location: 1 }],
      ['m2', { order: 1, location: 2 }],
      ['m3', { location: 5 }],
    ]);
    const where = { kind: 'location', id: 'store-009' } as const;
    expect(await backbone.streamSince(where, null)).toMatchObject({ latest: 5 });
    // Resuming inside the block hands the event again (its changes before `after` are the reader's to skip).
    expect((await backbone.streamSince(where, 3)).events.map((e) => [e.id, sequenceIn(e, 'location')])).toEqual([
      ['m2', 2],
      ['m3', 5],
    ]);
    expect((await backbone.streamSince(where, 4)).events.map((e) => e.id)).toEqual(['m3']);
    // Retention (3) counts changes, window 3..5: an event stays while one of its changes is in it (m2: 2..4), m1 goes.
    expect(await backbone.streamSince(where, 0)).toMatchObject({ oldest: 2, latest: 5 });
    // A hand-over with no units at the store is not part of its stream.
    expect(streamsOf(handOver('ord-9', 'store-009', 'm4', []))).toEqual([{ kind: 'order', id: 'ord-9' }]);
    await close();
  });

  it('retains the last events of each stream and says which is the oldest', async () => {
    const { backbone, close } = await make();
    for (let i = 1; i <= 5; i++) await backbone.publish(adjusted('store-001', `r${i}`));
    const since1 = await backbone.streamSince(LOC, 1);
    expect(since1).toMatchObject({ oldest: 3, latest: 5 });
    expect(seqs(since1, 'location')).toEqual([3, 4, 5]);
    expect(seqs(await backbone.streamSince(LOC, 3), 'location')).toEqual([4, 5]);
    expect(await backbone.streamSince(LOC, null)).toEqual({ events: [], oldest: 3, latest: 5 });
    expect(await backbone.streamSince({ kind: 'location', id: 'nowhere' }, 0)).toEqual({ events: [], oldest: 1, latest: 0 });
    await close();
  });
});

describe('JournaledEventBackbone sequences', () => {
  it('go on counting after a restart, and after a compaction folded the journal into a snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seq-restart-'));
    const first = await openJournaled(dir);
    await first.backbone.publish(adjusted('store-001', 'x1'));
    await first.backbone.publish(pickedUp('ord-1', 'store-001', 'x2'));
    await first.journal.close({ compact: false });

    const second = await openJournaled(dir);
    expect(seqs(await second.backbone.streamSince(LOC, 0), 'location')).toEqual([1, 2]);
    await second.backbone.publish(adjusted('store-001', 'x3'));
    // A replayed event published again (a producer's retry) is a duplicate: no new sequence.
    expect(await second.backbone.publish(adjusted('store-001', 'x1'))).toBe(false);
    await second.journal.compact();
    await second.journal.close();

    const third = await openJournaled(dir);
    await third.backbone.publish(adjusted('store-001', 'x4'));
    await third.backbone.publish(confirmed('ord-1', 'x5'));
    expect(seqs(await third.backbone.streamSince(LOC, 0), 'location')).toEqual([1, 2, 3, 4]);
    expect(seqs(await third.backbone.streamSince(ORDER, 0), 'order')).toEqual([1, 2]);
    // A block survives the restart: the next event counts on after its last change.
    await third.backbone.publish(handOver('ord-1', 'store-001', 'x6', ['A', 'B']));
    await third.journal.close();
    const fourth = await openJournaled(dir);
    await fourth.backbone.publish(adjusted('store-001', 'x7'));
    expect(seqs(await fourth.backbone.streamSince(LOC, 0), 'location')).toEqual([1, 2, 3, 4, 5, 7]);
    await fourth.journal.close();
  });

  it('tells subscribers only once the event is on disk; a failed append is completed by the retry, with its sequence', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seq-fail-'));
    const { journal, backbone } = await openJournaled(dir);
    const live: string[] = [];
    backbone.subscribe((e) => live.push(`${e.id}:${e.sequences?.location}`));
    const append = journal.append.bind(journal);
    let failNext = true;
    journal.append = (entry: unknown) => {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error('disk full'));
      }
      return append(entry);
    };
    const event = adjusted('store-001', 'f1');
    await expect(backbone.publish(event)).rejects.toThrow(/disk full/);
    expect(live).toEqual([]);
    expect(await backbone.publish(event)).toBe(true);
    await backbone.publish(adjusted('store-001', 'f2'));
    expect(live).toEqual(['f1:1', 'f2:2']);
    await journal.close();
  });
});

describe('StreamSequencer', () => {
  /** A sequencer over a hand-made history; `offer` plays the live side. */
  function sequencer(history: CanonicalEvent[], after: number | null, retainedFrom = 1) {
    const emitted: number[] = [];
    const failures: Error[] = [];
    let open = true;
    const answer = (since: number | null): StreamHistory => {
      const latest = history.length;
      return { events: since === null ? [] : history.filter((e) => sequenceIn(e, 'location') > since && sequenceIn(e, 'location') >= retainedFrom), oldest: Math.min(retainedFrom, latest + 1), latest };
    };
    let pending: (() => void) | undefined;
    const s = new StreamSequencer({
      stream: LOC,
      after,
      history: (_stream, since) =>
        new Promise<StreamHistory>((resolve) => {
          pending = () => resolve(answer(since));
        }),
      emit: (e) => emitted.push(sequenceIn(e, 'location')),
      fail: (error) => {
        failures.push(error);
        open = false;
      },
      isOpen: () => open,
    });
    const answerNow = async () => {
      pending?.();
      pending = undefined;
      await new Promise((resolve) => setImmediate(resolve));
    };
    return { s, emitted, failures, answerNow };
  }
  const at = (n: number): CanonicalEvent => ({ ...adjusted('store-001', `s${n}`), sequences: { location: n } });

  it('resumes: history after `after`, then live, with nothing twice at the seam', async () => {
    const history = [1, 2, 3, 4].map(at);
    const { s, emitted, answerNow } = sequencer(history, 1);
    // Published while the history was being read: in both.
    history.push(at(5));
    s.offer(at(4));
    s.offer(at(5));
    await answerNow();
    s.offer(at(5));
    s.offer(at(6));
    expect(emitted).toEqual([2, 3, 4, 5, 6]);
  });

  it('puts live events back in sequence order, reading a skipped one from the stream', async () => {
    const history = [1, 2].map(at);
    const { s, emitted, answerNow } = sequencer(history, null);
    await answerNow();
    history.push(at(3), at(4));
    s.offer(at(4));
    await answerNow();
    s.offer(at(3));
    expect(emitted).toEqual([3, 4]);
  });

  it('fails with RESUME_TOO_OLD when what came after `after` is no longer retained', async () => {
    const { failures, emitted, answerNow } = sequencer([1, 2, 3, 4, 5].map(at), 1, 4);
    await answerNow();
    expect(emitted).toEqual([]);
    expect(failures[0]).toMatchObject({ extensions: { code: RESUME_TOO_OLD, oldest: 4 } });
    expect(failures[0]?.message).toMatch(/oldest sequence still retained is 4/);
  });

  it('resumes inside a multi-line event: the rest of its changes, then on (over the in-memory backbone)', async () => {
    const backbone = new InMemoryEventBackbone();
    await backbone.publish(adjusted('store-001', 'b1'));
    await backbone.publish(handOver('ord-1', 'store-001', 'b2', ['A', 'B', 'C']));
    const got: string[] = [];
    const s = new StreamSequencer({ stream: LOC, after: 3, history: (stream, since) => backbone.streamSinceNow(stream, since), emit: (e, from) => got.push(`${e.id}@${from}`), fail: (e) => { throw e; }, isOpen: () => true });
    backbone.subscribe((e) => s.offer(e));
    await backbone.publish(handOver('ord-2', 'store-001', 'b3', ['A', 'B']));
    await backbone.publish(adjusted('store-001', 'b4'));
    // b2 holds 2..4: from 4 on; b3 holds 5..6; b4 is 7.
    expect(got).toEqual(['b2@4', 'b3@5', 'b4@7']);
  });

  it('takes `after` at or past the end of the stream as "from now on"', async () => {
    const { s, emitted, failures, answerNow } = sequencer([1, 2].map(at), 7);
    await answerNow();
    s.offer(at(3));
    expect(failures).toEqual([]);
    expect(emitted).toEqual([3]);
  });
});
