import type { EventType } from '../../../common/events.js';
import type { MoneyValue } from '../../../common/money.js';
import type { FinancePosting, PostingTypeCode } from '../ports.js';

/*
 * The write side of finance: the ERP postings the outbox books and the state it keeps while it does. Every ERP
 * write is idempotent by the caller's id, which is what lets the outbox deliver at least once and the ERP book
 * exactly once.
 */

/** A journal entry to book. Amounts are positive minor units; the type gives the direction. */
export interface JournalEntry {
  /** Stable id derived from the source event: the ERP books each id once. */
  id: string;
  orderId: string;
  type: PostingTypeCode;
  amount: MoneyValue;
  /** The tax included in the amount, booked to tax payable (null: none known, an order from before tax). */
  tax?: MoneyValue | null | undefined;
  /** The business date booked (ISO 8601): when the source event happened. */
  postingDate: string;
  /** This attempt's number (1 for the first), for the ERP's record. */
  attempt: number;
}

export interface BookedJournal {
  documentNumber: string;
  postedAt: string;
  /** What the ERP booked under the id: differs from the entry's only if the id was booked before with another amount. */
  amount: MoneyValue;
}

export interface IssuedInvoice {
  id: string;
  number: string;
  total: MoneyValue;
  issuedAt: string;
}

/** The ERP refused an entry for good (bad data, a closed period): retrying the same entry cannot help. */
export class JournalRejectedError extends Error {}

/**
 * Journal postings and invoices in the ERP (general ledger and accounts receivable). System of record: the ERP.
 *
 * Contract: `post` is idempotent by `entry.id` (a second post of a booked id answers the same document number and
 * books nothing); `postBatch` books several entries in one ERP call, each exactly as `post` would;
 * `issueInvoice` is idempotent by `id` (a second call answers the invoice already issued). All are writes and are
 * never retried by the adapter. A refusal for good rejects with {@link JournalRejectedError} (in `postBatch`
 * it is that entry's outcome, and the other entries are booked all the same); anything else (down, timeout, circuit open)
 * rejects with a `SystemUnavailableError` (`ERP_UNAVAILABLE`) and may have been applied: the caller retries with
 * the same ids. When the ERP refused the call for rate, that error carries `retryAfterMs`: nothing was applied,
 * and the ERP asks to be called again no sooner than that.
 */
export interface JournalPort {
  post(entry: JournalEntry): Promise<BookedJournal>;
  /** One ERP call for every entry; one outcome per entry, in order. */
  postBatch(entries: JournalEntry[]): Promise<(BookedJournal | JournalRejectedError)[]>;
  issueInvoice(invoice: { id: string; orderId: string; total: MoneyValue; tax?: MoneyValue | null | undefined }): Promise<IssuedInvoice>;
}

/** A posting as the outbox holds it: the graph's posting plus where it came from and when it is next tried. */
export interface OutboxPosting extends FinancePosting {
  /** The canonical event the posting books; null for one adopted from the ERP's history. */
  sourceEventId: string | null;
  /** That event's trace context, when it was made in a traced request (see `EventEnvelope.trace`). */
  trace?: Record<string, string> | undefined;
  sourceType: EventType | null;
  /** When the source event happened: the posting date booked. */
  sourceOccurredAt: string;
  /** The order's correlation id, carried by every event and ERP call about the posting. */
  correlationId: string;
  /** The part of a split order a SALE books (its own invoice); absent for an order's whole sale. */
  fulfillmentId?: string | null | undefined;
  /** When the worker may try it next; null unless PENDING or FAILED. */
  nextAttemptAt: string | null;
  /** Attempts since it was (re-)queued: the retry budget counts these, `attempts` counts every one. */
  roundAttempts: number;
  /** How many times it went to DEAD_LETTER (each time publishes one POSTING_FAILED). */
  deadLetters: number;
  /** The invoice issued for a SALE; null until issued (and for other types). */
  invoice: { id: string; number: string } | null;
}

export interface OutboxFilter {
  statuses?: readonly FinancePosting['status'][] | undefined;
  orderId?: string | undefined;
}

/**
 * Where the outbox keeps its postings. Implementations: {@link InMemoryOutboxStore} and the journaled one that
 * survives a restart (DATA_DIR).
 *
 * Contract: `save` is durable once it resolves (for a durable store) and replaces the posting with the same id;
 * reads see every completed save. `due` answers PENDING and FAILED postings whose `nextAttemptAt` is at or before
 * `now`, earliest first, at most `limit`.
 */
export interface OutboxStore {
  get(ids: readonly string[]): Promise<(OutboxPosting | null)[]>;
  byOrder(orderIds: readonly string[]): Promise<OutboxPosting[][]>;
  /** Newest first. */
  list(filter: OutboxFilter, limit: number): Promise<OutboxPosting[]>;
  /** Postings whose source happened in [from, to), any status. */
  bySourceTime(from: string, to: string): Promise<OutboxPosting[]>;
  due(now: string, limit: number): Promise<OutboxPosting[]>;
  save(posting: OutboxPosting): Promise<void>;
  close(): Promise<void>;
}
