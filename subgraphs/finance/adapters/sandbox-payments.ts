import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { PaymentRecord, RefundRecord } from '../../../common/systems/records.js';
import type { SandboxPsp } from '../../../sandbox/psp.js';
import type { FinancePayment, FinanceRefund, PaymentsPort } from '../ports.js';

export const toPayment = (p: PaymentRecord): FinancePayment => ({
  id: p.id,
  orderId: p.orderId,
  status: p.status,
  method: p.method,
  amount: { minor: p.amountMinor, currency: p.currency },
  createdAt: p.createdAt,
});

export const toRefund = (r: RefundRecord): FinanceRefund => ({
  id: r.id,
  orderId: r.orderId,
  status: r.status,
  amount: { minor: r.amountMinor, currency: r.currency },
  reason: r.reason,
  createdAt: r.createdAt,
});

/** Payments and refunds over the sandbox PSP (in process or over HTTP): one PSP call per port call. */
export class SandboxPayments implements PaymentsPort {
  private readonly psp: SandboxPsp;
  constructor(psp: SandboxPsp, resilience: ResilienceRegistry) {
    this.psp = resilience.wrap('psp', psp);
  }

  async getPaymentsByOrder(orderIds: readonly string[]) {
    return (await this.psp.getPaymentsByOrder(orderIds)).map((list) => list.map(toPayment));
  }

  async getRefundsByOrder(orderIds: readonly string[]) {
    return (await this.psp.getRefundsByOrder(orderIds)).map((list) => list.map(toRefund));
  }
}
