import type { MoneyValue } from '../../../common/money.js';
import { SystemUnavailableError, type ResilienceRegistry } from '../../../common/resilience.js';
import { WRITE_METHODS } from '../../../common/systems/writes.js';
import type { PostingRecord } from '../../../common/systems/records.js';
import type { JournalPostingRequest } from '../../../common/systems/erp.js';
import type { SandboxErp } from '../../../sandbox/erp.js';
import { JournalRejectedError, type BookedJournal, type JournalEntry, type JournalPort } from '../outbox/ports.js';

/** The sandbox ERP refuses an entry for good with a message that starts so (in process and over HTTP alike). */
const REJECTED = /ERP rejected/;

function translate(error: unknown): never {
  if (error instanceof SystemUnavailableError && REJECTED.test(String(error.extensions.reason ?? error.message))) {
    throw new JournalRejectedError(String(error.extensions.reason ?? error.message));
  }
  throw error;
}

function requestOf(entry: JournalEntry): JournalPostingRequest {
  return { id: entry.id, orderId: entry.orderId, type: entry.type, amountMinor: entry.amount.minor, ...(entry.tax ? { taxMinor: entry.tax.minor } : {}), currency: entry.amount.currency, postingDate: entry.postingDate, attempt: entry.attempt };
}

/** A posted record always has both; anything else is the ERP breaking its own contract. */
function bookedOf(record: PostingRecord, entry: JournalEntry, method: string): BookedJournal {
  if (record.status !== 'POSTED' || !record.erpDocumentNumber || !record.postedAt) throw new SystemUnavailableError('erp', `${method} answered ${record.status} for ${entry.id}`);
  return { documentNumber: record.erpDocumentNumber, postedAt: record.postedAt, amount: { minor: record.amountMinor, currency: record.currency } };
}

/**
 * Journal postings and invoices over the sandbox ERP. All are writes: listed as such so that the resilience
 * policy never retries them (the outbox does its own retrying, with the same ids).
 */
export class SandboxJournal implements JournalPort {
  private readonly erp: SandboxErp;
  constructor(erp: SandboxErp, resilience: ResilienceRegistry) {
    this.erp = resilience.wrap('erp', erp, WRITE_METHODS.erp);
  }

  async post(entry: JournalEntry) {
    const record = await this.erp.postJournal(requestOf(entry)).catch(translate);
    return bookedOf(record, entry, 'postJournal');
  }

  /**
   * One `postJournalBatch` call; a batch of one is one `postJournal` call instead (the same single call, and the
   * ERP's own single-posting API). The ERP answers a refused entry as a FAILED record with why in `lastError`
   * (booking the others); an answer that does not match the entries one for one fails the whole call, to be
   * retried (every entry is idempotent by its id).
   */
  async postBatch(entries: JournalEntry[]): Promise<(BookedJournal | JournalRejectedError)[]> {
    if (entries.length === 0) return [];
    if (entries.length === 1) return [await this.post(entries[0]!).catch((error: unknown) => (error instanceof JournalRejectedError ? error : Promise.reject(error)))];
    const records = await this.erp.postJournalBatch(entries.map(requestOf)).catch(translate);
    if (!Array.isArray(records) || records.length !== entries.length) {
      throw new SystemUnavailableError('erp', `postJournalBatch answered ${Array.isArray(records) ? records.length : 'no list'} records for ${entries.length} entries`);
    }
    return entries.map((entry, i) => {
      const record = records[i]!;
      if (record.id !== entry.id) throw new SystemUnavailableError('erp', `postJournalBatch answered ${record.id} in the place of ${entry.id}`);
      if (record.status === 'FAILED') return new JournalRejectedError(record.lastError ?? `ERP rejected posting ${entry.id}`);
      return bookedOf(record, entry, 'postJournalBatch');
    });
  }

  async issueInvoice(invoice: { id: string; orderId: string; total: MoneyValue; tax?: MoneyValue | null | undefined }) {
    const record = await this.erp.issueInvoice({ id: invoice.id, orderId: invoice.orderId, totalMinor: invoice.total.minor, ...(invoice.tax ? { taxMinor: invoice.tax.minor } : {}), currency: invoice.total.currency }).catch(translate);
    return { id: record.id, number: record.number, total: { minor: record.totalMinor, currency: record.currency }, issuedAt: record.issuedAt };
  }
}
