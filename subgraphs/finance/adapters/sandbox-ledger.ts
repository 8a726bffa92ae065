import { moneyOrNull } from '../../../common/money.js';
import type { ResilienceRegistry } from '../../../common/resilience.js';
import { WRITE_METHODS } from '../../../common/systems/writes.js';
import type { InvoiceRecord, PostingRecord } from '../../../common/systems/records.js';
import type { SandboxErp } from '../../../sandbox/erp.js';
import type { FinanceInvoice, FinancePosting, LedgerPort } from '../ports.js';

export const toInvoice = (i: InvoiceRecord): FinanceInvoice => ({
  id: i.id,
  orderId: i.orderId,
  number: i.number,
  status: i.status,
  total: { minor: i.totalMinor, currency: i.currency },
  tax: moneyOrNull(i.taxMinor, i.currency),
  issuedAt: i.issuedAt,
});

export const toPosting = (p: PostingRecord): FinancePosting => ({
  id: p.id,
  orderId: p.orderId,
  type: p.type,
  status: p.status,
  attempts: p.attempts,
  amount: { minor: p.amountMinor, currency: p.currency },
  tax: moneyOrNull(p.taxMinor, p.currency),
  erpDocumentNumber: p.erpDocumentNumber,
  lastError: p.lastError,
  postedAt: p.postedAt,
  createdAt: p.createdAt,
});

/** Invoices and journal postings over the sandbox ERP (in process or over HTTP): one ERP call per port call. */
export class SandboxLedger implements LedgerPort {
  private readonly erp: SandboxErp;
  constructor(erp: SandboxErp, resilience: ResilienceRegistry) {
    this.erp = resilience.wrap('erp', erp, WRITE_METHODS.erp);
  }

  async getInvoicesByOrder(orderIds: readonly string[]) {
    return (await this.erp.getInvoicesByOrder(orderIds)).map((list) => list.map(toInvoice));
  }

  async getPostingsByOrder(orderIds: readonly string[]) {
    return (await this.erp.getPostingsByOrder(orderIds)).map((list) => list.map(toPosting));
  }

  async getPostings(ids: readonly string[]) {
    return (await this.erp.getPostings(ids)).map((p) => (p ? toPosting(p) : null));
  }

  async getPostingsByDate(from: string, to: string) {
    return (await this.erp.getPostingsByDate(from, to)).map(toPosting);
  }
}
