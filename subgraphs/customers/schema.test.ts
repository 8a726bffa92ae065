import { graphql } from 'graphql';
import { printSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { SystemUnavailableError } from '../../common/resilience.js';
import { createCustomerLoaders, type CustomersContext } from './context.js';
import { buildCustomersSchema } from './index.js';
import type { CustomerMasterPort, CustomerProfile } from './ports.js';

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

function contextFor(port: CustomerMasterPort): CustomersContext {
  return { scope: { correlationId: 'test' }, stats: { operationName: null, errors: 0 }, customerMaster: port, loaders: createCustomerLoaders(port) };
}

describe('customers subgraph schema', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildCustomersSchema();
  });

  it('declares Customer as an entity with the contract fields', () => {
    const sdl = printSubgraphSchema(schema);
    expect(sdl).toMatch(/type Customer\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/enum LoyaltyTier \{\s+BRONZE\s+SILVER\s+GOLD\s+PLATINUM\s+\}/);
    for (const field of ['id: ID!', 'name: String!', 'firstName: String!', 'lastName: String!', 'email: String!', 'phone: String!', 'loyalty: Loyalty!', 'marketingConsent: MarketingConsent!', 'createdAt: DateTime!']) {
      expect(sdl).toContain(`  ${field}\n`);
    }
    expect(sdl).toMatch(/type Loyalty \{[^}]*tier: LoyaltyTier![^}]*pointsBalance: Int!/);
    expect(sdl).toMatch(/type MarketingConsent \{[^}]*email: Boolean![^}]*sms: Boolean!/);
    expect(sdl).toContain('customer(id: ID!): Customer\n');
    expect(sdl).toMatch(/searchCustomers\((?=[^)]*query: String!)(?=[^)]*first: Int = 10)[^)]*\): \[Customer!\]!/);
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
      { id: 'c1', name: 'Ada Lovelace', createdAt: '2025-01-02T03:04:05.000Z', loyalty: { tier: 'SILVER' } },
      { id: 'c2', name: 'Alan Turing', createdAt: '2025-01-02T03:04:05.000Z', loyalty: { tier: 'SILVER' } },
      null,
      { id: 'c3', name: 'Grace Hopper', createdAt: '2025-01-02T03:04:05.000Z', loyalty: { tier: 'SILVER' } },
      { id: 'c1', name: 'Ada Lovelace', createdAt: '2025-01-02T03:04:05.000Z', loyalty: { tier: 'SILVER' } },
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
      { id: 'c1', name: 'Ada Lovelace' },
      { id: 'c2', name: 'Alan Turing' },
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

  it('nulls the customer with a located CRM_UNAVAILABLE error when the CRM is down', async () => {
    const { port } = fakeCustomerMaster({ down: true });
    const result = await graphql({ schema, source: '{ customer(id: "c1") { id } }', contextValue: contextFor(port) });
    expect(result.data).toEqual({ customer: null });
    expect(result.errors?.[0]?.path).toEqual(['customer']);
    expect(result.errors?.[0]?.extensions?.code).toBe('CRM_UNAVAILABLE');
  });
});
