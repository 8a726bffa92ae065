import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../common/config.js';
import type { CanonicalEvent, EventDataByType, EventType } from '../common/events.js';
import { fromGlobalId, toGlobalId } from '../common/global-id.js';
import type { FinanceConfig, OutboxSettings } from '../subgraphs/finance/outbox/settings.js';
import { contractOperation } from './support/contract.js';
import { testEvent } from './support/events.js';
import { eur, expectedLevel } from './support/expect.js';
import { AGENT, FINANCE, shopper, startTestStack, type TestStack } from './support/stack.js';
import { ERP_ADAPTERS, erpEnv } from './support/erp.js';
import { pollUntil } from './support/poll.js';
import { untilSystemsUp } from './support/systems.js';

/*
 * ERP protection through the finance outbox, end to end through the gateway: money events on the backbone become
 * journal postings that a background worker books in the ERP, retrying with backoff while it is down, exactly
 * once, never in the way of an order.
 *
 * The shopper places the order; finance staff read the outbox, an order's postings and invoices, reconcile and
 * replay; a service agent reads the order's timeline.
 */

/** The stack's config with the finance outbox's settings (AppConfig has no section for them yet). */
function withOutbox(erpOutbox: Partial<OutboxSettings>): Partial<AppConfig> {
  const config: Partial<FinanceConfig> = { erpOutbox };
  return config;
}

const ORDER_POSTINGS = `query($id: ID!) {
  order(id: $id) {
    id
    erpPostings { id orderId type status attempts amount { amount currencyCode } erpDocumentNumber lastError postedAt sourceEventId }
    invoices { id number status total { amount currencyCode } }
  }
}`;
const OUTBOX = `query($orderId: ID, $statuses: [PostingStatus!]) {
  erpOutbox(orderId: $orderId, statuses: $statuses, first: 100) { id orderId type status attempts amount { amount currencyCode } erpDocumentNumber lastError nextAttemptAt sourceEventId }
}`;
const REPLAY = `mutation($ids: [ID!]!, $idempotencyKey: String) {
  replayPostings(ids: $ids, idempotencyKey: $idempotencyKey) {
    postings { id status attempts lastError erpDocumentNumber }
    userErrors { field message code }
  }
}`;

let unique = 0;
const tag = () => `${process.pid}-${Date.now()}-${++unique}`;

const until = <T>(probe: () => Promise<T>, accept: (value: T) => boolean, what: string, ms = 15_000): Promise<T> => pollUntil(probe, accept, what, ms, 25);

/** A shipping order placed through the contract's PlaceOrder, under a correlation id of our own. */
async function placeOrder(stack: TestStack, skip: number): Promise<{ id: string; totalMinor: number; correlationId: string }> {
  const data = stack.sandbox.data;
  let seen = 0;
  let sku: string | undefined;
  for (const s of data.stock) {
    if (s.locationId !== 'wh-02' || (expectedLevel(data, s.sku, 'wh-02')?.available ?? 0) < 20) continue;
    if (seen++ === skip) {
      sku = s.sku;
      break;
    }
  }
  if (!sku) throw new Error('no such stock in the seed');
  const correlationId = `erp-outbox-${tag()}`;
  const { body } = await stack.queryAs(
    shopper('cust-00003'),
    contractOperation('PlaceOrder'),
    { input: { idempotencyKey: `erp-outbox-${tag()}`, channel: 'WEB', deliveryMethod: 'SHIPPING', customerId: 'cust-00003', lines: [{ sku, quantity: 1 }] } },
    { 'x-correlation-id': correlationId },
  );
  const order = (body.data as any)?.placeOrder?.order;
  if (!order) throw new Error(`placeOrder failed: ${JSON.stringify(body)}`);
  // Native, as events, postings and invoices name it (arguments take it as well as the global id).
  return { id: fromGlobalId('Order', order.id as string), totalMinor: Math.round(Number(order.total.amount) * 100), correlationId };
}

