import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { generateSeedData } from '../sandbox/seed.js';
import { freePort } from '../scripts/free-port.js';
import { startGatewayOnly, startSandboxOnly, startSubgraph } from '../stack.js';
import { contractOperation } from './support/contract.js';
import { startRedis, type RedisTarget } from './support/redis.js';
import { AGENT, shopper, startTestStack, store, type Caller, type TestStack } from './support/stack.js';
import { collect, wsClientAs, type Collected } from './support/subscriptions.js';

// Gap-free subscriptions through the real gateway: every change carries its stream's sequence (per location for
// stock, per order for status), and a subscriber that passes the last one it saw as `after` first gets what it
// missed, then live changes, each once and in order: after a disconnect, across a restart of the embedded stack on
// the same DATA_DIR, and on another instance sharing Redis. Beyond the retention: RESUME_TOO_OLD.

const STOCK = 'subscription Stock($locationId: ID!, $after: Int) { inventoryChanged(locationId: $locationId, after: $after) { sku delta sequence } }';
const TRACK = 'subscription Track($orderId: ID!, $after: Int) { orderStatusChanged(orderId: $orderId, after: $after) { status sequence } }';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

let n = 0;
const key = () => `resume-${Date.now()}-${++n}`;

/** A subscription as `caller` on `stack`'s gateway, collected; closed after the test. */
function subscribe(stack: TestStack, caller: Caller, query: string, variables: Record<string, unknown>): Collected {
  const client = wsClientAs(stack.urls.gateway, () => stack.bearer(caller));
  const feed = collect(client, query, variables);
  cleanups.push(async () => {
    feed.unsubscribe();
    await client.dispose();
  });
  return feed;
}

async function adjust(stack: TestStack, locationId: string, sku: string, delta: number): Promise<void> {
  const { body } = await stack.queryAs(store(locationId), contractOperation('AdjustStock'), { input: { idempotencyKey: key(), locationId, sku, reason: 'RECEIPT', delta } });
  expect((body.data as any)?.adjustInventory?.userErrors, JSON.stringify(body)).toEqual([]);
}

const stockOf = (feed: Collected) => feed.results.map((r) => [r.data?.inventoryChanged?.sequence, r.data?.inventoryChanged?.delta]);
const codesOf = (feed: Collected) => JSON.stringify(feed.error ?? feed.results.flatMap((r) => r.errors ?? []));

describe('embedded default', () => {
  let stack: TestStack | undefined;
  afterAll(async () => {
    await stack?.stop();
  });

  it('a store subscriber and an order tracker get sequences 1..n in order, and resume with `after` to exactly what they missed, then live', async () => {
    stack = await startTestStack();
    const s = stack;
    const location = s.sandbox.data.stores.filter((st) => st.pickupEnabled)[2]!;
    const sku = s.sandbox.data.variants[61]!.sku;

    // From the stream's first sequence: the changes made before the subscription reached the subgraph come too.
    const first = subscribe(s, store(location.id), STOCK, { locationId: location.id, after: 0 });
    for (const delta of [1, 2, 3]) await adjust(s, location.id, sku, delta);
    await first.waitFor(3);
    expect(stockOf(first)).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    // An identical subscription that starts later shares nothing with the first: it gets its own history.
    const twin = subscribe(s, store(location.id), STOCK, { locationId: location.id, after: 0 });
    await twin.waitFor(3);
    expect(stockOf(twin)).toEqual(stockOf(first));
    twin.unsubscribe();
    first.unsubscribe();

    // Missed while away, then a live one after the resume.
    for (const delta of [4, 5]) await adjust(s, location.id, sku, delta);
    const resumed = subscribe(s, store(location.id), STOCK, { locationId: location.id, after: 3 });
    await resumed.waitFor(2);
    await adjust(s, location.id, sku, 6);
    await resumed.waitFor(3);
    expect(stockOf(resumed)).toEqual([
      [4, 4],
      [5, 5],
      [6, 6],
    ]);

    // An order: placed (and confirmed) before anyone follows it; the tracker starts from the first move.
    const customer = s.sandbox.data.customers[7]!;
    await adjust(s, location.id, sku, 1);
    const placed = await s.queryAs(shopper(customer.id), contractOperation('PlaceOrder'), {
      input: { idempotencyKey: key(), channel: 'MOBILE', deliveryMethod: 'PICKUP', pickupLocationId: location.id, lines: [{ sku, quantity: 1 }], customerId: customer.id },
    });
    const order = (placed.body.data as any).placeOrder.order;
    const tracker = subscribe(s, shopper(customer.id), TRACK, { orderId: order.id, after: 0 });
    const early = await tracker.waitFor(1);
    const initial = early.map((r) => r.data.orderStatusChanged);
    expect(initial[0]).toEqual({ status: 'PLACED', sequence: 1 });
    expect(((await s.queryAs(store(location.id), contractOperation('ReadyForPickup'), { orderId: order.id })).body.data as any).markReadyForPickup.userErrors).toEqual([]);
    const withReady = await tracker.waitFor(initial.length + 1);
    const lastSeen = withReady.at(-1)!.data.orderStatusChanged;
    expect(lastSeen.status).toBe('READY_FOR_PICKUP');
    tracker.unsubscribe();

    // Handed over while the tracker was away: it resumes to exactly that move.
    expect(((await s.queryAs(store(location.id), contractOperation('HandOver'), { orderId: order.id })).body.data as any).confirmPickup.userErrors).toEqual([]);
    const back = subscribe(s, shopper(customer.id), TRACK, { orderId: order.id, after: lastSeen.sequence });
    await back.waitFor(1);
    expect(back.results.map((r) => r.data.orderStatusChanged)).toEqual([{ status: 'PICKED_UP', sequence: lastSeen.sequence + 1 }]);
    const all = [...withReady.map((r) => r.data.orderStatusChanged.sequence), lastSeen.sequence + 1];
    expect(all).toEqual(all.map((_, i) => i + 1));

    // `after` names one order's stream: with a customer or a location alone it is a bad argument.
    const bad = subscribe(s, AGENT, 'subscription { orderStatusChanged(customerId: "c-1", after: 2) { status } }', {});
    await bad.ended();
    expect(codesOf(bad)).toContain('BAD_USER_INPUT');
    const negative = subscribe(s, store(location.id), STOCK, { locationId: location.id, after: -1 });
    await negative.ended();
    expect(codesOf(negative)).toContain('BAD_USER_INPUT');
  });
});

