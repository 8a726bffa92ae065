import WebSocket from 'ws';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../common/global-id.js';
import { contractOperation } from './support/contract.js';
import { pollUntil } from './support/poll.js';
import { assertBuilt, bearer, exitOf, graphql, graphqlAs, killStarted, ports, start, waitFor } from './support/processes.js';
import { AGENT, FINANCE, shopper, store, type Caller } from './support/stack.js';

// These run the compiled entry point (`npm test` builds first), as `npm start` and a deployment would.
beforeAll(assertBuilt);
afterEach(killStarted);

describe('run modes', () => {
  it('one process runs everything, prints its URLs, and on SIGTERM drains the request in flight before exiting', async () => {
    const env = await ports(['GATEWAY_PORT', 'CATALOG_PORT', 'INVENTORY_PORT', 'ORDERS_PORT', 'CUSTOMERS_PORT', 'FINANCE_PORT', 'NODES_PORT', 'SANDBOX_PORT']);
    const child = start([], env);
    const gateway = `http://127.0.0.1:${env.GATEWAY_PORT}`;
    await waitFor(`${gateway}/ready`);
    expect(child.output()).toContain(`Gateway    http://127.0.0.1:${env.GATEWAY_PORT}/graphql`);

    // Make the in-flight request slow (ProductPage's availability asks the POS; names and prices come from read
    // models), then ask the process to stop while it runs.
    const sandbox = `http://127.0.0.1:${env.SANDBOX_PORT}`;
    await fetch(`${sandbox}/sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ system: 'pos', latencyMs: 400 }) });
    const posCalls = async () => Object.values((((await (await fetch(`${sandbox}/sandbox/calls`)).json()) as Record<string, Record<string, number>>).pos ?? {})).reduce((a, b) => a + b, 0);
    const posBefore = await posCalls();
    const inFlight = graphql(`${gateway}/graphql`, contractOperation('ProductPage'), { id: 'prod-0001' });
    // A subscriber's socket too: SIGTERM closes it with 1001 (going away), so its client reconnects elsewhere.
    const socket = new WebSocket(`ws://127.0.0.1:${env.GATEWAY_PORT}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const closeCode = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    // In flight: the request is inside its slow POS call (the sandbox counts a call as it starts).
    await pollUntil(posCalls, (n) => n > posBefore, 'the request to reach the POS');
    child.kill('SIGTERM');
    expect(await closeCode).toBe(1001);
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).data.product.id).toBe(toGlobalId('Product', 'prod-0001'));
    expect(await exitOf(child)).toBe(0);
    const lines = child.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(lines.some((l) => l.msg === 'draining and shutting down' && l.signal === 'SIGTERM')).toBe(true);
    expect(lines.some((l) => l.msg === 'graphql request' && l.operationName === 'ProductPage' && l.service === 'gateway' && l.correlationId)).toBe(true);
  });

  it('each service runs in its own process: sandbox, six subgraphs over SANDBOX_URL, and the gateway', async () => {
    const env = await ports(['GATEWAY_PORT', 'CATALOG_PORT', 'INVENTORY_PORT', 'ORDERS_PORT', 'CUSTOMERS_PORT', 'FINANCE_PORT', 'NODES_PORT', 'SANDBOX_PORT']);
    const sandboxUrl = `http://127.0.0.1:${env.SANDBOX_PORT}`;
    start(['sandbox'], env);
    await waitFor(`${sandboxUrl}/health`);
    const urls: Record<string, string> = {};
    for (const name of ['catalog', 'inventory', 'orders', 'customers', 'finance', 'nodes']) {
      start(['subgraph', name], { ...env, SANDBOX_URL: sandboxUrl });
      urls[`${name.toUpperCase()}_URL`] = `http://127.0.0.1:${env[`${name.toUpperCase()}_PORT`]}/graphql`;
    }
    start(['gateway'], { ...env, ...urls, SANDBOX_URL: sandboxUrl });
    await waitFor(`http://127.0.0.1:${env.GATEWAY_PORT}/ready`);

    await fetch(`${sandboxUrl}/sandbox/calls`, { method: 'DELETE' });
    const order = 'ord-w000001';
    // A service agent's token from the sandbox process: the gateway and every subgraph verify it against its keys.
    const response = await graphqlAs(`http://127.0.0.1:${env.GATEWAY_PORT}`, sandboxUrl, AGENT, contractOperation('OrderTimeline'), { orderId: order });
    const body = (await response.json()) as any;
    expect(body.errors ?? []).toEqual([]);
    expect(body.data.order.number).toBe('W1000001');
    expect(body.data.order.timeline.length).toBeGreaterThan(3);
    expect(body.data.order.payments.length).toBe(1);
    // The subgraphs' system calls were served (and counted) by the one sandbox process. (Inventory's background
    // sweeps may call the POS meanwhile: the timeline's systems must be there, others may be.)
    const calls = (await (await fetch(`${sandboxUrl}/sandbox/calls`)).json()) as Record<string, Record<string, number>>;
    expect(Object.keys(calls)).toEqual(expect.arrayContaining(['crm', 'ecom', 'erp', 'psp', 'wms']));
  });
});

