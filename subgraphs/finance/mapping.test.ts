// The graph types carry type-graphql decorators, which need the metadata polyfill that buildFederatedSchema loads.
import { describe, expect, it } from 'vitest';
import type { InvoiceRecord, PaymentRecord, PostingRecord, RefundRecord } from '../../common/systems/records.js';
import { toInvoice as invoiceFromErp, toPosting as postingFromErp } from './adapters/sandbox-ledger.js';
import { toPayment as paymentFromPsp, toRefund as refundFromPsp } from './adapters/sandbox-payments.js';
import { toErpPosting, toInvoice, toPayment, toRefund } from './mapping.js';

describe('finance mapping', () => {
  it('maps a PSP payment through the port to the graph type, money as a decimal string', () => {
    const record: PaymentRecord = { id: 'pay-1', orderId: 'ord-1', status: 'CAPTURED', method: 'KLARNA', amountMinor: 12_345, currency: 'EUR', createdAt: '2026-02-01T10:00:00.000Z' };
    const port = paymentFromPsp(record);
    expect(port).toEqual({ id: 'pay-1', orderId: 'ord-1', status: 'CAPTURED', method: 'KLARNA', amount: { minor: 12_345, currency: 'EUR' }, createdAt: '2026-02-01T10:00:00.000Z' });
    expect(toPayment(port)).toMatchObject({ id: 'pay-1', status: 'CAPTURED', method: 'KLARNA', amount: { amount: '123.45', currencyCode: 'EUR' }, createdAt: '2026-02-01T10:00:00.000Z' });
  });

  it('maps a PSP refund', () => {
    const record: RefundRecord = { id: 'ref-1', orderId: 'ord-1', status: 'SUCCEEDED', amountMinor: 999, currency: 'EUR', reason: 'Damaged', createdAt: '2026-02-03T10:00:00.000Z' };
    expect(toRefund(refundFromPsp(record))).toMatchObject({ id: 'ref-1', status: 'SUCCEEDED', amount: { amount: '9.99', currencyCode: 'EUR' }, reason: 'Damaged', createdAt: '2026-02-03T10:00:00.000Z' });
  });

  it('maps an ERP invoice', () => {
    const record: InvoiceRecord = { id: 'inv-1', orderId: 'ord-1', number: 'INV-2026-000001', status: 'CREDITED', totalMinor: 5_000, currency: 'EUR', issuedAt: '2026-02-01T11:00:00.000Z' };
    expect(toInvoice(invoiceFromErp(record))).toMatchObject({ id: 'inv-1', number: 'INV-2026-000001', status: 'CREDITED', total: { amount: '50.00', currencyCode: 'EUR' }, issuedAt: '2026-02-01T11:00:00.000Z' });
  });

  it('maps an ERP posting, keeping the nulls of one that never posted', () => {
    const record: PostingRecord = {
      id: 'post-1',
      orderId: 'ord-1',
      type: 'SALE',
      status: 'DEAD_LETTER',
      attempts: 8,
      amountMinor: 5_000,
      currency: 'EUR',
      erpDocumentNumber: null,
      lastError: 'ERP rejected: posting period closed',
      postedAt: null,
      createdAt: '2026-02-01T11:00:00.000Z',
    };
    expect(toErpPosting(postingFromErp(record))).toMatchObject({
      id: 'post-1',
      type: 'SALE',
      status: 'DEAD_LETTER',
      attempts: 8,
      amount: { amount: '50.00', currencyCode: 'EUR' },
      erpDocumentNumber: null,
      lastError: 'ERP rejected: posting period closed',
      postedAt: null,
      createdAt: '2026-02-01T11:00:00.000Z',
    });
  });
});
