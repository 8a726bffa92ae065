import type { ExecutionResult } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../../common/auth/principal.js';
import { loadConfig } from '../../../common/config.js';
import { runInScope } from '../../../common/correlation.js';
import { fromGlobalId, toGlobalId } from '../../../common/global-id.js';
import { InMemoryIdempotencyStore } from '../../../common/idempotency.js';
import { createLogger } from '../../../common/logger.js';
import { ResilienceRegistry } from '../../../common/resilience.js';
import type { SubgraphService } from '../../../common/service.js';
import { createSandbox, type Sandbox } from '../../../sandbox/index.js';
import { createOrdersFromEnvironment } from '../wiring.js';
import { CountingBackbone } from '../../../test/support/counting-backbone.js';
import { TEST_AGENT, testShopper, testStore, testTokens } from '../../../test/support/principals.js';
import { seededMasterData } from '../../../test/support/master-data.js';

/*
 * `orderStatusChanged` in process (subscribeLocal, as a gateway in the same process runs it) over the sandbox,
 * with the real checkout and lifecycle publishing the moves.
 */

/*
 * Callers as a real client would be: an associate of the store (PickupFeed, hand-over), the order's customer
 * (checkout, OrderTracking) or a service agent. A test token names its principal (`Bearer test:<the principal as JSON>`);
 * the service verifies it as it would a real one (through `authenticate`), so the subgraph's own directives and
 * row rules decide.
 */
const AGENT = TEST_AGENT;
const asStore = testStore;
const asShopper = testShopper;
const { bearer, authenticate } = testTokens();

let sandbox: Sandbox;
let backbone: CountingBackbone;
let service: SubgraphService;

beforeAll(async () => {
  sandbox = createSandbox({ seed: 42, scale: 0.05 });
  backbone = new CountingBackbone();
  backbone.load(sandbox.data.events);
  service = await createOrdersFromEnvironment({
    // The defaults: the wiring reads checkout recovery, tax and the marketplace connector's settings.
    config: loadConfig({}),
    systems: sandbox.systems,
    backbone,
    idempotency: new InMemoryIdempotencyStore(),
    resilience: new ResilienceRegistry({ timeoutMs: 1000, retries: 0, breakerFailures: 1_000_000, breakerResetMs: 1000 }),
    logger: createLogger({ level: 'silent' }),
    authenticate,
    masterData: await seededMasterData(sandbox.systems),
  });
});

afterAll(async () => {
  await service?.stop();
});

const STATUS_CHANGES = `subscription ($orderId: ID, $customerId: ID, $locationId: ID) {
  orderStatusChanged(orderId: $orderId, customerId: $customerId, locationId: $locationId) {
    eventId orderId previousStatus status occurredAt correlationId
    order { id number status pickupLocation { id } customer { id } }
  }
}`;

type Stream = AsyncGenerator<ExecutionResult, void, void>;

async function subscribe(caller: Principal, variables: Record<string, unknown>): Promise<Stream> {
  const result = await service.subscribeLocal({ query: STATUS_CHANGES, variables, connectionParams: { correlationId: 'pickup-feed-1', authorization: bearer(caller) } });
  if (!(Symbol.asyncIterator in result)) throw new Error(`expected a stream, got ${JSON.stringify(result)}`);
  return result;
}

async function take(stream: Stream, count: number): Promise<any[]> {
  const out: any[] = [];
  while (out.length < count) {
    const next = await Promise.race([stream.next(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`waited for ${count} moves, got ${out.length}`)), 5_000))]);
    if (next.done) throw new Error('the stream ended');
    expect(next.value.errors).toBeUndefined();
    out.push(next.value.data!.orderStatusChanged);
  }
  return out;
}

async function run(caller: Principal, query: string, variables: Record<string, unknown>): Promise<any> {
  const result = await runInScope({ correlationId: 'store-tablet-1', authorization: bearer(caller) }, () => service.executeLocal({ query, variables }));
  expect(result.errors).toBeUndefined();
  return result.data;
}

const READY = 'mutation ($orderId: ID!) { markReadyForPickup(orderId: $orderId) { order { id status } userErrors { code } } }';

