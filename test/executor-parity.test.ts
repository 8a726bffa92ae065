import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.js';
import type { SeedData } from '../sandbox/index.js';
import { contractOperation, contractOperations } from './support/contract.js';
import { AGENT, FINANCE, shopper, startTestStack, store, type Caller, type TestStack } from './support/stack.js';

/*
 * Every query of the client contract through the real stack twice: once on the default (compiled) executor and once
 * with GATEWAY_EXECUTOR=apollo, each as the caller a real client would be, and the two responses compared whole.
 * Both stacks start from the same seed, so their systems hold the same data; nothing in these answers depends on the
 * moment of the request, so nothing is normalised but the per-request correlation id (a header, not compared).
 * The federation tests themselves run under both executors too: see the `e2e-apollo` project in vitest.config.ts.
 */

interface Case {
  operation: string;
  caller: Caller | null;
  variables?: Record<string, unknown>;
}

/** The cases, with the variables the contract tests use (test/contract-queries.test.ts), from the seeded data. */
const CASES: { title: string; make: (data: SeedData) => Case }[] = [
  { title: 'ProductPage at chosen stores', make: (d) => ({ operation: 'ProductPage', caller: null, variables: { id: d.products[0]!.id, locationIds: ['store-001', 'wh-01', 'store-404'] } }) },
  { title: 'ProductPage at every location', make: (d) => ({ operation: 'ProductPage', caller: null, variables: { id: d.products[10]!.id } }) },
  { title: 'ProductListing by category', make: () => ({ operation: 'ProductListing', caller: null, variables: { category: 'shoes', first: 5 } }) },
  { title: 'ProductListing by words', make: (d) => ({ operation: 'ProductListing', caller: null, variables: { query: d.products[3]!.brand.toUpperCase(), first: 50 } }) },
  { title: 'PickupStores', make: () => ({ operation: 'PickupStores', caller: null }) },
  { title: 'MyAccount as its shopper', make: (d) => ({ operation: 'MyAccount', caller: shopper(customerWithOrders(d).id) }) },
  {
    title: 'StoreStock as the store',
    make: (d) => ({ operation: 'StoreStock', caller: store('store-003'), variables: { locationId: 'store-003', skus: [d.variants[0]!.sku, d.variants[40]!.sku, d.variants[99]!.sku] } }),
  },
  {
    title: 'PickupQueue as the store',
    make: (d) => {
      const waiting = (loc: string) => d.orders.filter((o) => o.channel !== 'STORE' && o.deliveryMethod === 'PICKUP' && o.pickupLocationId === loc && (o.status === 'CONFIRMED' || o.status === 'READY_FOR_PICKUP')).length;
      const pickupStore = d.stores.filter((s) => s.pickupEnabled).sort((a, b) => waiting(b.id) - waiting(a.id))[0]!;
      return { operation: 'PickupQueue', caller: store(pickupStore.id), variables: { locationId: pickupStore.id } };
    },
  },
  { title: 'CustomerLookup by email', make: (d) => ({ operation: 'CustomerLookup', caller: AGENT, variables: { query: customerWithOrders(d).email.toUpperCase() } }) },
  { title: 'CustomerLookup by name', make: () => ({ operation: 'CustomerLookup', caller: AGENT, variables: { query: 'müller' } }) },
  {
    title: 'OrderTimeline of a returned web order',
    make: (d) => ({ operation: 'OrderTimeline', caller: AGENT, variables: { orderId: d.orders.find((o) => o.channel === 'WEB' && o.deliveryMethod === 'SHIPPING' && o.status === 'RETURNED' && o.customerId)!.id } }),
  },
  {
    title: 'OrderTimeline of a till sale',
    make: (d) => ({ operation: 'OrderTimeline', caller: AGENT, variables: { orderId: d.orders.find((o) => o.channel === 'STORE' && o.customerId === null && o.status === 'PICKED_UP')!.id } }),
  },
  { title: 'OrderByNumber of a web order', make: (d) => ({ operation: 'OrderByNumber', caller: AGENT, variables: { number: d.orders.find((o) => o.number.startsWith('W') && o.customerId)!.number } }) },
  { title: 'OrderByNumber of a store order', make: (d) => ({ operation: 'OrderByNumber', caller: AGENT, variables: { number: d.orders.find((o) => o.number.startsWith('S') && o.customerId)!.number } }) },
  { title: 'Reconciliation of a quarter as finance', make: () => ({ operation: 'Reconciliation', caller: FINANCE, variables: { from: '2026-08-20T00:00:00.000Z', to: '2026-11-20T00:00:00.000Z' } }) },
];

function customerWithOrders(d: SeedData) {
  return d.customers.find((c) => d.orders.filter((o) => o.customerId === c.id).length >= 3)!;
}

describe('the compiled executor answers every contract query as Apollo does', () => {
  let compiled: TestStack;
  let apollo: TestStack;
  beforeAll(async () => {
    // One after the other: two stacks seeding at once only slow each other down.
    compiled = await startTestStack({}, { GATEWAY_EXECUTOR: 'compiled' });
    apollo = await startTestStack({}, { GATEWAY_EXECUTOR: 'apollo' });
  });
  afterAll(async () => {
    await Promise.all([compiled?.stop(), apollo?.stop()]);
  });

  const ask = (stack: TestStack, { operation, caller, variables }: Case) =>
    caller ? stack.queryAs(caller, contractOperation(operation), variables) : stack.query(contractOperation(operation), variables);

  it('GATEWAY_EXECUTOR reaches the configuration the stacks are built from (else both stacks would run one executor)', () => {
    expect(loadConfig({ GATEWAY_EXECUTOR: 'apollo' }).gatewayExecutor).toBe('apollo');
    expect(loadConfig({ GATEWAY_EXECUTOR: 'compiled' }).gatewayExecutor).toBe('compiled');
  });

  it('covers every query operation of the contract', () => {
    const queries = contractOperations()
      .filter((o) => o.kind === 'query')
      .map((o) => o.name)
      .sort();
    expect([...new Set(CASES.map((c) => c.make(compiled.sandbox.data).operation))].sort()).toEqual(queries);
  });

  it('the two stacks hold the same data', () => {
    expect(apollo.sandbox.data.orders.map((o) => o.id)).toEqual(compiled.sandbox.data.orders.map((o) => o.id));
  });

  it.each(CASES)('$title', async ({ make }) => {
    const c = make(compiled.sandbox.data);
    const [ours, theirs] = await Promise.all([ask(compiled, c), ask(apollo, c)]);
    const what = `${c.operation} ${JSON.stringify(c.variables ?? {})}`;
    expect(ours.status, what).toBe(200);
    expect(ours.body.errors ?? [], what).toEqual([]);
    expect(ours.body.data, what).toBeTruthy();
    expect(ours.status, what).toBe(theirs.status);
    expect(ours.body, what).toEqual(theirs.body);
    // Byte for byte: the same fields in the same order, the same values.
    expect(JSON.stringify(ours.body), what).toBe(JSON.stringify(theirs.body));
  });
});
