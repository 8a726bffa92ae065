import { graphql } from 'graphql';
import { printSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { SystemUnavailableError } from '../../common/resilience.js';
import { createFinanceLoaders, type FinanceContext } from './context.js';
import { buildFinanceSchema } from './index.js';
import type { FinanceInvoice, FinancePayment, FinancePosting, FinanceRefund, LedgerPort, PaymentsPort } from './ports.js';

const eur = (minor: number) => ({ minor, currency: 'EUR' });
const at = '2026-01-01T00:00:00.000Z';
const PAYMENTS: FinancePayment[] = [
  { id: 'pay-1', orderId: 'ord-1', status: 'CAPTURED', method: 'CARD', amount: eur(10_000), createdAt: at },
  { id: 'pay-2', orderId: 'ord-2', status: 'AUTHORIZED', method: 'PAYPAL', amount: eur(2_000), createdAt: at },
];
const REFUNDS: FinanceRefund[] = [{ id: 'ref-1', orderId: 'ord-1', status: 'SUCCEEDED', amount: eur(2_500), reason: 'Too big', createdAt: at }];
const INVOICES: FinanceInvoice[] = [{ id: 'inv-1', orderId: 'ord-1', number: 'INV-2026-000001', status: 'PAID', total: eur(10_000), issuedAt: at }];
const POSTINGS: FinancePosting[] = [
  { id: 'post-1', orderId: 'ord-1', type: 'SALE', status: 'POSTED', attempts: 1, amount: eur(10_000), erpDocumentNumber: 'FI-00000001', lastError: null, postedAt: at, createdAt: at },
];

const byOrder = <T extends { orderId: string }>(items: readonly T[], ids: readonly string[]) => ids.map((id) => items.filter((i) => i.orderId === id));

/** Ports that count their calls, the way the N+1 tests count sandbox calls. */
function fakePorts(down: { psp?: boolean; erp?: boolean } = {}) {
  const calls = { getPaymentsByOrder: 0, getRefundsByOrder: 0, getInvoicesByOrder: 0, getPostingsByOrder: 0 };
  const fail = (system: 'psp' | 'erp') => {
    if (down[system]) throw new SystemUnavailableError(system, 'test outage');
  };
  const payments: PaymentsPort = {
    async getPaymentsByOrder(ids) {
      calls.getPaymentsByOrder++;
      fail('psp');
      return byOrder(PAYMENTS, ids);
    },
    async getRefundsByOrder(ids) {
      calls.getRefundsByOrder++;
      fail('psp');
      return byOrder(REFUNDS, ids);
    },
  };
  const ledger: LedgerPort = {
    async getInvoicesByOrder(ids) {
      calls.getInvoicesByOrder++;
      fail('erp');
      return byOrder(INVOICES, ids);
    },
    async getPostingsByOrder(ids) {
      calls.getPostingsByOrder++;
      fail('erp');
      return byOrder(POSTINGS, ids);
    },
  };
  const context: FinanceContext = { scope: { correlationId: 'test' }, stats: { operationName: null, errors: 0 }, payments, ledger, loaders: createFinanceLoaders(payments, ledger) };
  return { context, calls };
}

const ENTITIES = `query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Order {
      id
      financialStatus
      payments { id status method amount { amount currencyCode } }
      refunds { id status amount { amount } reason }
      invoices { number status total { amount } }
      erpPostings { id type status attempts erpDocumentNumber lastError postedAt }
    }
  }
}`;
const orders = (...ids: string[]) => ({ r: ids.map((id) => ({ __typename: 'Order', id })) });

describe('finance subgraph schema', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildFinanceSchema();
  });

  it('extends Order with the contract fields, all nullable', () => {
    const sdl = printSubgraphSchema(schema);
    expect(sdl).toMatch(/type Order\s+@key\(fields: "id"\)/);
    for (const field of ['id: ID!', 'payments: [Payment!]', 'refunds: [Refund!]', 'financialStatus: FinancialStatus', 'invoices: [Invoice!]', 'erpPostings: [ErpPosting!]']) {
      expect(sdl).toContain(`  ${field}\n`);
    }
    expect(sdl).toMatch(/enum FinancialStatus \{\s+(?:"""[^"]*"""\s+)?PENDING\s+(?:"""[^"]*"""\s+)?AUTHORIZED\s+(?:"""[^"]*"""\s+)?PAID\s+(?:"""[^"]*"""\s+)?PARTIALLY_REFUNDED\s+(?:"""[^"]*"""\s+)?REFUNDED\s+(?:"""[^"]*"""\s+)?VOIDED\s+\}/);
    expect(sdl).toMatch(/type ErpPosting \{[^}]*erpDocumentNumber: String\n[^}]*lastError: String\n[^}]*postedAt: DateTime\n[^}]*createdAt: DateTime!/);
    expect(sdl).toMatch(/type Money\s+@shareable/);
  });

  it('resolves the finance fields of many orders with one call per system method', async () => {
    const { context, calls } = fakePorts();
    const result = await graphql({ schema, source: ENTITIES, variableValues: orders('ord-1', 'ord-2', 'ord-3'), contextValue: context });
    expect(result.errors).toBeUndefined();
    const [first, second, third] = JSON.parse(JSON.stringify(result.data))._entities;
    expect(first).toEqual({
      id: 'ord-1',
      financialStatus: 'PARTIALLY_REFUNDED',
      payments: [{ id: 'pay-1', status: 'CAPTURED', method: 'CARD', amount: { amount: '100.00', currencyCode: 'EUR' } }],
      refunds: [{ id: 'ref-1', status: 'SUCCEEDED', amount: { amount: '25.00' }, reason: 'Too big' }],
      invoices: [{ number: 'INV-2026-000001', status: 'PAID', total: { amount: '100.00' } }],
      erpPostings: [{ id: 'post-1', type: 'SALE', status: 'POSTED', attempts: 1, erpDocumentNumber: 'FI-00000001', lastError: null, postedAt: at }],
    });
    expect(second).toMatchObject({ id: 'ord-2', financialStatus: 'AUTHORIZED', refunds: [], invoices: [] });
    // Orders owns existence: an order finance has never heard of is there, with empty money fields.
    expect(third).toEqual({ id: 'ord-3', financialStatus: 'PENDING', payments: [], refunds: [], invoices: [], erpPostings: [] });
    expect(calls).toEqual({ getPaymentsByOrder: 1, getRefundsByOrder: 1, getInvoicesByOrder: 1, getPostingsByOrder: 1 });
  });

  it('nulls only the PSP fields, with located PSP_UNAVAILABLE errors, when the PSP is down', async () => {
    const { context, calls } = fakePorts({ psp: true });
    const result = await graphql({ schema, source: ENTITIES, variableValues: orders('ord-1'), contextValue: context });
    // financialStatus shares the failed loads of payments and refunds: no extra call to a system that is down.
    expect(calls).toMatchObject({ getPaymentsByOrder: 1, getRefundsByOrder: 1 });
    const order = (result.data?._entities as Record<string, unknown>[])[0];
    expect(order).toMatchObject({ id: 'ord-1', payments: null, refunds: null, financialStatus: null, invoices: [{ number: 'INV-2026-000001' }] });
    expect(result.errors?.map((e) => e.extensions.code)).toEqual(['PSP_UNAVAILABLE', 'PSP_UNAVAILABLE', 'PSP_UNAVAILABLE']);
    expect(result.errors?.map((e) => e.path?.at(-1)).sort()).toEqual(['financialStatus', 'payments', 'refunds']);
  });

  it('nulls only the ERP fields when the ERP is down', async () => {
    const { context } = fakePorts({ erp: true });
    const result = await graphql({ schema, source: ENTITIES, variableValues: orders('ord-1'), contextValue: context });
    expect((result.data?._entities as Record<string, unknown>[])[0]).toMatchObject({ financialStatus: 'PARTIALLY_REFUNDED', invoices: null, erpPostings: null });
    expect(result.errors?.map((e) => e.extensions.code)).toEqual(['ERP_UNAVAILABLE', 'ERP_UNAVAILABLE']);
  });
});