/** A canonical event as another domain would publish it. */
function sourceEvent<T extends EventType>(type: T, order: { id: string; correlationId: string }, data: Partial<EventDataByType[T]>, occurredAt = new Date().toISOString()) {
  return testEvent(type, data, { id: `evt-test-${type.toLowerCase()}-${tag()}`, source: type === 'REFUND_ISSUED' ? 'PSP' : type === 'PICKED_UP' ? 'POS' : 'WMS', occurredAt, correlationId: order.correlationId, orderId: order.id });
}

async function outboxOf(stack: TestStack, orderId: string): Promise<any[]> {
  const { body } = await stack.queryAs(FINANCE, OUTBOX, { orderId });
  expect(body.errors ?? []).toEqual([]);
  return (body.data as any).erpOutbox;
}

async function timelineOf(stack: TestStack, orderId: string): Promise<any> {
  return (await stack.queryAs(AGENT, contractOperation('OrderTimeline'), { orderId })).body;
}

async function erpCalls(stack: TestStack, method: string): Promise<number> {
  return ((await stack.sandboxCall('GET', '/sandbox/calls')).body.erp?.[method] as number | undefined) ?? 0;
}

async function clearFaults(stack: TestStack): Promise<void> {
  await stack.sandboxCall('DELETE', '/sandbox/faults');
  // Until the ERP breaker (reset 200 ms in tests) has closed again.
  await untilSystemsUp(stack);
}

