import type { Client as WsClient } from 'graphql-ws';
import { expect } from 'vitest';
import { contractOperations } from './contract.js';
import { pickupStockIn } from './expect.js';
import { AGENT, FINANCE, shopper, store, type Caller, type TestStack } from './stack.js';
import { until, wsClient, wsClientAs } from './subscriptions.js';

/*
 * What the client-library tests share: requests counted as they leave (method and operation), sockets signed in as a
 * caller, the wait for a subscription to be listening, and the contract run as its three apps would run it.
 */

/** Who a client app signs in as; null is an anonymous storefront. */
export type Who = Caller | null;

/** One app per caller, made on first use and kept: a real app signs in once and keeps its client and cache. */
export function appsByCaller<App>(make: (who: Who) => Promise<App>): { appFor(who: Who): Promise<App>; all(): Promise<App[]> } {
  const apps = new Map<string, Promise<App>>();
  return {
    appFor(who) {
      const key = JSON.stringify(who);
      let made = apps.get(key);
      if (!made) apps.set(key, (made = make(who)));
      return made;
    },
    all: () => Promise.all([...apps.values()]),
  };
}

export interface SentRequest {
  method: string;
  operationName: string | null;
  /** For a POST: how long the URL of the same request sent as a GET would be (urql's fallback rule reads it). */
  getUrlLength?: number;
}

/** A `fetch` that records each request's method and operation name before sending it, as the app would. */
export function countingFetch(sent: SentRequest[]): typeof fetch {
  return async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    let operationName = url.searchParams.get('operationName');
    let getUrlLength: number | undefined;
    if (typeof init?.body === 'string') {
      const body = JSON.parse(init.body) as Record<string, unknown>;
      if (operationName === null) operationName = typeof body.operationName === 'string' ? body.operationName : null;
      const asGet = new URL(url);
      for (const [name, value] of Object.entries(body)) if (value) asGet.searchParams.set(name, typeof value === 'object' ? JSON.stringify(value) : String(value));
      getUrlLength = asGet.href.length;
    }
    // A client need not name the operation in a GET: read it off the document.
    operationName ??= /\b(?:query|mutation)\s+(\w+)/.exec(url.searchParams.get('query') ?? '')?.[1] ?? null;
    sent.push({ method, operationName, ...(getUrlLength === undefined ? {} : { getUrlLength }) });
    return fetch(input, init);
  };
}

/** A graphql-ws socket as `who` (anonymous without a caller). */
export function socketFor(stack: TestStack, who: Who, sockets: WsClient[]): WsClient {
  const socket = who ? wsClientAs(stack.urls.gateway, () => stack.bearer(who)) : wsClient(stack.urls.gateway);
  sockets.push(socket);
  return socket;
}

/** `Authorization` headers for `who`. */
export async function headersFor(stack: TestStack, who: Who): Promise<Record<string, string>> {
  return who ? { authorization: await stack.bearer(who) } : {};
}

/**
 * Wait until `subscribers` subscriptions joined the gateway's hub and `upstreams` more subgraph subscriptions listen
 * than `startsBefore` (graphql-ws acknowledges no subscription; the subgraph logs a line once its stream listens).
 */
export async function live(stack: TestStack, subscribers: number, startsBefore: number, upstreams = 1): Promise<void> {
  await until(() => stack.gateway.subscriptionStats().subscribers >= subscribers, 10_000, `${subscribers} subscribers`);
  await until(() => subgraphStarts(stack) >= startsBefore + upstreams, 10_000, `${upstreams} subgraph subscriptions to listen`);
}

export const subgraphStarts = (stack: TestStack) => stack.logs.filter((l) => l.msg === 'graphql subscription started').length;

/** The contract's operation names, every file. */
export const contractNames = () => contractOperations().map((o) => o.name).sort();

/** A pickup store and a SKU it has `min` units of (the `skip`th such pair, so tests do not share stock). */
export const pickupStock = (stack: TestStack, min: number, skip: number) => pickupStockIn(stack.sandbox.data, min, skip);

let keys = 0;
export const idempotencyKey = (prefix: string) => `${prefix}-${process.pid}-${Date.now()}-${++keys}`;

/** One app's way of sending an operation: a query, a mutation, or a subscription whose events are collected. */
export interface ContractRunner {
  run(name: string, who: Who, variables?: Record<string, unknown>): Promise<Record<string, any>>;
  /** Start a subscription; `events` (their data) and `errors` (GraphQL or transport) fill as they arrive. */
  subscribe(name: string, who: Who, variables: Record<string, unknown>): { events: Record<string, any>[]; errors: unknown[]; stop(): void };
}

