import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryEventBackbone, type CanonicalEvent, type EventType } from '../../../common/events.js';
import { createLogger } from '../../../common/logger.js';
import { SystemUnavailableError } from '../../../common/resilience.js';
import { ErpOutbox } from './outbox.js';
import { JournalRejectedError, type BookedJournal, type JournalEntry, type JournalPort } from './ports.js';
import { outboxSettings, type OutboxSettings } from './settings.js';
import { InMemoryOutboxStore } from './store.js';

/** An ERP that books each posting id once (like SandboxErp.postJournal), can be down, lose answers or refuse. */
function fakeErp() {
  const booked = new Map<string, BookedJournal>();
  const invoices = new Map<string, { id: string; number: string; total: JournalEntry['amount']; issuedAt: string }>();
  const state = { down: false, loseAnswers: 0, reject: false, hang: false };
  const hung: (() => void)[] = [];
  const calls = { post: 0, issueInvoice: 0 };
  const journal: JournalPort = {
    async post(entry) {
      calls.post++;
      if (state.hang) await new Promise<void>((resolve) => hung.push(resolve));
      if (state.down) throw new SystemUnavailableError('erp', 'erp refused the connection (sandbox fault: down)');
      if (state.reject) throw new JournalRejectedError(`ERP rejected posting ${entry.id}: posting period closed`);
      let record = booked.get(entry.id);
      if (!record) booked.set(entry.id, (record = { documentNumber: `FI-${String(booked.size + 1).padStart(8, '0')}`, postedAt: new Date().toISOString(), amount: entry.amount }));
      if (state.loseAnswers > 0) {
        state.loseAnswers--;
        throw new SystemUnavailableError('erp', 'no answer within 500 ms');
      }
      return record;
    },
    async issueInvoice(invoice) {
      calls.issueInvoice++;
      if (state.down) throw new SystemUnavailableError('erp', 'down');
      let record = invoices.get(invoice.id);
      if (!record) invoices.set(invoice.id, (record = { id: invoice.id, number: `INV-2026-${invoices.size + 1}`, total: invoice.total, issuedAt: new Date().toISOString() }));
      return record;
    },
  };
  /** Let hung calls go on (as an adapter timeout would end them). */
  const release = () => hung.splice(0).forEach((go) => go());
  return { journal, booked, invoices, state, calls, release };
}

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
const event = (type: EventType, data: Record<string, unknown>, orderId = `ord-${++seq}`, id = `evt-${type.toLowerCase()}-${++seq}`): CanonicalEvent => ({
  id,
  type,
  source: type === 'REFUND_ISSUED' ? 'PSP' : 'POS',
  occurredAt: '2026-03-01T10:00:00.000Z',
  correlationId: `corr-${orderId}`,
  orderId,
  data,
});

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
    expect(erp.calls).toEqual({ post: 1, issueInvoice: 1 });
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

  it('prices a shipment without a total from the order’s ORDER_PLACED event', async () => {
    const { backbone, store } = setup();
    const placed = event('ORDER_PLACED', { total: 7_500, currency: 'EUR' });
    await backbone.publish(placed);
    const shipped = event('ORDER_SHIPPED', { shipmentId: 'shp-1' }, placed.orderId);
    await backbone.publish(shipped);
    expect(await until(() => postingOf(store, `post-${shipped.id}`), (x) => x?.status === 'POSTED')).toMatchObject({ amount: { minor: 7_500 } });
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
    expect(erp.calls.post).toBe(3);
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
    expect(erp.calls.post).toBeLessThanOrEqual(20);
    const before = erp.calls.post;
    await new Promise((r) => setTimeout(r, 50));
    expect(erp.calls.post).toBe(before);
  });

  it('stops: no intake and no attempts after stop()', async () => {
    const { erp, backbone, store, outbox } = setup();
    await outbox.stop();
    const refund = event('REFUND_ISSUED', { amount: 100 });
    await backbone.publish(refund);
    await new Promise((r) => setTimeout(r, 40));
    expect(await postingOf(store, `post-${refund.id}`)).toBeNull();
    expect(erp.calls.post).toBe(0);
  });
});
