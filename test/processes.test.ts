import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../common/global-id.js';
import { ROOT } from '../scripts/composition.js';
import { freePort } from '../scripts/free-port.js';
import { contractOperation } from './support/contract.js';
import { AGENT, FINANCE, shopper, store, type Caller } from './support/stack.js';

// These run the compiled entry point (`npm test` builds first), as `npm start` and a deployment would.
const MAIN = resolve(ROOT, 'dist/main.js');
const children: ChildProcess[] = [];
/** Tokens by sandbox and caller (see `bearer`). */
const tokens = new Map<string, Promise<string>>();

function start(args: string[], env: Record<string, string>): ChildProcess & { output: () => string } {
  tokens.clear();
  // Not NODE_ENV=production: production refuses the sandbox systems and its identity provider, which these runs use.
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  children.push(child);
  return Object.assign(child, { output: () => output });
}

async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // Say why: the last answer, and what the processes wrote (a crash at start shows there).
  const outputs = children.map((child) => (child as ChildProcess & { output?: () => string }).output?.().slice(-2000) ?? '').join('\n---\n');
  throw new Error(`${url} did not come up (last: ${last.slice(0, 500)})\n${outputs}`);
}

const exitOf = (child: ChildProcess) => new Promise<number | null>((done) => (child.exitCode !== null ? done(child.exitCode) : child.once('exit', (code) => done(code))));

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error('dist/main.js is missing: run `npm run build` (npm test does)');
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

async function ports(names: string[]): Promise<Record<string, string>> {
  // Each run its own data directory: the journal of one test must not leak into another.
  const env: Record<string, string> = { DATA_DIR: mkdtempSync(join(tmpdir(), 'retail-proc-')) };
  // freePort closes its probe, so two calls may hand out the same port: ask again until they differ.
  const taken = new Set<number>();
  for (const name of names) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    env[name] = String(port);
  }
  return env;
}

const graphql = (url: string, query: string, variables: Record<string, unknown> = {}, authorization?: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: JSON.stringify({ query, variables }) });

/**
 * `Bearer <token>` for `caller` from the sandbox identity provider at `sandbox`, over HTTP as any client would get
 * one. Kept until the next process starts (`start` forgets them): a restarted sandbox signs with a new key.
 */
function bearer(sandbox: string, caller: Caller): Promise<string> {
  const key = `${sandbox} ${JSON.stringify(caller)}`;
  let token = tokens.get(key);
  if (!token) {
    token = (async () => {
      const response = await fetch(`${sandbox}/sandbox/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(caller) });
      const body = (await response.json()) as { token?: string };
      if (response.status !== 200 || !body.token) throw new Error(`the sandbox refused a token for ${JSON.stringify(caller)}: ${response.status} ${JSON.stringify(body)}`);
      return `Bearer ${body.token}`;
    })();
    token.catch(() => tokens.delete(key));
    tokens.set(key, token);
  }
  return token;
}

/** A request to the gateway as `caller` (null: anonymous). */
const graphqlAs = async (gateway: string, sandbox: string, caller: Caller | null, query: string, variables: Record<string, unknown> = {}) =>
  graphql(`${gateway}/graphql`, query, variables, caller ? await bearer(sandbox, caller) : undefined);

describe('run modes', () => {
  it('one process runs everything, prints its URLs, and on SIGTERM drains the request in flight before exiting', async () => {
    const env = await ports(['GATEWAY_PORT', 'CATALOG_PORT', 'INVENTORY_PORT', 'ORDERS_PORT', 'CUSTOMERS_PORT', 'FINANCE_PORT', 'NODES_PORT', 'SANDBOX_PORT']);
    const child = start([], env);
    const gateway = `http://127.0.0.1:${env.GATEWAY_PORT}`;
    await waitFor(`${gateway}/ready`);
    expect(child.output()).toContain(`Gateway    http://127.0.0.1:${env.GATEWAY_PORT}/graphql`);

    // Make the in-flight request slow, then ask the process to stop while it runs.
    await fetch(`http://127.0.0.1:${env.SANDBOX_PORT}/sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ system: 'erp', latencyMs: 400 }) });
    const inFlight = graphql(`${gateway}/graphql`, contractOperation('ProductPage'), { id: 'prod-0001' });
    // A subscriber's socket too: SIGTERM closes it with 1001 (going away), so its client reconnects elsewhere.
    const socket = new WebSocket(`ws://127.0.0.1:${env.GATEWAY_PORT}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const closeCode = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 100));
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
    // The subgraphs' system calls were served (and counted) by the one sandbox process.
    const calls = (await (await fetch(`${sandboxUrl}/sandbox/calls`)).json()) as Record<string, Record<string, number>>;
    expect(Object.keys(calls).sort()).toEqual(['crm', 'ecom', 'erp', 'psp', 'wms']);
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
    let sales: any[] = [];
    for (let i = 0; i < 100; i++) {
      sales = (await postings(placed.id)).filter((p: any) => p.type === 'SALE');
      if (sales.some((p: any) => p.status === 'POSTED')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sales).toHaveLength(1);
    expect(sales[0]).toMatchObject({ status: 'POSTED', erpDocumentNumber: expect.any(String) });
    const timeline = (await run(AGENT, contractOperation('OrderTimeline'), { orderId: placed.id })).order.timeline.map((e: any) => e.type);
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
    void graphql(`${gateway}/graphql`, contractOperation('PlaceOrder'), { input: { idempotencyKey: 'cut-short', channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: location, customerId, lines: [{ sku, quantity: 2 }] } }, shopperToken).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 400));
    child.kill('SIGKILL');
    await exitOf(child);

    child = start([], { ...env, ...recovery });
    await waitFor(`${gateway}/ready`);
    let order = await latestOrder();
    expect(order.id).not.toBe(lastBefore?.id);
    for (let i = 0; i < 100 && order.status !== 'CANCELLED'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      order = await latestOrder();
    }
    expect(order.status).toBe('CANCELLED');
    expect(order.timeline.map((e: any) => e.type)).toEqual(['ORDER_PLACED', 'INVENTORY_RESERVED', 'INVENTORY_RELEASED', 'ORDER_CANCELLED']);
    const after = await level();
    expect({ committed: after.committed, available: after.available }).toEqual({ committed: before.committed, available: before.available });
    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
  });
});
