import WebSocket from 'ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toGlobalId } from '../common/global-id.js';
import { contractOperation } from './support/contract.js';
import { AGENT, shopper, startTestStack, store as storeCaller, type Caller, type TestStack } from './support/stack.js';
import { collect, until, wsClient, wsClientAs } from './support/subscriptions.js';

// The contract's subscriptions through the real gateway over WebSocket (graphql-ws), against the real
// subgraphs: in process (the embedded default), and over graphql-ws and HTTP as separate services reach them.
// Every socket signs in as the client that sends the operation would: StoreInventory and PickupFeed as the store's
// associate, OrderTracking as the order's customer. The gateway forwards the subscriber's token to the subgraphs
// (the upstream socket's connection_init), and every event's entity fetches run with it.
describe.each(['local', 'http'] as const)('%s dispatch', (dispatch) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ subgraphDispatch: dispatch });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  let n = 0;
  const key = () => `sub-${Date.now()}-${++n}`;
  const clients: ReturnType<typeof wsClientAs>[] = [];
  /** A socket signed in as `caller` (the token is cached per caller: one caller, one set of credentials). */
  const client = (caller: Caller, options: Parameters<typeof wsClientAs>[2] = {}) => {
    const c = wsClientAs(stack.urls.gateway, () => stack.bearer(caller), options);
    clients.push(c);
    return c;
  };
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
  });

  const pickupStore = () => stack.sandbox.data.stores.filter((s) => s.pickupEnabled)[0]!;
  const variant = (i: number) => stack.sandbox.data.variants[i]!;

  // graphql-ws acknowledges no subscription; the subgraph logs one line once its source stream listens.
  const subgraphStarts = () => stack.logs.filter((l) => l.msg === 'graphql subscription started').length;
  let startsBefore = 0;
  beforeEach(() => {
    startsBefore = subgraphStarts();
  });

  /** `subscribers` joined the hub, and `upstreams` new subgraph subscriptions listen (since this test began). */
  async function live(subscribers: number, upstreams = 1) {
    await until(() => stack.gateway.subscriptionStats().subscribers >= subscribers, 5_000, `${subscribers} subscribers`);
    await until(() => subgraphStarts() >= startsBefore + upstreams, 5_000, `${upstreams} subgraph subscriptions to listen`);
  }

  /** A stock movement by an associate of the location, as the store app makes it. */
  async function adjust(locationId: string, sku: string, delta: number, correlationId?: string) {
    const { body } = await stack.queryAs(
      storeCaller(locationId),
      contractOperation('AdjustStock'),
      { input: { idempotencyKey: key(), locationId, sku, reason: 'RECEIPT', delta } },
      correlationId ? { 'x-correlation-id': correlationId } : {},
    );
    expect((body.data as any).adjustInventory.userErrors).toEqual([]);
    return (body.data as any).adjustInventory.level;
  }

  /** A pickup order: by the customer themselves, or (without a customer) a guest order a service agent places. */
  async function placePickup(locationId: string, sku: string, customerId?: string) {
    const input = { idempotencyKey: key(), channel: 'MOBILE', deliveryMethod: 'PICKUP', pickupLocationId: locationId, lines: [{ sku, quantity: 1 }], ...(customerId ? { customerId } : {}) };
    const { body } = await stack.queryAs(customerId ? shopper(customerId) : AGENT, contractOperation('PlaceOrder'), { input });
    const payload = (body.data as any).placeOrder;
    expect(payload.userErrors).toEqual([]);
    return payload.order;
  }

  describe('StoreInventory', () => {
    it('receives the change an adjustInventory made, with the variant and product filled in from catalog', async () => {
      const store = pickupStore();
      const v = variant(20);
      const product = stack.sandbox.data.products.find((p) => p.skus.includes(v.sku))!;
      const feed = collect(client(storeCaller(store.id)), contractOperation('StoreInventory'), { locationId: store.id, skus: [v.sku] });
      await live(1);
      const level = await adjust(store.id, v.sku, 3, 'corr-store-inventory-1');
      const [event] = await feed.waitFor(1);
      expect(event!.errors).toBeUndefined();
      const change = event!.data.inventoryChanged;
      expect(change).toMatchObject({
        sku: v.sku,
        reason: 'RECEIPT',
        delta: 3,
        correlationId: 'corr-store-inventory-1',
        location: { id: toGlobalId('Location', store.id), name: store.name },
        variant: { name: v.name, price: { amount: expect.any(String), currencyCode: v.currency }, product: { name: product.name } },
      });
      expect(change.level).toMatchObject({ onHand: level.onHand, available: level.available });
      feed.unsubscribe();
    });

    it('receives the commitment a pickup order made at that store', async () => {
      const store = pickupStore();
      const v = variant(21);
      await adjust(store.id, v.sku, 5);
      const feed = collect(client(storeCaller(store.id)), contractOperation('StoreInventory'), { locationId: store.id, skus: [v.sku] });
      await live(1);
      const order = await placePickup(store.id, v.sku);
      const [event] = await feed.waitFor(1);
      expect(event!.data.inventoryChanged).toMatchObject({ sku: v.sku, reason: 'ORDER_COMMITTED', delta: 1, correlationId: order.correlationId, variant: { name: v.name } });
      feed.unsubscribe();
    });

    it('filters at the source: a change at another store or of another SKU never reaches the subscriber', async () => {
      const [a, b] = stack.sandbox.data.stores;
      const v = variant(22);
      const w = variant(23);
      const feed = collect(client(storeCaller(a!.id)), contractOperation('StoreInventory'), { locationId: a!.id, skus: [v.sku] });
      await live(1);
      await adjust(b!.id, v.sku, 1);
      await adjust(a!.id, w.sku, 1);
      await adjust(a!.id, v.sku, 2);
      // A last change the subscriber does see, made after the others: events leave the backbone in the order they
      // were published, so once it is in, anything the filter let through would be in too.
      await adjust(a!.id, v.sku, 3);
      const results = await feed.waitFor(2);
      expect(results.map((r) => [r.data.inventoryChanged.sku, r.data.inventoryChanged.delta])).toEqual([
        [v.sku, 2],
        [v.sku, 3],
      ]);
      feed.unsubscribe();
    });

    it('sees every change once, in order per SKU and location', async () => {
      const store = pickupStore();
      const v = variant(24);
      const feed = collect(client(storeCaller(store.id)), contractOperation('StoreInventory'), { locationId: store.id, skus: [v.sku] });
      await live(1);
      for (let i = 1; i <= 10; i++) await adjust(store.id, v.sku, i);
      // An 11th change marks the end: a duplicate of any of the ten would come before it.
      await adjust(store.id, v.sku, 11);
      const results = await feed.waitFor(11);
      expect(results.map((r) => r.data.inventoryChanged.delta)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      const onHands = results.map((r) => r.data.inventoryChanged.level.onHand);
      expect(onHands.every((x, i) => i === 0 || x >= onHands[i - 1]!)).toBe(true);
      feed.unsubscribe();
    });
  });

  describe('fan-out', () => {
    it('identical subscriptions share one upstream stream and one execution per event', async () => {
      const store = pickupStore();
      const v = variant(25);
      // Earlier tests' subscriptions are completed by now (a client's complete is handled asynchronously).
      await until(() => stack.gateway.subscriptionStats().subscribers === 0, 5_000, 'earlier subscribers to leave');
      const before = stack.gateway.subscriptionStats();
      // Connections with correlation ids of their own still share: only credentials set subscribers apart (these
      // three are the same associate's). A document in other whitespace is the same subscription, too.
      const associate = storeCaller(store.id);
      const documents = [contractOperation('StoreInventory'), contractOperation('StoreInventory'), contractOperation('StoreInventory').replace(/\s+/g, ' ')];
      const feeds = [client(associate), client(associate, { connectionParams: { correlationId: 'fan-a' } }), client(associate, { connectionParams: { correlationId: 'fan-b' } })].map((c, i) =>
        collect(c, documents[i]!, { locationId: store.id, skus: [v.sku] }),
      );
      await live(before.subscribers + 3);
      const during = stack.gateway.subscriptionStats();
      expect(during.upstreams).toBe(before.upstreams + 1);
      expect(during.groups).toBe(before.groups + 1);
      await adjust(store.id, v.sku, 4);
      const all = await Promise.all(feeds.map((f) => f.waitFor(1)));
      for (const results of all) expect(results[0]!.data.inventoryChanged).toMatchObject({ sku: v.sku, delta: 4, variant: { name: v.name } });
      expect(stack.gateway.subscriptionStats().executions).toBe(during.executions + 1);
      for (const f of feeds) f.unsubscribe();
      // A clean complete from the clients: nothing is left upstream.
      await until(() => stack.gateway.subscriptionStats().subscribers === before.subscribers, 5_000, 'subscribers to leave');
      expect(stack.gateway.subscriptionStats()).toMatchObject({ upstreams: before.upstreams, groups: before.groups });
    });
  });

  describe('OrderTracking and PickupFeed', () => {
    it('OrderTracking sees each status move of the order, in order, with names from customers and inventory', async () => {
      const store = pickupStore();
      const v = variant(26);
      await adjust(store.id, v.sku, 2);
      const customer = stack.sandbox.data.customers[3]!;
      const order = await placePickup(store.id, v.sku, customer.id);
      // The customer follows their order; the store's associates move it.
      const feed = collect(client(shopper(customer.id)), contractOperation('OrderTracking'), { orderId: order.id });
      await live(1);
      expect(((await stack.queryAs(storeCaller(store.id), contractOperation('ReadyForPickup'), { orderId: order.id })).body.data as any).markReadyForPickup.userErrors).toEqual([]);
      expect(((await stack.queryAs(storeCaller(store.id), contractOperation('HandOver'), { orderId: order.id })).body.data as any).confirmPickup.userErrors).toEqual([]);
      const results = await feed.waitFor(2);
      const moves = results.map((r) => r.data.orderStatusChanged);
      expect(moves.map((m: any) => [m.previousStatus, m.status])).toEqual([
        ['CONFIRMED', 'READY_FOR_PICKUP'],
        ['READY_FOR_PICKUP', 'PICKED_UP'],
      ]);
      expect(moves[1].order).toMatchObject({ id: order.id, number: order.number, status: 'PICKED_UP', pickupLocation: { name: store.name }, customer: { name: `${customer.firstName} ${customer.lastName}` } });
      feed.unsubscribe();
    });

    it('PickupFeed sees a new pickup order at the store from the moment it is placed', async () => {
      const store = pickupStore();
      const v = variant(27);
      await adjust(store.id, v.sku, 2);
      const feed = collect(client(storeCaller(store.id)), contractOperation('PickupFeed'), { locationId: store.id });
      await live(1);
      const order = await placePickup(store.id, v.sku, stack.sandbox.data.customers[4]!.id);
      const results = await feed.waitFor(2);
      const mine = results.map((r) => r.data.orderStatusChanged).filter((m: any) => m.order.id === order.id);
      expect(mine.map((m: any) => [m.previousStatus, m.status])).toEqual([
        [null, 'PLACED'],
        ['PLACED', 'CONFIRMED'],
      ]);
      // The customer's name is the store's to see (the order is picked up there): the event's entity fetches ran
      // with the subscriber's credentials.
      expect(mine[0].order).toMatchObject({ number: order.number, customer: { name: expect.any(String) } });
      for (const result of results) expect(result.errors).toBeUndefined();
      feed.unsubscribe();
    });
  });

  describe('who may follow what', () => {
    it("refuses OrderTracking of another customer's order, PickupFeed of another store, and an anonymous subscriber, leaving nothing upstream", async () => {
      const store = pickupStore();
      const other = stack.sandbox.data.stores.filter((s) => s.pickupEnabled)[1]!;
      const v = variant(31);
      await adjust(store.id, v.sku, 2);
      const [owner, stranger] = [stack.sandbox.data.customers[5]!, stack.sandbox.data.customers[6]!];
      const order = await placePickup(store.id, v.sku, owner.id);
      await until(() => stack.gateway.subscriptionStats().subscribers === 0, 5_000, 'earlier subscribers to leave');
      const before = stack.gateway.subscriptionStats();
      const anonymous = wsClient(stack.urls.gateway);
      clients.push(anonymous);
      const refusals = [
        collect(client(shopper(stranger.id)), contractOperation('OrderTracking'), { orderId: order.id }),
        collect(client(storeCaller(other.id)), contractOperation('PickupFeed'), { locationId: store.id }),
        collect(anonymous, contractOperation('PickupFeed'), { locationId: store.id }),
      ];
      await Promise.all(refusals.map((r) => r.ended()));
      // Each an error message for that subscription (the socket stays open), never an event.
      const codes = refusals.map((r) => (Array.isArray(r.error) ? (r.error as { extensions?: { code?: string } }[]).map((e) => e.extensions?.code) : r.error));
      expect(codes).toEqual([['FORBIDDEN'], ['FORBIDDEN'], ['UNAUTHENTICATED']]);
      for (const r of refusals) expect(r.results.every((result) => !result.data?.orderStatusChanged)).toBe(true);
      await until(() => stack.gateway.subscriptionStats().subscribers === before.subscribers, 5_000, 'the refused subscribers to leave');
      expect(stack.gateway.subscriptionStats()).toMatchObject({ upstreams: before.upstreams, groups: before.groups });
    });
  });

  describe('protocol', () => {
    it('an invalid subscription gets an error message for that subscription only; the socket keeps serving others', async () => {
      const store = pickupStore();
      const c = client(storeCaller(store.id));
      const v = variant(28);
      const good = collect(c, contractOperation('StoreInventory'), { locationId: store.id, skus: [v.sku] });
      // Refused by the gateway: a document the schema does not have, and (for this store's associate) a feed that
      // names no location of theirs.
      const invalid = collect(c, 'subscription { inventoryChanged(locationId: "store-001") { nope } }');
      const noArgument = collect(c, 'subscription { orderStatusChanged { status } }');
      const unknownStore = collect(c, 'subscription { inventoryChanged(locationId: "store-999") { sku } }');
      // Refused by the subgraph: the associate's own store, but no SKU to follow.
      const noSkus = collect(c, `subscription { inventoryChanged(locationId: "${store.id}", skus: []) { sku } }`);
      await Promise.all([invalid.ended(), noArgument.ended(), unknownStore.ended(), noSkus.ended()]);
      expect(JSON.stringify(invalid.error)).toContain('nope');
      expect(JSON.stringify(noArgument.error)).toContain('FORBIDDEN');
      expect(JSON.stringify(unknownStore.error)).toContain('FORBIDDEN');
      expect((noSkus.error as { extensions?: { code?: string } }[]).map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      await live(1);
      await adjust(store.id, v.sku, 1);
      expect((await good.waitFor(1))[0]!.data.inventoryChanged.sku).toBe(v.sku);
      good.unsubscribe();
    });

    it("resolves each event's entity fetches under the change's correlation id, and carries connection_init to the subgraph", async () => {
      const store = pickupStore();
      const v = variant(29);
      const feed = collect(client(storeCaller(store.id), { connectionParams: { correlationId: 'ws-conn-corr-1' } }), contractOperation('StoreInventory'), { locationId: store.id, skus: [v.sku] });
      await live(1);
      await stack.sandboxCall('DELETE', '/sandbox/calls');
      await adjust(store.id, v.sku, 1, 'change-corr-1');
      expect((await feed.waitFor(1))[0]!.data.inventoryChanged.correlationId).toBe('change-corr-1');
      // The control: a movement of a SKU nobody follows reaches no subscriber, so nothing reads a level for it; the
      // mutation itself reads no stock (its level comes from the adjustment).
      await adjust(store.id, variant(32).sku, 1, 'change-corr-control');
      const recent = (await stack.sandboxCall('GET', '/sandbox/calls/recent')).body as { system: string; method: string; correlationId: string }[];
      const stockReads = (correlationId: string) => recent.filter((call) => call.system === 'pos' && call.method === 'getStock' && call.correlationId === correlationId);
      expect(recent.some((call) => call.method === 'adjustStock' && call.correlationId === 'change-corr-control')).toBe(true);
      expect(stockReads('change-corr-control')).toEqual([]);
      // inventory read the level for this event from the POS, under the change's correlation id.
      expect(stockReads('change-corr-1').length).toBeGreaterThan(0);
      // catalog filled in the variant from its read model of the item master: no ERP call, for the event or the movement.
      expect(recent.filter((call) => call.system === 'erp')).toEqual([]);
      feed.unsubscribe();
      // The subgraph's subscription ran with the subscriber's credentials (its log line says whether it had them).
      await until(() => stack.logs.some((l) => l.msg === 'graphql subscription ended' && l.service === 'inventory' && l.authorization === 'present'), 5_000, 'the subgraph to end the subscription');
      if (dispatch === 'http') {
        // Over HTTP the event's entity fetch is a request of its own at catalog: with the subscriber's token.
        const fetches = stack.logs.filter((l) => l.msg === 'graphql request' && l.service === 'catalog' && l.correlationId === 'change-corr-1');
        expect(fetches.length).toBeGreaterThan(0);
        expect(fetches.map((l) => [l.authorization, l.caller])).toEqual(fetches.map(() => ['present', `store:${store.id}`]));
      }
    });

    it('serves queries over the socket too', async () => {
      const c = client(storeCaller(pickupStore().id));
      const result = collect(c, contractOperation('StoreStock'), { locationId: pickupStore().id, skus: [variant(30).sku] });
      await result.ended();
      expect(result.results[0]!.data.location.inventoryLevels[0].sku).toBe(variant(30).sku);
    });
  });
});

describe('limits and shutdown', () => {
  let small: TestStack;
  let stopped = false;
  beforeAll(async () => {
    small = await startTestStack({ subscriptions: { maxConnections: 2, keepAliveMs: 200 } });
  });
  afterAll(async () => {
    if (!stopped) await small?.stop();
  });

  const open = (url: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
    });

  it('refuses connections over the configured limit, pings the open ones, and closes every socket with 1001 when the gateway stops', async () => {
    const first = await open(small.urls.gateway);
    // Keep-alive: the gateway pings (here every 200 ms); ws answers with a pong by itself.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no ping within 2 s')), 2_000);
      first.once('ping', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const second = await open(small.urls.gateway);
    await expect(open(small.urls.gateway)).rejects.toThrow(/503/);
    const codes = [first, second].map((socket) => new Promise<number>((resolve) => socket.once('close', (code) => resolve(code))));
    stopped = true;
    await small.stop();
    expect(await Promise.all(codes)).toEqual([1001, 1001]);
  });
});