// The same acceptance suite with either ERP adapter family: the sandbox ERP's API, and the OData connector.
describe.each(ERP_ADAPTERS)('with the %s ERP adapter', (adapter) => {
  describe('ERP outbox (retrying without limit in practice)', () => {
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startTestStack(withOutbox({ baseMs: 20, capMs: 150, pollMs: 25, maxAttempts: 1_000 }), erpEnv(adapter));
    });
    afterAll(async () => {
      await stack?.stop();
    });
    afterEach(async () => {
      await clearFaults(stack);
    });

    it('a hand-over books a SALE: POSTED with a document number and an invoice, JOURNAL_POSTED in the timeline under the order’s correlation id', async () => {
      const order = await placeOrder(stack, 0);
      const postsBefore = await erpCalls(stack, 'postJournal');
      const pickedUp = sourceEvent('PICKED_UP', order, { total: order.totalMinor, currency: 'EUR' });
      expect(await stack.backbone.publish(pickedUp)).toBe(true);

      const postingId = `post-${pickedUp.id}`;
      const body = await until(() => stack.queryAs(FINANCE, ORDER_POSTINGS, { id: order.id }).then((r) => r.body), (b: any) => b.data?.order?.erpPostings?.[0]?.status === 'POSTED', 'the SALE is posted');
      const { erpPostings, invoices } = (body.data as any).order;
      expect(erpPostings).toEqual([
        { id: postingId, orderId: order.id, type: 'SALE', status: 'POSTED', attempts: 1, amount: eur(order.totalMinor), erpDocumentNumber: expect.stringMatching(/^FI-\d{8}$/), lastError: null, postedAt: expect.any(String), sourceEventId: pickedUp.id },
      ]);
      expect(invoices).toEqual([{ id: `inv-${order.id}`, number: expect.stringMatching(/^INV-\d{4}-\d{6}$/), status: 'ISSUED', total: eur(order.totalMinor) }]);
      expect((await erpCalls(stack, 'postJournal')) - postsBefore).toBe(1);

      const timeline = await until(() => timelineOf(stack, order.id), (b: any) => b.data?.order?.timeline?.some((e: any) => e.type === 'JOURNAL_POSTED'), 'JOURNAL_POSTED in the timeline');
      const events = (timeline.data as any).order.timeline;
      expect(events.map((e: any) => e.type)).toEqual(expect.arrayContaining(['ORDER_PLACED', 'PICKED_UP', 'INVOICE_ISSUED', 'JOURNAL_POSTED']));
      for (const e of events) expect(e.correlationId).toBe(order.correlationId);
      const posted = events.find((e: any) => e.type === 'JOURNAL_POSTED');
      expect(posted).toMatchObject({ source: 'ERP', summary: `Journal posting SALE posted as ${erpPostings[0].erpDocumentNumber}` });
      // The ERP call was made under the order's correlation id too.
      const recent = (await stack.sandboxCall('GET', '/sandbox/calls/recent')).body as { system: string; method: string; correlationId: string }[];
      expect(recent.filter((c) => c.method === 'postJournal').at(-1)?.correlationId).toBe(order.correlationId);
    });

    it('books a seeded order’s hand-over at the total it carries, and keeps the ERP history beside it', async () => {
      const data = stack.sandbox.data;
      const seeded = data.orders.find((o) => o.status === 'READY_FOR_PICKUP' && o.channel === 'WEB')!;
      const pickedUp = sourceEvent('PICKED_UP', seeded, { total: seeded.totalMinor, currency: seeded.currency }, new Date().toISOString());
      await stack.backbone.publish({ ...pickedUp, locationId: seeded.pickupLocationId ?? undefined });
      const body = await until(() => stack.queryAs(FINANCE, ORDER_POSTINGS, { id: seeded.id }).then((r) => r.body), (b: any) => b.data?.order?.erpPostings?.some((p: any) => p.status === 'POSTED'), 'the SALE is posted');
      expect((body.data as any).order.erpPostings).toEqual([expect.objectContaining({ type: 'SALE', status: 'POSTED', amount: eur(seeded.totalMinor), sourceEventId: pickedUp.id })]);
      // The posting is saved POSTED once its JOURNAL_POSTED is in the event outbox, which relays it to the timeline after.
      const timeline = await until(() => timelineOf(stack, seeded.id).then((r) => r.data.order.timeline), (t: any[]) => t.some((e: any) => e.type === 'JOURNAL_POSTED'), 'JOURNAL_POSTED on the timeline');
      expect(timeline.filter((e: any) => e.type === 'JOURNAL_POSTED').map((e: any) => e.correlationId)).toEqual([seeded.correlationId]);

      // An order with history: the ERP's postings and the outbox's, one entry each.
      const history = data.orders.find((o) => o.status === 'RETURNED' && data.postings.filter((p) => p.orderId === o.id).length === 2)!;
      const refund = sourceEvent('REFUND_ISSUED', history, { amount: 1_00, currency: 'EUR' });
      await stack.backbone.publish(refund);
      const merged = await until(() => stack.queryAs(FINANCE, ORDER_POSTINGS, { id: history.id }).then((r) => r.body), (b: any) => b.data?.order?.erpPostings?.length === 3 && b.data.order.erpPostings[2].status === 'POSTED', 'history and the new refund');
      expect((merged.data as any).order.erpPostings.map((p: any) => [p.type, p.sourceEventId])).toEqual([
        ['SALE', null],
        ['RETURN', null],
        ['REFUND', refund.id],
      ]);
    });

    it('with the ERP down the posting is retried (attempts growing, lastError) and nothing on the order path waits; back up, it drains by itself, booked once', async () => {
      const order = await placeOrder(stack, 1);
      await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', down: true });

      // Publishing the hand-over does not wait on the ERP nor fail because of it: it resolves while the ERP is still
      // down (a publish that waited for the posting would not resolve before the fault is cleared, below).
      const shipped = sourceEvent('ORDER_SHIPPED', order, { shipmentId: `shp-${order.id}`, total: order.totalMinor, currency: 'EUR' });
      expect(await stack.backbone.publish(shipped)).toBe(true);
      const postingId = `post-${shipped.id}`;

      const first = await until(() => outboxOf(stack, order.id), (list) => (list[0]?.attempts ?? 0) >= 2, 'a second failed attempt');
      expect(first).toEqual([expect.objectContaining({ id: postingId, type: 'SALE', status: 'FAILED', erpDocumentNumber: null, lastError: expect.stringMatching(/ERP is unavailable/), nextAttemptAt: expect.any(String) })]);
      const later = await until(() => outboxOf(stack, order.id), (list) => list[0].attempts > first[0].attempts + 1, 'attempts keep growing');
      expect(later[0].status).toBe('FAILED');

      // The order itself is intact: the orders subgraph answers, only the ERP's fields are null.
      const during = await timelineOf(stack, order.id);
      expect(during.data.order).toMatchObject({ id: toGlobalId('Order', order.id), status: 'CONFIRMED', invoices: null, erpPostings: null });
      expect(during.data.order.timeline.map((e: any) => e.type)).toContain('ORDER_SHIPPED');
      expect(during.errors.map((e: any) => e.extensions.code)).toEqual(expect.arrayContaining(['ERP_UNAVAILABLE']));

      await stack.sandboxCall('DELETE', '/sandbox/faults');
      const drained = await until(() => outboxOf(stack, order.id), (list) => list[0]?.status === 'POSTED', 'drained after the fault is cleared');
      expect(drained[0]).toMatchObject({ lastError: null, nextAttemptAt: null, erpDocumentNumber: expect.stringMatching(/^FI-\d{8}$/) });
      expect(drained[0].attempts).toBeGreaterThan(later[0].attempts);

      // Exactly once in the ERP, and announced once.
      const [held] = await stack.sandbox.systems.erp.getPostingsByOrder([order.id]);
      expect(held!.map((p) => [p.id, p.status, p.erpDocumentNumber])).toEqual([[postingId, 'POSTED', drained[0].erpDocumentNumber]]);
      const timeline = await until(() => timelineOf(stack, order.id), (b: any) => b.data?.order?.timeline?.some((e: any) => e.type === 'JOURNAL_POSTED'), 'JOURNAL_POSTED');
      expect(timeline.data.order.timeline.filter((e: any) => e.type === 'JOURNAL_POSTED')).toHaveLength(1);
      expect(timeline.data.order.timeline.filter((e: any) => e.type === 'INVOICE_ISSUED')).toHaveLength(1);
      expect(timeline.data.order.erpPostings).toEqual([expect.objectContaining({ id: postingId, status: 'POSTED', attempts: drained[0].attempts })]);
    });

    it('an ERP answer lost to a timeout is booked once: the retry gets the same document number', async () => {
      const order = await placeOrder(stack, 2);
      // Slower than the adapter's timeout (1000 ms in tests): the ERP books, the outbox never hears back.
      await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', latencyMs: 1400 });
      const postsBefore = await erpCalls(stack, 'postJournal');
      // A refund: a sale would first issue its invoice, and with every ERP call this slow it would never get further.
      const refund = sourceEvent('REFUND_ISSUED', order, { amount: 1_234, currency: 'EUR' });
      await stack.backbone.publish(refund);
      const postingId = `post-${refund.id}`;
      await until(() => outboxOf(stack, order.id), (list) => (list[0]?.attempts ?? 0) >= 2, 'attempts that time out');
      // The ERP has booked it meanwhile (the late calls landed).
      await until(() => stack.sandbox.systems.erp.getPostings([postingId]), (p) => p[0]?.status === 'POSTED', 'the ERP booked it');

      await stack.sandboxCall('DELETE', '/sandbox/faults');
      const done = await until(() => outboxOf(stack, order.id), (list) => list[0]?.status === 'POSTED', 'posted');
      const [held] = await stack.sandbox.systems.erp.getPostingsByOrder([order.id]);
      expect(held!.filter((p) => p.id === postingId)).toHaveLength(1);
      expect(done[0]).toMatchObject({ id: postingId, erpDocumentNumber: held![0]!.erpDocumentNumber, amount: eur(1_234) });
      expect(done[0].attempts).toBeGreaterThanOrEqual(3);
      expect((await erpCalls(stack, 'postJournal')) - postsBefore).toBeGreaterThanOrEqual(3);
      const timeline = await until(() => timelineOf(stack, order.id), (b: any) => b.data?.order?.timeline?.some((e: any) => e.type === 'JOURNAL_POSTED'), 'JOURNAL_POSTED');
      expect(timeline.data.order.timeline.filter((e: any) => e.type === 'JOURNAL_POSTED')).toHaveLength(1);
    });

    describe('Reconciliation (the contract query)', () => {
      const RECONCILIATION = () => contractOperation('Reconciliation');
      // A day of our own, after the seeded history: only what these tests publish falls in it.
      const DAY = { from: '2027-02-01T00:00:00.000Z', to: '2027-02-02T00:00:00.000Z' };

      it('returns consistent totals for a day and lists the mismatch we create', async () => {
        const [a, b, c] = [await placeOrder(stack, 3), await placeOrder(stack, 4), await placeOrder(stack, 5)];
        const events = [
          sourceEvent('PICKED_UP', a, { total: a.totalMinor, currency: 'EUR' }, '2027-02-01T09:00:00.000Z'),
          sourceEvent('ORDER_SHIPPED', b, { total: b.totalMinor, currency: 'EUR' }, '2027-02-01T10:00:00.000Z'),
          sourceEvent('PICKED_UP', c, { total: c.totalMinor, currency: 'EUR' }, '2027-02-01T11:00:00.000Z'),
          sourceEvent('REFUND_ISSUED', a, { amount: 500, currency: 'EUR' }, '2027-02-01T12:00:00.000Z'),
        ];
        // Someone booked c's sale by hand, with the wrong amount, under the id the outbox will use: the ERP's
        // idempotency answers that booking, and reconciliation is where it shows.
        await stack.sandbox.systems.erp.postJournal({ id: `post-${events[2]!.id}`, orderId: c.id, type: 'SALE', amountMinor: c.totalMinor - 100, currency: 'EUR', postingDate: events[2]!.occurredAt });
        for (const e of events) await stack.backbone.publish(e);
        for (const o of [a, b, c]) await until(() => outboxOf(stack, o.id), (list) => list.length > 0 && list.every((p) => p.status === 'POSTED'), `${o.id} posted`);

        const { body } = await stack.queryAs(FINANCE, RECONCILIATION(), DAY);
        expect(body.errors ?? []).toEqual([]);
        const sourceTotal = a.totalMinor + b.totalMinor + c.totalMinor - 500;
        expect((body.data as any).reconciliation).toEqual({
          sourceTotal: eur(sourceTotal),
          erpTotal: eur(sourceTotal - 100),
          pendingPostings: 0,
          failedPostings: 0,
          mismatches: [{ orderId: c.id, type: 'SALE', expected: eur(c.totalMinor), posted: eur(c.totalMinor - 100) }],
        });
      });

      it('is null with ERP_UNAVAILABLE while the ERP is down: there is nothing to reconcile against', async () => {
        await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', down: true });
        const { body } = await stack.queryAs(FINANCE, RECONCILIATION(), DAY);
        expect((body.data as any)?.reconciliation ?? null).toBeNull();
        expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['ERP_UNAVAILABLE']);
      });

      it('reconciles the seeded history: totals agree with the seed, the dead letters are the mismatches', async () => {
        const data = stack.sandbox.data;
        const window = { from: '2026-08-20T00:00:00.000Z', to: '2026-11-20T00:00:00.000Z' }; // 92 days
        const inWindow = (at: string) => at >= window.from && at < window.to;
        // Independently from the seed: sales at hand-over or shipment, refunds when issued.
        const totals = new Map(data.orders.map((o) => [o.id, o.totalMinor]));
        let source = 0;
        const soldEvent = new Map<string, CanonicalEvent>();
        for (const e of data.events) {
          if ((e.type === 'PICKED_UP' || e.type === 'ORDER_SHIPPED') && e.orderId && !soldEvent.has(e.orderId)) soldEvent.set(e.orderId, e);
          if (e.type === 'REFUND_ISSUED' && inWindow(e.occurredAt)) source -= e.data.amount as number;
        }
        for (const [orderId, e] of soldEvent) if (inWindow(e.occurredAt)) source += totals.get(orderId)!;
        // The seed's dead letters never reached the books: each is a mismatch, its amount missing from erpTotal.
        const refundAt = new Map(data.events.filter((e) => e.type === 'REFUND_ISSUED').map((e) => [e.orderId, e.occurredAt]));
        const dead = data.postings.filter((p) => p.status === 'DEAD_LETTER' && inWindow(p.type === 'SALE' ? soldEvent.get(p.orderId)!.occurredAt : refundAt.get(p.orderId)!));
        const missing = dead.reduce((sum, p) => sum + (p.type === 'SALE' ? p.amountMinor : -p.amountMinor), 0);

        const { body } = await stack.queryAs(FINANCE, RECONCILIATION(), window);
        expect(body.errors ?? []).toEqual([]);
        const r = (body.data as any).reconciliation;
        expect(r.sourceTotal).toEqual(eur(source));
        expect(r.erpTotal).toEqual(eur(source - missing));
        expect(r.pendingPostings).toBe(0);
        expect(r.failedPostings).toBe(dead.length);
        expect(dead.length).toBeGreaterThan(0);
        expect(r.mismatches.map((m: any) => m.orderId).sort()).toEqual(dead.map((p) => p.orderId).sort());
        for (const m of r.mismatches) expect(m.posted).toBeNull();
      });

      it('refuses a reversed window or one longer than 92 days with BAD_USER_INPUT', async () => {
        for (const window of [
          { from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' },
          { from: '2026-11-01T00:00:00Z', to: '2026-11-01T00:00:00Z' },
          { from: '2026-01-01T00:00:00Z', to: '2026-06-01T00:00:00Z' },
        ]) {
          const { status, body } = await stack.queryAs(FINANCE, RECONCILIATION(), window);
          expect(status).toBe(200);
          expect((body.data as any)?.reconciliation ?? null).toBeNull();
          expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
        }
      });
    });
  });

  describe('ERP outbox with a low max-attempts setting', () => {
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startTestStack(withOutbox({ baseMs: 10, capMs: 40, pollMs: 20, maxAttempts: 3 }), erpEnv(adapter));
    });
    afterAll(async () => {
      await stack?.stop();
    });
    afterEach(async () => {
      await clearFaults(stack);
    });

    it('goes DEAD_LETTER with lastError and POSTING_FAILED; replayPostings re-queues it and it posts', async () => {
      const order = await placeOrder(stack, 0);
      await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', down: true });
      const pickedUp = sourceEvent('PICKED_UP', order, { total: order.totalMinor, currency: 'EUR' });
      await stack.backbone.publish(pickedUp);
      const postingId = `post-${pickedUp.id}`;

      const dead = await until(() => outboxOf(stack, order.id), (list) => list[0]?.status === 'DEAD_LETTER', 'dead-lettered');
      expect(dead).toEqual([expect.objectContaining({ id: postingId, attempts: 3, lastError: expect.stringMatching(/ERP is unavailable/), nextAttemptAt: null, erpDocumentNumber: null })]);
      const timeline = await until(() => timelineOf(stack, order.id), (b: any) => b.data?.order?.timeline?.some((e: any) => e.type === 'POSTING_FAILED'), 'POSTING_FAILED');
      const failedEvents = timeline.data.order.timeline.filter((e: any) => e.type === 'POSTING_FAILED');
      expect(failedEvents).toEqual([expect.objectContaining({ source: 'ERP', correlationId: order.correlationId, summary: expect.stringContaining('SALE failed after 3 attempts') })]);
      // Dead letters stay put: no more attempts by themselves. The witness: a second posting, failing meanwhile, is
      // retried to its own dead letter (three attempts, three passes of the worker after the first's end); the first
      // still has its three.
      const witness = await placeOrder(stack, 2);
      await stack.backbone.publish(sourceEvent('PICKED_UP', witness, { total: witness.totalMinor, currency: 'EUR' }));
      await until(() => outboxOf(stack, witness.id), (list) => list[0]?.status === 'DEAD_LETTER', 'the witness posting dead-lettered');
      expect((await outboxOf(stack, order.id))[0].attempts).toBe(3);
      const listed = (await stack.queryAs(FINANCE, OUTBOX, { statuses: ['DEAD_LETTER'] })).body.data as any;
      expect(listed.erpOutbox.map((p: any) => p.id)).toContain(postingId);

      await clearFaults(stack);
      const seededPosted = stack.sandbox.data.postings.find((p) => p.status === 'POSTED')!;
      const { body } = await stack.queryAs(FINANCE, REPLAY, { ids: [postingId, 'post-nope', seededPosted.id] });
      expect(body.errors ?? []).toEqual([]);
      const payload = (body.data as any).replayPostings;
      expect(payload.postings.map((p: any) => [p.id, p.status])).toEqual([
        [postingId, 'PENDING'],
        [seededPosted.id, 'POSTED'],
      ]);
      expect(payload.userErrors).toEqual([
        { field: 'ids.1', message: expect.any(String), code: 'UNKNOWN_POSTING' },
        { field: 'ids.2', message: expect.stringContaining('POSTED'), code: 'INVALID_STATE' },
      ]);

      const posted = await until(() => outboxOf(stack, order.id), (list) => list[0]?.status === 'POSTED', 'posted after the replay');
      expect(posted[0]).toMatchObject({ attempts: 4, lastError: null, erpDocumentNumber: expect.stringMatching(/^FI-\d{8}$/) });
      const after = await until(() => timelineOf(stack, order.id), (b: any) => b.data?.order?.timeline?.some((e: any) => e.type === 'JOURNAL_POSTED'), 'JOURNAL_POSTED');
      expect(after.data.order.erpPostings).toEqual([expect.objectContaining({ id: postingId, status: 'POSTED', attempts: 4 })]);

      // Replaying what is posted now is INVALID_STATE, not a second booking.
      const again = await stack.queryAs(FINANCE, REPLAY, { ids: [postingId] });
      expect((again.body.data as any).replayPostings.userErrors.map((e: any) => e.code)).toEqual(['INVALID_STATE']);
      const [held] = await stack.sandbox.systems.erp.getPostingsByOrder([order.id]);
      expect(held).toHaveLength(1);
    });

    it('replays with an idempotency key like placeOrder: same key and ids answer the first result, other ids are IDEMPOTENCY_KEY_REUSED', async () => {
      const order = await placeOrder(stack, 1);
      await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', down: true });
      const refund = sourceEvent('REFUND_ISSUED', order, { amount: 999, currency: 'EUR' });
      await stack.backbone.publish(refund);
      const postingId = `post-${refund.id}`;
      await until(() => outboxOf(stack, order.id), (list) => list[0]?.status === 'DEAD_LETTER', 'dead-lettered');
      await clearFaults(stack);

      const key = `replay-${tag()}`;
      const first = await stack.queryAs(FINANCE, REPLAY, { ids: [postingId], idempotencyKey: key });
      expect((first.body.data as any).replayPostings).toEqual({ postings: [expect.objectContaining({ id: postingId, status: 'PENDING' })], userErrors: [] });
      await until(() => outboxOf(stack, order.id), (list) => list[0]?.status === 'POSTED', 'posted');
      const repeat = await stack.queryAs(FINANCE, REPLAY, { ids: [postingId], idempotencyKey: key });
      // The first result, the posting as it is now; no INVALID_STATE, nothing re-queued.
      expect((repeat.body.data as any).replayPostings).toEqual({ postings: [expect.objectContaining({ id: postingId, status: 'POSTED' })], userErrors: [] });
      const other = await stack.queryAs(FINANCE, REPLAY, { ids: [postingId, 'post-other'], idempotencyKey: key });
      expect((other.body.data as any).replayPostings.userErrors).toEqual([{ field: 'idempotencyKey', message: expect.any(String), code: 'IDEMPOTENCY_KEY_REUSED' }]);
      const badKey = await stack.queryAs(FINANCE, REPLAY, { ids: [postingId], idempotencyKey: '' });
      expect((badKey.body.data as any).replayPostings.userErrors.map((e: any) => e.code)).toEqual(['INVALID_IDEMPOTENCY_KEY']);
      const none = await stack.queryAs(FINANCE, REPLAY, { ids: [] });
      expect((none.body.data as any).replayPostings.userErrors.map((e: any) => e.code)).toEqual(['INVALID_INPUT']);
    });

    it('reconciliation counts a dead letter as failed and lists it as not posted, until it is replayed', async () => {
      const order = await placeOrder(stack, 2);
      const window = { from: '2027-04-01T00:00:00.000Z', to: '2027-04-02T00:00:00.000Z' };
      await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', down: true });
      const refund = sourceEvent('REFUND_ISSUED', order, { amount: 4_321, currency: 'EUR' }, '2027-04-01T15:00:00.000Z');
      await stack.backbone.publish(refund);
      await until(() => outboxOf(stack, order.id), (list) => list[0]?.status === 'DEAD_LETTER', 'dead-lettered');
      await clearFaults(stack);

      const { body } = await stack.queryAs(FINANCE, contractOperation('Reconciliation'), window);
      expect(body.errors ?? []).toEqual([]);
      expect((body.data as any).reconciliation).toEqual({
        sourceTotal: eur(-4_321),
        erpTotal: eur(0),
        pendingPostings: 0,
        failedPostings: 1,
        mismatches: [{ orderId: order.id, type: 'REFUND', expected: eur(4_321), posted: null }],
      });

      await stack.queryAs(FINANCE, REPLAY, { ids: [`post-${refund.id}`] });
      await until(() => outboxOf(stack, order.id), (list) => list[0]?.status === 'POSTED', 'posted');
      const after = await stack.queryAs(FINANCE, contractOperation('Reconciliation'), window);
      expect((after.body.data as any).reconciliation).toEqual({ sourceTotal: eur(-4_321), erpTotal: eur(-4_321), pendingPostings: 0, failedPostings: 0, mismatches: [] });
    });

    it('replays a dead letter of the seeded ERP history: the ERP books it under its own id', async () => {
      const data = stack.sandbox.data;
      const seededDead = data.postings.find((p) => p.status === 'DEAD_LETTER')!;
      const order = data.orders.find((o) => o.id === seededDead.orderId)!;
      const { body } = await stack.queryAs(FINANCE, REPLAY, { ids: [seededDead.id] });
      expect((body.data as any).replayPostings).toEqual({ postings: [expect.objectContaining({ id: seededDead.id, status: 'PENDING', attempts: seededDead.attempts })], userErrors: [] });
      const posted = await until(() => stack.queryAs(FINANCE, ORDER_POSTINGS, { id: order.id }).then((r) => r.body), (b: any) => b.data?.order?.erpPostings?.find((p: any) => p.id === seededDead.id)?.status === 'POSTED', 'the history posting is booked');
      const entries = (posted.data as any).order.erpPostings.filter((p: any) => p.id === seededDead.id);
      expect(entries).toEqual([expect.objectContaining({ status: 'POSTED', amount: eur(seededDead.amountMinor), erpDocumentNumber: expect.stringMatching(/^FI-\d{8}$/), lastError: null })]);
      // The outbox saves POSTED, then publishes JOURNAL_POSTED (issue 12 puts both in one step): wait for the event.
      const booked = (t: any) => (t.data?.order?.timeline ?? []).filter((e: any) => e.type === 'JOURNAL_POSTED' && e.summary.includes(entries[0].erpDocumentNumber));
      const timeline = await until(() => timelineOf(stack, order.id), (t: any) => booked(t).length > 0, 'JOURNAL_POSTED on the timeline');
      expect(booked(timeline).map((e: any) => e.correlationId)).toEqual([order.correlationId]);
      // The seed's own record is left as it was (the ERP keeps a new one).
      expect(seededDead.status).toBe('DEAD_LETTER');
    });
  });
});