/**
 * Every operation of the contract, in the order its apps would send them, each as the caller that sends it: the
 * storefront browses (anonymous) and a shopper checks out and follows the order, the store's associate watches stock
 * and pickups and hands the order over, a service agent looks the customer and the order up, books a return and
 * cancels another order, and finance reconciles the day. Every answer must come without errors or user errors.
 * Gives the names it ran, for the caller to compare with the contract.
 */
export async function runWholeContract(stack: TestStack, client: ContractRunner, skip: number): Promise<string[]> {
  const ran: string[] = [];
  const data = stack.sandbox.data;
  const started = new Date().toISOString();
  const { sku, locationId } = pickupStock(stack, 5, skip);
  const product = data.products.find((p) => p.skus.includes(sku))!;
  const customer = data.customers[20 + skip]!;
  const associate = store(locationId);
  const customerCaller = shopper(customer.id);
  const run = async (name: string, who: Who, variables: Record<string, unknown> = {}) => {
    const data = await client.run(name, who, variables);
    ran.push(name);
    for (const payload of Object.values(data)) {
      if (payload && typeof payload === 'object' && 'userErrors' in payload) expect(payload.userErrors, name).toEqual([]);
    }
    return data;
  };

  await run('ProductPage', null, { id: product.id, locationIds: [locationId] });
  await run('ProductListing', null, { category: product.category, first: 5 });
  await run('PickupStores', null);

  let startsBefore = subgraphStarts(stack);
  const subscribersBefore = stack.gateway.subscriptionStats().subscribers;
  const stock = client.subscribe('StoreInventory', associate, { locationId, skus: [sku] });
  const pickups = client.subscribe('PickupFeed', associate, { locationId });
  ran.push('StoreInventory', 'PickupFeed');
  await live(stack, subscribersBefore + 2, startsBefore, 2);
  await run('StoreStock', associate, { locationId, skus: [sku] });

  const placeOrder = (quantity: number) => ({
    input: { idempotencyKey: idempotencyKey('clients'), channel: 'MOBILE', deliveryMethod: 'PICKUP', pickupLocationId: locationId, lines: [{ sku, quantity }] },
  });
  const { placeOrder: placed } = await run('PlaceOrder', customerCaller, placeOrder(1));
  const order = placed.order as { id: string; number: string; status: string };
  expect(order.status).toBe('CONFIRMED');
  await run('MyAccount', customerCaller);

  startsBefore = subgraphStarts(stack);
  const tracking = client.subscribe('OrderTracking', customerCaller, { orderId: order.id });
  ran.push('OrderTracking');
  await live(stack, subscribersBefore + 3, startsBefore);

  await run('PickupQueue', associate, { locationId });
  await run('AdjustStock', associate, { input: { idempotencyKey: idempotencyKey('clients'), locationId, sku, reason: 'RECEIPT', delta: 2 } });
  await run('ReadyForPickup', associate, { orderId: order.id });
  await run('HandOver', associate, { orderId: order.id });

  await run('CustomerLookup', AGENT, { query: customer.email });
  await run('OrderTimeline', AGENT, { orderId: order.id });
  await run('OrderByNumber', AGENT, { number: order.number });
  await run('CreateReturn', AGENT, { input: { idempotencyKey: idempotencyKey('clients'), orderId: order.id, reason: 'Too small', lines: [{ sku, quantity: 1 }] } });
  const { placeOrder: second } = await run('PlaceOrder', customerCaller, placeOrder(1));
  await run('CancelOrder', AGENT, { input: { idempotencyKey: idempotencyKey('clients'), orderId: second.order.id, reason: 'Changed my mind' } });
  await run('Reconciliation', FINANCE, { from: started, to: new Date(Date.now() + 60_000).toISOString() });

  // What the mutations above must have pushed: the stock receipt, the order's moves at the store, and to the shopper.
  await until(() => stock.events.some((e) => e.inventoryChanged?.reason === 'RECEIPT'), 10_000, 'the receipt on StoreInventory');
  await until(() => pickups.events.some((e) => e.orderStatusChanged?.status === 'PICKED_UP'), 10_000, 'the hand-over on PickupFeed');
  await until(() => tracking.events.some((e) => e.orderStatusChanged?.status === 'PICKED_UP'), 10_000, 'the hand-over on OrderTracking');
  const receipt = stock.events.find((e) => e.inventoryChanged?.reason === 'RECEIPT')!.inventoryChanged;
  expect(receipt).toMatchObject({ sku, delta: 2, location: { name: expect.any(String) }, variant: { name: expect.any(String), product: { name: product.name } } });
  expect(tracking.events.map((e) => e.orderStatusChanged.status)).toEqual(expect.arrayContaining(['READY_FOR_PICKUP', 'PICKED_UP']));
  for (const feed of [stock, pickups, tracking]) {
    expect(feed.errors).toEqual([]);
    feed.stop();
  }
  return [...new Set(ran)].sort();
}
