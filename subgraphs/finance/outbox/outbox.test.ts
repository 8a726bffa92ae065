import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryEventBackbone, type CanonicalEvent, type EventDataByType, type EventType } from '../../../common/events.js';
import { createLogger } from '../../../common/logger.js';
import { MemoryRateLimiter, type RateDecision, type RateLimiter, type RateLimitRule } from '../../../common/rate-limit.js';
import { SystemUnavailableError } from '../../../common/resilience.js';
import { testEvent } from '../../../test/support/events.js';
import { useRedisServer } from '../../../test/support/redis.js';
import { ERP_CALL_BUCKET, ErpOutbox } from './outbox.js';
import { JournalRejectedError, type BookedJournal, type JournalEntry, type JournalPort, type OutboxPosting } from './ports.js';
import { queued } from './posting-state.js';
import { RedisOutboxStore } from './redis-store.js';
import { outboxSettings, type OutboxSettings } from './settings.js';
import { InMemoryOutboxStore } from './store.js';

/**
 * An ERP that books each posting id once (like SandboxErp.postJournal and postJournalBatch), can be down, lose
 * answers, refuse entries for good, or refuse calls for rate (a SystemUnavailableError with retryAfterMs, as the
 * resilience policy turns the ERP's 429 into).
 */
function fakeErp() {
  const booked = new Map<string, BookedJournal>();
  const invoices = new Map<string, { id: string; number: string; total: JournalEntry['amount']; issuedAt: string }>();
  const state = { down: false, loseAnswers: 0, reject: false, hang: false, rejectAmount: null as number | null, throttle: 0, retryAfterMs: 20 };
  const hung: (() => void)[] = [];
  const calls = { postBatch: 0, issueInvoice: 0 };
  /** Every call that reached the ERP, in order: when (performance.now()), which, how many entries, refused for rate or not. */
  const log: { at: number; method: 'postBatch' | 'issueInvoice'; entries: number; throttled: boolean }[] = [];
  const arrive = async (method: 'postBatch' | 'issueInvoice', entries: number) => {
    calls[method]++;
    const throttled = state.throttle > 0;
    log.push({ at: performance.now(), method, entries, throttled });
    if (throttled) {
      state.throttle--;
      throw new SystemUnavailableError('erp', `ERP rate limit: retry after ${state.retryAfterMs} ms`, { retryAfterMs: state.retryAfterMs });
    }
    if (state.hang) await new Promise<void>((resolve) => hung.push(resolve));
    if (state.down) throw new SystemUnavailableError('erp', 'erp refused the connection (sandbox fault: down)');
  };
  const book = (entry: JournalEntry): BookedJournal | JournalRejectedError => {
    if (state.reject || entry.amount.minor === state.rejectAmount) return new JournalRejectedError(`ERP rejected posting ${entry.id}: posting period closed`);
    let record = booked.get(entry.id);
    if (!record) booked.set(entry.id, (record = { documentNumber: `FI-${String(booked.size + 1).padStart(8, '0')}`, postedAt: new Date().toISOString(), amount: entry.amount }));
    return record;
  };
  const loseAnswer = () => {
    if (state.loseAnswers <= 0) return;
    state.loseAnswers--;
    throw new SystemUnavailableError('erp', 'no answer within 500 ms');
  };
  const journal: JournalPort = {
    async post(entry) {
      const [outcome] = await journal.postBatch([entry]);
      if (outcome instanceof JournalRejectedError) throw outcome;
      return outcome!;
    },
    async postBatch(entries) {
      await arrive('postBatch', entries.length);
      const outcomes = entries.map(book);
      loseAnswer();
      return outcomes;
    },
    async issueInvoice(invoice) {
      await arrive('issueInvoice', 1);
      let record = invoices.get(invoice.id);
      if (!record) invoices.set(invoice.id, (record = { id: invoice.id, number: `INV-2026-${invoices.size + 1}`, total: invoice.total, issuedAt: new Date().toISOString() }));
      return record;
    },
  };
  /** Let hung calls go on (as an adapter timeout would end them). */
  const release = () => hung.splice(0).forEach((go) => go());
  return { journal, booked, invoices, state, calls, log, release };
}

