import { cacheExchange, createClient, fetchExchange, subscriptionExchange, type Client } from '@urql/core';
import type { Client as WsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractNames, countingFetch, headersFor, pickupStock, runWholeContract, socketFor, type ContractRunner, type SentRequest, type Who, appsByCaller } from './support/clients.js';
import { contractOperation, contractOperations } from './support/contract.js';
import { AGENT, shopper, startTestStack, store, type TestStack } from './support/stack.js';

/*
 * The contract through urql as it comes: @urql/core with its document cache (`cacheExchange`) and `fetchExchange`,
 * which sends queries with GET (while the URL stays under 2048 characters) and mutations with POST, and graphql-ws
 * for subscriptions through `subscriptionExchange`. No setting is changed from urql's defaults but the URL, the
 * caller's Authorization header and the socket.
 */

let stack: TestStack;
const sockets: WsClient[] = [];
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await Promise.all(sockets.map((s) => s.dispose()));
  await stack?.stop();
});

interface App {
  client: Client;
  sent: SentRequest[];
}

async function app(who: Who): Promise<App> {
  const sent: SentRequest[] = [];
  const socket = socketFor(stack, who, sockets);
  const client = createClient({
    url: stack.urls.gateway,
    fetch: countingFetch(sent),
    fetchOptions: { headers: await headersFor(stack, who) },
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return { subscribe: (sink) => ({ unsubscribe: socket.subscribe(input, sink) }) };
        },
      }),
    ],
  });
  return { client, sent };
}

const kindOf = (name: string) => contractOperations().find((o) => o.name === name)!.kind;

