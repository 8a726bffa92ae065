import { settleWithin } from '../../../common/lanes.js';
import { randomUUID } from 'node:crypto';
import { inSpan, linkTo } from '../../../common/telemetry/tracing.js';
import type { Metrics } from '../../../common/telemetry/metrics.js';
import { runInScope } from '../../../common/correlation.js';
import { createEvent, type CanonicalEvent, type EventBackbone, type EventDataByType } from '../../../common/events.js';
import type { Logger } from '../../../common/logger.js';
import { EventOutbox, type EventEmitter } from '../../../common/outbox/event-outbox.js';
import { MemoryRateLimiter, type RateLimiter, type RateLimitRule } from '../../../common/rate-limit.js';
import { SystemUnavailableError } from '../../../common/resilience.js';
import type { FinancePosting } from '../ports.js';
import { fulfillmentOf, invoiceIdFor, postingIdFor, postingRequestFor, postingTypeOf, SOURCE_EVENT_TYPES } from './intake.js';
import { JournalRejectedError, type BookedJournal, type JournalEntry, type JournalPort, type OutboxFilter, type OutboxPosting, type OutboxStore } from './ports.js';
import { failed, invoiced, isDue, posted, queued, requeued } from './posting-state.js';
import type { OutboxSettings } from './settings.js';

export interface ErpOutboxDeps {
  journal: JournalPort;
  backbone: EventBackbone;
  /**
   * Where the outbox's own events (INVOICE_ISSUED, JOURNAL_POSTED, POSTING_FAILED) go: the transactional event outbox.
   * @default an event outbox in memory over `backbone`
   */
  events?: EventEmitter | undefined;
  store: OutboxStore;
  settings: OutboxSettings;
  logger: Logger;
  /**
   * Where the worker takes a token before every ERP call: bucket {@link ERP_CALL_BUCKET}, one key for the whole
   * deployment, rate `settings.maxCallsPerSecond`, burst 1. A RedisRateLimiter on the instances' shared Redis
   * makes that budget one for every instance.
   * @default a MemoryRateLimiter: this process's calls only
   */
  limiter?: RateLimiter | undefined;
  now?: () => Date;
  random?: () => number;
  /** Posting lag (source event → booked) and operators' replays. @default none */
  metrics?: Pick<Metrics, 'postingLag' | 'outboxReplays'> | undefined;
}

/** The rate-limit bucket every ERP call of the outbox takes its token from (see {@link ErpOutboxDeps.limiter}). */
export const ERP_CALL_BUCKET = 'erp-calls';
/** One key: the budget is the ERP's, whoever calls it. */
const ERP_CALL_KEY = 'erp';

/** The worker was stopped while it waited (for a token, or for the ERP's Retry-After): the round ends, nothing is saved. */
class Stopping extends Error {}

/** How long the ERP asked to wait when it refused a call for rate; null for any other failure. */
function throttledFor(error: unknown): number | null {
  return error instanceof SystemUnavailableError && error.retryAfterMs !== undefined ? Math.max(1, Math.ceil(error.retryAfterMs)) : null;
}

/** An ERP call's answer, or what it failed with (a {@link Stopping} is thrown instead: it ends the round). */
type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function entryOf(posting: OutboxPosting): JournalEntry {
  return { id: posting.id, orderId: posting.orderId, type: posting.type, amount: posting.amount, tax: posting.tax ?? null, postingDate: posting.sourceOccurredAt, attempt: posting.attempts + 1 };
}

/** Event ids remembered for dropping duplicates before the store is asked (the store's posting ids are the real guard). */
const SEEN_LIMIT = 100_000;
/** The backbone consumer group of the ERP outbox: one per deployment, shared by every finance instance. */
export const OUTBOX_CONSUMER_GROUP = 'finance-erp-outbox';

export type RequeueOutcome = { ok: true; posting: OutboxPosting } | { ok: false; reason: 'NOT_FOUND' } | { ok: false; reason: 'INVALID_STATE'; posting: OutboxPosting };

