import type { MoneyValue } from '../../../common/money.js';
import { SystemUnavailableError, type ResilienceRegistry } from '../../../common/resilience.js';
import type { SandboxErp } from '../../../sandbox/systems.js';
import { JournalRejectedError, type JournalEntry, type JournalPort } from '../outbox/ports.js';

/** The sandbox ERP refuses an entry for good with a message that starts so (in process and over HTTP alike). */
const REJECTED = /ERP rejected/;

function translate(error: unknown): never {
  if (error instanceof SystemUnavailableError && REJECTED.test(String(error.extensions.reason ?? error.message))) {
    throw new JournalRejectedError(String(error.extensions.reason ?? error.message));
  }
  throw error;
}

/**
 * Journal postings and invoices over the sandbox ERP. Both are writes: listed as such so that the resilience
 * policy never retries them (the outbox does its own retrying, with the same ids).
 */
export class SandboxJournal implements JournalPort {
  private readonly erp: SandboxErp;
  constructor(erp: SandboxErp, resilience: ResilienceRegistry) {
    this.erp = resilience.wrap('erp', erp, ['postJournal', 'issueInvoice']);
  }

  async post(entry: JournalEntry) {
    const record = await this.erp
      .postJournal({ id: entry.id, orderId: entry.orderId, type: entry.type, amountMinor: entry.amount.minor, currency: entry.amount.currency, postingDate: entry.postingDate, attempt: entry.attempt })
      .catch(translate);
    // A posted record always has both; anything else is the ERP breaking its own contract.
    if (record.status !== 'POSTED' || !record.erpDocumentNumber || !record.postedAt) throw new SystemUnavailableError('erp', `postJournal answered ${record.status} for ${entry.id}`);
    return { documentNumber: record.erpDocumentNumber, postedAt: record.postedAt, amount: { minor: record.amountMinor, currency: record.currency } };
  }

  async issueInvoice(invoice: { id: string; orderId: string; total: MoneyValue }) {
    const record = await this.erp.issueInvoice({ id: invoice.id, orderId: invoice.orderId, totalMinor: invoice.total.minor, currency: invoice.total.currency }).catch(translate);
    return { id: record.id, number: record.number, total: { minor: record.totalMinor, currency: record.currency }, issuedAt: record.issuedAt };
  }
}
