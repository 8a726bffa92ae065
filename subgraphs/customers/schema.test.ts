import { graphql } from 'graphql';
import { printSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { enforceAuthorization } from '../../common/auth/enforce.js';
import type { Principal } from '../../common/auth/principal.js';
import { toGlobalId } from '../../common/global-id.js';
import { SystemUnavailableError } from '../../common/resilience.js';
import { TEST_AGENT, TEST_FINANCE, testShopper, testStore } from '../../test/support/principals.js';
import { createCustomerLoaders, type CustomersContext } from './context.js';
import { buildCustomersSchema } from './index.js';
import type { CustomerMasterPort, CustomerProfile, LoyaltyEntry, LoyaltyLedgerPort, ServedLocationsPort } from './ports.js';

const profile = (id: string, firstName: string, lastName: string): CustomerProfile => ({
  id,
  firstName,
  lastName,
  email: `${firstName.toLowerCase()}@example.com`,
  phone: '+49 30 1234567',
  loyalty: { tier: 'SILVER', pointsBalance: 10 },
  marketingConsent: { email: true, sms: true },
  createdAt: '2025-01-02T03:04:05.000Z',
});

const PEOPLE = [profile('c1', 'Ada', 'Lovelace'), profile('c2', 'Alan', 'Turing'), profile('c3', 'Grace', 'Hopper')];

/** A customer master that counts its calls, the way the N+1 tests count sandbox calls. */
function fakeCustomerMaster(options: { down?: boolean } = {}) {
  const calls = { getCustomers: 0, searchCustomers: 0 };
  const port: CustomerMasterPort = {
    async getCustomers(ids) {
      calls.getCustomers++;
      if (options.down) throw new SystemUnavailableError('crm', 'test outage');
      return ids.map((id) => PEOPLE.find((p) => p.id === id) ?? null);
    },
    async searchCustomers(query, limit) {
      calls.searchCustomers++;
      if (options.down) throw new SystemUnavailableError('crm', 'test outage');
      return PEOPLE.filter((p) => `${p.firstName} ${p.lastName}`.toLowerCase().includes(query.toLowerCase())).slice(0, limit);
    },
  };
  return { port, calls };
}

/** Where each customer's orders are picked up or fulfilled from: c1 at store-001, c2 from wh-01, c3 nowhere. */
function fakeServedLocations() {
  const calls = { locationsServing: 0 };
  const served: Record<string, string[]> = { c1: ['store-001'], c2: ['wh-01'] };
  const port: ServedLocationsPort = {
    async locationsServing(ids) {
      calls.locationsServing++;
      return ids.map((id) => new Set(served[id] ?? []));
    },
  };
  return { port, calls };
}

/** A loyalty ledger with one earning and one reversal of c1's. */
function fakeLoyaltyLedger() {
  const calls = { entriesOf: 0 };
  const entries: LoyaltyEntry[] = [
    { reference: 'loy-ord-1-earn', customerId: 'c1', kind: 'EARNED', points: 20, orderId: 'ord-1', returnId: null, balance: 30, postedAt: '2025-02-01T00:00:00.000Z' },
    { reference: 'loy-ret-1-reverse', customerId: 'c1', kind: 'REVERSED', points: 5, orderId: 'ord-1', returnId: 'ret-1', balance: 25, postedAt: '2025-02-02T00:00:00.000Z' },
  ];
  const port: LoyaltyLedgerPort = {
    async post() {
      throw new Error('the schema never posts');
    },
    async entriesOf(ids) {
      calls.entriesOf++;
      return ids.map((id) => entries.filter((e) => e.customerId === id));
    },
  };
  return { port, calls };
}

// The callers a real client would be: the service console (agent) looks customers up; the others for their rules.
function contextFor(port: CustomerMasterPort, principal: Principal = TEST_AGENT, servedLocations: ServedLocationsPort = fakeServedLocations().port, ledger: LoyaltyLedgerPort = fakeLoyaltyLedger().port): CustomersContext {
  return { scope: { correlationId: 'test', principal }, stats: { operationName: null, errors: 0 }, principal, customerMaster: port, loaders: createCustomerLoaders(port, servedLocations, ledger) };
}

describe('customers subgraph schema', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    // As the service runs it: the schema enforces its own authorization directives.
    schema = enforceAuthorization(await buildCustomersSchema());
  });

  it('declares Customer as an entity with the contract fields', () => {
    const sdl = printSubgraphSchema(schema);
    expect(sdl).toMatch(/type Customer\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/enum LoyaltyTier \{\s+BRONZE\s+SILVER\s+GOLD\s+PLATINUM\s+\}/);
    // Every field but the key is nullable: a caller who may not see one gets null there (FORBIDDEN) and keeps the rest.
    for (const field of ['id: ID!', 'name: String', 'firstName: String', 'lastName: String', 'email: String', 'phone: String', 'loyalty: Loyalty', 'marketingConsent: MarketingConsent', 'createdAt: DateTime']) {
      expect(sdl).toMatch(new RegExp(`\\n  ${field}( @[^\\n]*)?\\n`));
    }
    expect(sdl).toMatch(/type Loyalty \{[^}]*tier: LoyaltyTier![^}]*pointsBalance: Int!/);
    expect(sdl).toMatch(/type MarketingConsent \{[^}]*email: Boolean![^}]*sms: Boolean!/);
    expect(sdl).toMatch(/\n  customer\(id: ID!\): Customer( @[^\n]*)?\n/);
    expect(sdl).toMatch(/\n  me: Customer( @[^\n]*)?\n/);
    expect(sdl).toMatch(/searchCustomers\((?=[^)]*query: String!)(?=[^)]*first: Int = 10)[^)]*\): \[Customer!\]( @[^\n]*)?\n/);
  });

  it('resolves many entity references with one CRM call, unknown ids as null', async () => {
    const { port, calls } = fakeCustomerMaster();
    const result = await graphql({
      schema,
      source: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id name createdAt loyalty { tier } } } }`,
      variableValues: { r: ['c1', 'c2', 'nope', 'c3', 'c1'].map((id) => ({ __typename: 'Customer', id })) },
      contextValue: contextFor(port),
    });
    expect(result.errors).toBeUndefined();
    // Through JSON, as on the wire: the DateTime scalar serializes to a Date, which JSON writes as ISO 8601.
    expect(JSON.parse(JSON.stringify(result.data))._entities).toEqual([
      { id: toGlobalId('Customer', 'c1'), name: 'Ada Lovelace', createdAt: '2025-01-02T03:04:05.000Z', loyalty: { tier: 'SILVER' } },
      { id: toGlobalId('Customer', 'c2'), name: 'Alan Turing', createdAt: '2025-01-02T03:04:05.000Z', loyalty: { tier: 'SILVER' } },
      null,
      { id: toGlobalId('Customer', 'c3'), name: 'Grace Hopper', createdAt: '2025-01-02T03:04:05.000Z', loyalty: { tier: 'SILVER' } },
      { id: toGlobalId('Customer', 'c1'), name: 'Ada Lovelace', createdAt: '2025-01-02T03:04:05.000Z', loyalty: { tier: 'SILVER' } },
    ]);
    expect(calls.getCustomers).toBe(1);
  });

  it('answers an unknown customer id with null and no error', async () => {
    const { port } = fakeCustomerMaster();
    const result = await graphql({ schema, source: '{ customer(id: "nope") { id } }', contextValue: contextFor(port) });
    expect(result).toEqual({ data: { customer: null } });
  });

  it('primes the customer loader with search results', async () => {
    const { port, calls } = fakeCustomerMaster();
    const contextValue = contextFor(port);
    const search = await graphql({ schema, source: '{ searchCustomers(query: "a", first: 2) { id name } }', contextValue });
    expect(search.data?.searchCustomers).toEqual([
      { id: toGlobalId('Customer', 'c1'), name: 'Ada Lovelace' },
      { id: toGlobalId('Customer', 'c2'), name: 'Alan Turing' },
    ]);
    const again = await graphql({ schema, source: '{ customer(id: "c2") { email } }', contextValue });
    expect(again.data?.customer).toEqual({ email: 'alan@example.com' });
    expect(calls).toEqual({ searchCustomers: 1, getCustomers: 0 });
  });

  it.each([
    ['a blank query', '{ searchCustomers(query: "   ") { id } }'],
    ['an over-long query', `{ searchCustomers(query: "${'x'.repeat(201)}") { id } }`],
    ['first above 100', '{ searchCustomers(query: "ada", first: 101) { id } }'],
    ['negative first', '{ searchCustomers(query: "ada", first: -1) { id } }'],
  ])('refuses %s with BAD_USER_INPUT before calling the CRM', async (_name, source) => {
    const { port, calls } = fakeCustomerMaster();
    const result = await graphql({ schema, source, contextValue: contextFor(port) });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(calls.searchCustomers).toBe(0);
  });

  it('shows each caller only their part: a shopper themselves, a store the name and phone of customers it serves, finance the name', async () => {
    const { port } = fakeCustomerMaster();
    const served = fakeServedLocations();
    const entities = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id name phone email } } }`;
    const asCaller = (principal: Principal, ids: string[]) =>
      graphql({ schema, source: entities, variableValues: { r: ids.map((id) => ({ __typename: 'Customer', id })) }, contextValue: contextFor(port, principal, served.port) });
    const located = (errors: readonly { path?: readonly (string | number)[]; extensions: Record<string, unknown> }[] | undefined) => (errors ?? []).map((e) => [e.path?.join('.'), e.extensions.code]);

    // A shopper: themselves in full; another customer reads as unknown, without an error.
    const own = await asCaller(testShopper('c1'), ['c1', 'c2']);
    expect(own.errors).toBeUndefined();
    expect(own.data?._entities).toEqual([{ id: toGlobalId('Customer', 'c1'), name: 'Ada Lovelace', phone: '+49 30 1234567', email: 'ada@example.com' }, null]);

    // A store associate: name and phone of a customer of their store (email FORBIDDEN); another customer FORBIDDEN.
    const atStore = await asCaller(testStore('store-001'), ['c1', 'c2']);
    expect(atStore.data?._entities).toEqual([{ id: toGlobalId('Customer', 'c1'), name: 'Ada Lovelace', phone: '+49 30 1234567', email: null }, null]);
    expect(located(atStore.errors)).toEqual(expect.arrayContaining([['_entities.0.email', 'FORBIDDEN'], ['_entities.1', 'FORBIDDEN']]));
    expect(atStore.errors).toHaveLength(2);
    expect(served.calls.locationsServing).toBe(1);

    // Finance: any customer's name, nothing else.
    const finance = await asCaller(TEST_FINANCE, ['c3']);
    expect(finance.data?._entities).toEqual([{ id: toGlobalId('Customer', 'c3'), name: 'Grace Hopper', phone: null, email: null }]);
    expect(located(finance.errors)).toEqual(expect.arrayContaining([['_entities.0.phone', 'FORBIDDEN'], ['_entities.0.email', 'FORBIDDEN']]));
    expect(finance.errors).toHaveLength(2);
  });

  it('refuses customer lookups to callers who may not make them: anonymous UNAUTHENTICATED, a store FORBIDDEN', async () => {
    const { port, calls } = fakeCustomerMaster();
    const anonymous = await graphql({ schema, source: '{ customer(id: "c1") { id } searchCustomers(query: "a") { id } }', contextValue: contextFor(port, { kind: 'anonymous' }) });
    expect(anonymous.data).toEqual({ customer: null, searchCustomers: null });
    expect((anonymous.errors ?? []).map((e) => e.extensions.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    const atStore = await graphql({ schema, source: '{ searchCustomers(query: "a") { id } }', contextValue: contextFor(port, testStore('store-001')) });
    expect(atStore.data).toEqual({ searchCustomers: null });
    expect(atStore.errors?.map((e) => e.extensions.code)).toEqual(['FORBIDDEN']);
    expect(calls).toEqual({ getCustomers: 0, searchCustomers: 0 });
  });

  it('nulls the customer with a located CRM_UNAVAILABLE error when the CRM is down', async () => {
    const { port } = fakeCustomerMaster({ down: true });
    const result = await graphql({ schema, source: '{ customer(id: "c1") { id } }', contextValue: contextFor(port) });
    expect(result.data).toEqual({ customer: null });
    expect(result.errors?.[0]?.path).toEqual(['customer']);
    expect(result.errors?.[0]?.extensions?.code).toBe('CRM_UNAVAILABLE');
  });

  it('declares the loyalty history: ledger entries with their order, for the customer themselves and agents', () => {
    const sdl = printSubgraphSchema(schema);
    expect(sdl).toMatch(/\n  history\(first: Int = 10\): \[LoyaltyEntry!\] @requiresScopes\(scopes: \[\["shopper"\], \["agent"\]\]\)\n/);
    expect(sdl).toMatch(/type LoyaltyEntry \{[^}]*reference: ID![^}]*kind: LoyaltyEntryKind![^}]*points: Int![^}]*balance: Int![^}]*order: Order![^}]*returnId: ID[^}]*occurredAt: DateTime!/);
    expect(sdl).toMatch(/enum LoyaltyEntryKind \{[^}]*EARNED[^}]*REVERSED[^}]*\}/);
    expect(sdl).toMatch(/type Order\s+@key\(fields: "id", resolvable: false\)\s*\{\s*id: ID!\s*\}/);
  });

  it('answers the loyalty history newest first, `first` of it, with one ledger call; a shopper sees only their own', async () => {
    const { port } = fakeCustomerMaster();
    const ledger = fakeLoyaltyLedger();
    const source = '{ customer(id: "c1") { loyalty { history(first: 1) { reference kind points balance order { id } returnId occurredAt } } } }';
    const own = await graphql({ schema, source, contextValue: contextFor(port, testShopper('c1'), undefined, ledger.port) });
    expect(own.errors).toBeUndefined();
    expect(JSON.parse(JSON.stringify(own.data))).toEqual({
      customer: { loyalty: { history: [{ reference: 'loy-ret-1-reverse', kind: 'REVERSED', points: 5, balance: 25, order: { id: toGlobalId('Order', 'ord-1') }, returnId: 'ret-1', occurredAt: '2025-02-02T00:00:00.000Z' }] } },
    });
    expect(ledger.calls.entriesOf).toBe(1);
    // Another shopper reads c1 as unknown: no customer, so no ledger read.
    const other = await graphql({ schema, source, contextValue: contextFor(port, testShopper('c2'), undefined, ledger.port) });
    expect(other).toEqual({ data: { customer: null } });
    expect(ledger.calls.entriesOf).toBe(1);
    // An agent: everything.
    const agent = await graphql({ schema, source: '{ customer(id: "c1") { loyalty { history { kind } } } }', contextValue: contextFor(port, TEST_AGENT, undefined, ledger.port) });
    expect(agent.data).toEqual({ customer: { loyalty: { history: [{ kind: 'REVERSED' }, { kind: 'EARNED' }] } } });
  });

  it('refuses a loyalty history reached by a caller who is not its owner, and bad `first`', async () => {
    const { port } = fakeCustomerMaster();
    const ledger = fakeLoyaltyLedger();
    // Through an entity reference a store associate reaches c1 (a customer of its store), yet never its loyalty.
    const entities = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { name loyalty { history { kind } } } } }`;
    const atStore = await graphql({ schema, source: entities, variableValues: { r: [{ __typename: 'Customer', id: 'c1' }] }, contextValue: contextFor(port, testStore('store-001'), undefined, ledger.port) });
    expect(atStore.data?._entities).toEqual([{ name: 'Ada Lovelace', loyalty: null }]);
    expect(atStore.errors?.map((e) => e.extensions.code)).toEqual(['FORBIDDEN']);
    const tooMany = await graphql({ schema, source: '{ customer(id: "c1") { loyalty { history(first: 101) { kind } } } }', contextValue: contextFor(port, TEST_AGENT, undefined, ledger.port) });
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(ledger.calls.entriesOf).toBe(0);
  });
});
