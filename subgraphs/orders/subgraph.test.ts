import { graphql } from 'graphql';
import type { ExecutionResult, GraphQLSchema } from 'graphql';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enforceAuthorization } from '../../common/auth/enforce.js';
import type { Principal } from '../../common/auth/principal.js';
import { InMemoryEventBackbone } from '../../common/events.js';
import { toGlobalId } from '../../common/global-id.js';
import { formatMinor } from '../../common/money.js';
import { ResilienceRegistry } from '../../common/resilience.js';
import { createSandbox, type Sandbox } from '../../sandbox/index.js';
import { TEST_AGENT, testShopper } from '../../test/support/principals.js';
import { BackboneOrderEventLog } from './adapters/backbone-event-log.js';
import { SandboxOrderBook } from './adapters/sandbox-order-book.js';
import { SandboxOrderAging } from './adapters/sandbox-order-aging.js';
import { SandboxPickupQueue } from './adapters/sandbox-pickup-queue.js';
import { SandboxShipments } from './adapters/sandbox-shipments.js';
import { createOrdersLoaders, type OrdersContext } from './context.js';
import { buildOrdersSchema } from './index.js';
import type { OrdersPorts } from './ports.js';

/*
 * The subgraph over the real sandbox adapters, executed in process: what the resolvers return, how many calls
 * they cost (the sandbox counts every call as the system sees it), and what an outage nulls.
 */

let sandbox: Sandbox;
let schema: GraphQLSchema;
let backbone: InMemoryEventBackbone;

function ports(): OrdersPorts {
  // A fresh registry per request: no breaker state leaks from one test's outage into the next.
  const resilience = new ResilienceRegistry({ timeoutMs: 1000, retries: 0, breakerFailures: 100, breakerResetMs: 1000 });
  const { systems } = sandbox;
  return {
    orderBooks: { pos: new SandboxOrderBook('pos', systems.pos, resilience), ecom: new SandboxOrderBook('ecom', systems.ecom, resilience) },
    pickupQueue: new SandboxPickupQueue(systems.ecom, resilience),
    aging: new SandboxOrderAging(systems, resilience),
    shipments: new SandboxShipments(systems.wms, resilience),
    eventLog: new BackboneOrderEventLog(backbone),
  };
}

function contextFor(p: OrdersPorts, principal: Principal): OrdersContext {
  return { scope: { correlationId: 'test', principal }, stats: { operationName: null, errors: 0 }, principal, ports: p, checkout: READS_ONLY, lifecycle: NO_LIFECYCLE, statusChanges: NO_STATUS_FEED, loaders: createOrdersLoaders(p) };
}

// The callers a real client would be: a service agent looks up any order or customer, a shopper their own.
async function run(source: string, variableValues: Record<string, unknown> = {}, principal: Principal = TEST_AGENT): Promise<ExecutionResult & { data?: any }> {
  const p = ports();
  return graphql({ schema, source, variableValues, contextValue: contextFor(p, principal) });
}

const calls = () => sandbox.control.calls();

// These cases only read; checkout (the write side) is covered end to end in test/checkout.test.ts.
const READS_ONLY = {} as OrdersContext['checkout'];
const NO_LIFECYCLE = {} as OrdersContext['lifecycle'];
const NO_STATUS_FEED = {} as OrdersContext['statusChanges'];

const ORDER_FIELDS = `
  id number status channel deliveryMethod placedAt correlationId
  pickupLocation { id } fulfillmentLocation { id } customer { id }
  total { amount currencyCode }
  lines { sku quantity unitPrice { amount } lineTotal { amount } variant { sku } }
  shipments { id status carrier trackingNumber shippedAt deliveredAt }
  returns { id status reason requestedAt receivedAt lines { sku quantity } }
  timeline { id type source occurredAt correlationId summary sku locationId }
`;

beforeAll(async () => {
  sandbox = createSandbox({ seed: 42, scale: 0.05 });
  backbone = new InMemoryEventBackbone();
  backbone.load(sandbox.data.events);
  // As the service runs it: the schema enforces its own authorization directives.
  schema = enforceAuthorization(await buildOrdersSchema());
});

beforeEach(() => {
  sandbox.control.resetCalls();
  sandbox.control.clearFaults();
});

