import { runInScope } from '../../../common/correlation.js';
import type { CanonicalEvent, EventBackbone, EventType } from '../../../common/events.js';
import type { Logger } from '../../../common/logger.js';
import type { FinancePosting } from '../ports.js';
import { invoiceIdFor, needsPlacedEvent, postingIdFor, postingRequestFor, postingTypeOf, SOURCE_EVENT_TYPES } from './intake.js';
import { JournalRejectedError, type JournalPort, type OutboxFilter, type OutboxPosting, type OutboxStore } from './ports.js';
import { failed, invoiced, isDue, posted, queued, requeued } from './posting-state.js';
import type { OutboxSettings } from './settings.js';

export interface ErpOutboxDeps {
  journal: JournalPort;
  backbone: EventBackbone;
  store: OutboxStore;
  settings: OutboxSettings;
  logger: Logger;
  now?: () => Date;
  random?: () => number;
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

  constructor(private readonly deps: ErpOutboxDeps) {
    this.now = deps.now ?? (() => new Date());
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
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      timer.unref();
    });
    await Promise.race([Promise.all([this.intake, this.running]), grace]);
    clearTimeout(timer);
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
      const [known = []] = await store.byOrder([event.orderId]);
      if (known.some((p) => p.type === 'SALE')) {
        logger.info(log, 'erp outbox: the order is already sold; a second hand-over or shipment books nothing');
        return;
      }
    }
    const placed = needsPlacedEvent(event) ? (await this.deps.backbone.eventsForOrders([event.orderId]))[0]?.find((e) => e.type === 'ORDER_PLACED') : undefined;
    const request = postingRequestFor(event, placed);
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

  /** Book due postings until none is due or the ERP fails (then the rest wait for the next poll). */
  private async drain(): Promise<void> {
    for (;;) {
      const due = await this.deps.store.due(this.now().toISOString(), this.deps.settings.batchSize);
      if (!due.length) return;
      for (const candidate of due) {
        if (this.stopped) return;
        const [current] = await this.deps.store.get([candidate.id]);
        if (!current || !isDue(current, this.now())) continue;
        if ((await this.attempt(current)) === 'unavailable') return;
      }
    }
  }

  private attempt(posting: OutboxPosting): Promise<'posted' | 'rejected' | 'unavailable'> {
    return runInScope({ correlationId: posting.correlationId }, async () => {
      const { journal, store, logger, settings } = this.deps;
      let current = posting;
      try {
        // A SALE issues the order's invoice first (an adopted posting of the history has its invoice already).
        if (current.type === 'SALE' && !current.invoice && current.sourceEventId !== null) {
          const invoice = await journal.issueInvoice({ id: invoiceIdFor(current.orderId), orderId: current.orderId, total: current.amount });
          current = invoiced(current, { id: invoice.id, number: invoice.number });
          // An invoice that predates the posting was issued (and announced) by someone else.
          if (Date.parse(invoice.issuedAt) >= Date.parse(current.createdAt)) {
            await this.publish(current, 'INVOICE_ISSUED', `evt-${invoice.id}-issued`, invoice.issuedAt, { invoiceId: invoice.id, number: invoice.number, total: invoice.total.minor, currency: invoice.total.currency });
          }
        }
        const booked = await journal.post({ id: current.id, orderId: current.orderId, type: current.type, amount: current.amount, postingDate: current.sourceOccurredAt, attempt: current.attempts + 1 });
        if (booked.amount.minor !== current.amount.minor || booked.amount.currency !== current.amount.currency) {
          logger.warn({ postingId: current.id, expected: current.amount, booked: booked.amount }, 'erp outbox: the ERP holds this posting id with another amount (see reconciliation)');
        }
        current = posted(current, booked);
        // Announce before saving: a crash in between posts again, the ERP answers the same document, and the
        // backbone drops the event with the same id.
        await this.publish(current, 'JOURNAL_POSTED', `evt-${current.id}-posted`, booked.postedAt, {
          postingId: current.id,
          type: current.type,
          amount: current.amount.minor,
          currency: current.amount.currency,
          documentNumber: booked.documentNumber,
          attempts: current.attempts,
        });
        await store.save(current);
        logger.info({ postingId: current.id, orderId: current.orderId, documentNumber: booked.documentNumber, attempts: current.attempts }, 'erp outbox: posted');
        return 'posted';
      } catch (error) {
        const rejected = error instanceof JournalRejectedError;
        const message = error instanceof Error ? error.message : String(error);
        const now = this.now();
        current = failed(current, message, now, settings, { retryable: !rejected, ...(this.deps.random ? { random: this.deps.random } : {}) });
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
        return rejected ? 'rejected' : 'unavailable';
      }
    });
  }

  /** Publish one event about a posting under the order's correlation id. Never throws: the posting's state is what counts. */
  private async publish(posting: OutboxPosting, type: EventType, id: string, occurredAt: string, data: Record<string, unknown>): Promise<void> {
    const event: CanonicalEvent = { id, type, source: 'ERP', occurredAt, correlationId: posting.correlationId, orderId: posting.orderId, data };
    try {
      await this.deps.backbone.publish(event);
    } catch (error) {
      this.deps.logger.error({ err: error, eventId: id, postingId: posting.id }, 'erp outbox: could not publish an event');
    }
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
