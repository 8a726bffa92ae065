import { graphql } from 'graphql';
import { printSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { enforceAuthorization } from '../../common/auth/enforce.js';
import type { Principal } from '../../common/auth/principal.js';
import { InMemoryEventBackbone } from '../../common/events.js';
import { toGlobalId } from '../../common/global-id.js';
import { InMemoryIdempotencyStore } from '../../common/idempotency.js';
import { createLogger } from '../../common/logger.js';
import { SystemUnavailableError } from '../../common/resilience.js';
import { TEST_FINANCE, testShopper, testStore } from '../../test/support/principals.js';
import { createFinanceLoaders, type FinanceContext } from './context.js';
import { buildFinanceSchema } from './index.js';
import { ErpOutbox } from './outbox/outbox.js';
import type { JournalPort, OutboxPosting } from './outbox/ports.js';
import { outboxSettings } from './outbox/settings.js';
import { InMemoryOutboxStore } from './outbox/store.js';
import type { FinanceInvoice, FinancePayment, FinancePosting, FinanceRefund, LedgerPort, OrderOwnersPort, PaymentsPort } from './ports.js';

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

/** Whose the orders are: ord-1 is cust-1's, ord-2 cust-2's, ord-3 a till sale without a customer. */
const OWNERS: Record<string, string | null> = { 'ord-1': 'cust-1', 'ord-2': 'cust-2', 'ord-3': null };

const byOrder = <T extends { orderId: string }>(items: readonly T[], ids: readonly string[]) => ids.map((id) => items.filter((i) => i.orderId === id));

/**
 * Ports that count their calls, the way the N+1 tests count sandbox calls. Finance staff read any order's money,
 * the outbox and the reconciliation, so they are the caller; other callers where a test says so.
 */
function fakePorts(down: { psp?: boolean; erp?: boolean } = {}, principal: Principal = TEST_FINANCE) {
  const calls = { getPaymentsByOrder: 0, getRefundsByOrder: 0, getInvoicesByOrder: 0, getPostingsByOrder: 0 };
  const ownerCalls = { customersOf: 0 };
  const owners: OrderOwnersPort = {
    async customersOf(ids) {
      ownerCalls.customersOf++;
      return ids.map((id) => OWNERS[id]);
    },
  };
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
    async getPostings(ids) {
      fail('erp');
      return ids.map((id) => POSTINGS.find((p) => p.id === id) ?? null);
    },
    async getPostingsByDate(from, to) {
      fail('erp');
      return POSTINGS.filter((p) => p.createdAt >= from && p.createdAt < to);
    },
  };
  // The outbox is not started: these tests put postings in its store directly.
  const journal: JournalPort = {
    post: async () => {
      throw new SystemUnavailableError('erp', 'not in these tests');
    },
    postBatch: async () => {
      throw new SystemUnavailableError('erp', 'not in these tests');
    },
    issueInvoice: async () => {
      throw new SystemUnavailableError('erp', 'not in these tests');
    },
  };
  const store = new InMemoryOutboxStore();
  const backbone = new InMemoryEventBackbone();
  const outbox = new ErpOutbox({ journal, backbone, store, settings: outboxSettings(), logger: createLogger({ level: 'silent' }) });
  const context: FinanceContext = {
    scope: { correlationId: 'test', principal },
    stats: { operationName: null, errors: 0 },
    principal,
    payments,
    ledger,
    outbox,
    backbone,
    idempotency: new InMemoryIdempotencyStore(),
    loaders: createFinanceLoaders(payments, ledger, outbox, owners),
  };
  return { context, calls, ownerCalls, store };
}