describe('urql with its defaults', () => {
  it('sends even the longest contract query (OrderTimeline) over GET when told to (`preferGetMethod: \'force\'`), and the edge serves it', async () => {
    const sent: SentRequest[] = [];
    const client = createClient({ url: stack.urls.gateway, fetch: countingFetch(sent), fetchOptions: { headers: await headersFor(stack, AGENT) }, preferGetMethod: 'force', exchanges: [cacheExchange, fetchExchange] });
    const order = stack.sandbox.data.orders.find((o) => o.customerId)!;
    const number = (await stack.queryAs(AGENT, contractOperation('OrderByNumber'), { number: order.number })).body.data!.orderByNumber;
    const result = await client.query(contractOperation('OrderTimeline'), { orderId: number.id }).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data!.order.number).toBe(order.number);
    expect(sent).toEqual([{ method: 'GET', operationName: 'OrderTimeline' }]);
  });

  it('runs every contract operation as the app that sends it: queries over GET, mutations over POST, subscriptions over graphql-ws', async () => {
    const apps = appsByCaller(app);
    const appFor = apps.appFor;
    const runner: ContractRunner = {
      async run(name, who, variables = {}) {
        const { client } = await appFor(who);
        const document = contractOperation(name);
        const result = kindOf(name) === 'mutation' ? await client.mutation(document, variables).toPromise() : await client.query(document, variables).toPromise();
        expect(result.error, name).toBeUndefined();
        return result.data as Record<string, any>;
      },
      subscribe(name, who, variables) {
        const feed = { events: [] as Record<string, any>[], errors: [] as unknown[], stop: () => undefined as void };
        void appFor(who).then(({ client }) => {
          const { unsubscribe } = client.subscription(contractOperation(name), variables).subscribe((result) => {
            if (result.error) feed.errors.push(result.error);
            if (result.data) feed.events.push(result.data as Record<string, any>);
          });
          feed.stop = unsubscribe;
        });
        return { events: feed.events, errors: feed.errors, stop: () => feed.stop() };
      },
    };
    const ran = await runWholeContract(stack, runner, 1);
    expect(ran).toEqual(contractNames());

    const sent = (await apps.all()).flatMap((a) => a.sent);
    const methods = new Map<string, Set<string>>();
    for (const { operationName, method } of sent) methods.set(operationName ?? '?', (methods.get(operationName ?? '?') ?? new Set()).add(method));
    const seen = Object.fromEntries([...methods].map(([name, set]) => [name, [...set].sort().join(',')]));
    // urql's default (`preferGetMethod: 'within-url-limit'`) sends a query with POST when its GET URL would pass
    // 2,047 characters: of the contract, only the console's OrderTimeline is that long.
    const tooLong = [...new Set(sent.filter((s) => (s.getUrlLength ?? 0) > 2047 && kindOf(s.operationName!) === 'query').map((s) => s.operationName))];
    expect(tooLong).toEqual(['OrderTimeline']);
    const expected = Object.fromEntries(
      contractOperations()
        .filter((o) => o.kind !== 'subscription')
        .map((o) => [o.name, o.kind === 'query' && !tooLong.includes(o.name) ? 'GET' : 'POST']),
    );
    expect(seen).toEqual(expected);
    // No request of a subscription went over HTTP: they all ran on the sockets (their events were checked above).
    for (const o of contractOperations().filter((o) => o.kind === 'subscription')) expect(methods.has(o.name), o.name).toBe(false);
  });

  it('answers a repeated query from its document cache, and a mutation on an order makes the pickup queue ask again', async () => {
    const { sku, locationId } = pickupStock(stack, 3, 6);
    const product = stack.sandbox.data.products.find((p) => p.skus.includes(sku))!;
    const storefront = await app(null);
    const first = await storefront.client.query(contractOperation('ProductPage'), { id: product.id, locationIds: [locationId] }).toPromise();
    expect(first.error).toBeUndefined();
    const again = await storefront.client.query(contractOperation('ProductPage'), { id: product.id, locationIds: [locationId] }).toPromise();
    expect(again.data).toEqual(first.data);
    expect(storefront.sent).toEqual([{ method: 'GET', operationName: 'ProductPage' }]);

    const customer = stack.sandbox.data.customers[60]!;
    const mobile = await app(shopper(customer.id));
    const placed = await mobile.client
      .mutation(contractOperation('PlaceOrder'), { input: { idempotencyKey: `urql-${Date.now()}`, channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: locationId, lines: [{ sku, quantity: 1 }] } })
      .toPromise();
    const order = placed.data!.placeOrder.order;
    const storeApp = await app(store(locationId));
    const queue = async () => (await storeApp.client.query(contractOperation('PickupQueue'), { locationId }).toPromise()).data!.location.pickupQueue.find((o: any) => o.id === order.id);
    expect((await queue()).status).toBe('CONFIRMED');
    expect((await queue()).status).toBe('CONFIRMED');
    expect(storeApp.sent.map((s) => s.operationName)).toEqual(['PickupQueue']);
    // The mutation answers with an Order: urql's document cache drops every cached result that held an Order.
    expect((await storeApp.client.mutation(contractOperation('ReadyForPickup'), { orderId: order.id }).toPromise()).data!.markReadyForPickup.userErrors).toEqual([]);
    expect((await queue()).status).toBe('READY_FOR_PICKUP');
    expect(storeApp.sent.map(({ method, operationName }) => `${method} ${operationName}`)).toEqual(['GET PickupQueue', 'POST ReadyForPickup', 'GET PickupQueue']);
  });

  it('serves urql’s GET to a signed-in caller by its Authorization header; the same URL without it is anonymous', async () => {
    // The point of the edge's rule (gateway/edge/edge-http.ts): a GET is safe because the graph reads the caller from
    // the Authorization header only, which no cross-site page can make a browser send.
    const console_ = await app(AGENT);
    const number = stack.sandbox.data.orders.find((o) => o.customerId)!.number;
    const result = await console_.client.query(contractOperation('OrderByNumber'), { number }).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data!.orderByNumber.number).toBe(number);
    expect(console_.sent).toEqual([{ method: 'GET', operationName: 'OrderByNumber' }]);
    // The same GET without the header is an anonymous caller's, who may not read orders.
    const url = new URL(stack.urls.gateway);
    url.searchParams.set('query', contractOperation('OrderByNumber'));
    url.searchParams.set('variables', JSON.stringify({ number }));
    const anonymous = (await (await fetch(url)).json()) as { data?: { orderByNumber: unknown }; errors?: { extensions?: { code?: string } }[] };
    expect(anonymous.data?.orderByNumber ?? null).toBeNull();
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
