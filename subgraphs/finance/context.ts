import DataLoader from 'dataloader';
import type { ScopedContext } from '../../common/http.js';
import type { FinanceInvoice, FinancePayment, FinancePosting, FinanceRefund, LedgerPort, PaymentsPort } from './ports.js';

/** A fresh set per request: caching lives exactly as long as one query (the dataloader README's advice). */
export function createFinanceLoaders(payments: PaymentsPort, ledger: LedgerPort) {
  return {
    paymentsByOrder: new DataLoader<string, FinancePayment[]>((ids) => payments.getPaymentsByOrder(ids)),
    refundsByOrder: new DataLoader<string, FinanceRefund[]>((ids) => payments.getRefundsByOrder(ids)),
    invoicesByOrder: new DataLoader<string, FinanceInvoice[]>((ids) => ledger.getInvoicesByOrder(ids)),
    postingsByOrder: new DataLoader<string, FinancePosting[]>((ids) => ledger.getPostingsByOrder(ids)),
  };
}

export type FinanceLoaders = ReturnType<typeof createFinanceLoaders>;

export interface FinanceContext extends ScopedContext {
  loaders: FinanceLoaders;
  payments: PaymentsPort;
  ledger: LedgerPort;
}