describe('orders subgraph over the sandbox', () => {
  it('finds an order by id and by number, in the system that owns it', async () => {
    const web = sandbox.data.orders.find((o) => o.channel === 'WEB' && o.deliveryMethod === 'SHIPPING')!;
    const store = sandbox.data.orders.find((o) => o.channel === 'STORE' && o.customerId === null)!;
    const result = await run(`query($a: ID!, $b: String!) { a: order(id: $a) { ${ORDER_FIELDS} } b: orderByNumber(number: $b) { ${ORDER_FIELDS} } }`, { a: web.id, b: store.number });
    expect(result.errors).toBeUndefined();
    const { a, b } = result.data;
    expect(a).toMatchObject({ id: toGlobalId('Order', web.id), number: web.number, channel: 'WEB', pickupLocation: null, fulfillmentLocation: { id: toGlobalId('Location', web.fulfillmentLocationId) }, customer: { id: toGlobalId('Customer', web.customerId!) } });
    expect(a.lines[0].variant).toEqual({ sku: web.lines[0]!.sku });
    expect(a.timeline[0]).toMatchObject({ type: 'ORDER_PLACED', correlationId: web.correlationId });
    expect(a.timeline[0].summary).toMatch(new RegExp(`^Order ${web.number} placed on WEB: \\d+ lines?, \\d+\\.\\d\\d EUR$`));
    expect(new Date(a.placedAt).toISOString()).toBe(web.placedAt);
    expect(b).toMatchObject({ id: toGlobalId('Order', store.id), channel: 'STORE', customer: null });
    // Each lookup went to its own system only.
    expect(calls().ecom).toMatchObject({ getOrders: 1, getReturnsByOrder: 1 });
    expect(calls().ecom?.getOrdersByNumber).toBeUndefined();
    expect(calls().pos).toMatchObject({ getOrdersByNumber: 1, getReturnsByOrder: 1 });
    expect(calls().pos?.getOrders).toBeUndefined();
  });

  it('answers null, and calls nothing, for an id or number no system issues', async () => {
    const result = await run(`{ a: order(id: "ord-x000001") { id } b: orderByNumber(number: "X1") { id } c: order(id: "ord-w999999") { id } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ a: null, b: null, c: null });
    expect(calls()).toEqual({ ecom: { getOrders: 1 } });
  });

  it('refuses an over-long id or number as bad input', async () => {
    const result = await run(`query($id: ID!, $n: String!) { order(id: $id) { id } orderByNumber(number: $n) { id } }`, { id: 'ord-w'.padEnd(201, '0'), n: 'W'.padEnd(201, '1') });
    expect(result.errors?.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT']);
    expect(calls()).toEqual({});
  });

  it('sums the lines into the total, which equals what the order system recorded', async () => {
    const sample = sandbox.data.orders.filter((_, i) => i % 5 === 0).slice(0, 60);
    const query = `{ ${sample.map((o, i) => `o${i}: order(id: "${o.id}") { total { amount } lines { lineTotal { amount } } }`).join(' ')} }`;
    const result = await run(query);
    expect(result.errors).toBeUndefined();
    sample.forEach((o, i) => {
      expect(result.data[`o${i}`].total.amount).toBe(formatMinor(o.totalMinor, o.currency));
    });
    // Sixty lookups, one call per system.
    expect(calls()).toEqual({ ecom: { getOrders: 1 }, pos: { getOrders: 1 } });
  });

  it('merges a customer’s orders from both systems newest first, at the same cost for one customer or ten', async () => {
    const byCustomer = new Map<string, typeof sandbox.data.orders>();
    for (const o of sandbox.data.orders) if (o.customerId) byCustomer.set(o.customerId, [...(byCustomer.get(o.customerId) ?? []), o]);
    const both = [...byCustomer.entries()].find(([, list]) => list.some((o) => o.channel === 'STORE') && list.some((o) => o.channel !== 'STORE'))!;
    const query = (ids: string[]) => `query($first: Int) { _entities(representations: [${ids.map((id) => `{ __typename: "Customer", id: "${id}" }`).join(', ')}]) {
      ... on Customer { id orders(first: $first) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id placedAt shipments { id } returns { id } timeline { id } } } } } } }`;

    const one = await run(query([both[0]]), { first: 100 });
    expect(one.errors).toBeUndefined();
    const connection = one.data._entities[0].orders;
    expect(connection.totalCount).toBe(both[1].length);
    const expected = [...both[1]].sort((a, b) => (a.placedAt < b.placedAt ? 1 : a.placedAt > b.placedAt ? -1 : a.id < b.id ? -1 : 1)).map((o) => toGlobalId('Order', o.id));
    expect(connection.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(expected);
    const costOfOne = calls();

    sandbox.control.resetCalls();
    const ten = await run(query([...byCustomer.keys()].slice(0, 9).concat(both[0])), { first: 3 });
    expect(ten.errors).toBeUndefined();
    expect(ten.data._entities).toHaveLength(10);
    expect(ten.data._entities[9].orders.edges).toHaveLength(Math.min(3, both[1].length));
    expect(calls()).toEqual(costOfOne);
    expect(costOfOne.ecom?.getOrdersByCustomer).toBe(1);
    expect(costOfOne.pos?.getOrdersByCustomer).toBe(1);
    expect(costOfOne.wms?.getShipmentsByOrder).toBe(1);
  });

  it('pages a customer’s orders with the cursor it returned', async () => {
    const customerId = sandbox.data.orders.find((o) => o.customerId)!.customerId!;
    const page = (after: string | null) =>
      run(`query($after: String) { _entities(representations: [{ __typename: "Customer", id: "${customerId}" }]) { ... on Customer { orders(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } } }`, { after }, testShopper(customerId));
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result = await page(after);
      expect(result.errors).toBeUndefined();
      const orders = result.data._entities[0].orders;
      seen.push(...orders.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!orders.pageInfo.hasNextPage) break;
      after = orders.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(sandbox.data.orders.filter((o) => o.customerId === customerId).length);
    expect(new Set(seen).size).toBe(seen.length);

    const bad = await run(`{ _entities(representations: [{ __typename: "Customer", id: "${customerId}" }]) { ... on Customer { orders(first: 101) { totalCount } } } }`, {}, testShopper(customerId));
    expect(bad.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('gives an unknown customer an empty connection', async () => {
    const result = await run(`{ _entities(representations: [{ __typename: "Customer", id: "cust-nobody" }]) { ... on Customer { id orders { totalCount edges { cursor } pageInfo { hasNextPage endCursor } } } } }`);
    expect(result.data?._entities[0]).toEqual({ id: toGlobalId('Customer', 'cust-nobody'), orders: { totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } } });
  });

  it('lists a location’s pickup queue oldest first, in one call for many locations', async () => {
    const result = await run(`{ _entities(representations: [${sandbox.data.stores.map((s) => `{ __typename: "Location", id: "${s.id}" }`).join(', ')}]) {
      ... on Location { id pickupQueue { id status placedAt pickupLocation { id } } } } }`);
    expect(result.errors).toBeUndefined();
    const queues: { id: string; pickupQueue: { id: string; status: string; placedAt: Date; pickupLocation: { id: string } }[] }[] = result.data._entities;
    expect(queues.some((q) => q.pickupQueue.length > 0)).toBe(true);
    for (const q of queues) {
      for (const o of q.pickupQueue) {
        expect(['CONFIRMED', 'READY_FOR_PICKUP']).toContain(o.status);
        expect(o.pickupLocation.id).toBe(q.id);
      }
      // In process the DateTime scalar yields Date objects; over HTTP they are ISO strings.
      const times = q.pickupQueue.map((o) => new Date(o.placedAt).toISOString());
      expect(times).toEqual([...times].sort());
    }
    expect(calls()).toEqual({ ecom: { getPickupQueue: 1 } });
  });

  it('resolves an Order reference through the routed loader', async () => {
    const [w, s] = [sandbox.data.orders.find((o) => o.id.startsWith('ord-w'))!, sandbox.data.orders.find((o) => o.id.startsWith('ord-s'))!];
    const result = await run(`{ _entities(representations: [{ __typename: "Order", id: "${w.id}" }, { __typename: "Order", id: "${s.id}" }, { __typename: "Order", id: "ord-w999999" }]) { ... on Order { id number } } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data._entities).toEqual([{ id: toGlobalId('Order', w.id), number: w.number }, { id: toGlobalId('Order', s.id), number: s.number }, null]);
  });

  it('nulls only what a down system serves, with its error', async () => {
    const web = sandbox.data.orders.find((o) => o.channel === 'WEB' && o.deliveryMethod === 'SHIPPING' && o.status === 'DELIVERED')!;
    const store = sandbox.data.orders.find((o) => o.channel === 'STORE')!;
    sandbox.control.setFault('pos', { down: true });
    sandbox.control.setFault('wms', { down: true });
    const result = await run(`query($w: ID!, $s: ID!) { w: order(id: $w) { id number shipments { id } returns { id } timeline { id } } s: order(id: $s) { id } }`, { w: web.id, s: store.id });
    expect(result.data?.w).toMatchObject({ id: toGlobalId('Order', web.id), number: web.number, shipments: null, returns: [] });
    expect(result.data?.w.timeline.length).toBeGreaterThan(0);
    expect(result.data?.s).toBeNull();
    const errors = (result.errors ?? []).map((e) => [e.path?.join('.'), e.extensions.code]);
    expect(errors).toEqual(expect.arrayContaining([['w.shipments', 'WMS_UNAVAILABLE'], ['s', 'POS_UNAVAILABLE']]));
    expect(errors).toHaveLength(2);
  });

  it('reports an event log failure on the timeline only', async () => {
    const web = sandbox.data.orders.find((o) => o.channel === 'WEB')!;
    const p = ports();
    p.eventLog = new BackboneOrderEventLog({ eventsForOrders: () => Promise.reject(new Error('redis gone')) });
    const result = await graphql({ schema, source: `{ order(id: "${web.id}") { id timeline { id } } }`, contextValue: contextFor(p, TEST_AGENT) });
    expect(result.data).toEqual({ order: { id: toGlobalId('Order', web.id), timeline: null } });
    expect(result.errors?.[0]?.extensions.code).toBe('EVENTS_UNAVAILABLE');
  });
});