describe('embedded default with a small retention, across a restart on the same DATA_DIR', () => {
  it('goes on counting after the restart, resumes from the journal, and answers RESUME_TOO_OLD beyond the retention', async () => {
    const env = { DATA_DIR: mkdtempSync(join(tmpdir(), 'retail-resume-')), EVENT_STREAM_RETENTION: '3' };
    const before = await startTestStack({}, env);
    const location = before.sandbox.data.stores[6]!;
    const sku = before.sandbox.data.variants[62]!.sku;
    for (const delta of [1, 2]) await adjust(before, location.id, sku, delta);
    await before.stop();

    const after = await startTestStack({}, env);
    cleanups.push(() => after.stop());
    const resumed = subscribe(after, store(location.id), STOCK, { locationId: location.id, after: 1 });
    await resumed.waitFor(1);
    await adjust(after, location.id, sku, 3);
    await resumed.waitFor(2);
    expect(stockOf(resumed)).toEqual([
      [2, 2],
      [3, 3],
    ]);

    // Three more: the location now retains 4, 5 and 6 only.
    for (const delta of [4, 5, 6]) await adjust(after, location.id, sku, delta);
    await resumed.waitFor(5);
    const tooOld = subscribe(after, store(location.id), STOCK, { locationId: location.id, after: 2 });
    await tooOld.ended();
    expect(codesOf(tooOld)).toContain('RESUME_TOO_OLD');
    expect(codesOf(tooOld)).toContain('oldest sequence still retained is 4');
    // Right at the edge is fine.
    const edge = subscribe(after, store(location.id), STOCK, { locationId: location.id, after: 3 });
    await edge.waitFor(3);
    expect(stockOf(edge).map(([sequence]) => sequence)).toEqual([4, 5, 6]);
  });
});

describe('Redis mode: two instances', () => {
  let redis: RedisTarget | undefined;
  afterAll(async () => {
    await redis?.stop();
  });

  it('a subscriber of instance B that resumes on instance A gets the changes it missed, made through either, then live ones', async () => {
    redis = await startRedis('single');
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: `r${Date.now()}` };
    const a = await startTestStack({}, env);
    cleanups.push(() => a.stop());
    const b = await startTestStack({}, env);
    cleanups.push(() => b.stop());
    const location = a.sandbox.data.stores[9]!;
    const sku = a.sandbox.data.variants[63]!.sku;

    const atB = subscribe(b, store(location.id), STOCK, { locationId: location.id, after: 0 });
    await Promise.all([adjust(a, location.id, sku, 1), adjust(b, location.id, sku, 2)]);
    await atB.waitFor(2);
    const seen = stockOf(atB);
    expect(seen.map(([sequence]) => sequence)).toEqual([1, 2]);
    atB.unsubscribe();

    // B's subscriber moves to A; meanwhile both instances change the stock.
    await adjust(b, location.id, sku, 3);
    await adjust(a, location.id, sku, 4);
    const atA = subscribe(a, store(location.id), STOCK, { locationId: location.id, after: 2 });
    await atA.waitFor(2);
    await Promise.all([adjust(a, location.id, sku, 5), adjust(b, location.id, sku, 6)]);
    await atA.waitFor(4);
    const resumed = stockOf(atA);
    expect(resumed.map(([sequence]) => sequence)).toEqual([3, 4, 5, 6]);
    expect(resumed.slice(0, 2).map(([, delta]) => delta)).toEqual([3, 4]);
    expect(resumed.slice(2).map(([, delta]) => delta).sort()).toEqual([5, 6]);
  });
});

