import './support/apollo-dev.js';
import { format } from 'node:util';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, type TypedDocumentNode } from '@apollo/client';
import { loadDevMessages, loadErrorMessages } from '@apollo/client/dev';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { addTypenameToDocument } from '@apollo/client/utilities';
import { parse, print, OperationTypeNode } from 'graphql';
import type { Client as WsClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cacheOptions } from '../clients/apollo.js';
import { parseGlobalId, toGlobalId } from '../clients/global-id.js';
import { parseGlobalId as serverParse, toGlobalId as serverToGlobalId } from '../common/global-id.js';
import { contractNames, countingFetch, headersFor, idempotencyKey, live, pickupStock, runWholeContract, socketFor, subgraphStarts, type ContractRunner, type SentRequest, type Who, appsByCaller } from './support/clients.js';
import { contractOperation } from './support/contract.js';
import { AGENT, shopper, startTestStack, store, type Caller, type TestStack } from './support/stack.js';

/*
 * The contract through Apollo Client 4 as a storefront, a store app and a service console would set it up: HttpLink
 * for queries and mutations, GraphQLWsLink (graphql-ws) for subscriptions, an InMemoryCache with the shipped
 * `clients/apollo.ts` policies, one client per signed-in app. Apollo runs in development mode (support/apollo-dev.ts),
 * so every check it makes of the cache runs, and whatever it writes to the console fails the test.
 */

let stack: TestStack;
const sockets: WsClient[] = [];
const consoleOutput: unknown[][] = [];

beforeAll(async () => {
  loadDevMessages();
  loadErrorMessages();
  for (const method of ['warn', 'error'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      consoleOutput.push([method, ...args]);
    });
  }
  stack = await startTestStack();
});
afterEach(() => {
  // Apollo reports lost cache data, missing key fields and the like through console.warn / console.error.
  expect(consoleOutput).toEqual([]);
});
afterAll(async () => {
  await Promise.all(sockets.map((s) => s.dispose()));
  await stack?.stop();
  vi.restoreAllMocks();
});

const doc = (name: string) => parse(contractOperation(name)) as TypedDocumentNode<Record<string, any>>;
const gql = (source: string) => parse(source) as TypedDocumentNode<Record<string, any>>;

interface App {
  client: ApolloClient;
  cache: InMemoryCache;
  /** The HTTP requests this app sent. */
  sent: SentRequest[];
}

/**
 * A raw answer, fetched without a client but with the `__typename`s Apollo's own request would have asked for, so
 * a test can write what the server really said into a cache of its choosing.
 */
async function answer(who: Caller, name: string, variables: Record<string, unknown>): Promise<Record<string, any>> {
  const { body } = await stack.queryAs(who, print(addTypenameToDocument(doc(name))), variables);
  expect(body.errors ?? [], name).toEqual([]);
  return body.data!;
}

/** One app: its own cache, signed in as `who` on HTTP and on its socket. */
async function app(who: Who, cache = new InMemoryCache(cacheOptions)): Promise<App> {
  const sent: SentRequest[] = [];
  const http = new HttpLink({ uri: stack.urls.gateway, headers: await headersFor(stack, who), fetch: countingFetch(sent) });
  const ws = new GraphQLWsLink(socketFor(stack, who, sockets));
  const link = ApolloLink.split((operation) => operation.operationType === OperationTypeNode.SUBSCRIPTION, ws, http);
  return { client: new ApolloClient({ link, cache }), cache, sent };
}

/** What a subscription through `client` delivered. */
function follow(client: ApolloClient, name: string, variables: Record<string, unknown>) {
  const events: Record<string, any>[] = [];
  const errors: unknown[] = [];
  const subscription = client.subscribe({ query: doc(name), variables }).subscribe({
    next: (result) => {
      if (result.error) errors.push(result.error);
      if (result.data) events.push(result.data as Record<string, any>);
    },
    error: (error: unknown) => errors.push(error),
  });
  return { events, errors, stop: () => subscription.unsubscribe() };
}

