import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '../common/events.js';
import { testEvent } from './support/events.js';
import { createRedis, quitAll, type RedisClient } from '../common/redis/connection.js';
import { startRedisServer } from './support/redis.js';
import { FINANCE, startTestStack, type TestStack } from './support/stack.js';
import { ERP_ADAPTERS, erpEnv } from './support/erp.js';
import { pollUntil } from './support/poll.js';

/*
 * The ERP protected from the finance outbox, end to end: with the sandbox ERP limiting its callers
 * (`rateLimitPerSecond`, answering 429 + Retry-After above it), a burst of money events drains at the pace the
 * outbox is configured for (ERP_MAX_CALLS_PER_SECOND, one budget for every instance on one Redis), in batch calls
 * of ERP_POSTING_BATCH_SIZE postings, and an ERP refusal for rate is waited out: no posting fails, is
 * dead-lettered or is booked twice for it.
 *
 * Finance staff read the outbox. The master-data sync's polls are slowed down so that the ERP's call rates are
 * (nearly) the outbox's own.
 */

interface CallRates {
  accepted: number;
  refused: number;
  peakPerSecond: number;
}

let unique = 0;
const tag = () => `${process.pid}-${Date.now()}-${++unique}`;

const until = <T>(probe: () => Promise<T>, accept: (value: T) => boolean, what: string, ms = 30_000): Promise<T> => pollUntil(probe, accept, what, ms, 50);

/** The outbox's settings through the environment, as an operator sets them. */
function outboxEnv(settings: { maxCallsPerSecond: number; batchSize: number; maxAttempts: number }): Record<string, string> {
  return {
    ERP_MAX_CALLS_PER_SECOND: String(settings.maxCallsPerSecond),
    ERP_POSTING_BATCH_SIZE: String(settings.batchSize),
    ERP_OUTBOX_MAX_ATTEMPTS: String(settings.maxAttempts),
    ERP_OUTBOX_POLL_MS: '25',
    ERP_OUTBOX_BASE_MS: '20',
    ERP_OUTBOX_CAP_MS: '150',
    MASTER_DATA_POLL_MS: '60000',
  };
}

/** `count` refunds of distinct seeded orders, as the PSP publishes them (a refund books no invoice: one call per batch). */
function refunds(stack: TestStack, count: number, offset: number): CanonicalEvent[] {
  const orders = stack.sandbox.data.orders.slice(offset, offset + count);
  if (orders.length < count) throw new Error('not enough seeded orders');
  return orders.map((order, i) =>
    testEvent('REFUND_ISSUED', { refundId: `ref-protection-${tag()}`, amount: 100 + i, currency: 'EUR' }, { id: `evt-protection-${tag()}`, source: 'PSP', occurredAt: '2027-06-01T10:00:00.000Z', correlationId: `erp-protection-${tag()}`, orderId: order.id }),
  );
}

const OUTBOX = `query($statuses: [PostingStatus!]) { erpOutbox(statuses: $statuses, first: 100) { id status attempts lastError erpDocumentNumber } }`;

async function outbox(stack: TestStack, statuses: string[]): Promise<{ id: string; status: string; attempts: number; lastError: string | null; erpDocumentNumber: string | null }[]> {
  const { body } = await stack.queryAs(FINANCE, OUTBOX, { statuses });
  expect(body.errors ?? []).toEqual([]);
  return (body.data as any).erpOutbox;
}

/** Wait until every posting of `events` is POSTED, then check each was booked once, on its first attempt, and announced once. */
async function expectBookedOnce(stack: TestStack, events: readonly CanonicalEvent[]): Promise<void> {
  const ids = new Set(events.map((e) => `post-${e.id}`));
  const posted = await until(() => outbox(stack, ['POSTED']), (list) => list.filter((p) => ids.has(p.id)).length === ids.size, 'every posting POSTED');
  for (const p of posted.filter((p) => ids.has(p.id))) expect(p).toMatchObject({ status: 'POSTED', attempts: 1, lastError: null, erpDocumentNumber: expect.stringMatching(/^FI-\d{8}$/) });
  expect((await outbox(stack, ['PENDING', 'FAILED', 'DEAD_LETTER'])).filter((p) => ids.has(p.id))).toEqual([]);
  // A posting is saved POSTED once its JOURNAL_POSTED is in the event outbox, which relays it to the backbone after.
  const announcedOf = (timelines: CanonicalEvent[][]) => events.map((event, i) => (timelines[i] ?? []).filter((e) => (e.type === 'JOURNAL_POSTED' || e.type === 'POSTING_FAILED') && e.data.postingId === `post-${event.id}`));
  const timelines = await until(() => stack.backbone.eventsForOrders(events.map((e) => e.orderId!)), (t) => announcedOf(t).every((list) => list.length > 0), 'every posting announced');
  for (const [i, event] of events.entries()) {
    const announced = timelines[i]!.filter((e) => (e.type === 'JOURNAL_POSTED' || e.type === 'POSTING_FAILED') && e.data.postingId === `post-${event.id}`);
    expect(announced.map((e) => e.type)).toEqual(['JOURNAL_POSTED']);
  }
}