/** A posting the outbox is still retrying. */
const RETRYING: OutboxPosting = {
  id: 'post-evt-9',
  orderId: 'ord-1',
  type: 'REFUND',
  status: 'FAILED',
  attempts: 3,
  roundAttempts: 3,
  deadLetters: 0,
  amount: eur(2_500),
  erpDocumentNumber: null,
  lastError: 'ERP is unavailable: down',
  postedAt: null,
  createdAt: '2026-01-02T00:00:00.000Z',
  sourceEventId: 'evt-9',
  sourceType: 'REFUND_ISSUED',
  sourceOccurredAt: '2026-01-02T00:00:00.000Z',
  correlationId: 'corr-1',
  nextAttemptAt: '2026-01-02T00:00:10.000Z',
  invoice: null,
};

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
    // As the service runs it: the schema enforces its own authorization directives.
    schema = enforceAuthorization(await buildFinanceSchema());
  });

  it('extends Order with the contract fields, all nullable', () => {
    const sdl = printSubgraphSchema(schema);
    expect(sdl).toMatch(/type Order\s+@key\(fields: "id"\)/);
    for (const field of ['id: ID!', 'payments: [Payment!]', 'refunds: [Refund!]', 'financialStatus: FinancialStatus', 'invoices: [Invoice!]', 'erpPostings: [ErpPosting!]']) {
      // The field, nullable, then (for the protected ones) who may read it.
      expect(sdl).toMatch(new RegExp(`\\n  ${field.replace(/[[\]]/g, '\\$&')}( @[^\\n]*)?\\n`));
    }
    expect(sdl).toMatch(/enum FinancialStatus \{\s+(?:"""[^"]*"""\s+)?PENDING\s+(?:"""[^"]*"""\s+)?AUTHORIZED\s+(?:"""[^"]*"""\s+)?PAID\s+(?:"""[^"]*"""\s+)?PARTIALLY_REFUNDED\s+(?:"""[^"]*"""\s+)?REFUNDED\s+(?:"""[^"]*"""\s+)?VOIDED\s+\}/);
    expect(sdl).toMatch(/type ErpPosting \{[^}]*erpDocumentNumber: String\n[^}]*lastError: String\n[^}]*postedAt: DateTime\n[^}]*createdAt: DateTime!/);
    expect(sdl).toMatch(/type Money\s+@shareable/);
    expect(sdl).toMatch(/type ErpPosting \{[^}]*orderId: ID!\n[^}]*sourceEventId: ID\n[^}]*nextAttemptAt: DateTime\n/);
  });

  it('offers the reconciliation query, the outbox listing and the replay mutation', () => {
    // Descriptions dropped and whitespace collapsed: the shape is what is checked here.
    const sdl = printSubgraphSchema(schema).replace(/"""[\s\S]*?"""/g, '').replace(/\s+/g, ' ');
    expect(sdl).toContain('reconciliation( from: DateTime! to: DateTime! ): Reconciliation ');
    // The listing and the payload are nullable: a caller the directives refuse gets null with a located error.
    expect(sdl).toContain('erpOutbox( statuses: [PostingStatus!] orderId: ID first: Int = 20 ): [ErpPosting!] ');
    expect(sdl).toContain('replayPostings( ids: [ID!]! idempotencyKey: String ): ReplayPostingsPayload ');
    expect(sdl).toContain('type ReplayPostingsPayload { postings: [ErpPosting!]! userErrors: [UserError!]! }');
    expect(sdl).toMatch(/type Reconciliation \{ from: DateTime! to: DateTime! sourceTotal: Money! erpTotal: Money! byCurrency: \[ReconciliationCurrencyTotals!\]! sourceItems: Int! pendingPostings: Int! failedPostings: Int! mismatches: \[ReconciliationMismatch!\]! \}/);
    expect(sdl).toContain('type ReconciliationMismatch { orderId: ID! order: Order! type: PostingType! reason: MismatchReason! expected: Money posted: Money ');
  });

  it('resolves the finance fields of many orders with one call per system method', async () => {
    const { context, calls } = fakePorts();
    const result = await graphql({ schema, source: ENTITIES, variableValues: orders('ord-1', 'ord-2', 'ord-3'), contextValue: context });
    expect(result.errors).toBeUndefined();
    const [first, second, third] = JSON.parse(JSON.stringify(result.data))._entities;
    expect(first).toEqual({
      id: toGlobalId('Order', 'ord-1'),
      financialStatus: 'PARTIALLY_REFUNDED',
      payments: [{ id: 'pay-1', status: 'CAPTURED', method: 'CARD', amount: { amount: '100.00', currencyCode: 'EUR' } }],
      refunds: [{ id: 'ref-1', status: 'SUCCEEDED', amount: { amount: '25.00' }, reason: 'Too big' }],
      invoices: [{ number: 'INV-2026-000001', status: 'PAID', total: { amount: '100.00' } }],
      erpPostings: [{ id: 'post-1', type: 'SALE', status: 'POSTED', attempts: 1, erpDocumentNumber: 'FI-00000001', lastError: null, postedAt: at }],
    });
    expect(second).toMatchObject({ id: toGlobalId('Order', 'ord-2'), financialStatus: 'AUTHORIZED', refunds: [], invoices: [] });
    // Orders owns existence: an order finance has never heard of is there, with empty money fields.
    expect(third).toEqual({ id: toGlobalId('Order', 'ord-3'), financialStatus: 'PENDING', payments: [], refunds: [], invoices: [], erpPostings: [] });
    expect(calls).toEqual({ getPaymentsByOrder: 1, getRefundsByOrder: 1, getInvoicesByOrder: 1, getPostingsByOrder: 1 });
  });

  it('nulls only the PSP fields, with located PSP_UNAVAILABLE errors, when the PSP is down', async () => {
    const { context, calls } = fakePorts({ psp: true });
    const result = await graphql({ schema, source: ENTITIES, variableValues: orders('ord-1'), contextValue: context });
    // financialStatus shares the failed loads of payments and refunds: no extra call to a system that is down.
    expect(calls).toMatchObject({ getPaymentsByOrder: 1, getRefundsByOrder: 1 });
    const order = (result.data?._entities as Record<string, unknown>[])[0];
    expect(order).toMatchObject({ id: toGlobalId('Order', 'ord-1'), payments: null, refunds: null, financialStatus: null, invoices: [{ number: 'INV-2026-000001' }] });
    expect(result.errors?.map((e) => e.extensions.code)).toEqual(['PSP_UNAVAILABLE', 'PSP_UNAVAILABLE', 'PSP_UNAVAILABLE']);
    expect(result.errors?.map((e) => e.path?.at(-1)).sort()).toEqual(['financialStatus', 'payments', 'refunds']);
  });

  it('merges the outbox into erpPostings: one entry per id, the outbox state of what the ERP does not hold yet', async () => {
    const { context, store } = fakePorts();
    await store.save(RETRYING);
    // The outbox also holds the ERP's posting (it booked it): the ERP's record and document number win.
    await store.save({ ...RETRYING, id: 'post-1', type: 'SALE', status: 'POSTED', attempts: 2, amount: eur(10_000), erpDocumentNumber: 'FI-00000001', lastError: null, nextAttemptAt: null, sourceEventId: 'evt-1', createdAt: at });
    const result = await graphql({ schema, source: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { erpPostings { id orderId type status attempts lastError sourceEventId nextAttemptAt erpDocumentNumber } } } }`, variableValues: orders('ord-1'), contextValue: context });
    expect(result.errors).toBeUndefined();
    expect(JSON.parse(JSON.stringify(result.data))._entities[0].erpPostings).toEqual([
      { id: 'post-1', orderId: 'ord-1', type: 'SALE', status: 'POSTED', attempts: 2, lastError: null, sourceEventId: 'evt-1', nextAttemptAt: null, erpDocumentNumber: 'FI-00000001' },
      { id: 'post-evt-9', orderId: 'ord-1', type: 'REFUND', status: 'FAILED', attempts: 3, lastError: 'ERP is unavailable: down', sourceEventId: 'evt-9', nextAttemptAt: '2026-01-02T00:00:10.000Z', erpDocumentNumber: null },
    ]);
  });

  it('lists the outbox while the ERP is down (erpOutbox reads no ERP); first is bounded', async () => {
    const { context, store } = fakePorts({ erp: true });
    await store.save(RETRYING);
    const result = await graphql({ schema, source: '{ erpOutbox(statuses: [FAILED, DEAD_LETTER]) { id status attempts lastError } }', contextValue: context });
    expect(result.errors).toBeUndefined();
    expect(JSON.parse(JSON.stringify(result.data)).erpOutbox).toEqual([{ id: 'post-evt-9', status: 'FAILED', attempts: 3, lastError: 'ERP is unavailable: down' }]);
    const tooMany = await graphql({ schema, source: '{ erpOutbox(first: 101) { id } }', contextValue: context });
    expect(tooMany.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a reconciliation window that is reversed, empty or longer than 92 days with BAD_USER_INPUT', async () => {
    const { context } = fakePorts();
    const run = (from: string, to: string) => graphql({ schema, source: 'query($from: DateTime!, $to: DateTime!) { reconciliation(from: $from, to: $to) { sourceTotal { amount } } }', variableValues: { from, to }, contextValue: context });
    for (const [from, to] of [
      ['2026-02-01T00:00:00Z', '2026-01-01T00:00:00Z'],
      ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'],
      ['2026-01-01T00:00:00Z', '2026-04-03T00:00:01Z'],
    ] as const) {
      const result = await run(from, to);
      expect(result.data?.reconciliation ?? null).toBeNull();
      expect(result.errors?.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    }
    const ok = await run('2026-01-01T00:00:00Z', '2026-04-03T00:00:00Z');
    expect(ok.errors).toBeUndefined();
  });

  it("gives a shopper the money of their own orders only, no ERP postings, and a store associate none of it", async () => {
    const { context, calls, ownerCalls } = fakePorts({}, testShopper('cust-1'));
    const source = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id financialStatus payments { id } erpPostings { id } } } }`;
    const mine = await graphql({ schema, source, variableValues: orders('ord-1', 'ord-2', 'ord-3'), contextValue: context });
    // Another customer's order and a till sale resolve as unknown ones; whose they are costs one owners call.
    expect(mine.data?._entities).toEqual([{ id: toGlobalId('Order', 'ord-1'), financialStatus: 'PARTIALLY_REFUNDED', payments: [{ id: 'pay-1' }], erpPostings: null }, null, null]);
    expect(mine.errors?.map((e) => [e.path?.join('.'), e.extensions.code])).toEqual([['_entities.0.erpPostings', 'FORBIDDEN']]);
    expect(ownerCalls.customersOf).toBe(1);
    expect(calls.getPostingsByOrder).toBe(0);

    const atStore = fakePorts({}, testStore('store-001'));
    const refused = await graphql({ schema, source, variableValues: orders('ord-1'), contextValue: atStore.context });
    expect(refused.data?._entities).toEqual([{ id: toGlobalId('Order', 'ord-1'), financialStatus: null, payments: null, erpPostings: null }]);
    expect(refused.errors?.map((e) => e.extensions.code)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
    expect(atStore.calls).toEqual({ getPaymentsByOrder: 0, getRefundsByOrder: 0, getInvoicesByOrder: 0, getPostingsByOrder: 0 });
  });

  it('keeps the outbox, the replay and the reconciliation to finance', async () => {
    const { context } = fakePorts({}, testShopper('cust-1'));
    const result = await graphql({
      schema,
      source: 'mutation { replayPostings(ids: ["post-1"]) { userErrors { code } } }',
      contextValue: context,
    });
    expect(result.data).toEqual({ replayPostings: null });
    expect(result.errors?.map((e) => e.extensions.code)).toEqual(['FORBIDDEN']);
    const reads = await graphql({ schema, source: '{ erpOutbox { id } reconciliation(from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { sourceItems } }', contextValue: context });
    expect(reads.data).toEqual({ erpOutbox: null, reconciliation: null });
    expect(reads.errors?.map((e) => e.extensions.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
  });

  it('nulls only the ERP fields when the ERP is down', async () => {
    const { context } = fakePorts({ erp: true });
    const result = await graphql({ schema, source: ENTITIES, variableValues: orders('ord-1'), contextValue: context });
    expect((result.data?._entities as Record<string, unknown>[])[0]).toMatchObject({ financialStatus: 'PARTIALLY_REFUNDED', invoices: null, erpPostings: null });
    expect(result.errors?.map((e) => e.extensions.code)).toEqual(['ERP_UNAVAILABLE', 'ERP_UNAVAILABLE']);
  });
});
