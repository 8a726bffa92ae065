import type { MoneyValue } from '../../common/money.js';

export type PaymentStatusCode = 'AUTHORIZED' | 'CAPTURED' | 'VOIDED' | 'DECLINED';
export type PaymentMethodCode = 'CARD' | 'PAYPAL' | 'KLARNA' | 'GIFT_CARD' | 'CASH';
export type RefundStatusCode = 'PENDING' | 'SUCCEEDED' | 'FAILED';
export type InvoiceStatusCode = 'ISSUED' | 'PAID' | 'CREDITED';
export type PostingTypeCode = 'SALE' | 'REFUND' | 'RETURN';
export type PostingStatusCode = 'PENDING' | 'POSTED' | 'FAILED' | 'DEAD_LETTER';

/** Timestamps are ISO 8601 strings as the systems report them. */
export interface FinancePayment {
  id: string;
  orderId: string;
  status: PaymentStatusCode;
  method: PaymentMethodCode;
  amount: MoneyValue;
  createdAt: string;
}

export interface FinanceRefund {
  id: string;
  orderId: string;
  status: RefundStatusCode;
  amount: MoneyValue;
  reason: string;
  createdAt: string;
}

export interface FinanceInvoice {
  id: string;
  orderId: string;
  number: string;
  status: InvoiceStatusCode;
  total: MoneyValue;
  /** The tax included in the total; null or absent on invoices issued before tax. */
  tax?: MoneyValue | null | undefined;
  issuedAt: string;
}

export interface FinancePosting {
  id: string;
  orderId: string;
  type: PostingTypeCode;
  status: PostingStatusCode;
  /** How many times the ERP was asked to post it, including the successful one. */
  attempts: number;
  amount: MoneyValue;
  /** The tax included in the amount; null or absent on postings from before tax. */
  tax?: MoneyValue | null | undefined;
  /** The ERP's journal document number; null until posted. */
  erpDocumentNumber: string | null;
  /** Why the last attempt failed; null when it has not failed. */
  lastError: string | null;
  postedAt: string | null;
  createdAt: string;
}

/**
 * Payments (authorizations and captures) and refunds per order. System of record: the payment service provider.
 *
 * Contract: every method takes many order ids and returns one list per id, in id order ([] for an order the
 * PSP does not know), in a single call to the system. A system failure rejects with a `SystemUnavailableError`
 * (`PSP_UNAVAILABLE`).
 */
export interface PaymentsPort {
  getPaymentsByOrder(orderIds: readonly string[]): Promise<FinancePayment[][]>;
  getRefundsByOrder(orderIds: readonly string[]): Promise<FinanceRefund[][]>;
}

/**
 * Invoices and journal postings per order. System of record: the ERP (accounts receivable and general ledger).
 *
 * Contract: every method takes many order ids and returns one list per id, in id order ([] for an order the
 * ERP has nothing for), in a single call to the system. A system failure rejects with a
 * `SystemUnavailableError` (`ERP_UNAVAILABLE`).
 */
/**
 * Whose order an id is: what lets finance hand a shopper the money of their own orders only. Systems of record: the
 * POS and the e-commerce order system.
 *
 * Contract: one entry per id, in order: the customer id, null for an order without a customer (a till sale),
 * undefined for an id no system knows; at most one call per order system for the batch. A failure rejects with the
 * system's `SystemUnavailableError`.
 */
export interface OrderOwnersPort {
  customersOf(orderIds: readonly string[]): Promise<(string | null | undefined)[]>;
}

export interface LedgerPort {
  getInvoicesByOrder(orderIds: readonly string[]): Promise<FinanceInvoice[][]>;
  getPostingsByOrder(orderIds: readonly string[]): Promise<FinancePosting[][]>;
  /** Postings by posting id, in id order; null for an id the ERP does not hold. */
  getPostings(ids: readonly string[]): Promise<(FinancePosting | null)[]>;
  /**
   * The journal by posting date: every posting (any status) whose posting date is in [from, to) (ISO 8601),
   * oldest first. The posting date is the business date a posting books (for history: when it was created).
   */
  getPostingsByDate(from: string, to: string): Promise<FinancePosting[]>;
}
