import { moneyOrNull } from '../../../common/money.js';
import { TransportError, type ResilienceRegistry } from '../../../common/resilience.js';
import { odataErrorMessage, type ODataAnswer, type ODataClient } from '../../../common/erp-odata/client.js';
import { quote } from '../../../common/erp-odata/query.js';
import type { FinanceInvoice, FinancePosting, InvoiceStatusCode, LedgerPort, PostingStatusCode, PostingTypeCode } from '../ports.js';

const str = (value: unknown): string => (typeof value === 'string' ? value : String(value ?? ''));
const strOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export const invoiceOf = (e: Record<string, unknown>): FinanceInvoice => ({
  id: str(e.ID),
  orderId: str(e.OrderID),
  number: str(e.Number),
  status: str(e.Status) as InvoiceStatusCode,
  total: { minor: Number(e.TotalMinor), currency: str(e.Currency) },
  tax: moneyOrNull(e.TaxMinor, str(e.Currency)),
  issuedAt: str(e.IssuedAt),
});

export const postingOf = (e: Record<string, unknown>): FinancePosting => ({
  id: str(e.ID),
  orderId: str(e.OrderID),
  type: str(e.Type) as PostingTypeCode,
  status: str(e.Status) as PostingStatusCode,
  attempts: Number(e.Attempts),
  amount: { minor: Number(e.AmountMinor), currency: str(e.Currency) },
  tax: moneyOrNull(e.TaxMinor, str(e.Currency)),
  erpDocumentNumber: strOrNull(e.DocumentNumber),
  lastError: strOrNull(e.LastError),
  postedAt: strOrNull(e.PostedAt),
  createdAt: str(e.CreatedAt),
});

/** The most ids one `$filter=... in (...)` carries: a URL stays well under the 8 KB gateways accept. */
const IDS_PER_REQUEST = 100;

const inList = (property: string, ids: readonly string[]) => `${property} in (${ids.map(quote).join(',')})`;
const chunks = <T>(items: readonly T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/**
 * Invoices and journal postings over the ERP's OData service (entity sets Invoices and JournalPostings): one
 * request per batch of ids (`$filter=OrderID in (...)`, `ID in (...)`), a date range as `PostingDate ge ... and
 * PostingDate lt ...`; server-driven pages followed by `@odata.nextLink`, each page one call under the ERP's
 * resilience policy.
 */
export class ODataLedger implements LedgerPort {
  private readonly erp: Record<'getInvoicesByOrder' | 'getPostingsByOrder' | 'getPostings' | 'getPostingsByDate', (url: string) => Promise<ODataAnswer>>;

  constructor(client: ODataClient, resilience: ResilienceRegistry) {
    const get = (url: string) => client.get(url);
    // Named as the reads they are, so that logs and the breaker's accounting read as the sandbox adapter's do.
    this.erp = resilience.wrap('erp', { getInvoicesByOrder: get, getPostingsByOrder: get, getPostings: get, getPostingsByDate: get });
  }

  /** Every page of a collection read, each by its own call. */
  private async readAll(method: keyof ODataLedger['erp'], url: string): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let next: string | undefined = url;
    while (next) {
      const answer = await this.erp[method](next);
      if (answer.status !== 200 || !Array.isArray(answer.body?.value)) throw new TransportError(`ERP ${method} answered ${odataErrorMessage(answer)}`, false);
      out.push(...(answer.body.value as Record<string, unknown>[]));
      next = answer.body['@odata.nextLink'] as string | undefined;
    }
    return out;
  }

  private async byOrder<T extends { orderId: string }>(method: 'getInvoicesByOrder' | 'getPostingsByOrder', set: string, orderIds: readonly string[], map: (e: Record<string, unknown>) => T): Promise<T[][]> {
    const unique = [...new Set(orderIds)];
    const grouped = new Map<string, T[]>();
    for (const part of chunks(unique, IDS_PER_REQUEST)) {
      for (const record of (await this.readAll(method, `${set}?$filter=${encodeURIComponent(inList('OrderID', part))}`)).map(map)) {
        let list = grouped.get(record.orderId);
        if (!list) grouped.set(record.orderId, (list = []));
        list.push(record);
      }
    }
    return orderIds.map((id) => grouped.get(id) ?? []);
  }

  getInvoicesByOrder(orderIds: readonly string[]): Promise<FinanceInvoice[][]> {
    return orderIds.length ? this.byOrder('getInvoicesByOrder', 'Invoices', orderIds, invoiceOf) : Promise.resolve([]);
  }

  getPostingsByOrder(orderIds: readonly string[]): Promise<FinancePosting[][]> {
    return orderIds.length ? this.byOrder('getPostingsByOrder', 'JournalPostings', orderIds, postingOf) : Promise.resolve([]);
  }

  async getPostings(ids: readonly string[]): Promise<(FinancePosting | null)[]> {
    if (!ids.length) return [];
    const found = new Map<string, FinancePosting>();
    for (const part of chunks([...new Set(ids)], IDS_PER_REQUEST)) {
      for (const posting of (await this.readAll('getPostings', `JournalPostings?$filter=${encodeURIComponent(inList('ID', part))}`)).map(postingOf)) found.set(posting.id, posting);
    }
    return ids.map((id) => found.get(id) ?? null);
  }

  async getPostingsByDate(from: string, to: string): Promise<FinancePosting[]> {
    const filter = `PostingDate ge ${new Date(from).toISOString()} and PostingDate lt ${new Date(to).toISOString()}`;
    return (await this.readAll('getPostingsByDate', `JournalPostings?$filter=${encodeURIComponent(filter)}`)).map(postingOf);
  }
}