const redisServer = useRedisServer(['outbox-worker']);

const FAST: Partial<OutboxSettings> = { baseMs: 5, capMs: 20, pollMs: 10, maxAttempts: 50 };
let running: ErpOutbox[] = [];
afterEach(async () => {
  await Promise.all(running.map((o) => o.stop()));
  running = [];
});

function setup(settings: Partial<OutboxSettings> = FAST) {
  const erp = fakeErp();
  const backbone = new InMemoryEventBackbone();
  const store = new InMemoryOutboxStore();
  const published: CanonicalEvent[] = [];
  backbone.subscribe((e) => published.push(e));
  const outbox = new ErpOutbox({ journal: erp.journal, backbone, store, settings: outboxSettings(settings), logger: createLogger({ level: 'silent' }) });
  outbox.start();
  running.push(outbox);
  const ofType = (type: EventType) => published.filter((e) => e.type === type);
  return { erp, backbone, store, outbox, published, ofType };
}

let seq = 0;
const event = <T extends EventType>(type: T, data: Partial<EventDataByType[T]>, orderId = `ord-${++seq}`, id = `evt-${type.toLowerCase()}-${++seq}`) =>
  testEvent(type, data, { id, source: type === 'REFUND_ISSUED' ? 'PSP' : 'POS', occurredAt: '2026-03-01T10:00:00.000Z', correlationId: `corr-${orderId}`, orderId });