async function callRates(stack: TestStack): Promise<CallRates> {
  return ((await stack.sandboxCall('GET', '/sandbox/calls/rates')).body.erp as CallRates | undefined) ?? { accepted: 0, refused: 0, peakPerSecond: 0 };
}

async function postingCalls(stack: TestStack): Promise<number> {
  const erp = ((await stack.sandboxCall('GET', '/sandbox/calls')).body.erp ?? {}) as Record<string, number>;
  return (erp.postJournalBatch ?? 0) + (erp.postJournal ?? 0);
}

/** The ERP's own records of the postings, read once its faults are cleared. */
async function heldByErp(stack: TestStack, events: readonly CanonicalEvent[]) {
  return stack.sandbox.systems.erp.getPostings(events.map((e) => `post-${e.id}`));
}

// The same acceptance suite with either ERP adapter family: the sandbox ERP's API, and the OData connector.
describe.each(ERP_ADAPTERS)('with the %s ERP adapter', (adapter) => {
  describe('ERP protection: one stack', () => {
    // The outbox may call 8 times a second (a bucket of 8, burst 8: at most 15 calls in one wall-clock second) in
    // batches of 3; the ERP takes 20.
    const PACED = { maxCallsPerSecond: 8, batchSize: 3, maxAttempts: 1 };
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startTestStack({}, { ...outboxEnv(PACED), ...erpEnv(adapter) });
    });
    afterAll(async () => {
      await stack?.stop();
    });
    afterEach(async () => {
      await stack.sandboxCall('DELETE', '/sandbox/faults');
    });

    it('a burst of 90 hand-overs drains within the ERP’s limit, in batch calls of at most 3: nothing refused, failed or booked twice', async () => {
      const events = refunds(stack, 90, 100);
      await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', rateLimitPerSecond: 20 });
      await stack.sandboxCall('DELETE', '/sandbox/calls');
      const logsBefore = stack.logs.length;

      // All at once: nothing the publishers do waits on the ERP.
      expect(await Promise.all(events.map((e) => stack.backbone.publish(e)))).toEqual(events.map(() => true));
      await expectBookedOnce(stack, events);

      const rates = await callRates(stack);
      expect(rates.refused).toBe(0);
      expect(rates.peakPerSecond).toBeLessThanOrEqual(20);
      // 90 postings in batches of 3 are 30 calls; the first bucketful may go out with smaller batches while the
      // intake is still taking the burst in.
      const calls = await postingCalls(stack);
      expect(calls).toBeGreaterThanOrEqual(30);
      expect(calls).toBeLessThanOrEqual(30 + PACED.maxCallsPerSecond);
      const batches = stack.logs.slice(logsBefore).filter((l) => l.msg === 'erp outbox: batch booked');
      expect(batches.length).toBeGreaterThan(0);
      for (const b of batches) expect(b.postings as number).toBeLessThanOrEqual(PACED.batchSize);

      await stack.sandboxCall('DELETE', '/sandbox/faults');
      const held = await heldByErp(stack, events);
      expect(held.map((p) => p?.status)).toEqual(events.map(() => 'POSTED'));
    });
  });

  describe('ERP protection: an outbox set faster than the ERP takes', () => {
    // Misconfigured on purpose: the outbox would call 50 times a second, the ERP takes 4. With one attempt allowed,
    // a refusal for rate counted as a failure would dead-letter a posting at once.
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startTestStack({}, { ...outboxEnv({ maxCallsPerSecond: 50, batchSize: 2, maxAttempts: 1 }), ...erpEnv(adapter) });
    });
    afterAll(async () => {
      await stack?.stop();
    });
    afterEach(async () => {
      await stack.sandboxCall('DELETE', '/sandbox/faults');
    });

    it('honours the ERP’s 429 and Retry-After: the backlog drains at the ERP’s pace, every posting on its first attempt, none dead-lettered', async () => {
      const events = refunds(stack, 32, 300);
      await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', rateLimitPerSecond: 4 });
      await stack.sandboxCall('DELETE', '/sandbox/calls');
      const logsBefore = stack.logs.length;

      await Promise.all(events.map((e) => stack.backbone.publish(e)));
      await expectBookedOnce(stack, events);

      const rates = await callRates(stack);
      // The ERP did refuse (the outbox asked too fast), and the worker waited each refusal out.
      expect(rates.refused).toBeGreaterThan(0);
      const waits = stack.logs.slice(logsBefore).filter((l) => l.msg === 'erp outbox: the ERP refused the call for rate; waiting as it asked');
      expect(waits.length).toBeGreaterThan(0);
      for (const w of waits) expect(w.retryAfterMs as number).toBeGreaterThan(0);
      // Nothing was an attempt that failed, nothing dead-lettered.
      expect(stack.logs.slice(logsBefore).filter((l) => l.msg === 'erp outbox: attempt failed; will retry' || l.msg === 'erp outbox: posting dead-lettered')).toEqual([]);

      await stack.sandboxCall('DELETE', '/sandbox/faults');
      expect((await heldByErp(stack, events)).map((p) => p?.status)).toEqual(events.map(() => 'POSTED'));
    });
  });

  describe('ERP protection: two instances on one Redis share the call budget', () => {
    // Each instance may call 6 times a second, the deployment together too. The ERP takes 9: one budget of 6 fits,
    // two budgets of 6 (12 a second, 12 at once) would be refused.
    const SHARED = { maxCallsPerSecond: 6, batchSize: 2, maxAttempts: 1 };
    let redis: Awaited<ReturnType<typeof startRedisServer>>;
    let client: RedisClient;
    let prefix: string;
    let a: TestStack;
    let b: TestStack;
    beforeAll(async () => {
      redis = await startRedisServer();
      client = createRedis(redis.url, { name: 'erp-protection-test' });
      prefix = `t${Date.now()}`;
      const env = { ...outboxEnv(SHARED), REDIS_URL: redis.url, REDIS_PREFIX: prefix };
      a = await startTestStack({}, { ...env, ...erpEnv(adapter) });
      b = await startTestStack({}, { ...env, ...erpEnv(adapter), SANDBOX_URL: a.urls.sandbox });
    });
    afterAll(async () => {
      await b?.stop();
      await a?.stop();
      if (client) await quitAll([client]);
      await redis?.stop();
    });
    afterEach(async () => {
      await a.sandboxCall('DELETE', '/sandbox/faults');
    });

    it('both workers book, from one erp-calls bucket in Redis, and the ERP refuses nothing', async () => {
      const events = refunds(a, 48, 500);
      await a.sandboxCall('POST', '/sandbox/faults', { system: 'erp', rateLimitPerSecond: 9 });
      await a.sandboxCall('DELETE', '/sandbox/calls');
      const [logsA, logsB] = [a.logs.length, b.logs.length];

      // Half through each stack's backbone: one consumer group, so either instance may take any of them.
      await Promise.all(events.map((e, i) => (i % 2 ? a : b).backbone.publish(e)));
      // The one bucket both take their tokens from (it expires once full again, so it is looked for while they drain).
      const bucket = `${prefix}:ratelimit:erp-calls:erp`;
      await until(() => client.keys(`${prefix}:ratelimit:*`), (keys) => keys.includes(bucket), 'the shared erp-calls bucket in Redis');
      await expectBookedOnce(a, events);

      expect((await callRates(a)).refused).toBe(0);
      // Both instances' workers booked some of them (B's over the sandbox's HTTP RPC).
      const postedBy = (stack: TestStack, from: number) => stack.logs.slice(from).filter((l) => l.msg === 'erp outbox: posted').length;
      expect(postedBy(a, logsA)).toBeGreaterThan(0);
      expect(postedBy(b, logsB)).toBeGreaterThan(0);
      expect(postedBy(a, logsA) + postedBy(b, logsB)).toBeGreaterThanOrEqual(events.length);

      await a.sandboxCall('DELETE', '/sandbox/faults');
      expect((await heldByErp(a, events)).map((p) => p?.status)).toEqual(events.map(() => 'POSTED'));
    });
  });
});
