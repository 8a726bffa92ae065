import { Money } from '../../common/graphql-types.js';
import { ErpPosting } from './erp-posting.js';
import { Invoice } from './invoice.js';
import type { MergedPosting } from './outbox/merge.js';
import { Order } from './order.js';
import { Payment } from './payment.js';
import type { FinanceInvoice, FinancePayment, FinancePosting, FinanceRefund } from './ports.js';
import type { ReconciliationReport } from './reconciliation/reconcile.js';
import { Reconciliation, ReconciliationCurrencyTotals, ReconciliationMismatch } from './reconciliation/reconciliation.js';
import { Refund } from './refund.js';

export function toPayment(p: FinancePayment): Payment {
  return Object.assign(new Payment(), { id: p.id, status: p.status, method: p.method, amount: Money.of(p.amount), createdAt: p.createdAt });
}

export function toRefund(r: FinanceRefund): Refund {
  return Object.assign(new Refund(), { id: r.id, status: r.status, amount: Money.of(r.amount), reason: r.reason, createdAt: r.createdAt });
}

export function toInvoice(i: FinanceInvoice): Invoice {
  return Object.assign(new Invoice(), { id: i.id, number: i.number, status: i.status, total: Money.of(i.total), tax: i.tax ? Money.of(i.tax) : null, issuedAt: i.issuedAt });
}

export function toErpPosting(p: FinancePosting | MergedPosting): ErpPosting {
  const extra = p as MergedPosting;
  return Object.assign(new ErpPosting(), {
    id: p.id,
    orderId: p.orderId,
    type: p.type,
    status: p.status,
    attempts: p.attempts,
    amount: Money.of(p.amount),
    tax: p.tax ? Money.of(p.tax) : null,
    erpDocumentNumber: p.erpDocumentNumber,
    lastError: p.lastError,
    postedAt: p.postedAt,
    createdAt: p.createdAt,
    sourceEventId: extra.sourceEventId ?? null,
    nextAttemptAt: extra.nextAttemptAt ?? null,
  });
}

export function toReconciliation(r: ReconciliationReport): Reconciliation {
  return Object.assign(new Reconciliation(), {
    from: r.from,
    to: r.to,
    sourceTotal: Money.of(r.sourceTotal),
    erpTotal: Money.of(r.erpTotal),
    byCurrency: r.byCurrency.map((c) => Object.assign(new ReconciliationCurrencyTotals(), { currencyCode: c.currency, sourceTotal: Money.of(c.sourceTotal), erpTotal: Money.of(c.erpTotal) })),
    sourceItems: r.items,
    pendingPostings: r.pendingPostings,
    failedPostings: r.failedPostings,
    mismatches: r.mismatches.map((m) =>
      Object.assign(new ReconciliationMismatch(), {
        orderId: m.orderId,
        order: Object.assign(new Order(), { id: m.orderId }),
        type: m.type,
        reason: m.reason,
        expected: m.expected ? Money.of(m.expected) : null,
        posted: m.posted ? Money.of(m.posted) : null,
        postingId: m.postingId,
        postingStatus: m.postingStatus,
        sourceEventId: m.sourceEventId,
        occurredAt: m.occurredAt,
      }),
    ),
  });
}
