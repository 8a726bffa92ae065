import type { RefundRequest } from '../common/systems/orders.js';
import type { PaymentRecord, RefundRecord } from '../common/systems/records.js';
import { callTime } from './clock.js';
import type { SeedData } from './seed.js';
import { groupBy } from './shared.js';
import { EXPORT_STATE, IMPORT_STATE, listPart, type SystemState } from './state.js';

/** Payment service provider: authorizations, captures and refunds. */
export class SandboxPsp {
  private readonly paymentsByOrder: Map<string, PaymentRecord[]>;
  private readonly refundsByOrder: Map<string, RefundRecord[]>;

  constructor(data: SeedData) {
    this.paymentsByOrder = groupBy(data.payments, (p) => p.orderId);
    this.refundsByOrder = groupBy(data.refunds, (r) => r.orderId);
  }

  /**
   * Authorize a payment. The sandbox declines the test token `tok_decline` (as real PSPs have test cards that
   * always decline); everything else is authorized.
   */
  async authorize(request: { orderId: string; amountMinor: number; currency: string; method: PaymentRecord['method']; token?: string | null; reference?: string | null }): Promise<PaymentRecord> {
    // Idempotent by the caller's reference, as real PSPs are by idempotency key: a retry whose first answer was
    // lost gets the first authorization, not a second one.
    const earlier = request.reference ? this.paymentsByOrder.get(request.orderId)?.find((p) => p.reference === request.reference) : undefined;
    if (earlier) return earlier;
    const payment: PaymentRecord = {
      id: `pay-${request.orderId}`,
      orderId: request.orderId,
      status: request.token === 'tok_decline' ? 'DECLINED' : 'AUTHORIZED',
      method: request.method,
      amountMinor: request.amountMinor,
      currency: request.currency,
      createdAt: callTime().toISOString(),
      ...(request.reference ? { reference: request.reference } : {}),
    };
    const list = this.paymentsByOrder.get(request.orderId);
    if (list) list.push(payment);
    else this.paymentsByOrder.set(request.orderId, [payment]);
    return payment;
  }

  async getPaymentsByOrder(orderIds: readonly string[]): Promise<PaymentRecord[][]> {
    return orderIds.map((id) => this.paymentsByOrder.get(id) ?? []);
  }

  async getRefundsByOrder(orderIds: readonly string[]): Promise<RefundRecord[][]> {
    return orderIds.map((id) => this.refundsByOrder.get(id) ?? []);
  }

  /** Void the order's open authorizations (nothing is captured yet). Answers the payments it voided; again, none. */
  async voidPayment(orderId: string): Promise<PaymentRecord[]> {
    const voided: PaymentRecord[] = [];
    for (const payment of this.paymentsByOrder.get(orderId) ?? []) {
      if (payment.status !== 'AUTHORIZED') continue;
      payment.status = 'VOIDED';
      voided.push(payment);
    }
    return voided;
  }

  /**
   * Pay money back on an order. Idempotent by the caller's reference, as real PSPs are by idempotency key: a
   * second refund with the same reference answers the first and pays nothing.
   */
  async refund(request: RefundRequest): Promise<RefundRecord> {
    const id = `ref-${request.reference}`;
    const list = this.refundsByOrder.get(request.orderId);
    const existing = list?.find((r) => r.id === id);
    if (existing) return existing;
    const refund: RefundRecord = { id, orderId: request.orderId, status: 'SUCCEEDED', amountMinor: request.amountMinor, currency: request.currency, reason: request.reason, createdAt: request.createdAt };
    if (list) list.push(refund);
    else this.refundsByOrder.set(request.orderId, [refund]);
    return refund;
  }

  /** Its payments (copies: a void changes them in place) and refunds, each order's in the order they were made. */
  [EXPORT_STATE](): SystemState {
    return { payments: [...this.paymentsByOrder.values()].flat().map((p) => ({ ...p })), refunds: [...this.refundsByOrder.values()].flat() };
  }

  [IMPORT_STATE](state: SystemState): void {
    this.paymentsByOrder.clear();
    for (const [orderId, list] of groupBy(listPart<PaymentRecord>(state, 'payments', 'the PSP'), (p) => p.orderId)) this.paymentsByOrder.set(orderId, list);
    this.refundsByOrder.clear();
    for (const [orderId, list] of groupBy(listPart<RefundRecord>(state, 'refunds', 'the PSP'), (r) => r.orderId)) this.refundsByOrder.set(orderId, list);
  }
}