describe('durability (embedded default, DATA_DIR)', () => {
  it('after kill -9 and a restart, orders, events, stock levels and idempotency records are all there', async () => {
    const env = await ports(['GATEWAY_PORT', 'CATALOG_PORT', 'INVENTORY_PORT', 'ORDERS_PORT', 'CUSTOMERS_PORT', 'FINANCE_PORT', 'NODES_PORT', 'SANDBOX_PORT']);
    const gateway = `http://127.0.0.1:${env.GATEWAY_PORT}`;
    const sandbox = `http://127.0.0.1:${env.SANDBOX_PORT}`;
    const query = async (caller: Caller, name: string, variables: Record<string, unknown>) => ((await (await graphqlAs(gateway, sandbox, caller, contractOperation(name), variables)).json()) as any).data;
    const sku = 'SKU-0003-1';
    const location = 'store-001';
    const customer = shopper('cust-00001');
    const associate = store(location);
    const inputs = [1, 2, 3].map((i) => ({ idempotencyKey: `durable-${i}`, channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: location, customerId: 'cust-00001', lines: [{ sku, quantity: 1 }], ...(i === 3 ? { paymentToken: 'tok_decline' } : {}) }));

    let child = start([], env);
    await waitFor(`${gateway}/ready`);
    // A POS stock movement, then three checkouts (the third declined: stock back, order cancelled).
    await fetch(`${sandbox}/sandbox/rpc/pos/adjustStock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ args: [{ sku, locationId: location, onHandDelta: 7 }] }) });
    const placed = [];
    for (const input of inputs) placed.push((await query(customer, 'PlaceOrder', { input })).placeOrder);
    expect(placed.map((p) => p.order?.status ?? p.userErrors[0].code)).toEqual(['CONFIRMED', 'CONFIRMED', 'PAYMENT_DECLINED']);
    const stockBefore = (await query(associate, 'StoreStock', { locationId: location, skus: [sku] })).location.inventoryLevels[0];
    const timelinesBefore = await Promise.all(placed.slice(0, 2).map((p) => query(AGENT, 'OrderTimeline', { orderId: p.order.id })));

    child.kill('SIGKILL');
    expect(await exitOf(child)).toBe(null);

    child = start([], env);
    await waitFor(`${gateway}/ready`);
    expect((await query(associate, 'StoreStock', { locationId: location, skus: [sku] })).location.inventoryLevels[0]).toEqual(stockBefore);
    for (const [i, p] of placed.slice(0, 2).entries()) {
      const after = await query(AGENT, 'OrderTimeline', { orderId: p.order.id });
      expect(after.order).toEqual(timelinesBefore[i]!.order);
    }
    // The idempotency records survived: the same key and input from the same caller (the same shopper, with a
    // token the restarted process issued) answers the original order and creates nothing.
    await fetch(`${sandbox}/sandbox/calls`, { method: 'DELETE' });
    const replay = (await query(customer, 'PlaceOrder', { input: inputs[0] })).placeOrder;
    expect(replay.order.id).toBe(placed[0].order.id);
    const calls = (await (await fetch(`${sandbox}/sandbox/calls`)).json()) as Record<string, Record<string, number>>;
    expect(calls.ecom?.createOrder ?? 0).toBe(0);
    // A new order continues the numbering instead of reusing an id.
    const next = (await query(customer, 'PlaceOrder', { input: { ...inputs[0], idempotencyKey: 'durable-4' } })).placeOrder;
    expect(placed.map((p) => p.order?.id)).not.toContain(next.order.id);
    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
  });
});

describe('durability of reservations and pending ERP postings', () => {
  it('a cart reservation and a posting queued while the ERP was down survive kill -9; the posting drains once after restart', async () => {
    const env = await ports(['GATEWAY_PORT', 'CATALOG_PORT', 'INVENTORY_PORT', 'ORDERS_PORT', 'CUSTOMERS_PORT', 'FINANCE_PORT', 'NODES_PORT', 'SANDBOX_PORT']);
    const gateway = `http://127.0.0.1:${env.GATEWAY_PORT}`;
    const sandbox = `http://127.0.0.1:${env.SANDBOX_PORT}`;
    const run = async (caller: Caller, document: string, variables: Record<string, unknown>) => {
      const body = (await (await graphqlAs(gateway, sandbox, caller, document, variables)).json()) as any;
      if (!body.data) throw new Error(JSON.stringify(body.errors));
      return body.data;
    };
    const sku = 'SKU-0004-1';
    const location = 'store-002';
    // A storefront shopper's cart hold (theirs alone to release), a guest order the service console places, the
    // store's associate handing it over, finance reading the postings.
    const cartOwner = shopper('cust-00042');
    const associate = store(location);
    // The POS's own record: it answers while the ERP (safety stock) is down.
    const level = async () =>
      ((await (await fetch(`${sandbox}/sandbox/rpc/pos/getStock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ args: [[{ sku, locationId: location }]] }) })).json()) as any).result[0];
    const postings = async (orderId: string) => (await run(FINANCE, 'query P($id: ID!) { order(id: $id) { erpPostings { id type status erpDocumentNumber } } }', { id: orderId })).order.erpPostings;

    let child = start([], env);
    await waitFor(`${gateway}/ready`);
    await fetch(`${sandbox}/sandbox/rpc/pos/adjustStock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ args: [{ sku, locationId: location, onHandDelta: 10 }] }) });
    const reservation = (
      await run(cartOwner, 'mutation R($input: ReserveInventoryInput!) { reserveInventory(input: $input) { reservation { id expiresAt } userErrors { code } } }', {
        input: { idempotencyKey: 'cart-1', locationId: location, lines: [{ sku, quantity: 2 }], ttlSeconds: 3600 },
      })
    ).reserveInventory;
    expect(reservation.userErrors).toEqual([]);
    const placed = (await run(AGENT, contractOperation('PlaceOrder'), { input: { idempotencyKey: 'durable-sale', channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: location, lines: [{ sku, quantity: 1 }] } })).placeOrder.order;
    // The ERP goes down; the hand-over still succeeds and the sale waits in the outbox.
    await fetch(`${sandbox}/sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ system: 'erp', down: true }) });
    expect((await run(associate, contractOperation('ReadyForPickup'), { orderId: placed.id })).markReadyForPickup.order.status).toBe('READY_FOR_PICKUP');
    expect((await run(associate, contractOperation('HandOver'), { orderId: placed.id })).confirmPickup.order.status).toBe('PICKED_UP');
    const before = await level();
    expect(before.reserved).toBeGreaterThanOrEqual(2);

    child.kill('SIGKILL');
    await exitOf(child);
    child = start([], env); // a fresh process: no faults, the ERP answers again
    await waitFor(`${gateway}/ready`);
    expect(await level()).toEqual(before);
    // The queued sale drains by itself after the restart, and is booked exactly once.
    const sales = await pollUntil(
      async () => ((await postings(placed.id)) as any[]).filter((p: any) => p.type === 'SALE'),
      (list) => list.some((p: any) => p.status === 'POSTED'),
      'the queued sale to be posted after the restart',
      10_000,
      100,
    );
    expect(sales).toHaveLength(1);
    expect(sales[0]).toMatchObject({ status: 'POSTED', erpDocumentNumber: expect.any(String) });
    // Saved POSTED once its JOURNAL_POSTED is in the event outbox, which relays it to the timeline after.
    const timeline = await pollUntil(
      async () => (await run(AGENT, contractOperation('OrderTimeline'), { orderId: placed.id })).order.timeline.map((e: any) => e.type) as string[],
      (types) => types.includes('JOURNAL_POSTED'),
      'JOURNAL_POSTED on the timeline',
      10_000,
      100,
    );
    expect(timeline.filter((t: string) => t === 'JOURNAL_POSTED')).toHaveLength(1);
    // The reservation is still held, and its shopper can release it by its id.
    const released = (await run(cartOwner, 'mutation L($input: ReleaseReservationInput!) { releaseReservation(input: $input) { userErrors { code } } }', { input: { idempotencyKey: 'cart-1-release', reservationId: reservation.reservation.id } })).releaseReservation;
    expect(released.userErrors).toEqual([]);
    expect((await level()).reserved).toBe(before.reserved - 2);
    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
  });
});

describe('durability of a checkout cut short', () => {
  it('an order whose process was killed while the PSP answered is undone after the restart: cancelled, its stock back, once', async () => {
    const env = await ports(['GATEWAY_PORT', 'CATALOG_PORT', 'INVENTORY_PORT', 'ORDERS_PORT', 'CUSTOMERS_PORT', 'FINANCE_PORT', 'NODES_PORT', 'SANDBOX_PORT']);
    const recovery = { CHECKOUT_STALE_MS: '1500', CHECKOUT_RECOVERY_INTERVAL_MS: '200' };
    const gateway = `http://127.0.0.1:${env.GATEWAY_PORT}`;
    const sandbox = `http://127.0.0.1:${env.SANDBOX_PORT}`;
    const run = async (caller: Caller, document: string, variables: Record<string, unknown>) => ((await (await graphqlAs(gateway, sandbox, caller, document, variables)).json()) as any).data;
    const sku = 'SKU-0005-1';
    const location = 'store-002';
    const customerId = 'cust-00042';
    const level = async () => (await run(store(location), contractOperation('StoreStock'), { locationId: location, skus: [sku] })).location.inventoryLevels[0];
    const latestOrder = async () => (await run(AGENT, 'query C($id: ID!) { customer(id: $id) { orders(first: 1) { edges { node { id status timeline { type } } } } } }', { id: customerId })).customer.orders.edges[0]?.node;

    let child = start([], { ...env, ...recovery });
    await waitFor(`${gateway}/ready`);
    const before = await level();
    const lastBefore = await latestOrder();
    // The PSP takes 800 ms (under the adapter timeout): the process dies with the stock committed, the order PLACED.
    await fetch(`${sandbox}/sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ system: 'psp', latencyMs: 800 }) });
    const shopperToken = await bearer(sandbox, shopper(customerId));
    const pspCalls = async () => Object.values((((await (await fetch(`${sandbox}/sandbox/calls`)).json()) as Record<string, Record<string, number>>).psp ?? {})).reduce((a, b) => a + b, 0);
    const pspBefore = await pspCalls();
    void graphql(`${gateway}/graphql`, contractOperation('PlaceOrder'), { input: { idempotencyKey: 'cut-short', channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: location, customerId, lines: [{ sku, quantity: 2 }] } }, shopperToken).catch(() => undefined);
    // Killed inside the PSP call (the sandbox counts a call as it starts): the stock is committed, the order PLACED.
    await pollUntil(pspCalls, (n) => n > pspBefore, 'the checkout to reach the PSP');
    child.kill('SIGKILL');
    await exitOf(child);

    child = start([], { ...env, ...recovery });
    await waitFor(`${gateway}/ready`);
    expect((await latestOrder()).id).not.toBe(lastBefore?.id);
    // The status flips first (the compare-and-swap that decides), then the stock goes back and the events follow:
    // the cancellation has ended once its last event, INVENTORY_RELEASED, is on the timeline.
    const order = await pollUntil(
      latestOrder,
      (o) => o.status === 'CANCELLED' && o.timeline.some((e: any) => e.type === 'INVENTORY_RELEASED'),
      'recovery to cancel the cut-short order and release its stock',
      10_000,
      100,
    );
    expect(order.status).toBe('CANCELLED');
    expect(order.timeline.map((e: any) => e.type)).toEqual(['ORDER_PLACED', 'INVENTORY_RESERVED', 'ORDER_CANCELLED', 'INVENTORY_RELEASED']);
    const after = await level();
    expect({ committed: after.committed, available: after.available }).toEqual({ committed: before.committed, available: before.available });
    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
  });
});
