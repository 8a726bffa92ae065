import type { FinancePayment, FinanceRefund } from './ports.js';

export type FinancialStatusCode = 'PENDING' | 'AUTHORIZED' | 'PAID' | 'PARTIALLY_REFUNDED' | 'REFUNDED' | 'VOIDED';

const DEAD_PAYMENT = new Set<FinancePayment['status']>(['VOIDED', 'DECLINED']);

/**
 * The order's money position as the PSP sees it, first matching rule wins:
 * no payments: PENDING; every payment voided or declined: VOIDED; succeeded refunds cover what was captured:
 * REFUNDED; some money refunded: PARTIALLY_REFUNDED; anything captured: PAID; otherwise AUTHORIZED.
 *
 * Amounts are compared in minor units: an order is paid in one currency, so no conversion is needed.
 */
export function deriveFinancialStatus(payments: readonly FinancePayment[], refunds: readonly FinanceRefund[]): FinancialStatusCode {
  if (payments.length === 0) return 'PENDING';
  if (payments.every((p) => DEAD_PAYMENT.has(p.status))) return 'VOIDED';
  const captured = payments.filter((p) => p.status === 'CAPTURED').reduce((sum, p) => sum + p.amount.minor, 0);
  // Pending and failed refunds have not moved money, so they do not count.
  const refunded = refunds.filter((r) => r.status === 'SUCCEEDED').reduce((sum, r) => sum + r.amount.minor, 0);
  if (refunded > 0 && refunded >= captured) return 'REFUNDED';
  if (refunded > 0) return 'PARTIALLY_REFUNDED';
  if (payments.some((p) => p.status === 'CAPTURED')) return 'PAID';
  return 'AUTHORIZED';
}
