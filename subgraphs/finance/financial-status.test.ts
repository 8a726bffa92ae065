import { describe, expect, it } from 'vitest';
import { deriveFinancialStatus } from './financial-status.js';
import type { FinancePayment, FinanceRefund } from './ports.js';

const payment = (status: FinancePayment['status'], minor = 10_000): FinancePayment => ({
  id: `pay-${status}-${minor}`,
  orderId: 'ord-1',
  status,
  method: 'CARD',
  amount: { minor, currency: 'EUR' },
  createdAt: '2026-01-01T00:00:00.000Z',
});

const refund = (status: FinanceRefund['status'], minor: number): FinanceRefund => ({
  id: `ref-${status}-${minor}`,
  orderId: 'ord-1',
  status,
  amount: { minor, currency: 'EUR' },
  reason: 'Too small',
  createdAt: '2026-01-02T00:00:00.000Z',
});

describe('deriveFinancialStatus', () => {
  it('is PENDING without payments, whatever the refunds', () => {
    expect(deriveFinancialStatus([], [])).toBe('PENDING');
    expect(deriveFinancialStatus([], [refund('SUCCEEDED', 100)])).toBe('PENDING');
  });

  it('is VOIDED when every payment is voided or declined', () => {
    expect(deriveFinancialStatus([payment('VOIDED')], [])).toBe('VOIDED');
    expect(deriveFinancialStatus([payment('DECLINED'), payment('VOIDED', 5)], [])).toBe('VOIDED');
  });

  it('is not VOIDED when one payment is still alive', () => {
    expect(deriveFinancialStatus([payment('DECLINED'), payment('AUTHORIZED')], [])).toBe('AUTHORIZED');
    expect(deriveFinancialStatus([payment('DECLINED'), payment('CAPTURED')], [])).toBe('PAID');
  });

  it('is AUTHORIZED when nothing is captured or refunded', () => {
    expect(deriveFinancialStatus([payment('AUTHORIZED')], [])).toBe('AUTHORIZED');
  });

  it('is PAID when something is captured and nothing refunded', () => {
    expect(deriveFinancialStatus([payment('CAPTURED')], [])).toBe('PAID');
    expect(deriveFinancialStatus([payment('CAPTURED'), payment('AUTHORIZED')], [])).toBe('PAID');
  });

  it('is REFUNDED when succeeded refunds cover the captured total', () => {
    expect(deriveFinancialStatus([payment('CAPTURED', 10_000)], [refund('SUCCEEDED', 10_000)])).toBe('REFUNDED');
    expect(deriveFinancialStatus([payment('CAPTURED', 10_000)], [refund('SUCCEEDED', 4_000), refund('SUCCEEDED', 6_000)])).toBe('REFUNDED');
    expect(deriveFinancialStatus([payment('CAPTURED', 10_000)], [refund('SUCCEEDED', 12_000)])).toBe('REFUNDED');
  });

  it('is PARTIALLY_REFUNDED when succeeded refunds cover part of the captured total', () => {
    expect(deriveFinancialStatus([payment('CAPTURED', 10_000)], [refund('SUCCEEDED', 2_500)])).toBe('PARTIALLY_REFUNDED');
    expect(deriveFinancialStatus([payment('CAPTURED', 6_000), payment('CAPTURED', 4_000)], [refund('SUCCEEDED', 6_000)])).toBe('PARTIALLY_REFUNDED');
  });

  it('ignores pending and failed refunds, which moved no money', () => {
    expect(deriveFinancialStatus([payment('CAPTURED', 10_000)], [refund('PENDING', 10_000), refund('FAILED', 10_000)])).toBe('PAID');
    expect(deriveFinancialStatus([payment('CAPTURED', 10_000)], [refund('SUCCEEDED', 1_000), refund('PENDING', 9_000)])).toBe('PARTIALLY_REFUNDED');
  });

  it('counts only captured payments towards what can be refunded', () => {
    // An authorization that was never captured is not money the refunds have to cover.
    expect(deriveFinancialStatus([payment('CAPTURED', 6_000), payment('AUTHORIZED', 4_000)], [refund('SUCCEEDED', 6_000)])).toBe('REFUNDED');
    expect(deriveFinancialStatus([payment('CAPTURED', 6_000), payment('VOIDED', 4_000)], [refund('SUCCEEDED', 3_000)])).toBe('PARTIALLY_REFUNDED');
  });

  it('does not call a zero capture with no refunds REFUNDED', () => {
    expect(deriveFinancialStatus([payment('CAPTURED', 0)], [])).toBe('PAID');
  });
});