/**
 * The ERP outbox. Money events on the backbone become journal postings kept in the store; a worker books them in
 * the ERP in the background, so that nothing that publishes an event (checkout, hand-over, returns) ever waits on
 * the ERP or fails because of it.
 *
 * Delivery is at least once (a redelivered event maps to the same posting id; a post whose answer was lost is
 * posted again) and the ERP books each posting id once, so each posting is booked exactly once. A failed attempt
 * is retried after an exponential backoff with full jitter; after `maxAttempts` failures in a round (or a refusal
 * for good) the posting is DEAD_LETTER and a POSTING_FAILED event says so; a success publishes JOURNAL_POSTED.
 * Every event and ERP call carries the order's correlation id, taken from the source event.
 *
 * While the ERP fails, the worker stops its round at the first failure: one probe per poll, not one per posting.
 * When the ERP answers again, due postings drain by themselves.
 *
 * The ERP is protected from the outbox: the worker books up to `batchSize` due postings per ERP call (one
 * `postBatch`; a SALE's invoice is one `issueInvoice` call before it), takes a token of the shared
 * `maxCallsPerSecond` budget before every call and, without one, waits (a timer) until there is one. When the ERP
 * refuses a call for rate all the same (its 429 and Retry-After: another client spends its capacity too), the
 * worker waits as long as it asked and makes the same call again: throttling is no attempt of the postings, so it
 * never grows their backoff nor dead-letters them. A burst of hand-overs thus drains at the ERP's pace.
 *
 * A batch books postings of several orders: that call runs under the one correlation id they share, or under a
 * batch id of its own (`outbox-batch-…`) that the "batch booked" log line ties to each posting's correlation id.
 * The events about each posting carry its order's correlation id either way.
 */
export class ErpOutbox {
  private readonly now: () => Date;
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private intake: Promise<void> = Promise.resolve();
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** Intake of each event id taken so far (bounded): a repeat gets the first one's outcome. */
  private readonly seen = new Map<string, Promise<void>>();
  private readonly limiter: RateLimiter;
  private readonly callRule: RateLimitRule;
  /** The round already holds a token for its next ERP call (taken before the batch was topped up). */
  private prepaid = false;
  /** Due postings the round's last look brought beyond its batch: the next batch's first (see {@link claim}). */
  private carried: OutboxPosting[] = [];
  /** Ends the worker's wait in progress, if any (stop() calls it). */
  private wake: (() => void) | null = null;
  private readonly events: EventEmitter;

  constructor(private readonly deps: ErpOutboxDeps) {
    this.now = deps.now ?? (() => new Date());
    this.events = deps.events ?? new EventOutbox({ backbone: deps.backbone });
    this.limiter = deps.limiter ?? new MemoryRateLimiter();
    // A burst of 1: calls are spaced evenly, so no wall-clock second ever holds more than the rate (a bucket of N
    // could spend N and refill nearly N more within one second, which an ERP counting per second refuses).
    this.callRule = { name: ERP_CALL_BUCKET, ratePerSecond: deps.settings.maxCallsPerSecond, burst: 1 };
  }

  /**
   * Consume the backbone's money events as the `finance-erp-outbox` group and start the worker (which first resumes
   * whatever a previous run left due). As a consumer group, the outbox also gets what was published while every
   * finance instance was down, and an event is handed again until its intake succeeded.
   */
  start(): void {
    if (this.unsubscribe || this.stopped) return;
    this.unsubscribe = this.deps.backbone.consume(OUTBOX_CONSUMER_GROUP, SOURCE_EVENT_TYPES, (event) => this.take(event));
    this.timer = setInterval(() => this.kick(), this.deps.settings.pollMs);
    this.timer.unref();
    this.kick();
  }

  /**
   * Unsubscribe, stop the timer and wait for the intake and the attempt in flight (at most `graceMs`: an attempt is
   * bounded by the adapter's timeout anyway, and one cut short is retried after a restart). Idempotent.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await settleWithin(Promise.all([this.intake, this.running]), graceMs);
  }

  /** {@link take} without waiting: for an event handed outside the consumer group (never throws). */
  accept(event: CanonicalEvent): void {
    void this.take(event).catch(() => undefined);
  }