async function until<T>(probe: () => Promise<T> | T, accept: (value: T) => boolean, ms = 3_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() - started > ms) throw new Error(`condition not met within ${ms} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const postingOf = async (store: InMemoryOutboxStore, id: string) => (await store.get([id]))[0] ?? null;

describe('the ERP outbox worker', () => {
  it('books a hand-over as a SALE with an invoice, announcing both under the order’s correlation id', async () => {
    const { erp, backbone, store, ofType } = setup();
    const pickedUp = event('PICKED_UP', { total: 4_999, currency: 'EUR' });
    await backbone.publish(pickedUp);
    const p = await until(() => postingOf(store, `post-${pickedUp.id}`), (x) => x?.status === 'POSTED');
    expect(p).toMatchObject({ type: 'SALE', attempts: 1, amount: { minor: 4_999, currency: 'EUR' }, erpDocumentNumber: 'FI-00000001', correlationId: pickedUp.correlationId, invoice: { id: `inv-${pickedUp.orderId}` } });
    expect(ofType('INVOICE_ISSUED')).toEqual([expect.objectContaining({ orderId: pickedUp.orderId, correlationId: pickedUp.correlationId, source: 'ERP', data: expect.objectContaining({ total: 4_999 }) })]);
    expect(ofType('JOURNAL_POSTED')).toEqual([expect.objectContaining({ id: `evt-post-${pickedUp.id}-posted`, correlationId: pickedUp.correlationId, data: expect.objectContaining({ documentNumber: 'FI-00000001', type: 'SALE', amount: 4_999 }) })]);
    expect(erp.calls).toEqual({ postBatch: 1, issueInvoice: 1 });
  });

  it('drops a redelivered event and books an order’s sale once, whatever the number of hand-over events', async () => {
    const { erp, backbone, store, outbox } = setup();
    const shipped = event('ORDER_SHIPPED', { total: 1_000 });
    await backbone.publish(shipped);
    outbox.accept(shipped); // a redelivery straight to the subscriber, as an at-least-once backbone may do
    await backbone.publish(event('PICKED_UP', { total: 1_000 }, shipped.orderId));
    await outbox.settled();
    await until(() => postingOf(store, `post-${shipped.id}`), (x) => x?.status === 'POSTED');
    await outbox.idle();
    expect((await store.byOrder([shipped.orderId!]))[0]).toHaveLength(1);
    expect(erp.booked.size).toBe(1);
  });

  it('books a shipment at its own total and currency', async () => {
    const { backbone, store } = setup();
    const shipped = event('ORDER_SHIPPED', { total: 7_500, currency: 'CHF' });
    await backbone.publish(shipped);
    expect(await until(() => postingOf(store, `post-${shipped.id}`), (x) => x?.status === 'POSTED')).toMatchObject({ type: 'SALE', amount: { minor: 7_500, currency: 'CHF' } });
  });

  it('never makes a publisher wait on the ERP', async () => {
    const { erp, backbone, store, outbox } = setup();
    erp.state.hang = true; // the ERP never answers
    const refund = event('REFUND_ISSUED', { amount: 500 });
    const started = performance.now();
    expect(await backbone.publish(refund)).toBe(true);
    expect(performance.now() - started).toBeLessThan(50);
    await outbox.settled();
    expect(await postingOf(store, `post-${refund.id}`)).toMatchObject({ status: 'PENDING', type: 'REFUND' });
    erp.state.hang = false;
    erp.release();
  });

  it('retries while the ERP is down (FAILED, attempts growing, lastError) and drains by itself when it is back', async () => {
    const { erp, backbone, store, ofType } = setup();
    erp.state.down = true;
    const refund = event('REFUND_ISSUED', { amount: 1_250 });
    await backbone.publish(refund);
    const failing = await until(() => postingOf(store, `post-${refund.id}`), (x) => (x?.attempts ?? 0) >= 3);
    expect(failing).toMatchObject({ status: 'FAILED', lastError: expect.stringContaining('down'), erpDocumentNumber: null });
    expect(failing!.nextAttemptAt).not.toBeNull();
    erp.state.down = false;
    const done = await until(() => postingOf(store, `post-${refund.id}`), (x) => x?.status === 'POSTED');
    expect(done!.attempts).toBeGreaterThan(failing!.attempts);
    expect(erp.booked.size).toBe(1);
    expect(ofType('JOURNAL_POSTED')).toHaveLength(1);
    expect(ofType('POSTING_FAILED')).toHaveLength(0);
  });

  it('books once when an answer is lost: the retry gets the same document number', async () => {
    const { erp, backbone, store } = setup();
    erp.state.loseAnswers = 2;
    const refund = event('REFUND_ISSUED', { amount: 300 });
    await backbone.publish(refund);
    const p = await until(() => postingOf(store, `post-${refund.id}`), (x) => x?.status === 'POSTED');
    expect(p).toMatchObject({ attempts: 3, erpDocumentNumber: 'FI-00000001' });
    expect(erp.calls.postBatch).toBe(3);
    expect(erp.booked.size).toBe(1);
  });

  it('dead-letters after maxAttempts failures with one POSTING_FAILED, and books after a replay', async () => {
    const { erp, backbone, store, outbox, ofType } = setup({ ...FAST, maxAttempts: 3 });
    erp.state.down = true;
    const refund = event('REFUND_ISSUED', { amount: 800 });
    await backbone.publish(refund);
    const dead = await until(() => postingOf(store, `post-${refund.id}`), (x) => x?.status === 'DEAD_LETTER');
    expect(dead).toMatchObject({ attempts: 3, lastError: expect.stringContaining('down'), nextAttemptAt: null });
    await new Promise((r) => setTimeout(r, 60));
    expect((await postingOf(store, `post-${refund.id}`))!.attempts).toBe(3); // never tried again by itself
    expect(ofType('POSTING_FAILED')).toEqual([expect.objectContaining({ correlationId: refund.correlationId, data: expect.objectContaining({ attempts: 3, postingId: `post-${refund.id}` }) })]);

    erp.state.down = false;
    expect(await outbox.requeue(`post-${refund.id}`)).toMatchObject({ ok: true, posting: { status: 'PENDING' } });
    expect(await until(() => postingOf(store, `post-${refund.id}`), (x) => x?.status === 'POSTED')).toMatchObject({ attempts: 4 });
    expect(await outbox.requeue(`post-${refund.id}`)).toMatchObject({ ok: false, reason: 'INVALID_STATE' });
    expect(await outbox.requeue('post-nope')).toEqual({ ok: false, reason: 'NOT_FOUND' });
  });

  it('dead-letters an entry the ERP refuses for good at once, and keeps booking the others', async () => {
    const { erp, backbone, store } = setup();
    erp.state.reject = true;
    const refused = event('REFUND_ISSUED', { amount: 100 });
    await backbone.publish(refused);
    expect(await until(() => postingOf(store, `post-${refused.id}`), (x) => x?.status === 'DEAD_LETTER')).toMatchObject({ attempts: 1, lastError: expect.stringContaining('period closed') });
    erp.state.reject = false;
    const fine = event('REFUND_ISSUED', { amount: 200 });
    await backbone.publish(fine);
    await until(() => postingOf(store, `post-${fine.id}`), (x) => x?.status === 'POSTED');
  });

  it('probes a down ERP once per round, not once per posting', async () => {
    const { erp, backbone, outbox } = setup({ ...FAST, pollMs: 1_000, baseMs: 1_000, capMs: 1_000 });
    erp.state.down = true;
    for (let i = 0; i < 20; i++) await backbone.publish(event('REFUND_ISSUED', { amount: 100 + i }));
    await outbox.settled();
    await outbox.idle();
    // Intake kicks a round per posting, but each round stops at its first failure.
    expect(erp.calls.postBatch).toBeLessThanOrEqual(20);
    const before = erp.calls.postBatch;
    await new Promise((r) => setTimeout(r, 50));
    expect(erp.calls.postBatch).toBe(before);
  });

  it('stops: no intake and no attempts after stop()', async () => {
    const { erp, backbone, store, outbox } = setup();
    await outbox.stop();
    const refund = event('REFUND_ISSUED', { amount: 100 });
    await backbone.publish(refund);
    await new Promise((r) => setTimeout(r, 40));
    expect(await postingOf(store, `post-${refund.id}`)).toBeNull();
    expect(erp.calls.postBatch).toBe(0);
  });
});

/**
 * A backlog of `count` REFUND postings already in the store when the outbox starts (as after a burst of
 * hand-overs, or a restart): the worker's first rounds take it in batches.
 */
async function backlog(count: number, settings: Partial<OutboxSettings>, options: { limiter?: RateLimiter; amount?: (i: number) => number } = {}) {
  const erp = fakeErp();
  const backbone = new InMemoryEventBackbone();
  const store = new InMemoryOutboxStore();
  const published: CanonicalEvent[] = [];
  backbone.subscribe((e) => published.push(e));
  const saved: OutboxPosting[] = [];
  const save = store.save.bind(store);
  store.save = async (posting) => {
    saved.push(posting);
    await save(posting);
  };
  const at = new Date('2026-03-01T10:00:00.000Z');
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `post-evt-backlog-${++seq}`;
    ids.push(id);
    await save(queued({ id, orderId: `ord-backlog-${seq}`, type: 'REFUND', amount: { minor: options.amount?.(i) ?? 100 + i, currency: 'EUR' }, sourceEventId: `evt-backlog-${seq}`, sourceType: 'REFUND_ISSUED', sourceOccurredAt: at.toISOString(), correlationId: `corr-backlog-${seq}` }, at));
  }
  const outbox = new ErpOutbox({ journal: erp.journal, backbone, store, settings: outboxSettings({ ...FAST, ...settings }), logger: createLogger({ level: 'silent' }), ...(options.limiter ? { limiter: options.limiter } : {}) });
  running.push(outbox);
  const postings = async () => (await store.get(ids)).map((p) => p!);
  const allPosted = () => until(postings, (list) => list.every((p) => p.status === 'POSTED'), 10_000);
  return { erp, store, outbox, published, saved, ids, postings, allPosted };
}

/** A limiter that records every take and answers with the real one's decision. */
class RecordingLimiter implements RateLimiter {
  readonly takes: { key: string; rule: RateLimitRule; decision: RateDecision }[] = [];
  constructor(private readonly inner: RateLimiter) {}
  async take(key: string, rule: RateLimitRule, cost?: number): Promise<RateDecision> {
    const decision = await this.inner.take(key, rule, cost);
    this.takes.push({ key, rule, decision });
    return decision;
  }
}

/**
 * The token bucket's promise, checked on the calls' arrival times: between any two calls (inclusive), no more
 * calls than `burst` plus what `rate` refills in the time between them. One call of slack: the arrival time is
 * taken a moment after the token.
 */
function expectWithinBucket(times: readonly number[], rate: number, burst: number): void {
  const sorted = [...times].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i; j < sorted.length; j++) {
      const allowed = burst + (rate * (sorted[j]! - sorted[i]!)) / 1000 + 1;
      if (j - i + 1 > allowed) throw new Error(`${j - i + 1} calls in ${Math.round(sorted[j]! - sorted[i]!)} ms: more than a bucket of ${burst} at ${rate}/s allows`);
    }
  }
}

describe('the ERP outbox protects the ERP', () => {
  it('books a backlog in batches of batchSize, one postBatch call each, every posting once', async () => {
    const { erp, outbox, postings, allPosted, published } = await backlog(45, { batchSize: 10 });
    outbox.start();
    await allPosted();
    await outbox.idle();
    expect(erp.calls).toEqual({ postBatch: 5, issueInvoice: 0 });
    expect(erp.log.map((c) => c.entries)).toEqual([10, 10, 10, 10, 5]);
    expect(erp.booked.size).toBe(45);
    for (const p of await postings()) expect(p).toMatchObject({ attempts: 1, lastError: null });
    expect(published.filter((e) => e.type === 'JOURNAL_POSTED')).toHaveLength(45);
    // Each JOURNAL_POSTED names its own order's correlation id, whatever batch booked it.
    for (const e of published) expect(e.correlationId).toBe(`corr-backlog-${e.orderId!.slice('ord-backlog-'.length)}`);
  });

  it('a refusal for good is that entry’s outcome: it is dead-lettered, the rest of the batch is posted', async () => {
    const { erp, outbox, postings, published } = await backlog(6, { batchSize: 6 }, { amount: (i) => (i === 2 ? 13 : 100 + i) });
    erp.state.rejectAmount = 13;
    outbox.start();
    const done = await until(postings, (list) => list.every((p) => p.status === 'POSTED' || p.status === 'DEAD_LETTER'));
    expect(done.map((p) => p.status)).toEqual(['POSTED', 'POSTED', 'DEAD_LETTER', 'POSTED', 'POSTED', 'POSTED']);
    expect(done[2]).toMatchObject({ attempts: 1, lastError: expect.stringContaining('period closed') });
    expect(erp.calls.postBatch).toBe(1);
    expect(published.filter((e) => e.type === 'POSTING_FAILED').map((e) => e.data.postingId)).toEqual([done[2]!.id]);
  });

  it('takes a token of the erp-calls bucket (rate maxCallsPerSecond, burst 1: evenly spaced) before every ERP call, and waits for one', async () => {
    const limiter = new RecordingLimiter(new MemoryRateLimiter());
    const { erp, outbox, allPosted } = await backlog(30, { batchSize: 1, maxCallsPerSecond: 20 }, { limiter });
    outbox.start();
    await allPosted();
    await outbox.idle();
    expect(erp.calls.postBatch).toBe(30);
    const granted = limiter.takes.filter((t) => t.decision.allowed);
    expect(granted).toHaveLength(30);
    for (const t of limiter.takes) expect(t).toMatchObject({ key: 'erp', rule: { name: ERP_CALL_BUCKET, ratePerSecond: 20, burst: 1 } });
    // One at a time, every 50 ms: it waited between calls (on a timer, as long as the limiter said: about one
    // refusal per call, not a spin).
    const refused = limiter.takes.filter((t) => !t.decision.allowed);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThanOrEqual(60);
    expectWithinBucket(erp.log.map((c) => c.at), 20, 1);
  });

  it('tops a batch up with what came due while it waited for its token', async () => {
    const { erp, backbone, store } = setup({ ...FAST, batchSize: 10, maxCallsPerSecond: 1 });
    const first = event('REFUND_ISSUED', { amount: 100 });
    await backbone.publish(first);
    await until(() => postingOf(store, `post-${first.id}`), (x) => x?.status === 'POSTED');
    // The bucket (1 a second) is empty now: the next round claims the first of these and waits for its token,
    // while the others come in.
    const burst = Array.from({ length: 5 }, (_, i) => event('REFUND_ISSUED', { amount: 200 + i }));
    for (const e of burst) await backbone.publish(e);
    for (const e of burst) await until(() => postingOf(store, `post-${e.id}`), (x) => x?.status === 'POSTED');
    expect(erp.log.map((c) => c.entries)).toEqual([1, 5]);
  });

  it('with a shared (Redis) store, what a top-up claims beyond the batch goes in the next batch instead of sitting out its lease', async () => {
    const erp = fakeErp();
    const backbone = new InMemoryEventBackbone();
    // A lease far longer than the test: a claimed posting left behind would never be booked within it.
    const store = new RedisOutboxStore(redisServer.clients[0]!, redisServer.freshPrefix(), 600_000);
    const outbox = new ErpOutbox({ journal: erp.journal, backbone, store, settings: outboxSettings({ ...FAST, batchSize: 3, maxCallsPerSecond: 1 }), logger: createLogger({ level: 'silent' }) });
    running.push(outbox);
    outbox.start();
    const first = event('REFUND_ISSUED', { amount: 100 });
    await backbone.publish(first);
    await until(async () => (await store.get([`post-${first.id}`]))[0], (x) => x?.status === 'POSTED');
    // The bucket is empty: the round claims the first of these, waits for its token and tops up from the rest.
    const burst = Array.from({ length: 5 }, (_, i) => event('REFUND_ISSUED', { amount: 200 + i }));
    for (const e of burst) await backbone.publish(e);
    await until(async () => store.get(burst.map((e) => `post-${e.id}`)), (list) => list.every((p) => p?.status === 'POSTED'), 10_000);
    const sizes = erp.log.map((c) => c.entries);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(6);
    for (const n of sizes) expect(n).toBeLessThanOrEqual(3);
    expect(erp.booked.size).toBe(6);
  }, 15_000);

  it('a SALE’s invoice is an ERP call too: it takes a token', async () => {
    const limiter = new RecordingLimiter(new MemoryRateLimiter());
    const erp = fakeErp();
    const backbone = new InMemoryEventBackbone();
    const store = new InMemoryOutboxStore();
    const outbox = new ErpOutbox({ journal: erp.journal, backbone, store, settings: outboxSettings(FAST), logger: createLogger({ level: 'silent' }), limiter });
    running.push(outbox);
    outbox.start();
    const pickedUp = event('PICKED_UP', { total: 2_500, currency: 'EUR' });
    await backbone.publish(pickedUp);
    await until(() => postingOf(store, `post-${pickedUp.id}`), (x) => x?.status === 'POSTED');
    expect(erp.calls).toEqual({ postBatch: 1, issueInvoice: 1 });
    expect(limiter.takes.filter((t) => t.decision.allowed)).toHaveLength(2);
  });

  it('honours the ERP’s Retry-After: waits as long as it asked, calls again, and counts no attempt (never FAILED, never a dead letter)', async () => {
    const { erp, outbox, postings, allPosted, saved, published } = await backlog(3, { batchSize: 3, maxAttempts: 1 });
    erp.state.throttle = 4;
    erp.state.retryAfterMs = 30;
    outbox.start();
    await allPosted();
    expect(erp.log.map((c) => c.throttled)).toEqual([true, true, true, true, false]);
    // Each call after a refusal came no sooner than the ERP asked (a lower bound only: timers may be late).
    for (let i = 1; i < erp.log.length; i++) expect(erp.log[i]!.at - erp.log[i - 1]!.at).toBeGreaterThanOrEqual(29);
    for (const p of await postings()) expect(p).toMatchObject({ status: 'POSTED', attempts: 1, roundAttempts: 1, lastError: null });
    // Throttling was never an attempt: nothing was saved FAILED or DEAD_LETTER, with maxAttempts 1 at that.
    expect(saved.map((p) => p.status)).toEqual(['POSTED', 'POSTED', 'POSTED']);
    expect(published.filter((e) => e.type === 'POSTING_FAILED')).toEqual([]);
    expect(erp.booked.size).toBe(3);
  });

  it('honours Retry-After on an invoice too, and books the SALE once', async () => {
    const { erp, backbone, store, ofType } = setup({ ...FAST, maxAttempts: 1 });
    erp.state.throttle = 2;
    erp.state.retryAfterMs = 10;
    const pickedUp = event('PICKED_UP', { total: 3_100, currency: 'EUR' });
    await backbone.publish(pickedUp);
    const p = await until(() => postingOf(store, `post-${pickedUp.id}`), (x) => x?.status === 'POSTED');
    expect(p).toMatchObject({ attempts: 1, lastError: null, invoice: { id: `inv-${pickedUp.orderId}` } });
    expect(erp.log.map((c) => [c.method, c.throttled])).toEqual([
      ['issueInvoice', true],
      ['issueInvoice', true],
      ['issueInvoice', false],
      ['postBatch', false],
    ]);
    expect(ofType('INVOICE_ISSUED')).toHaveLength(1);
    expect(ofType('JOURNAL_POSTED')).toHaveLength(1);
  });

  it('stop() ends a wait for the ERP’s Retry-After at once and leaves the postings as they were', async () => {
    const { erp, outbox, postings } = await backlog(2, { batchSize: 2 });
    erp.state.throttle = 1;
    erp.state.retryAfterMs = 60_000;
    outbox.start();
    await until(() => erp.log.length, (n) => n === 1);
    // Far below the Retry-After and the grace: stop() does not sit out either.
    await outbox.stop(30_000);
    expect((await postings()).map((p) => [p.status, p.attempts])).toEqual([
      ['PENDING', 0],
      ['PENDING', 0],
    ]);
    expect(erp.log).toHaveLength(1);
  });

  it('stop() ends a wait for a token at once', async () => {
    // A bucket of 1 per second: the second call waits about a second for its token.
    const { erp, outbox, postings } = await backlog(2, { batchSize: 1, maxCallsPerSecond: 1 });
    outbox.start();
    await until(() => erp.log.length, (n) => n === 1);
    await outbox.stop(30_000);
    expect((await postings()).map((p) => p.status).sort()).toEqual(['PENDING', 'POSTED']);
    expect(erp.log).toHaveLength(1);
  });

  it('an ERP that fails (not for rate) still fails the batch’s postings as one attempt each, with backoff', async () => {
    const { erp, outbox, postings } = await backlog(4, { batchSize: 4, baseMs: 1_000, capMs: 1_000, pollMs: 1_000 });
    erp.state.down = true;
    outbox.start();
    const failing = await until(postings, (list) => list.every((p) => p.status === 'FAILED'));
    for (const p of failing) expect(p).toMatchObject({ attempts: 1, lastError: expect.stringContaining('down'), nextAttemptAt: expect.any(String) });
    expect(erp.calls.postBatch).toBe(1);
  });
});
