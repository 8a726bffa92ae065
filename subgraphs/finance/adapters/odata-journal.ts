import type { MoneyValue } from '../../../common/money.js';
import { SystemUnavailableError, type ResilienceRegistry } from '../../../common/resilience.js';
import { odataErrorMessage, type BatchRequest, type ODataAnswer, type ODataClient } from '../../../common/erp-odata/client.js';
import { JournalRejectedError, type BookedJournal, type IssuedInvoice, type JournalEntry, type JournalPort } from '../outbox/ports.js';
import { postingOf } from './odata-ledger.js';

const bodyOf = (entry: JournalEntry) => ({
  ID: entry.id,
  OrderID: entry.orderId,
  Type: entry.type,
  AmountMinor: entry.amount.minor,
  ...(entry.tax ? { TaxMinor: entry.tax.minor } : {}),
  Currency: entry.amount.currency,
  PostingDate: entry.postingDate,
  Attempt: entry.attempt,
});

/** The ERP's answer to one posting: booked, refused for good (4xx: bad data, a closed period), or a failure of the call. */
function outcomeOf(answer: ODataAnswer, entry: JournalEntry, what: string): BookedJournal | JournalRejectedError {
  if (answer.status === 200 || answer.status === 201) {
    const posting = postingOf((answer.body ?? {}) as Record<string, unknown>);
    if (posting.id !== entry.id) throw new SystemUnavailableError('erp', `${what} answered ${posting.id} in the place of ${entry.id}`);
    if (posting.status !== 'POSTED' || !posting.erpDocumentNumber || !posting.postedAt) throw new SystemUnavailableError('erp', `${what} answered ${posting.status} for ${entry.id}`);
    return { documentNumber: posting.erpDocumentNumber, postedAt: posting.postedAt, amount: posting.amount };
  }
  if (answer.status >= 400 && answer.status < 500 && answer.status !== 401 && answer.status !== 408 && answer.status !== 409) return new JournalRejectedError(`ERP rejected posting ${entry.id}: ${odataErrorMessage(answer)}`);
  throw new SystemUnavailableError('erp', `${what} answered ${odataErrorMessage(answer)} for ${entry.id}`);
}

/**
 * Journal postings and invoices over the ERP's OData service: a posting is `POST JournalPostings`, a batch of them
 * one `$batch` request (OData 4.01 JSON batch) with one POST per posting, answered one by one (a refused posting is
 * its own 4xx and the others are booked), an invoice the `IssueInvoice` action. The ERP books each id once, so a
 * retry with the same ids books nothing twice. Writes: never retried by the resilience policy (the outbox retries).
 */
export class ODataJournal implements JournalPort {
  private readonly erp: { postJournal(body: unknown): Promise<ODataAnswer>; postJournalBatch(requests: BatchRequest[]): Promise<ODataAnswer[]>; issueInvoice(body: unknown): Promise<ODataAnswer> };

  constructor(client: ODataClient, resilience: ResilienceRegistry) {
    this.erp = resilience.wrap(
      'erp',
      {
        postJournal: (body: unknown) => client.post('JournalPostings', body),
        postJournalBatch: (requests: BatchRequest[]) => client.batch(requests),
        issueInvoice: (body: unknown) => client.post('IssueInvoice', body),
      },
      ['postJournal', 'postJournalBatch', 'issueInvoice'],
    );
  }

  async post(entry: JournalEntry): Promise<BookedJournal> {
    const outcome = outcomeOf(await this.erp.postJournal(bodyOf(entry)), entry, 'POST JournalPostings');
    if (outcome instanceof JournalRejectedError) throw outcome;
    return outcome;
  }

  /** One `$batch` for every entry; a batch of one is a single POST instead (the same one call). */
  async postBatch(entries: JournalEntry[]): Promise<(BookedJournal | JournalRejectedError)[]> {
    if (entries.length === 0) return [];
    if (entries.length === 1) return [await this.post(entries[0]!).catch((error: unknown) => (error instanceof JournalRejectedError ? error : Promise.reject(error)))];
    const answers = await this.erp.postJournalBatch(entries.map((entry, i) => ({ id: String(i + 1), method: 'POST', url: 'JournalPostings', body: bodyOf(entry) })));
    return entries.map((entry, i) => outcomeOf(answers[i]!, entry, '$batch POST JournalPostings'));
  }

  async issueInvoice(invoice: { id: string; orderId: string; total: MoneyValue; tax?: MoneyValue | null | undefined }): Promise<IssuedInvoice> {
    const answer = await this.erp.issueInvoice({ ID: invoice.id, OrderID: invoice.orderId, TotalMinor: invoice.total.minor, ...(invoice.tax ? { TaxMinor: invoice.tax.minor } : {}), Currency: invoice.total.currency });
    if (answer.status === 200 || answer.status === 201) {
      const e = (answer.body ?? {}) as Record<string, unknown>;
      return { id: String(e.ID), number: String(e.Number), total: { minor: Number(e.TotalMinor), currency: String(e.Currency) }, issuedAt: String(e.IssuedAt) };
    }
    if (answer.status >= 400 && answer.status < 500) throw new JournalRejectedError(`ERP rejected invoice ${invoice.id}: ${odataErrorMessage(answer)}`);
    throw new SystemUnavailableError('erp', `IssueInvoice answered ${odataErrorMessage(answer)}`);
  }
}