describe('orderStatusChanged', () => {
  it('needs at least one argument: BAD_USER_INPUT, as one result rather than a rejection', async () => {
    const result = await service.subscribeLocal({ query: 'subscription { orderStatusChanged { status } }', connectionParams: { authorization: bearer(AGENT) } });
    expect(Symbol.asyncIterator in result).toBe(false);
    expect((result as ExecutionResult).errors?.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    expect(backbone.live).toBe(0);
  });

  it('refuses an over-long id with BAD_USER_INPUT', async () => {
    const result = (await service.subscribeLocal({ query: STATUS_CHANGES, variables: { orderId: 'x'.repeat(201) }, connectionParams: { authorization: bearer(AGENT) } })) as ExecutionResult;
    expect(result.errors?.map((e) => [e.extensions.code, e.extensions.field])).toEqual([['BAD_USER_INPUT', 'orderId']]);
  });

  it("PickupFeed: a new pickup order at the store, live, with the order as it is at each move", async () => {
    const store = sandbox.data.stores.find((s) => s.pickupEnabled)!.id;
    const customer = sandbox.data.customers[0]!.id;
    const sku = sandbox.data.variants[0]!.sku;
    await sandbox.systems.pos.adjustStock({ sku, locationId: store, onHandDelta: 10 });
    const feed = await subscribe(asStore(store), { locationId: store });
    const otherStoreId = sandbox.data.stores.find((s) => s.pickupEnabled && s.id !== store)!.id;
    const otherStore = await subscribe(asStore(otherStoreId), { locationId: otherStoreId });

    const placed = await run(
      asShopper(customer),
      'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id number correlationId } userErrors { code } } }',
      { input: { idempotencyKey: 'feed-1', channel: 'MOBILE', deliveryMethod: 'PICKUP', customerId: customer, pickupLocationId: store, lines: [{ sku, quantity: 1 }] } },
    );
    const order = placed.placeOrder.order;
    await run(asStore(store), READY, { orderId: order.id });

    const moves = await take(feed, 3);
    expect(moves.map((m) => `${m.previousStatus ?? '-'}>${m.status}`)).toEqual(['->PLACED', 'PLACED>CONFIRMED', 'CONFIRMED>READY_FOR_PICKUP']);
    for (const move of moves) {
      // `orderId` is a reference (native); the order's own `id` is its global id.
      expect(move).toMatchObject({ orderId: fromGlobalId('Order', order.id), correlationId: order.correlationId, order: { id: order.id, number: order.number, pickupLocation: { id: toGlobalId('Location', store) }, customer: { id: toGlobalId('Customer', customer) } } });
    }
    // Each move resolves `order` afresh: the last one sees the status it announces.
    expect(moves[2].order.status).toBe('READY_FOR_PICKUP');
    expect(new Set(moves.map((m) => m.eventId)).size).toBe(3);

    const waiting = otherStore.next();
    await otherStore.return(undefined);
    expect(await waiting).toEqual({ done: true, value: undefined });
    await feed.return(undefined);
    expect(backbone.live).toBe(0);
  });

  it('OrderTracking: an order placed before anyone listened, by id and by its store (keys looked up in the order system)', async () => {
    const seeded = sandbox.data.orders.find((o) => o.deliveryMethod === 'PICKUP' && o.status === 'CONFIRMED' && o.channel !== 'STORE')!;
    const tracking = await subscribe(asShopper(seeded.customerId!), { orderId: seeded.id });
    const store = await subscribe(asStore(seeded.pickupLocationId!), { locationId: seeded.pickupLocationId });
    const customer = await subscribe(AGENT, { customerId: seeded.customerId, locationId: seeded.pickupLocationId });
    await run(asStore(seeded.pickupLocationId!), READY, { orderId: seeded.id });
    for (const stream of [tracking, store, customer]) {
      const [move] = await take(stream, 1);
      expect(move).toMatchObject({ orderId: seeded.id, previousStatus: 'CONFIRMED', status: 'READY_FOR_PICKUP', correlationId: seeded.correlationId, order: { id: toGlobalId('Order', seeded.id), status: 'READY_FOR_PICKUP' } });
      await stream.return(undefined);
    }
    expect(backbone.live).toBe(0);
  });

  it("refuses a shopper another customer's order and a store another location's feed, leaving no listener behind", async () => {
    const seeded = sandbox.data.orders.find((o) => o.deliveryMethod === 'PICKUP' && o.customerId && o.channel !== 'STORE')!;
    const stranger = sandbox.data.customers.find((c) => c.id !== seeded.customerId)!.id;
    const otherStore = sandbox.data.stores.find((s) => s.id !== seeded.pickupLocationId)!.id;
    const refusals = await Promise.all([
      service.subscribeLocal({ query: STATUS_CHANGES, variables: { orderId: seeded.id }, connectionParams: { authorization: bearer(asShopper(stranger)) } }),
      service.subscribeLocal({ query: STATUS_CHANGES, variables: { locationId: seeded.pickupLocationId }, connectionParams: { authorization: bearer(asStore(otherStore)) } }),
      service.subscribeLocal({ query: STATUS_CHANGES, variables: { orderId: seeded.id } }),
    ]);
    const codes = refusals.map((r) => {
      expect(Symbol.asyncIterator in r).toBe(false);
      return (r as ExecutionResult).errors?.map((e) => e.extensions.code);
    });
    expect(codes).toEqual([['FORBIDDEN'], ['FORBIDDEN'], ['UNAUTHENTICATED']]);
    expect(backbone.live).toBe(0);
  });
});