describe('Apollo Client with the shipped type policies', () => {
  it('runs every contract operation, each as the app that sends it, without errors or cache warnings', async () => {
    const apps = appsByCaller(app);
    const appFor = apps.appFor;
    const runner: ContractRunner = {
      async run(name, who, variables = {}) {
        const { client } = await appFor(who);
        const document = doc(name);
        const kind = contractOperation(name).trimStart().startsWith('mutation') ? 'mutation' : 'query';
        const result = kind === 'mutation' ? await client.mutate({ mutation: document, variables }) : await client.query({ query: document, variables });
        expect(result.error, name).toBeUndefined();
        return result.data as Record<string, any>;
      },
      subscribe(name, who, variables) {
        const feed = { events: [] as Record<string, any>[], errors: [] as unknown[], stop: () => undefined as void };
        void appFor(who).then(({ client }) => {
          const started = follow(client, name, variables);
          feed.events = started.events;
          feed.errors = started.errors;
          feed.stop = started.stop;
        });
        return {
          get events() {
            return feed.events;
          },
          get errors() {
            return feed.errors;
          },
          stop: () => feed.stop(),
        };
      },
    };
    // The apps exist before the run, so subscriptions start at once.
    await Promise.all([null, AGENT].map((who) => appFor(who)));
    expect(await runWholeContract(stack, runner, 0)).toEqual(contractNames());
  });

  it('keeps a product page readable from the cache after the listing shows the same product (the default cache does not)', async () => {
    const data = stack.sandbox.data;
    const product = data.products.find((p) => p.category === 'shoes')!;
    const { locationId } = pickupStock(stack, 1, 3);
    const page = { id: product.id, locationIds: [locationId] };
    const listing = { category: 'shoes', first: 20 };

    const storefront = await app(null);
    const first = await storefront.client.query({ query: doc('ProductPage'), variables: page });
    await storefront.client.query({ query: doc('ProductListing'), variables: listing });
    expect((storefront.client.readQuery({ query: doc('ProductListing'), variables: listing }) as any).products.edges.map((e: any) => e.node.name)).toContain(product.name);
    expect(storefront.client.readQuery({ query: doc('ProductPage'), variables: page })).toEqual(first.data);
    const before = storefront.sent.length;
    expect((await storefront.client.query({ query: doc('ProductPage'), variables: page })).data).toEqual(first.data);
    expect(storefront.sent.length, 'the page again came from the cache').toBe(before);

    // Why the policies: with Apollo's defaults the listing overwrites the variants (they have no id), silently.
    const plain = await app(null, new InMemoryCache());
    await plain.client.query({ query: doc('ProductPage'), variables: page });
    await plain.client.query({ query: doc('ProductListing'), variables: listing });
    expect(plain.client.readQuery({ query: doc('ProductPage'), variables: page })).toBeNull();
  });

  it('answers product(id:), variant(sku:) and node(id:) from the cache, with a native or a global id, and keeps one entry per variant', async () => {
    const product = stack.sandbox.data.products[7]!;
    const storefront = await app(null);
    const page = (await storefront.client.query({ query: doc('ProductPage'), variables: { id: product.id } })).data!.product;
    expect(parseGlobalId(page.id)).toMatchObject({ type: 'Product', parts: [product.id] });
    const sent = storefront.sent.length;
    const PRODUCT = gql('query P($id: ID!) { product(id: $id) { id name variants { sku name } } }');
    for (const id of [product.id, page.id]) {
      const cached = await storefront.client.query({ query: PRODUCT, variables: { id }, fetchPolicy: 'cache-only' });
      expect(cached.data, id).toEqual({ product: { __typename: 'Product', id: page.id, name: product.name, variants: page.variants.map((v: any) => ({ __typename: 'ProductVariant', sku: v.sku, name: v.name })) } });
    }
    const [first] = page.variants as { sku: string; name: string }[];
    const VARIANT = gql('query V($sku: String!) { variant(sku: $sku) { sku name price { amount currencyCode } } }');
    expect((await storefront.client.query({ query: VARIANT, variables: { sku: first!.sku }, fetchPolicy: 'cache-only' })).data!.variant).toMatchObject({ sku: first!.sku, name: first!.name });
    const NODE = gql('query N($id: ID!) { node(id: $id) { id ... on Product { name } } }');
    expect((await storefront.client.query({ query: NODE, variables: { id: page.id }, fetchPolicy: 'cache-only' })).data!.node).toEqual({ __typename: 'Product', id: page.id, name: product.name });
    expect(storefront.sent.length, 'all of it came from the cache').toBe(sent);

    // A variant fetched by its global id alone lands in the entry its SKU keys, not in a second one.
    const variantId = toGlobalId('ProductVariant', first!.sku);
    const BY_ID = gql('query VN($id: ID!) { node(id: $id) { id ... on ProductVariant { color } } }');
    await storefront.client.query({ query: BY_ID, variables: { id: variantId } });
    const entry = storefront.cache.extract()[storefront.cache.identify({ __typename: 'ProductVariant', sku: first!.sku })!] as Record<string, unknown>;
    expect(entry).toMatchObject({ sku: first!.sku, name: first!.name, id: variantId, color: expect.any(String) });
    expect(Object.keys(storefront.cache.extract()).filter((k) => k.includes(variantId))).toEqual([]);
  });

  it('merges fetchMore pages of products into one cached list, in order, without duplicates', async () => {
    const storefront = await app(null);
    const variables = { category: 'shoes', first: 5 };
    const watched = storefront.client.watchQuery({ query: doc('ProductListing'), variables });
    const seen: unknown[] = [];
    const subscription = watched.subscribe((result) => seen.push(result.data));
    try {
      await vi.waitFor(() => expect(seen.filter(Boolean).length).toBeGreaterThan(0));
      const page1 = (await stack.query(contractOperation('ProductListing'), variables)).body.data!.products;
      const page2 = (await stack.query(contractOperation('ProductListing'), { ...variables, after: page1.pageInfo.endCursor })).body.data!.products;
      await watched.fetchMore({ variables: { after: page1.pageInfo.endCursor } });
      // The watching page gets the merged list from the cache once Apollo has written the page there.
      await vi.waitFor(() => expect((seen.at(-1) as any).products.edges).toHaveLength(10));
      // The same page again (a double tap) replaces it rather than appending it twice.
      await watched.fetchMore({ variables: { after: page1.pageInfo.endCursor } });
      const cached = (storefront.client.readQuery({ query: doc('ProductListing'), variables }) as any).products;
      const expected = [...page1.edges, ...page2.edges].map((e: any) => e.node.id);
      expect(cached.edges.map((e: any) => e.node.id)).toEqual(expected);
      expect(new Set(expected).size).toBe(10);
      expect(cached.pageInfo).toMatchObject({ hasNextPage: page2.pageInfo.hasNextPage, endCursor: page2.pageInfo.endCursor });
      expect(cached.totalCount).toBe(page1.totalCount);
      expect((watched.getCurrentResult().data as any).products.edges.map((e: any) => e.node.id)).toEqual(expected);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('merges fetchMore pages of a customer’s orders the same way', async () => {
    const data = stack.sandbox.data;
    const counts = new Map<string, number>();
    for (const o of data.orders) if (o.customerId) counts.set(o.customerId, (counts.get(o.customerId) ?? 0) + 1);
    const [customerId] = [...counts].find(([, n]) => n >= 7)!;
    const ORDERS = parse(/* GraphQL */ `
      query MyOrders($first: Int!, $after: String) {
        me { id orders(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id number status } } } }
      }
    `) as TypedDocumentNode<Record<string, any>>;
    const account = await app(shopper(customerId));
    const watched = account.client.watchQuery({ query: ORDERS, variables: { first: 3 } });
    const subscription = watched.subscribe(() => undefined);
    try {
      await vi.waitFor(() => expect(watched.getCurrentResult().data).toBeTruthy());
      const endCursor = (watched.getCurrentResult().data as any).me.orders.pageInfo.endCursor;
      await watched.fetchMore({ variables: { after: endCursor } });
      const all = (await stack.queryAs(shopper(customerId), ORDERS.loc!.source.body, { first: 6 })).body.data!.me.orders;
      const cached = (account.client.readQuery({ query: ORDERS, variables: { first: 3 } }) as any).me.orders;
      expect(cached.edges.map((e: any) => e.node.id)).toEqual(all.edges.map((e: any) => e.node.id));
      expect(cached.pageInfo.endCursor).toBe(all.pageInfo.endCursor);
      expect(new Set(cached.edges.map((e: any) => e.node.id)).size).toBe(6);
      await vi.waitFor(() => expect((watched.getCurrentResult().data as any).me.orders.edges).toHaveLength(6));
      // The contract's MyAccount (orders(first: 5), no pageInfo) starts the list afresh: no stale cursor survives it
      // for a later fetchMore to read, so the page query asks the server again. (The page stops watching first, or
      // it would ask at once.)
      subscription.unsubscribe();
      await account.client.query({ query: doc('MyAccount') });
      expect(account.client.readQuery({ query: ORDERS, variables: { first: 3 } })).toBeNull();
    } finally {
      subscription.unsubscribe();
    }
  });

  it('reads a placed order back from the cache, and the console’s OrderTimeline merges into it without losing a field', async () => {
    const { sku, locationId } = pickupStock(stack, 3, 4);
    const customer = stack.sandbox.data.customers[40]!;
    const input = (channel: string) => ({ idempotencyKey: idempotencyKey('apollo-order'), channel, deliveryMethod: 'PICKUP', customerId: customer.id, pickupLocationId: locationId, lines: [{ sku, quantity: 1 }] });

    // The shopper's app: the order it placed is in its cache, whole, under the order's id.
    const mobile = await app(shopper(customer.id));
    const placed = (await mobile.client.mutate({ mutation: doc('PlaceOrder'), variables: { input: input('MOBILE') } })).data!.placeOrder.order;
    const ORDER_FIELDS = parse(`fragment Placed on Order { ${contractOperation('PlaceOrder').match(/order \{([\s\S]*)\}\s*userErrors/)![1]} }`);
    expect(mobile.cache.readFragment({ id: mobile.cache.identify(placed)!, fragment: ORDER_FIELDS })).toEqual(placed);

    // The console places one for the customer on the phone, then opens it.
    const console_ = await app(AGENT);
    const byPhone = (await console_.client.mutate({ mutation: doc('PlaceOrder'), variables: { input: input('CALL_CENTER') } })).data!.placeOrder.order;
    const timeline = await console_.client.query({ query: doc('OrderTimeline'), variables: { orderId: byPhone.id } });
    expect(timeline.data!.order).toMatchObject({ id: byPhone.id, number: byPhone.number, status: byPhone.status });
    expect(console_.cache.readFragment({ id: console_.cache.identify(byPhone)!, fragment: ORDER_FIELDS })).toEqual(byPhone);
    const sent = console_.sent.length;
    expect(console_.client.readQuery({ query: doc('OrderTimeline'), variables: { orderId: byPhone.id } })).toEqual(timeline.data);
    expect((await console_.client.query({ query: doc('OrderTimeline'), variables: { orderId: byPhone.id } })).data).toEqual(timeline.data);
    expect(console_.sent.length, 'the second open came from the cache').toBe(sent);
  });

  it('merges a subscription event into the cached order (OrderTracking as the shopper, the store app marks it ready)', async () => {
    const { sku, locationId } = pickupStock(stack, 3, 5);
    const customer = stack.sandbox.data.customers[41]!;
    const mobile = await app(shopper(customer.id));
    const storeApp = await app(store(locationId));
    const placed = (
      await mobile.client.mutate({
        mutation: doc('PlaceOrder'),
        variables: { input: { idempotencyKey: idempotencyKey('apollo-sub'), channel: 'MOBILE', deliveryMethod: 'PICKUP', pickupLocationId: locationId, lines: [{ sku, quantity: 1 }] } },
      })
    ).data!.placeOrder.order;
    const orderId = mobile.cache.identify(placed)!;
    expect(mobile.cache.readFragment({ id: orderId, fragment: parse('fragment S on Order { status }') })).toEqual({ __typename: 'Order', status: 'CONFIRMED' });

    const startsBefore = subgraphStarts(stack);
    const subscribers = stack.gateway.subscriptionStats().subscribers;
    const tracking = follow(mobile.client, 'OrderTracking', { orderId: placed.id });
    await live(stack, subscribers + 1, startsBefore);
    const ready = (await storeApp.client.mutate({ mutation: doc('ReadyForPickup'), variables: { orderId: placed.id } })).data!.markReadyForPickup;
    expect(ready.userErrors).toEqual([]);

    await vi.waitFor(() => expect(mobile.cache.readFragment({ id: orderId, fragment: parse('fragment S on Order { status }') })).toEqual({ __typename: 'Order', status: 'READY_FOR_PICKUP' }));
    // The event's `pickupLocation { name }` (no id) merged into the store the order already pointed at.
    expect(mobile.cache.readFragment({ id: orderId, fragment: parse('fragment L on Order { pickupLocation { id name } }') })).toEqual({ __typename: 'Order', pickupLocation: placed.pickupLocation });
    expect(tracking.errors).toEqual([]);
    tracking.stop();
  });
});

describe('what the policies are for, shown with Apollo’s defaults on real answers', () => {
  it('the default cache warns that a narrower answer drops a customer’s loyalty points, the shipped policies merge them', async () => {
    const data = stack.sandbox.data;
    const order = data.orders.find((o) => o.customerId && o.channel === 'WEB')!;
    const customer = data.customers.find((c) => c.id === order.customerId)!;
    const lookup = await answer(AGENT, 'CustomerLookup', { query: customer.email });
    const timeline = await answer(AGENT, 'OrderTimeline', { orderId: order.id });
    const write = (cache: InMemoryCache) => {
      cache.writeQuery({ query: doc('CustomerLookup'), variables: { query: customer.email }, data: lookup });
      cache.writeQuery({ query: doc('OrderTimeline'), variables: { orderId: order.id }, data: timeline });
    };
    const shipped = new InMemoryCache(cacheOptions);
    write(shipped);
    expect(consoleOutput).toEqual([]);
    expect(shipped.readQuery({ query: doc('CustomerLookup'), variables: { query: customer.email } })).not.toBeNull();

    write(new InMemoryCache());
    // What a developer's console would print (console.warn formats Apollo's %s placeholders).
    const warned = consoleOutput.splice(0).map(([, ...args]) => format(...args));
    expect(warned.some((m) => m.includes('Cache data may be lost when replacing the loyalty field of a Customer object'))).toBe(true);
  });

  it('keyFields: [\'sku\'] alone throws on the contract’s PlaceOrder (its lines select variant { name }), the shipped key function does not', async () => {
    const { sku, locationId } = pickupStock(stack, 3, 7);
    const customer = stack.sandbox.data.customers[42]!;
    const placed = await answer(shopper(customer.id), 'PlaceOrder', {
      input: { idempotencyKey: idempotencyKey('apollo-keys'), channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: locationId, lines: [{ sku, quantity: 1 }] },
    });
    const variables = { input: {} };
    const naive = new InMemoryCache({ typePolicies: { ProductVariant: { keyFields: ['sku'] } } });
    expect(() => naive.writeQuery({ query: doc('PlaceOrder'), variables, data: placed })).toThrow(/Missing field 'sku'/);
    const shipped = new InMemoryCache(cacheOptions);
    shipped.writeQuery({ query: doc('PlaceOrder'), variables, data: placed });
    const order = placed.placeOrder.order;
    expect(shipped.readFragment({ id: shipped.identify(order)!, fragment: parse('fragment F on Order { lines { sku variant { name product { name } } } }') })).toEqual({ __typename: 'Order', lines: order.lines.map((l: any) => ({ __typename: 'OrderLine', sku: l.sku, variant: l.variant })) });
  });
});

describe('the client’s reading of global ids', () => {
  it('is the server’s codec, and runs where a browser runs it: without Node’s Buffer', () => {
    const buffer = globalThis.Buffer;
    const cases = [['Product', ['prod-0001']], ['ProductVariant', ['SKU-0001-1']], ['InventoryLevel', ['SKU-0001-1', 'store:003/ä']]] as const;
    const withBuffer = cases.map(([type, parts]) => serverToGlobalId(type, ...parts));
    try {
      // @ts-expect-error a storefront bundle has no Buffer
      delete globalThis.Buffer;
      cases.forEach(([type, parts], i) => {
        expect(toGlobalId(type, ...parts)).toBe(withBuffer[i]);
        expect(parseGlobalId(withBuffer[i]!)).toMatchObject({ type, parts });
      });
      for (const notOne of ['prod-0001', '', '!!', 'UHJvZHVjdA']) expect(parseGlobalId(notOne), notOne).toBeNull();
    } finally {
      globalThis.Buffer = buffer;
    }
    expect(serverParse(withBuffer[2]!)?.parts).toEqual(cases[2][1]);
  });
});
