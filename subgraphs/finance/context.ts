import DataLoader from 'dataloader';
import type { Metrics } from '../../common/telemetry/metrics.js';
import type { EventBackbone } from '../../common/events.js';
import type { ScopedContext } from '../../common/http.js';
import type { IdempotencyStore } from '../../common/idempotency.js';
import { mergePostings, type MergedPosting } from './outbox/merge.js';
import type { ErpOutbox } from './outbox/outbox.js';
import type { FinanceInvoice, FinancePayment, FinanceRefund, LedgerPort, OrderOwnersPort, PaymentsPort } from './ports.js';

/** A fresh set per request: caching lives exactly as long as one query (the dataloader README's advice). */
export function createFinanceLoaders(payments: PaymentsPort, ledger: LedgerPort, outbox: Pick<ErpOutbox, 'postingsOf'>, owners: OrderOwnersPort) {
  return {
    /** Asked for shoppers only (see order.reference.ts). */
    orderOwner: new DataLoader<string, string | null | undefined>((ids) => owners.customersOf(ids)),
    paymentsByOrder: new DataLoader<string, FinancePayment[]>((ids) => payments.getPaymentsByOrder(ids)),
    refundsByOrder: new DataLoader<string, FinanceRefund[]>((ids) => payments.getRefundsByOrder(ids)),
    invoicesByOrder: new DataLoader<string, FinanceInvoice[]>((ids) => ledger.getInvoicesByOrder(ids)),
    /** What the ERP holds merged with what the outbox holds: one entry per posting id. */
    postingsByOrder: new DataLoader<string, MergedPosting[]>(async (ids) => {
      const [erp, own] = await Promise.all([ledger.getPostingsByOrder(ids), outbox.postingsOf(ids)]);
      return ids.map((_, i) => mergePostings(erp[i] ?? [], own[i] ?? []));
    }),
  };
}

export type FinanceLoaders = ReturnType<typeof createFinanceLoaders>;

export interface FinanceContext extends ScopedContext {
  loaders: FinanceLoaders;
  payments: PaymentsPort;
  ledger: LedgerPort;
  outbox: ErpOutbox;
  backbone: EventBackbone;
  idempotency: IdempotencyStore;
  /** The process's series, when it has them. */
  metrics?: Metrics | undefined;
}
