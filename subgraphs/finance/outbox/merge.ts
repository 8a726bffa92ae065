import type { FinancePosting } from '../ports.js';
import type { OutboxPosting } from './ports.js';

/** A posting as the graph shows it: the ERP's record and the outbox's state, merged. */
export type MergedPosting = FinancePosting & Partial<Pick<OutboxPosting, 'sourceEventId' | 'nextAttemptAt'>>;

/**
 * One entry per posting id from what the ERP holds and what the outbox holds. The ERP is the system of record of
 * what is booked: when it says POSTED the posting is POSTED with the ERP's amount, document number and date.
 * Otherwise the outbox's state (POSTED, or attempts, lastError and next attempt) is the newer one. Ordered by
 * creation.
 */
export function mergePostings(erp: readonly FinancePosting[], outbox: readonly OutboxPosting[]): MergedPosting[] {
  const merged = new Map<string, MergedPosting>();
  for (const record of erp) merged.set(record.id, { ...record, sourceEventId: null, nextAttemptAt: null });
  for (const own of outbox) {
    const record = merged.get(own.id);
    const view: MergedPosting = {
      id: own.id,
      orderId: own.orderId,
      type: own.type,
      status: own.status,
      attempts: own.attempts,
      amount: own.amount,
      tax: own.tax ?? null,
      erpDocumentNumber: own.erpDocumentNumber,
      lastError: own.lastError,
      postedAt: own.postedAt,
      createdAt: own.createdAt,
      sourceEventId: own.sourceEventId,
      nextAttemptAt: own.nextAttemptAt,
    };
    if (record?.status === 'POSTED') {
      Object.assign(view, { status: 'POSTED', amount: record.amount, tax: record.tax ?? view.tax ?? null, erpDocumentNumber: record.erpDocumentNumber, postedAt: record.postedAt, lastError: null, nextAttemptAt: null, attempts: Math.max(own.attempts, record.attempts) });
    }
    merged.set(own.id, view);
  }
  return [...merged.values()].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
}
