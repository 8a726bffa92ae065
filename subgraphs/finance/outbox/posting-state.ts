import type { EventType } from '../../../common/events.js';
import type { MoneyValue } from '../../../common/money.js';
import type { FinancePosting, PostingTypeCode } from '../ports.js';
import { retryDelayMs } from '../../../common/backoff.js';
import type { OutboxPosting } from './ports.js';

/*
 * The outbox posting state machine, as pure functions of (posting, now):
 *
 *   PENDING ──attempt ok──▶ POSTED
 *      │                      ▲
 *   attempt failed            │ attempt ok
 *      ▼                      │
 *   FAILED ──(retry after backoff with full jitter)──┘
 *      │ the maxAttempts-th failure of the round, or the ERP refused the entry for good
 *      ▼
 *   DEAD_LETTER ──replay──▶ PENDING (a new round: the budget starts again, `attempts` keeps counting)
 *
 * POSTED is final. Every transition returns a new posting; nothing is changed in place.
 */

export interface PostingRequest {
  id: string;
  orderId: string;
  type: PostingTypeCode;
  amount: MoneyValue;
  /** The tax included in `amount`, from the source event (absent: none known). */
  tax?: MoneyValue | null | undefined;
  /** The part of a split order this sale books (its own invoice); absent for an order's whole sale. */
  fulfillmentId?: string | null | undefined;
  sourceEventId: string | null;
  sourceType: EventType | null;
  sourceOccurredAt: string;
  correlationId: string;
  /** The source event's trace context: the ERP booking, whenever it happens, links its span to that trace. */
  trace?: Record<string, string> | undefined;
}

export interface RetryPolicy {
  baseMs: number;
  capMs: number;
  maxAttempts: number;
}

const iso = (at: Date) => at.toISOString();

/** A new posting, due at once. */
export function queued(request: PostingRequest, now: Date): OutboxPosting {
  return {
    ...request,
    status: 'PENDING',
    attempts: 0,
    roundAttempts: 0,
    deadLetters: 0,
    erpDocumentNumber: null,
    lastError: null,
    postedAt: null,
    createdAt: iso(now),
    nextAttemptAt: iso(now),
    invoice: null,
  };
}

/** Whether the worker should try it now. */
export function isDue(posting: OutboxPosting, now: Date): boolean {
  return (posting.status === 'PENDING' || posting.status === 'FAILED') && posting.nextAttemptAt !== null && Date.parse(posting.nextAttemptAt) <= now.getTime();
}

/** The ERP booked it: POSTED with its document number, for good. */
export function posted(posting: OutboxPosting, booked: { documentNumber: string; postedAt: string }): OutboxPosting {
  return {
    ...posting,
    status: 'POSTED',
    attempts: posting.attempts + 1,
    roundAttempts: posting.roundAttempts + 1,
    erpDocumentNumber: booked.documentNumber,
    postedAt: booked.postedAt,
    lastError: null,
    nextAttemptAt: null,
  };
}

/**
 * An attempt failed. Retryable: FAILED, next attempt after a backoff with full jitter, unless this was the
 * round's `maxAttempts`-th failure, which makes it DEAD_LETTER. Not retryable (the ERP refused it for good):
 * DEAD_LETTER at once.
 */
export function failed(posting: OutboxPosting, error: string, now: Date, policy: RetryPolicy, options: { retryable: boolean; random?: () => number } = { retryable: true }): OutboxPosting {
  const attempts = posting.attempts + 1;
  const roundAttempts = posting.roundAttempts + 1;
  if (!options.retryable || roundAttempts >= policy.maxAttempts) {
    return { ...posting, status: 'DEAD_LETTER', attempts, roundAttempts, lastError: error, nextAttemptAt: null, deadLetters: posting.deadLetters + 1 };
  }
  const delay = retryDelayMs(roundAttempts, policy.baseMs, policy.capMs, options.random);
  return { ...posting, status: 'FAILED', attempts, roundAttempts, lastError: error, nextAttemptAt: iso(new Date(now.getTime() + delay)) };
}

export type RequeueResult = { ok: true; posting: OutboxPosting } | { ok: false; status: FinancePosting['status'] };

/** Replay: a DEAD_LETTER posting is PENDING again, due at once, with a fresh retry budget. Any other status is refused. */
export function requeued(posting: OutboxPosting, now: Date): RequeueResult {
  if (posting.status !== 'DEAD_LETTER') return { ok: false, status: posting.status };
  return { ok: true, posting: { ...posting, status: 'PENDING', roundAttempts: 0, nextAttemptAt: iso(now) } };
}

/** The invoice of a SALE was issued (kept so that a retry does not ask the ERP again). */
export function invoiced(posting: OutboxPosting, invoice: { id: string; number: string }): OutboxPosting {
  return { ...posting, invoice };
}