  /**
   * Queue a money event for intake, in arrival order. Resolves once it is taken in (a posting queued, or nothing
   * to book); rejects when the intake failed, so that the backbone hands it again. Anything else, and an id seen
   * before, gets the outcome it already had.
   */
  take(event: CanonicalEvent): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('erp outbox is stopping'));
    if (!SOURCE_EVENT_TYPES.has(event.type)) return Promise.resolve();
    const known = this.seen.get(event.id);
    if (known) return known;
    const taken = this.intake.then(() => this.receive(event));
    this.seen.set(event.id, taken);
    if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.keys().next().value as string);
    this.intake = taken.catch((error: unknown) => {
      // Forget it, so that a redelivery can try again.
      this.seen.delete(event.id);
      this.deps.logger.error({ err: error, eventId: event.id, correlationId: event.correlationId }, 'erp outbox: intake failed');
    });
    return taken;
  }

  /** Wait until every event accepted so far has been taken in (tests, shutdown). */
  settled(): Promise<void> {
    return this.intake;
  }

  private async receive(event: CanonicalEvent): Promise<void> {
    const { store, logger } = this.deps;
    const log = { eventId: event.id, type: event.type, orderId: event.orderId, correlationId: event.correlationId };
    const [existing] = await store.get([postingIdFor(event.id)]);
    if (existing) return; // redelivered
    if (!event.orderId) {
      logger.warn(log, 'erp outbox: a money event without an order id books nothing');
      return;
    }
    if (postingTypeOf(event.type) === 'SALE') {
      // One sale per order, or per part of a split order (each part's shipment is its sale).
      const part = fulfillmentOf(event);
      const [known = []] = await store.byOrder([event.orderId]);
      if (known.some((p) => p.type === 'SALE' && (p.fulfillmentId ?? null) === part)) {
        logger.info(log, 'erp outbox: the order (or this part of it) is already sold; a second hand-over or shipment books nothing');
        return;
      }
    }
    const request = postingRequestFor(event);
    if (!request.ok) {
      logger.warn({ ...log, reason: request.reason }, 'erp outbox: cannot price a money event; nothing to book');
      return;
    }
    await store.save(queued(request.request, this.now()));
    logger.info({ ...log, postingId: request.request.id, postingType: request.request.type, amount: request.request.amount.minor }, 'erp outbox: posting queued');
    this.kick();
  }

  /** Run a worker round soon; rounds never overlap (a kick during one runs another after it). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) => this.deps.logger.error({ err: error }, 'erp outbox: worker round failed'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Wait for the round in flight, if any (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * Book due postings, a batch per look, until none is due or the ERP fails (then the rest wait for the next poll).
   * Stopping ends it at the next ERP call or wait.
   */
  private async drain(): Promise<void> {
    try {
      for (;;) {
        if (this.stopped) return;
        const { batch, dueSeen } = await this.claim([]);
        if (!dueSeen) return;
        if (!batch.length) continue;
        // The batch's first call is paid for before it goes out: while the worker waited for the token, more
        // postings may have come due, and a fuller batch spends the ERP's budget better.
        await this.token('batch');
        this.prepaid = true;
        const full = batch.length < this.deps.settings.batchSize ? (await this.claim(batch)).batch : batch;
        if ((await this.book(full)) === 'unavailable') return;
      }
    } catch (error) {
      if (error instanceof Stopping) return;
      throw error;
    } finally {
      this.prepaid = false;
      this.carried = [];
    }
  }

  /**
   * `batch` topped up with due postings to `batchSize`, as the store holds them now (another instance may have
   * booked some meanwhile). `dueSeen`: whether any was due at all.
   *
   * What a look at the store brings beyond `batchSize` is carried to the next batch of the round rather than
   * dropped: a shared store leases what it hands out (see RedisOutboxStore), and a dropped posting would sit out
   * the lease.
   */
  private async claim(batch: readonly OutboxPosting[]): Promise<{ batch: OutboxPosting[]; dueSeen: boolean }> {
    const { store, settings } = this.deps;
    const room = settings.batchSize - batch.length;
    const known = new Set(batch.map((p) => p.id));
    const candidates = this.carried.filter((p) => !known.has(p.id));
    this.carried = [];
    for (const p of candidates) known.add(p.id);
    let dueSeen = candidates.length > 0;
    if (candidates.length < room) {
      const due = await store.due(this.now().toISOString(), settings.batchSize);
      dueSeen ||= due.length > 0;
      for (const p of due) {
        if (known.has(p.id)) continue;
        known.add(p.id);
        candidates.push(p);
      }
    }
    const current = (await store.get(candidates.map((p) => p.id))).filter((p): p is OutboxPosting => p !== null && isDue(p, this.now()));
    this.carried = current.slice(room);
    return { batch: [...batch, ...current.slice(0, room)], dueSeen };
  }

  /**
   * One batch: the invoices its SALEs still need (one call each, stopping at the first that fails), then one
   * `postBatch` for every posting ready, and each outcome saved. 'unavailable' when the ERP failed.
   */
  private book(batch: readonly OutboxPosting[]): Promise<'booked' | 'unavailable'> {
    // A round of its own, linked to the trace of every source event it books (the checkout, the hand-over).
    return inSpan('erp.posting', { links: batch.flatMap((p) => linkTo(p.trace)), attributes: { 'retail.postings': batch.length } }, () => this.bookNow(batch));
  }

  private async bookNow(batch: readonly OutboxPosting[]): Promise<'booked' | 'unavailable'> {
    const ready: OutboxPosting[] = [];
    const invoicedNow: OutboxPosting[] = [];
    for (const posting of batch) {
      // A SALE issues the order's invoice first (an adopted posting of the history has its invoice already).
      if (posting.type !== 'SALE' || posting.invoice || posting.sourceEventId === null) {
        ready.push(posting);
        continue;
      }
      const outcome = await this.invoice(posting);
      if (outcome.ok) {
        ready.push(outcome.value);
        invoicedNow.push(outcome.value);
        continue;
      }
      const rejected = outcome.error instanceof JournalRejectedError;
      await this.recordFailure(posting, outcome.error, rejected);
      if (rejected) continue;
      // The ERP fails: keep the invoices issued for the others (a retry need not ask again) and stop the round.
      for (const done of invoicedNow) await this.deps.store.save(done);
      return 'unavailable';
    }
    if (!ready.length) return 'booked';
    const outcomes = await this.post(ready);
    if (!outcomes.ok) {
      const rejected = outcomes.error instanceof JournalRejectedError;
      for (const posting of ready) await this.recordFailure(posting, outcomes.error, rejected);
      return rejected ? 'booked' : 'unavailable';
    }
    for (const [i, posting] of ready.entries()) {
      const outcome = outcomes.value[i]!;
      if (outcome instanceof JournalRejectedError) await this.recordFailure(posting, outcome, true);
      else await this.recordPosted(posting, outcome);
    }
    return 'booked';
  }

  /** Issue a SALE's invoice (paced), announcing it when this posting issued it. */
  private invoice(posting: OutboxPosting): Promise<Outcome<OutboxPosting>> {
    return runInScope({ correlationId: posting.correlationId }, async (): Promise<Outcome<OutboxPosting>> => {
      try {
        const invoice = await this.paced('issueInvoice', () => this.deps.journal.issueInvoice({ id: invoiceIdFor(posting.orderId, posting.fulfillmentId), orderId: posting.orderId, total: posting.amount, tax: posting.tax ?? null }));
        const current = invoiced(posting, { id: invoice.id, number: invoice.number });
        // An invoice that predates the posting was issued (and announced) by someone else.
        if (Date.parse(invoice.issuedAt) >= Date.parse(current.createdAt)) {
          await this.publish(current, 'INVOICE_ISSUED', `evt-${invoice.id}-issued`, invoice.issuedAt, { invoiceId: invoice.id, number: invoice.number, total: invoice.total.minor, currency: invoice.total.currency });
        }
        return { ok: true, value: current };
      } catch (error) {
        if (error instanceof Stopping) throw error;
        return { ok: false, error };
      }
    });
  }

  /** Book the postings in one ERP call (paced), under their shared correlation id or a batch id of its own. */
  private async post(postings: readonly OutboxPosting[]): Promise<Outcome<(BookedJournal | JournalRejectedError)[]>> {
    const correlationIds = [...new Set(postings.map((p) => p.correlationId))];
    const correlationId = correlationIds.length === 1 ? correlationIds[0]! : `outbox-batch-${randomUUID()}`;
    return runInScope({ correlationId }, async (): Promise<Outcome<(BookedJournal | JournalRejectedError)[]>> => {
      try {
        const value = await this.paced('postBatch', () => this.deps.journal.postBatch(postings.map(entryOf)));
        if (value.length !== postings.length) throw new SystemUnavailableError('erp', `postBatch answered ${value.length} outcomes for ${postings.length} postings`);
        if (postings.length > 1) {
          this.deps.logger.info({ postings: postings.length, postingIds: postings.map((p) => p.id), correlationIds }, 'erp outbox: batch booked');
        }
        return { ok: true, value };
      } catch (error) {
        if (error instanceof Stopping) throw error;
        return { ok: false, error };
      }
    });
  }

  /**
   * Make one ERP call within the budget: take a token first (waiting until there is one), and when the ERP
   * refuses the call for rate, wait as long as it asked and make it again. Rejects with whatever else the call
   * rejects with, or with {@link Stopping} once the outbox is stopped.
   */
  private async paced<T>(method: string, call: () => Promise<T>): Promise<T> {
    for (;;) {
      await this.token(method);
      try {
        return await call();
      } catch (error) {
        const retryAfterMs = throttledFor(error);
        if (retryAfterMs === null) throw error;
        this.deps.logger.info({ method, retryAfterMs }, 'erp outbox: the ERP refused the call for rate; waiting as it asked');
        await this.pause(retryAfterMs);
      }
    }
  }

  /** Take a token of the ERP call budget, waiting (a timer) as long as the limiter says until one is there. */
  private async token(method: string): Promise<void> {
    if (this.prepaid) {
      this.prepaid = false;
      return;
    }
    for (;;) {
      if (this.stopped) throw new Stopping('erp outbox is stopping');
      const decision = await this.limiter.take(ERP_CALL_KEY, this.callRule);
      if (decision.allowed) return;
      this.deps.logger.debug({ method, retryAfterMs: decision.retryAfterMs }, 'erp outbox: ERP call budget spent; waiting');
      await this.pause(decision.retryAfterMs);
    }
  }

  /** Wait `ms` on a timer; stop() ends the wait at once (and the caller's next step sees `stopped`). */
  private pause(ms: number): Promise<void> {
    if (this.stopped) return Promise.reject(new Stopping('erp outbox is stopping'));
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        if (this.stopped) reject(new Stopping('erp outbox is stopping'));
        else resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
    });
  }

  /** The ERP booked it: announce, then save (a crash in between posts again, the ERP answers the same document, and the backbone drops the event with the same id). */
  private recordPosted(posting: OutboxPosting, booked: BookedJournal): Promise<void> {
    return runInScope({ correlationId: posting.correlationId }, async () => {
      const { store, logger } = this.deps;
      if (booked.amount.minor !== posting.amount.minor || booked.amount.currency !== posting.amount.currency) {
        logger.warn({ postingId: posting.id, expected: posting.amount, booked: booked.amount }, 'erp outbox: the ERP holds this posting id with another amount (see reconciliation)');
      }
      const current = posted(posting, booked);
      await this.publish(current, 'JOURNAL_POSTED', `evt-${current.id}-posted`, booked.postedAt, {
        postingId: current.id,
        type: current.type,
        amount: current.amount.minor,
        currency: current.amount.currency,
        documentNumber: booked.documentNumber,
        attempts: current.attempts,
      });
      await store.save(current);
      this.deps.metrics?.postingLag.observe(Math.max(0, Date.parse(booked.postedAt) - Date.parse(posting.sourceOccurredAt)) / 1000);
      logger.info({ postingId: current.id, orderId: current.orderId, documentNumber: booked.documentNumber, attempts: current.attempts }, 'erp outbox: posted');
    });
  }

  /** An attempt of the posting failed: FAILED with a backoff, or DEAD_LETTER (refused for good, or out of attempts). */
  private recordFailure(posting: OutboxPosting, error: unknown, rejected: boolean): Promise<void> {
    return runInScope({ correlationId: posting.correlationId }, async () => {
      const { store, logger, settings } = this.deps;
      const message = messageOf(error);
      const now = this.now();
      const current = failed(posting, message, now, settings, { retryable: !rejected, ...(this.deps.random ? { random: this.deps.random } : {}) });
      if (current.status === 'DEAD_LETTER') {
        await this.publish(current, 'POSTING_FAILED', `evt-${current.id}-failed-${current.deadLetters}`, now.toISOString(), {
          postingId: current.id,
          type: current.type,
          amount: current.amount.minor,
          currency: current.amount.currency,
          error: message,
          attempts: current.attempts,
        });
        logger.warn({ postingId: current.id, orderId: current.orderId, attempts: current.attempts, err: message }, 'erp outbox: posting dead-lettered');
      } else {
        logger.info({ postingId: current.id, orderId: current.orderId, attempts: current.attempts, nextAttemptAt: current.nextAttemptAt, err: message }, 'erp outbox: attempt failed; will retry');
      }
      await store.save(current);
    });
  }

  /** Hand one event about a posting, under the order's correlation id, to the event outbox (which never throws for a publish). */
  private async publish<T extends 'INVOICE_ISSUED' | 'JOURNAL_POSTED' | 'POSTING_FAILED'>(posting: OutboxPosting, type: T, id: string, occurredAt: string, data: EventDataByType[T]): Promise<void> {
    await this.events.emit([createEvent(type, data, { id, source: 'ERP', occurredAt, correlationId: posting.correlationId, orderId: posting.orderId })]);
  }

  postingsOf(orderIds: readonly string[]): Promise<OutboxPosting[][]> {
    return this.deps.store.byOrder(orderIds);
  }

  get(ids: readonly string[]): Promise<(OutboxPosting | null)[]> {
    return this.deps.store.get(ids);
  }

  list(filter: OutboxFilter, limit: number): Promise<OutboxPosting[]> {
    return this.deps.store.list(filter, limit);
  }

  bySourceTime(from: string, to: string): Promise<OutboxPosting[]> {
    return this.deps.store.bySourceTime(from, to);
  }

  /** Re-queue a DEAD_LETTER posting the outbox holds (PENDING, due at once, a fresh retry budget). */
  async requeue(id: string): Promise<RequeueOutcome> {
    const [posting] = await this.deps.store.get([id]);
    if (!posting) return { ok: false, reason: 'NOT_FOUND' };
    const result = requeued(posting, this.now());
    if (!result.ok) return { ok: false, reason: 'INVALID_STATE', posting };
    await this.deps.store.save(result.posting);
    this.deps.metrics?.outboxReplays.inc({ outbox: 'erp' });
    this.deps.logger.info({ postingId: id, orderId: posting.orderId, correlationId: posting.correlationId }, 'erp outbox: posting replayed');
    this.kick();
    return { ok: true, posting: result.posting };
  }

  /**
   * Take over a DEAD_LETTER posting that only the ERP's history holds (booked before this outbox existed), so it
   * can be replayed: it keeps its id (the ERP books it under that id), amount and attempts.
   */
  async adopt(record: FinancePosting, correlationId: string): Promise<OutboxPosting> {
    const [existing] = await this.deps.store.get([record.id]);
    if (existing) return existing;
    const adopted: OutboxPosting = {
      ...queued(
        { id: record.id, orderId: record.orderId, type: record.type, amount: record.amount, sourceEventId: null, sourceType: null, sourceOccurredAt: record.createdAt, correlationId },
        new Date(record.createdAt),
      ),
      status: record.status,
      attempts: record.attempts,
      roundAttempts: record.attempts,
      lastError: record.lastError,
      nextAttemptAt: null,
      deadLetters: record.status === 'DEAD_LETTER' ? 1 : 0,
    };
    await this.deps.store.save(adopted);
    return adopted;
  }
}
