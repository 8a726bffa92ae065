import { Money } from '../../common/graphql-types.js';
import { ErpPosting } from './erp-posting.js';
import { Invoice } from './invoice.js';
import { Payment } from './payment.js';
import type { FinanceInvoice, FinancePayment, FinancePosting, FinanceRefund } from './ports.js';
import { Refund } from './refund.js';

export function toPayment(p: FinancePayment): Payment {
  return Object.assign(new Payment(), { id: p.id, status: p.status, method: p.method, amount: Money.of(p.amount), createdAt: p.createdAt });
}

export function toRefund(r: FinanceRefund): Refund {
  return Object.assign(new Refund(), { id: r.id, status: r.status, amount: Money.of(r.amount), reason: r.reason, createdAt: r.createdAt });
}

export function toInvoice(i: FinanceInvoice): Invoice {
  return Object.assign(new Invoice(), { id: i.id, number: i.number, status: i.status, total: Money.of(i.total), issuedAt: i.issuedAt });
}

export function toErpPosting(p: FinancePosting): ErpPosting {
  return Object.assign(new ErpPosting(), {
    id: p.id,
    type: p.type,
    status: p.status,
    attempts: p.attempts,
    amount: Money.of(p.amount),
    erpDocumentNumber: p.erpDocumentNumber,
    lastError: p.lastError,
    postedAt: p.postedAt,
    createdAt: p.createdAt,
  });
}