describe('gateway and inventory as separate services on Redis', () => {
  let redis: RedisTarget | undefined;
  afterAll(async () => {
    await redis?.stop();
  });

  it('a resumed subscription goes on through a restart of the inventory subgraph: the gateway resubscribes after the last sequence it delivered', async () => {
    redis = await startRedis('single');
    const [sandboxPort, inventoryPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
    const config = loadConfig({
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SANDBOX_PORT: String(sandboxPort),
      INVENTORY_PORT: String(inventoryPort),
      GATEWAY_PORT: String(gatewayPort),
      SANDBOX_URL: `http://127.0.0.1:${sandboxPort}`,
      INVENTORY_URL: `http://127.0.0.1:${inventoryPort}/graphql`,
      REDIS_URL: redis.url,
      REDIS_PREFIX: `g${Date.now()}`,
      // Small enough that re-subscribing from the original `after: 0` fails (RESUME_TOO_OLD) once the gateway
      // reconnects after the changes 4 and 5: it must resubscribe from where it got.
      EVENT_STREAM_RETENTION: '3',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'retail-resume-topo-')),
    });
    const logger = createLogger({ level: 'warn' });
    const sandbox = await startSandboxOnly(config, logger);
    cleanups.push(() => sandbox.service.stop());
    let inventory = await startSubgraph('inventory', config, logger);
    cleanups.push(() => inventory.service.stop());
    const gateway = await startGatewayOnly(config, logger);
    cleanups.push(() => gateway.service.stop());

    const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
    const location = 'store-004';
    const sku = 'SKU-0102-1';
    const bearer = async () => {
      const response = await fetch(`${sandboxUrl}/sandbox/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(store(location)) });
      return `Bearer ${((await response.json()) as { token: string }).token}`;
    };
    const authorization = await bearer();
    const adjustHere = async (delta: number) => {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ query: contractOperation('AdjustStock'), variables: { input: { idempotencyKey: key(), locationId: location, sku, reason: 'RECEIPT', delta } } }),
      });
      expect(((await response.json()) as any).data?.adjustInventory?.userErrors).toEqual([]);
    };
    const client = wsClientAs(gateway.url, authorization);
    cleanups.push(async () => client.dispose());
    const feed = collect(client, STOCK, { locationId: location, after: 0 });
    // From now on (`after` left out), as an app's first subscription is: once it has had a change, the gateway
    // re-subscribes from there too, so nothing made while the subgraph restarted is lost (the chaos suite's
    // 25 changes lost at one store).
    const fromNow = collect(client, STOCK, { locationId: location });
    for (const delta of [1, 2, 3]) await adjustHere(delta);
    await feed.waitFor(3);
    await fromNow.waitFor(1);

    // The subgraph goes away (its sockets close) and comes back; changes are made through the new one.
    await inventory.service.stop();
    inventory = await startSubgraph('inventory', config, logger);
    for (const delta of [4, 5]) await adjustHere(delta);
    await feed.waitFor(5, 20_000);
    expect(stockOf(feed)).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
    expect(feed.error).toBeUndefined();
    expect(feed.completed).toBe(false);
    // It started after some of 1..3 perhaps, never mid-way: from its first change on, every one, once.
    await vi.waitFor(() => expect(stockOf(fromNow).at(-1)).toEqual([5, 5]), { timeout: 20_000 });
    const seen = stockOf(fromNow).map(([sequence]) => sequence as number);
    expect(seen).toEqual(seen.map((_, i) => seen[0]! + i));
    expect(fromNow.error).toBeUndefined();
  });
});

describe('gateway and orders as separate services on Redis', () => {
  let redis: RedisTarget | undefined;
  afterAll(async () => {
    await redis?.stop();
  });

  it('an order tracker that selects the order itself sees each move once through a restart of the orders subgraph (no twice-delivered move)', async () => {
    redis = await startRedis('single');
    const [sandboxPort, ordersPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
    const config = loadConfig({
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SANDBOX_PORT: String(sandboxPort),
      ORDERS_PORT: String(ordersPort),
      GATEWAY_PORT: String(gatewayPort),
      SANDBOX_URL: `http://127.0.0.1:${sandboxPort}`,
      ORDERS_URL: `http://127.0.0.1:${ordersPort}/graphql`,
      REDIS_URL: redis.url,
      REDIS_PREFIX: `o${Date.now()}`,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'retail-resume-orders-')),
    });
    const logger = createLogger({ level: 'warn' });
    const sandbox = await startSandboxOnly(config, logger);
    cleanups.push(() => sandbox.service.stop());
    let orders = await startSubgraph('orders', config, logger);
    cleanups.push(() => orders.service.stop());
    const gateway = await startGatewayOnly(config, logger);
    cleanups.push(() => gateway.service.stop());

    const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
    const ordersUrl = `http://127.0.0.1:${ordersPort}/graphql`;
    const bearer = async (caller: Caller) => {
      const response = await fetch(`${sandboxUrl}/sandbox/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(caller) });
      return `Bearer ${((await response.json()) as { token: string }).token}`;
    };
    // The moves are made at the orders subgraph itself: this topology runs no other subgraph.
    const atOrders = async (authorization: string, query: string, variables: Record<string, unknown>) => {
      const response = await fetch(ordersUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ query, variables }) });
      return (await response.json()) as any;
    };
    const seed = generateSeedData({ seed: config.sandbox.seed, scale: config.sandbox.scale });
    const location = seed.stores.filter((s) => s.pickupEnabled)[1]!.id;
    // A SKU with units to spare there (after any safety stock), and on sale.
    const active = new Set(seed.variants.filter((v) => v.status === 'ACTIVE').map((v) => v.sku));
    const sku = seed.stock.find((r) => r.locationId === location && active.has(r.sku) && r.onHand - r.committed - r.reserved - r.damaged >= 20)!.sku;
    const customerId = seed.customers[11]!.id;
    const shopperToken = await bearer(shopper(customerId));
    const storeToken = await bearer(store(location));
    const placed = await atOrders(shopperToken, 'mutation P($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } userErrors { code message } } }', {
      input: { idempotencyKey: key(), channel: 'MOBILE', deliveryMethod: 'PICKUP', pickupLocationId: location, lines: [{ sku, quantity: 1 }], customerId },
    });
    const orderId = placed.data?.placeOrder?.order?.id as string;
    expect(orderId, JSON.stringify(placed)).toBeTruthy();

    const TRACK_ORDER = 'subscription T($orderId: ID!, $after: Int) { orderStatusChanged(orderId: $orderId, after: $after) { sequence status order { id status } } }';
    const client = wsClientAs(gateway.url, shopperToken);
    cleanups.push(async () => client.dispose());
    const feed = collect(client, TRACK_ORDER, { orderId, after: 0 });
    const move = async (field: 'markReadyForPickup' | 'confirmPickup') => {
      const answer = await atOrders(storeToken, `mutation M($orderId: ID!) { ${field}(orderId: $orderId) { userErrors { code message } } }`, { orderId });
      expect(answer.data?.[field]?.userErrors, JSON.stringify(answer)).toEqual([]);
    };
    const statuses = () => feed.results.map((r) => r.data?.orderStatusChanged?.status as string);
    await vi.waitFor(() => expect(statuses()).toContain('CONFIRMED'), { timeout: 20_000 });
    await move('markReadyForPickup');
    await vi.waitFor(() => expect(statuses()).toContain('READY_FOR_PICKUP'), { timeout: 20_000 });

    // The subgraph goes away (the gateway's socket to it drops) and comes back; the order moves on at once, so
    // that a replay of the last move delivered would resolve `order.status` differently from the first time.
    await orders.service.stop();
    orders = await startSubgraph('orders', config, logger);
    await move('confirmPickup');
    await vi.waitFor(() => expect(statuses()).toContain('PICKED_UP'), { timeout: 20_000 });
    // A replay comes ahead of live moves: a move delivered twice would be in the results by now.
    const sequences = () => feed.results.map((r) => r.data?.orderStatusChanged?.sequence as number);
    expect(sequences()).toEqual(sequences().map((_, i) => i + 1));
    expect(statuses().filter((s) => s === 'READY_FOR_PICKUP')).toHaveLength(1);
    expect(feed.error).toBeUndefined();
  });
});
