import { mkdtempSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getIntrospectionQuery, Lexer, Source, TokenKind } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.js';
import { toGlobalId } from '../common/global-id.js';
import { createLogger } from '../common/logger.js';
import { createGateway, type GatewayService } from '../gateway/gateway.js';
import { checkProductionConfig, edgeFor, startGatewayOnly, startSandboxOnly, startStack, startSubgraph, tokenVerifierFor, type Stack } from '../stack.js';
import { contractOperation, contractOperations } from './support/contract.js';
import { expectedLevel } from './support/expect.js';
import { useRedisServer } from './support/redis.js';
import { AGENT, FINANCE, shopper, store, startTestStack, totalCalls, type Caller, type TestStack } from './support/stack.js';
import { collect, until, wsClient } from './support/subscriptions.js';

// The gateway's hardened edge, end to end: real stacks on real ports, real HTTP and WebSocket clients. Every limit
// is tried just under (or at) and just over; a refusal is checked to have reached neither a subgraph (their own
// request log lines) nor a system of record (the sandbox's call counters).

const redis = useRedisServer(['edge']);

const SUPERGRAPH = process.env.SUPERGRAPH_PATH ?? 'supergraph.graphql';
const LIMIT_CODES = ['QUERY_TOO_DEEP', 'TOO_MANY_ALIASES', 'TOO_MANY_TOKENS', 'QUERY_TOO_COMPLEX', 'TOO_MANY_OPERATIONS'];
const MANIFEST = JSON.parse(readFileSync('persisted-documents.json', 'utf8')) as { operations: { id: string; name: string; body: string }[] };
const persistedId = (name: string): string => {
  const op = MANIFEST.operations.find((o) => o.name === name);
  if (!op) throw new Error(`persisted-documents.json has no ${name}`);
  return op.id;
};

interface Reply {
  status: number;
  headers: Headers;
  body: any;
  correlationId: string;
}

let seq = 0;
const nextId = (what: string) => `edge-${what}-${process.pid}-${Date.now()}-${++seq}`;

async function reply(response: Response, correlationId: string): Promise<Reply> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: kept as text for the assertion message
  }
  return { status: response.status, headers: response.headers, body, correlationId };
}

/** POST a JSON body (an operation, or a batch) to `url`, under a correlation id of our own. */
async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const correlationId = headers['x-correlation-id'] ?? nextId('post');
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return reply(response, correlationId);
}

/** GET with the operation in the query string, as urql (and graphql-http) send queries by default. */
async function get(url: string, params: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Reply> {
  const correlationId = headers['x-correlation-id'] ?? nextId('get');
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  const response = await fetch(`${url}?${search}`, { headers: { 'x-correlation-id': correlationId, ...headers } });
  return reply(response, correlationId);
}

/** What a graphql-ws stream failed with, readably: a socket close (code and reason) or the errors it was sent. */
const closeOf = (error: unknown): string | undefined => {
  if (error === undefined) return undefined;
  const close = error as { code?: number; reason?: string };
  return typeof close.code === 'number' ? `socket closed ${close.code} ${close.reason ?? ''}` : JSON.stringify(error);
};
const codesOf = (body: any): unknown[] => (body?.errors ?? []).map((e: any) => e?.extensions?.code);
const authOf = async (stack: TestStack, caller?: Caller): Promise<Record<string, string>> => (caller ? { authorization: await stack.bearer(caller) } : {});

/**
 * Send one request and report what it reached: the sandbox systems' calls made meanwhile (counters reset first) and
 * the subgraphs that logged a request under its correlation id. The gateway logs its own line last, after every
 * subgraph it called has answered, so once that line is there the subgraphs' lines are too.
 */
async function traced(stack: TestStack, send: (headers: Record<string, string>) => Promise<Reply>) {
  const correlationId = nextId('traced');
  let answer: Reply | undefined;
  const calls = await stack.countCalls(async () => {
    answer = await send({ 'x-correlation-id': correlationId });
  });
  await until(() => stack.logs.some((l) => l.service === 'gateway' && l.msg === 'graphql request' && l.correlationId === correlationId), 5_000, 'the gateway’s request log line');
  const subgraphs = stack.logs.filter((l) => l.msg === 'graphql request' && l.service !== 'gateway' && l.correlationId === correlationId).map((l) => l.service);
  return { reply: answer!, calls, systemCalls: totalCalls(calls), subgraphs };
}

/** Lexical tokens as graphql's parser counts them (what MAX_QUERY_TOKENS limits). */
function tokenCount(text: string): number {
  const lexer = new Lexer(new Source(text));
  let count = 0;
  while (lexer.advance().kind !== TokenKind.EOF) count++;
  return count;
}

let keys = 0;
const key = () => `edge-${process.pid}-${Date.now()}-${++keys}`;

/** A SKU with at least `min` sellable units at `locationId` in the seed. */
function stockedSku(stack: TestStack, locationId: string, min: number, skip = 0): string {
  let seen = 0;
  for (const s of stack.sandbox.data.stock) {
    if (s.locationId !== locationId || (expectedLevel(stack.sandbox.data, s.sku, locationId)?.available ?? 0) < min) continue;
    if (seen++ === skip) return s.sku;
  }
  throw new Error(`no SKU with ${min} sellable units at ${locationId}`);
}

async function onHand(stack: TestStack, locationId: string, sku: string): Promise<number> {
  const { body } = await stack.queryAs(store(locationId), contractOperation('StoreStock'), { locationId, skus: [sku] });
  const level = (body.data as any)?.location?.inventoryLevels?.[0];
  if (!level) throw new Error(`no level for ${sku} at ${locationId}: ${JSON.stringify(body)}`);
  return level.onHand as number;
}

// ---------------------------------------------------------------------------------------------------------------
// Document limits with small settings, so that the documents just under and just over are easy to read. Run with the
// gateway executing its subgraphs in process (the default) and over HTTP (where every subgraph logs its requests).
// ---------------------------------------------------------------------------------------------------------------

const DEPTH_6 = 'query Depth($sku: String!) { variant(sku: $sku) { product { variants { availability { locations { available } } } } } }';
const DEPTH_7 = 'query Depth($sku: String!) { variant(sku: $sku) { product { variants { availability { locations { location { id } } } } } } }';
// The documents under the limits must reach a system of record (the controls count its calls). Names and prices come
// from the catalog's in-memory read models of ERP master data, which call nothing; availability asks the POS and WMS.
/** `n` aliased products, each with its variants' availability (18 tokens and depth 4 each; cost 12 each). */
const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `p${i}: product(id: "prod-000${i + 1}") { id variants { availability { available } } }`).join(' ')} }`;
/** `{ product(id: "prod-0001") { id variants { availability { available } } name name … } }` of exactly `n` tokens (18 + the repeated names). */
const tokensDoc = (n: number) => `{ product(id: "prod-0001") { id variants { availability { available } }${' name'.repeat(n - 18)} } }`;
/** Cost 2 + 13 × first: the connection (1), pageInfo (1), and per edge the edge, its node and its 10-assumed variants' availability (13). */
const COST = 'query Cost($first: Int!) { products(first: $first) { pageInfo { hasNextPage } edges { node { variants { availability { available } } } } } }';

describe.each(['local', 'http'] as const)('document limits just under and just over (MAX_QUERY_DEPTH=6, MAX_ALIASES=3, MAX_QUERY_TOKENS=100, MAX_QUERY_COST=990; %s dispatch)', (dispatch) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({}, { SUBGRAPH_DISPATCH: dispatch, MAX_QUERY_DEPTH: '6', MAX_ALIASES: '3', MAX_QUERY_TOKENS: '100', MAX_QUERY_COST: '990' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const sku = () => stack.sandbox.data.variants[0]!.sku;
  const limitCases = [
    {
      what: 'depth 6 answers; depth 7 is QUERY_TOO_DEEP',
      code: 'QUERY_TOO_DEEP',
      under: () => ({ query: DEPTH_6, variables: { sku: sku() } }),
      over: () => ({ query: DEPTH_7, variables: { sku: sku() } }),
      extensions: { code: 'QUERY_TOO_DEEP', limit: 6, actual: 7 },
    },
    {
      what: '3 aliases answer; 4 are TOO_MANY_ALIASES',
      code: 'TOO_MANY_ALIASES',
      under: () => ({ query: aliases(3) }),
      over: () => ({ query: aliases(4) }),
      extensions: { code: 'TOO_MANY_ALIASES', limit: 3, actual: 4 },
    },
    {
      what: 'a document of exactly 100 tokens answers; 101 tokens are TOO_MANY_TOKENS',
      code: 'TOO_MANY_TOKENS',
      under: () => ({ query: tokensDoc(100) }),
      over: () => ({ query: tokensDoc(101) }),
      extensions: { code: 'TOO_MANY_TOKENS', limit: 100 },
    },
    {
      what: 'cost 990 (first: 76) answers; cost 1003 (first: 77, the same document) is QUERY_TOO_COMPLEX',
      code: 'QUERY_TOO_COMPLEX',
      under: () => ({ query: COST, variables: { first: 76 } }),
      over: () => ({ query: COST, variables: { first: 77 } }),
      extensions: { code: 'QUERY_TOO_COMPLEX', limit: 990, actual: 1003 },
    },
  ];

  it.each([
    {
      what: 'depth 7 behind named and inline fragments is still QUERY_TOO_DEEP',
      query: 'query Depth($sku: String!) { ...V } fragment V on Query { variant(sku: $sku) { product { ...P } } } fragment P on Product { variants { ... on ProductVariant { availability { locations { location { id } } } } } }',
      variables: () => ({ sku: stack.sandbox.data.variants[0]!.sku }),
      extensions: { code: 'QUERY_TOO_DEEP', limit: 6, actual: 7 },
    },
    {
      what: '4 aliases inside a fragment are still TOO_MANY_ALIASES',
      query: `{ ...F } fragment F on Query { ${Array.from({ length: 4 }, (_, i) => `p${i}: product(id: "prod-000${i + 1}") { id }`).join(' ')} }`,
      variables: () => ({}),
      extensions: { code: 'TOO_MANY_ALIASES', limit: 3, actual: 4 },
    },
    {
      what: 'a fragment spread twice counts its aliases twice (2 × 2 = 4): TOO_MANY_ALIASES',
      query: '{ product(id: "prod-0001") { ...F ... on Product { ...F } } } fragment F on Product { a: id b: name }',
      variables: () => ({}),
      extensions: { code: 'TOO_MANY_ALIASES', limit: 3, actual: 4 },
    },
    {
      what: 'the page size from a variable’s default (first: 77, no variables sent) is still QUERY_TOO_COMPLEX',
      query: COST.replace('$first: Int!', '$first: Int = 77'),
      variables: () => ({}),
      extensions: { code: 'QUERY_TOO_COMPLEX', limit: 990, actual: 1003 },
    },
  ])('$what, before any call', async ({ query, variables, extensions }) => {
    const refused = await traced(stack, (headers) => post(stack.urls.gateway, { query, variables: variables() }, headers));
    expect(refused.reply.status, JSON.stringify(refused.reply.body)).toBe(400);
    expect(refused.reply.body.errors).toEqual([expect.objectContaining({ extensions })]);
    expect(refused.calls).toEqual({});
    expect(refused.subgraphs).toEqual([]);
  });

  it('builds the token documents it means to (100 and 101 lexical tokens)', () => {
    expect(tokenCount(tokensDoc(100))).toBe(100);
    expect(tokenCount(tokensDoc(101))).toBe(101);
  });

  it.each(limitCases)('$what, with HTTP 400 and no subgraph or system-of-record call', async ({ under, over, extensions }) => {
    const ok = await traced(stack, (headers) => post(stack.urls.gateway, under(), headers));
    expect(ok.reply.status, JSON.stringify(ok.reply.body)).toBe(200);
    expect(ok.reply.body.errors ?? []).toEqual([]);
    expect(ok.reply.body.data).toBeTruthy();
    // The controls: the document under the limit did reach the systems (and, over HTTP, the subgraphs' logs).
    expect(ok.systemCalls).toBeGreaterThan(0);
    if (dispatch === 'http') expect(ok.subgraphs.length).toBeGreaterThan(0);

    const refused = await traced(stack, (headers) => post(stack.urls.gateway, over(), headers));
    expect(refused.reply.status, JSON.stringify(refused.reply.body)).toBe(400);
    expect(refused.reply.body.data).toBeUndefined();
    expect(refused.reply.body.errors).toHaveLength(1);
    expect(refused.reply.body.errors[0]).toMatchObject({ message: expect.any(String), extensions });
    expect(refused.calls).toEqual({});
    expect(refused.subgraphs).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// One stack with the default limits (subgraphs over HTTP, so that each logs its requests; CORS for one origin).
// ---------------------------------------------------------------------------------------------------------------

describe('the default edge (default limits, SUBGRAPH_DISPATCH=http, CORS_ORIGINS=https://shop.example)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({}, { SUBGRAPH_DISPATCH: 'http', CORS_ORIGINS: 'https://shop.example' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  describe('default limits', () => {
    const SHOPPER = 'cust-00042';
    const LOCATION = 'store-003';

    it('every contract operation, with the caller its client has, answers without a limit error', async () => {
      const data = stack.sandbox.data;
      const skus = data.stock.filter((s) => s.locationId === LOCATION).slice(0, 5).map((s) => s.sku);
      const shipSku = stockedSku(stack, 'wh-01', 5);
      const order = data.orders.find((o) => o.customerId !== null)!;
      const customer = data.customers[0]!;
      const calls: Record<string, { caller?: Caller; variables: Record<string, unknown> }> = {
        ProductPage: { variables: { id: 'prod-0001', locationIds: data.stores.slice(0, 5).map((s) => s.id) } },
        // The contract's most expensive query at the schema's largest page.
        ProductListing: { variables: { first: 100 } },
        PickupStores: { variables: {} },
        PlaceOrder: { caller: shopper(SHOPPER), variables: { input: { idempotencyKey: key(), channel: 'WEB', deliveryMethod: 'SHIPPING', lines: [{ sku: shipSku, quantity: 1 }] } } },
        MyAccount: { caller: shopper(SHOPPER), variables: {} },
        StoreStock: { caller: store(LOCATION), variables: { locationId: LOCATION, skus } },
        PickupQueue: { caller: store(LOCATION), variables: { locationId: LOCATION } },
        AdjustStock: { caller: store(LOCATION), variables: { input: { idempotencyKey: key(), locationId: LOCATION, sku: skus[0], reason: 'RECEIPT', delta: 1 } } },
        ReadyForPickup: { caller: store(LOCATION), variables: { orderId: 'ord-w999999' } },
        HandOver: { caller: store(LOCATION), variables: { orderId: 'ord-w999999' } },
        CustomerLookup: { caller: AGENT, variables: { query: customer.lastName } },
        OrderTimeline: { caller: AGENT, variables: { orderId: order.id } },
        OrderByNumber: { caller: AGENT, variables: { number: order.number } },
        CancelOrder: { caller: AGENT, variables: { input: { idempotencyKey: key(), orderId: 'ord-w999999', reason: 'edge test' } } },
        CreateReturn: { caller: AGENT, variables: { input: { idempotencyKey: key(), orderId: 'ord-w999999', reason: 'edge test', lines: [{ sku: skus[0], quantity: 1 }] } } },
        Reconciliation: { caller: FINANCE, variables: { from: '2024-01-01T00:00:00.000Z', to: '2024-01-31T00:00:00.000Z' } },
      };
      const subscriptions: Record<string, { caller: Caller; variables: Record<string, unknown> }> = {
        StoreInventory: { caller: store(LOCATION), variables: { locationId: LOCATION, skus } },
        PickupFeed: { caller: store(LOCATION), variables: { locationId: LOCATION } },
        OrderTracking: { caller: AGENT, variables: { orderId: order.id } },
      };
      // Every operation of the contract has a case here: a new one must be added, not silently left out.
      expect(contractOperations().map((o) => o.name).sort()).toEqual([...Object.keys(calls), ...Object.keys(subscriptions)].sort());

      for (const [name, { caller, variables }] of Object.entries(calls)) {
        const { status, body } = await post(stack.urls.gateway, { query: contractOperation(name), variables }, await authOf(stack, caller));
        expect(codesOf(body).filter((c) => LIMIT_CODES.includes(c as string)), `${name}: ${JSON.stringify(body.errors)}`).toEqual([]);
        expect(body.errors ?? [], name).toEqual([]);
        expect(status, `${name}: ${JSON.stringify(body)}`).toBe(200);
        expect(body.data, name).toBeTruthy();
      }

      // Subscriptions: the edge checks them at subscribe time; a subscription the limits let through starts at its subgraph.
      const started = () => stack.logs.filter((l) => l.msg === 'graphql subscription started').length;
      const before = started();
      const clients = await Promise.all(Object.values(subscriptions).map(async ({ caller }) => wsClient(stack.urls.gateway, { connectionParams: { authorization: await stack.bearer(caller) } })));
      try {
        const streams = Object.entries(subscriptions).map(([name, { variables }], i) => ({ name, stream: collect(clients[i]!, contractOperation(name), variables) }));
        await until(() => started() - before >= streams.length || streams.some((s) => s.stream.error !== undefined), 10_000, 'the three subscriptions to start');
        for (const { name, stream } of streams) expect(stream.error, `${name}: ${JSON.stringify(stream.error)}`).toBeUndefined();
        expect(started() - before).toBe(streams.length);
        for (const { stream } of streams) stream.unsubscribe();
      } finally {
        await Promise.all(clients.map((c) => c.dispose()));
      }
    });

    it('the issue’s attack (300 aliases of a 20-product listing) is refused with a coded 400 before any subgraph or system is called', async () => {
      const listing = 'products(first: 20) { edges { node { id name variants { sku price { amount } availability { available } } } } }';
      const attack = `{ ${Array.from({ length: 300 }, (_, i) => `a${i}: ${listing}`).join(' ')} }`;
      const refused = await traced(stack, (headers) => post(stack.urls.gateway, { query: attack }, headers));
      expect(refused.reply.status).toBe(400);
      expect(refused.reply.body.data).toBeUndefined();
      // With the default limits the parser's token limit stops it first, before the document is even fully parsed.
      expect(codesOf(refused.reply.body)).toEqual(['TOO_MANY_TOKENS']);
      expect(refused.calls).toEqual({});
      expect(refused.subgraphs).toEqual([]);
    });
    it('with the token limit raised (MAX_QUERY_TOKENS=20000), the same attack is refused by the alias, cost and field limits, still before any call', async () => {
      // A second gateway over the same subgraphs, configured from the environment as a deployment would be, logging
      // into the stack's log as "gateway" so that the trace below sees its request line.
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString('utf8').split('\n')) if (line) stack.logs.push(JSON.parse(line) as Record<string, unknown>);
          done();
        },
      });
      const raised = await createGateway({
        supergraphSdl: await readFile(SUPERGRAPH, 'utf8'),
        subgraphUrls: stack.urls.subgraphs,
        edge: edgeFor(loadConfig({ MAX_QUERY_TOKENS: '20000', RATE_LIMIT_RPS: '100000', RATE_LIMIT_BURST: '100000' }), undefined),
        logger: createLogger({ level: 'info', destination: sink }).child({ service: 'gateway' }),
      });
      const url = await raised.listen(0, '127.0.0.1');
      try {
        const listing = 'products(first: 20) { edges { node { id name variants { sku price { amount } availability { available } } } } }';
        const attack = `{ ${Array.from({ length: 300 }, (_, i) => `a${i}: ${listing}`).join(' ')} }`;
        const refused = await traced(stack, (headers) => post(url, { query: attack }, headers));
        expect(refused.reply.status, JSON.stringify(refused.reply.body)).toBe(400);
        expect(refused.reply.body.data).toBeUndefined();
        expect(codesOf(refused.reply.body)).toEqual(['TOO_MANY_ALIASES', 'QUERY_TOO_COMPLEX', 'TOO_MANY_FIELDS']);
        expect(refused.reply.body.errors[0].extensions).toEqual({ code: 'TOO_MANY_ALIASES', limit: 30, actual: 300 });
        expect(refused.reply.body.errors[1].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 5000 });
        expect(refused.reply.body.errors[1].extensions.actual).toBeGreaterThan(5000);
        // 300 × the listing's 11 fields.
        expect(refused.reply.body.errors[2].extensions).toEqual({ code: 'TOO_MANY_FIELDS', limit: 1000, actual: 3300 });
        expect(refused.calls).toEqual({});
        expect(refused.subgraphs).toEqual([]);
        // The control: one listing alone answers through this gateway.
        const one = await post(url, { query: `{ ${listing} }` });
        expect(one.status).toBe(200);
        expect(one.body.data.products.edges).toHaveLength(20);
      } finally {
        await raised.stop();
      }
    });
  });

  describe('batched requests (a JSON array of operations)', () => {
    it('a batch of 3 answers an array of 3 results, in order', async () => {
      const { status, body } = await post(stack.urls.gateway, [
        { query: contractOperation('ProductPage'), variables: { id: 'prod-0001' } },
        { query: contractOperation('PickupStores') },
        { query: '{ product(id: "prod-0002") { id } }' },
      ]);
      expect(status).toBe(200);
      expect(Array.isArray(body)).toBe(true);
      expect(body).toHaveLength(3);
      expect(body[0]).toEqual({ data: { product: expect.objectContaining({ id: toGlobalId('Product', 'prod-0001') }) } });
      expect(body[1].data.locations.length).toBeGreaterThan(0);
      expect(body[1].errors).toBeUndefined();
      expect(body[2]).toEqual({ data: { product: { id: toGlobalId('Product', 'prod-0002') } } });
    });

    it('a batch of one is still answered as an array', async () => {
      const { status, body } = await post(stack.urls.gateway, [{ query: '{ product(id: "prod-0003") { id } }' }]);
      expect(status).toBe(200);
      expect(body).toEqual([{ data: { product: { id: toGlobalId('Product', 'prod-0003') } } }]);
    });

    it('a batch of exactly MAX_BATCH_OPERATIONS (10) answers 10 results', async () => {
      const batch = Array.from({ length: 10 }, (_, i) => ({ query: `{ product(id: "prod-00${String(i + 10)}") { id } }` }));
      const { status, body } = await post(stack.urls.gateway, batch);
      expect(status).toBe(200);
      expect(body.map((r: any) => r.data.product.id)).toEqual(Array.from({ length: 10 }, (_, i) => toGlobalId('Product', `prod-00${i + 10}`)));
    });

    it('a batch of 11 is 400 TOO_MANY_OPERATIONS and runs none of them (its stock adjustment changes nothing)', async () => {
      const locationId = 'store-003';
      const sku = stockedSku(stack, locationId, 1);
      const before = await onHand(stack, locationId, sku);
      const batch = [
        { query: contractOperation('AdjustStock'), variables: { input: { idempotencyKey: key(), locationId, sku, reason: 'RECEIPT', delta: 7 } } },
        ...Array.from({ length: 10 }, () => ({ query: '{ product(id: "prod-0001") { id } }' })),
      ];
      const refused = await traced(stack, async (headers) => post(stack.urls.gateway, batch, { ...headers, authorization: await stack.bearer(store(locationId)) }));
      expect(refused.reply.status).toBe(400);
      expect(codesOf(refused.reply.body)).toEqual(['TOO_MANY_OPERATIONS']);
      expect(refused.calls).toEqual({});
      expect(refused.subgraphs).toEqual([]);
      expect(await onHand(stack, locationId, sku)).toBe(before);
    });
  });

  describe('GET and content types', () => {
    it('serves a contract query over GET (query, operationName and variables in the URL), as POST answers it', async () => {
      const params = { query: contractOperation('ProductPage'), operationName: 'ProductPage', variables: { id: 'prod-0004' } };
      const viaGet = await get(stack.urls.gateway, params);
      expect(viaGet.status, JSON.stringify(viaGet.body)).toBe(200);
      expect(viaGet.body.errors).toBeUndefined();
      expect(viaGet.body.data.product.id).toBe(toGlobalId('Product', 'prod-0004'));
      const viaPost = await post(stack.urls.gateway, params);
      expect(viaGet.body).toEqual(viaPost.body);
    });

    it('serves a signed-in caller’s query over GET (MyAccount as the shopper; StoreStock as the associate)', async () => {
      const mine = await get(stack.urls.gateway, { query: contractOperation('MyAccount') }, await authOf(stack, shopper('cust-00042')));
      expect(mine.status, JSON.stringify(mine.body)).toBe(200);
      expect(mine.body.errors).toBeUndefined();
      expect(mine.body.data.me.id).toBe(toGlobalId('Customer', 'cust-00042'));
      const sku = stockedSku(stack, 'store-003', 1);
      const shelf = await get(stack.urls.gateway, { query: contractOperation('StoreStock'), variables: { locationId: 'store-003', skus: [sku] } }, await authOf(stack, store('store-003')));
      expect(shelf.status, JSON.stringify(shelf.body)).toBe(200);
      expect(shelf.body.data.location.inventoryLevels[0].sku).toBe(sku);
    });

    it('refuses a mutation over GET with 405 (Allow: POST), and the stock adjustment it carried never happens', async () => {
      const locationId = 'store-003';
      const sku = stockedSku(stack, locationId, 1, 1);
      const before = await onHand(stack, locationId, sku);
      const auth = await authOf(stack, store(locationId));
      const refused = await traced(stack, (headers) =>
        get(stack.urls.gateway, { query: contractOperation('AdjustStock'), variables: { input: { idempotencyKey: key(), locationId, sku, reason: 'RECEIPT', delta: 5 } } }, { ...headers, ...auth }),
      );
      expect(refused.reply.status).toBe(405);
      expect(refused.reply.headers.get('allow')).toBe('POST');
      expect(refused.reply.body.data).toBeUndefined();
      expect(codesOf(refused.reply.body)).toEqual(['BAD_REQUEST']);
      expect(refused.calls).toEqual({});
      expect(refused.subgraphs).toEqual([]);

      // The mutation picked by operationName out of a document that also holds a query: still a mutation.
      const mixed = `query Look { __typename } mutation Adjust($input: AdjustInventoryInput!) { adjustInventory(input: $input) { level { onHand } } }`;
      const sneaky = await get(stack.urls.gateway, { query: mixed, operationName: 'Adjust', variables: { input: { idempotencyKey: key(), locationId, sku, reason: 'RECEIPT', delta: 5 } } }, auth);
      expect(sneaky.status).toBe(405);
      expect(await onHand(stack, locationId, sku)).toBe(before);
    });

    it('refuses a POST that is not application/json with 400 (text/plain, form-encoded, none), running nothing', async () => {
      const locationId = 'store-003';
      const sku = stockedSku(stack, locationId, 1, 2);
      const before = await onHand(stack, locationId, sku);
      const auth = await authOf(stack, store(locationId));
      const body = JSON.stringify({ query: contractOperation('AdjustStock'), variables: { input: { idempotencyKey: key(), locationId, sku, reason: 'RECEIPT', delta: 3 } } });
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
        const correlationId = nextId('ctype');
        const response = await fetch(stack.urls.gateway, {
          method: 'POST',
          headers: { ...auth, 'x-correlation-id': correlationId, ...(type ? { 'content-type': type } : {}) },
          // A Blob without a type sends no content-type header at all.
          body: type ? body : new Blob([body]),
        });
        const answer = await reply(response, correlationId);
        expect(answer.status, `${type}: ${JSON.stringify(answer.body)}`).toBe(400);
        expect(codesOf(answer.body), String(type)).toEqual(['BAD_REQUEST']);
        expect(answer.body.errors[0].message).toMatch(/application\/json/);
      }
      expect(await onHand(stack, locationId, sku)).toBe(before);
    });
  });

  describe('CORS (CORS_ORIGINS=https://shop.example)', () => {
    const preflight = (origin: string) =>
      fetch(stack.urls.gateway, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });

    it('a preflight from the allowed origin is 204 with its origin, POST among the methods and authorization among the headers', async () => {
      const response = await preflight('https://shop.example');
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      const allowHeaders = (response.headers.get('access-control-allow-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());
      expect(allowHeaders).toContain('authorization');
      expect(allowHeaders).toContain('content-type');
      expect((response.headers.get('access-control-allow-methods') ?? '').split(',').map((m) => m.trim())).toContain('POST');
    });

    it('a preflight from another origin gets no access-control-allow-origin', async () => {
      const response = await preflight('https://evil.example');
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('a POST from the allowed origin carries access-control-allow-origin; one from another origin does not', async () => {
      const allowed = await post(stack.urls.gateway, { query: '{ __typename }' }, { origin: 'https://shop.example' });
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      const other = await post(stack.urls.gateway, { query: '{ __typename }' }, { origin: 'https://evil.example' });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('persisted documents in the default (allow) mode', () => {
    it('an unknown persisted hash alone answers PERSISTED_QUERY_NOT_FOUND (Apollo’s link then retries with the text)', async () => {
      const unknown = await post(stack.urls.gateway, { extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } });
      expect(codesOf(unknown.body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
      expect(unknown.body.errors[0].message).toBe('PersistedQueryNotFound');
      expect(unknown.body.data).toBeUndefined();
    });

    it('any document is served as text (allow mode)', async () => {
      const { status, body } = await post(stack.urls.gateway, { query: '{ product(id: "prod-0001") { id } }' });
      expect(status).toBe(200);
      expect(body).toEqual({ data: { product: { id: toGlobalId('Product', 'prod-0001') } } });
    });
  });

  describe('operations over WebSocket (graphql-ws), the edge’s other transport', () => {
    it('a query over WebSocket answers as over HTTP (the control: no error in the result)', async () => {
      const client = wsClient(stack.urls.gateway);
      try {
        const stream = collect(client, contractOperation('ProductPage'), { id: 'prod-0006' });
        await stream.ended();
        expect(closeOf(stream.error)).toBeUndefined();
        const viaHttp = await post(stack.urls.gateway, { query: contractOperation('ProductPage'), variables: { id: 'prod-0006' } });
        expect(stream.results).toEqual([viaHttp.body]);
      } finally {
        await client.dispose();
      }
    });

    it('the issue’s attack over WebSocket is refused with the same code as over HTTP', async () => {
      const listing = 'products(first: 20) { edges { node { id name variants { sku price { amount } availability { available } } } } }';
      const client = wsClient(stack.urls.gateway);
      try {
        const stream = collect(client, `{ ${Array.from({ length: 300 }, (_, i) => `a${i}: ${listing}`).join(' ')} }`);
        await stream.ended();
        expect(Array.isArray(stream.error), closeOf(stream.error)).toBe(true);
        expect((stream.error as any[]).map((e) => e.extensions?.code)).toEqual(['TOO_MANY_TOKENS']);
      } finally {
        await client.dispose();
      }
    });

    it('a query whose result has an error (ERP down) answers that located error, and the socket stays up (development gateway)', async () => {
      const order = stack.sandbox.data.orders[0]!;
      const client = wsClient(stack.urls.gateway, { connectionParams: { authorization: await stack.bearer(AGENT) } });
      await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', down: true });
      try {
        const stream = collect(client, 'query Invoices($id: ID!) { order(id: $id) { id invoices { id } } }', { id: order.id });
        await stream.ended();
        expect(closeOf(stream.error), 'the socket must not fail').toBeUndefined();
        expect(stream.results).toHaveLength(1);
        expect((stream.results[0]!.data as any).order).toEqual({ id: toGlobalId('Order', order.id), invoices: null });
        expect(codesOf(stream.results[0])).toEqual(['ERP_UNAVAILABLE']);
      } finally {
        await stack.sandboxCall('DELETE', '/sandbox/faults');
        await client.dispose();
      }
    });
  });

  describe('production mode (a second gateway with production: true over the same subgraphs)', () => {
    let prod: GatewayService;
    let prodUrl: string;
    beforeAll(async () => {
      const config = loadConfig({ RATE_LIMIT_RPS: '100000', RATE_LIMIT_BURST: '100000' });
      const verifier = tokenVerifierFor(config, stack.urls.sandbox);
      prod = await createGateway({
        supergraphSdl: await readFile(SUPERGRAPH, 'utf8'),
        subgraphUrls: stack.urls.subgraphs,
        production: true,
        authenticate: (authorization) => verifier.authenticate(authorization),
        edge: edgeFor(config, undefined),
        logger: createLogger({ level: 'silent' }),
      });
      prodUrl = await prod.listen(0, '127.0.0.1');
    });
    afterAll(async () => {
      await prod?.stop();
    });

    it('refuses introspection (__schema, __type) and still answers { __typename }', async () => {
      for (const query of ['{ __schema { types { name } } }', '{ __type(name: "Order") { name fields { name } } }']) {
        const { status, body } = await post(prodUrl, { query });
        expect(status, query).toBe(400);
        expect(body.data, query).toBeUndefined();
        // graphql's rule refuses each introspection field selected (`__schema` and its `types`): one error each.
        expect(body.errors.length, query).toBeGreaterThan(0);
        expect(new Set(codesOf(body)), query).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
        for (const error of body.errors) expect(error.message, query).toMatch(/introspection/i);
      }
      const typename = await post(prodUrl, { query: '{ __typename }' });
      expect(typename.status).toBe(200);
      expect(typename.body).toEqual({ data: { __typename: 'Query' } });
    });

    it('the development gateway keeps introspection on, the tooling’s full introspection query (15 deep) included', async () => {
      const { status, body } = await post(stack.urls.gateway, { query: '{ __schema { types { name } } }' });
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data.__schema.types.map((t: any) => t.name)).toContain('Order');
      const full = await post(stack.urls.gateway, { query: getIntrospectionQuery() });
      expect(full.status, JSON.stringify(full.body.errors)).toBe(200);
      expect(full.body.errors).toBeUndefined();
      expect(full.body.data.__schema.queryType.name).toBe('Query');
      // And production refuses that one too.
      const refused = await post(prodUrl, { query: getIntrospectionQuery() });
      expect(refused.status).toBe(400);
      expect(refused.body.data).toBeUndefined();
    });

    it('masks a system outage to its code, a fixed message and the correlation id (ERP down, an agent asks for invoices)', async () => {
      const order = stack.sandbox.data.orders[0]!;
      const query = 'query Invoices($id: ID!) { order(id: $id) { id invoices { id number } } }';
      const auth = await authOf(stack, AGENT);
      const healthy = await post(prodUrl, { query, variables: { id: order.id } }, auth);
      expect(healthy.body.errors).toBeUndefined();
      expect(healthy.body.data.order.id).toBe(toGlobalId('Order', order.id));
      await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', down: true });
      try {
        const { status, body, correlationId } = await post(prodUrl, { query, variables: { id: order.id } }, auth);
        expect(status).toBe(200);
        expect(body.data.order).toEqual({ id: toGlobalId('Order', order.id), invoices: null });
        expect(body.errors).toHaveLength(1);
        const [error] = body.errors;
        expect(error).toEqual({ message: 'ERP is unavailable; try again later', path: ['order', 'invoices'], extensions: { code: 'ERP_UNAVAILABLE', correlationId } });
        // No service name, no internal reason, no stack anywhere in the answer.
        expect(JSON.stringify(body)).not.toMatch(/serviceName|stacktrace|finance|sandbox fault/i);
      } finally {
        await stack.sandboxCall('DELETE', '/sandbox/faults');
      }
    });

    it('masks the same outage the same way over WebSocket (graphql-ws), the edge’s other transport', async () => {
      const order = stack.sandbox.data.orders[0]!;
      const query = 'query Invoices($id: ID!) { order(id: $id) { id invoices { id number } } }';
      const client = wsClient(prodUrl, { connectionParams: { authorization: await stack.bearer(AGENT), correlationId: 'edge-prod-ws-1' } });
      await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', down: true });
      try {
        const stream = collect(client, query, { id: order.id });
        await stream.ended();
        expect(closeOf(stream.error), 'the socket must not fail').toBeUndefined();
        expect(stream.results).toHaveLength(1);
        const [result] = stream.results;
        expect((result!.data as any).order).toEqual({ id: toGlobalId('Order', order.id), invoices: null });
        expect(result!.errors).toEqual([{ message: 'ERP is unavailable; try again later', path: ['order', 'invoices'], extensions: { code: 'ERP_UNAVAILABLE', correlationId: 'edge-prod-ws-1' } }]);
      } finally {
        await stack.sandboxCall('DELETE', '/sandbox/faults');
        await client.dispose();
      }
    });

    it('keeps a validation error’s message and code (with the correlation id), as development gives it', async () => {
      const query = '{ product(id: "prod-0001") { id nope } }';
      const dev = await post(stack.urls.gateway, { query });
      const masked = await post(prodUrl, { query });
      expect(masked.status).toBe(400);
      expect(codesOf(masked.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(masked.body.errors[0].message).toBe(dev.body.errors[0].message);
      expect(masked.body.errors[0].message).toMatch(/nope/);
      expect(masked.body.errors[0].extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED', correlationId: masked.correlationId });
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Trusted documents enforced.
// ---------------------------------------------------------------------------------------------------------------

describe('trusted documents (TRUSTED_DOCUMENTS=enforce)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({}, { TRUSTED_DOCUMENTS: 'enforce' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const productPage = () => ({ variables: { id: 'prod-0005' } });
  const expectProduct = (r: Reply) => {
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.product.id).toBe(toGlobalId('Product', 'prod-0005'));
  };

  it('an anonymous caller may send a contract operation as text, with its whitespace and comments changed', async () => {
    expectProduct(await post(stack.urls.gateway, { query: contractOperation('ProductPage'), ...productPage() }));
    const reformatted = `# the storefront's page\n${contractOperation('ProductPage').replace(/\s+/g, '  ')}\n`;
    expectProduct(await post(stack.urls.gateway, { query: reformatted, ...productPage() }));
  });

  it('an anonymous caller may send it by documentId "sha256:<id>" (POST and GET) or by Apollo’s persistedQuery hash', async () => {
    const id = persistedId('ProductPage');
    expectProduct(await post(stack.urls.gateway, { documentId: `sha256:${id}`, ...productPage() }));
    expectProduct(await get(stack.urls.gateway, { documentId: `sha256:${id}`, ...productPage() }));
    expectProduct(await post(stack.urls.gateway, { extensions: { persistedQuery: { version: 1, sha256Hash: id } }, ...productPage() }));
  });

  it('a shopper may send their contract operations by id and as text', async () => {
    const auth = await authOf(stack, shopper('cust-00042'));
    for (const request of [{ documentId: `sha256:${persistedId('MyAccount')}` }, { extensions: { persistedQuery: { version: 1, sha256Hash: persistedId('MyAccount') } } }, { query: contractOperation('MyAccount') }]) {
      const { status, body } = await post(stack.urls.gateway, request, auth);
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.data.me.id).toBe(toGlobalId('Customer', 'cust-00042'));
    }
  });

  it('any other document from an anonymous caller or a shopper is 400 DOCUMENT_NOT_TRUSTED, before any subgraph or system is called', async () => {
    const ad = '{ product(id: "prod-0005") { id name } }';
    // A contract operation with one field left out is another document.
    const trimmed = contractOperation('ProductPage').replace(/\n\s*description\n/, '\n');
    expect(trimmed).not.toBe(contractOperation('ProductPage'));
    for (const caller of [undefined, shopper('cust-00042')]) {
      for (const query of [ad, trimmed]) {
        const refused = await traced(stack, async (headers) => post(stack.urls.gateway, { query, ...productPage() }, { ...headers, ...(await authOf(stack, caller)) }));
        expect(refused.reply.status, `${JSON.stringify(caller)}: ${JSON.stringify(refused.reply.body)}`).toBe(400);
        expect(codesOf(refused.reply.body)).toEqual(['DOCUMENT_NOT_TRUSTED']);
        expect(refused.reply.body.data).toBeUndefined();
        expect(refused.calls).toEqual({});
      }
    }
  });

  it('an id the manifest does not know is PERSISTED_DOCUMENT_NOT_FOUND, with nothing called', async () => {
    const refused = await traced(stack, (headers) => post(stack.urls.gateway, { documentId: `sha256:${'0'.repeat(64)}` }, headers));
    expect(codesOf(refused.reply.body)).toEqual(['PERSISTED_DOCUMENT_NOT_FOUND']);
    expect(refused.reply.body.data).toBeUndefined();
    expect(refused.calls).toEqual({});
  });

  it('staff tools may send any document: an agent, and a store associate', async () => {
    for (const caller of [AGENT, store('store-003')]) {
      const { status, body } = await stack.queryAs(caller, '{ product(id: "prod-0005") { id name } }');
      expect(status, JSON.stringify(body)).toBe(200);
      expect((body.data as any).product.id).toBe(toGlobalId('Product', 'prod-0005'));
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Rate limits.
// ---------------------------------------------------------------------------------------------------------------

function expectRateLimited(r: Reply) {
  expect(r.status, JSON.stringify(r.body)).toBe(429);
  expect(codesOf(r.body)).toEqual(['RATE_LIMITED']);
  const retryAfter = r.headers.get('retry-after');
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(r.body.errors[0].extensions.retryAfterSeconds).toBe(Number(retryAfter));
  expect(r.body.data).toBeUndefined();
}

describe('rate limits (RATE_LIMIT_RPS=1, RATE_LIMIT_BURST=3)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({}, { RATE_LIMIT_RPS: '1', RATE_LIMIT_BURST: '3' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const ask = async (caller?: Caller) => post(stack.urls.gateway, { query: '{ __typename }' }, await authOf(stack, caller));

  it('the 4th quick request of one caller is 429 with Retry-After and RATE_LIMITED; another subject, and anonymous callers, still pass', async () => {
    const a = shopper('cust-00101');
    const b = shopper('cust-00102');
    // Tokens first, so that the requests below follow each other quickly.
    await Promise.all([stack.token(a), stack.token(b)]);
    for (let i = 0; i < 3; i++) expect((await ask(a)).status, `request ${i + 1} of A`).toBe(200);
    expectRateLimited(await ask(a));
    expect((await ask(b)).status, 'another token subject').toBe(200);
    expect((await ask()).status, 'anonymous (its own bucket, ip:127.0.0.1)').toBe(200);
    // And the other way round: the anonymous bucket runs out while a signed-in caller still passes.
    expect((await ask()).status).toBe(200);
    expect((await ask()).status).toBe(200);
    expectRateLimited(await ask());
    expect((await ask(b)).status, 'a token while anonymous callers are limited').toBe(200);
  });
});

describe('checkout’s own bucket (CHECKOUT_RATE_LIMIT_BURST=2, a generous general limit)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({}, { CHECKOUT_RATE_LIMIT_RPS: '0.001', CHECKOUT_RATE_LIMIT_BURST: '2' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const orderCount = async (customerId: string) => {
    const { body } = await stack.queryAs(shopper(customerId), '{ me { orders(first: 1) { totalCount } } }');
    return (body.data as any).me.orders.totalCount as number;
  };
  const place = async (customerId: string, sku: string) =>
    post(
      stack.urls.gateway,
      { query: contractOperation('PlaceOrder'), variables: { input: { idempotencyKey: key(), channel: 'WEB', deliveryMethod: 'SHIPPING', lines: [{ sku, quantity: 1 }] } } },
      await authOf(stack, shopper(customerId)),
    );

  it('a shopper’s 3rd placeOrder in a row is 429 (and places nothing) while their queries, and another shopper’s checkout, still pass', async () => {
    const sku = stockedSku(stack, 'wh-01', 10);
    const customerId = 'cust-00201';
    const before = await orderCount(customerId);
    for (let i = 0; i < 2; i++) {
      const placed = await place(customerId, sku);
      expect(placed.status, JSON.stringify(placed.body)).toBe(200);
      expect(placed.body.data.placeOrder.order.status, JSON.stringify(placed.body)).toBe('CONFIRMED');
    }
    expectRateLimited(await place(customerId, sku));
    expect(await orderCount(customerId)).toBe(before + 2);
    const account = await stack.queryAs(shopper(customerId), contractOperation('MyAccount'));
    expect(account.status).toBe(200);
    expect((account.body.data as any).me.id).toBe(toGlobalId('Customer', customerId));
    const other = await place('cust-00202', sku);
    expect(other.status, JSON.stringify(other.body)).toBe(200);
    expect(other.body.data.placeOrder.order.status).toBe('CONFIRMED');
  });

  const input = (sku: string) => ({ idempotencyKey: key(), channel: 'WEB', deliveryMethod: 'SHIPPING', lines: [{ sku, quantity: 1 }] });

  it('one mutation with 3 aliased placeOrder fields is 3 placeOrders: over a burst of 2 it is 429 and places nothing', async () => {
    const sku = stockedSku(stack, 'wh-01', 10, 1);
    const customerId = 'cust-00203';
    const before = await orderCount(customerId);
    const mutation = `mutation Three($a: PlaceOrderInput!, $b: PlaceOrderInput!, $c: PlaceOrderInput!) {
      a: placeOrder(input: $a) { order { id status } userErrors { code } }
      b: placeOrder(input: $b) { order { id status } userErrors { code } }
      c: placeOrder(input: $c) { order { id status } userErrors { code } }
    }`;
    const answer = await post(stack.urls.gateway, { query: mutation, variables: { a: input(sku), b: input(sku), c: input(sku) } }, await authOf(stack, shopper(customerId)));
    const placed = (await orderCount(customerId)) - before;
    expect(placed, `orders placed by one request with a checkout burst of 2: ${JSON.stringify(answer.body)}`).toBe(0);
    expectRateLimited(answer);
  });

  it('a placeOrder inside a fragment (inline or named) takes from the checkout bucket like any other: the 3rd in a row is 429', async () => {
    const sku = stockedSku(stack, 'wh-01', 10, 2);
    const customerId = 'cust-00204';
    const before = await orderCount(customerId);
    const documents = [
      'mutation Place($input: PlaceOrderInput!) { ... on Mutation { placeOrder(input: $input) { order { id status } userErrors { code } } } }',
      'mutation Place($input: PlaceOrderInput!) { ...Checkout } fragment Checkout on Mutation { placeOrder(input: $input) { order { id status } userErrors { code } } }',
      'mutation Place($input: PlaceOrderInput!) { ... on Mutation { placeOrder(input: $input) { order { id status } userErrors { code } } } }',
    ];
    const answers: Reply[] = [];
    for (const query of documents) answers.push(await post(stack.urls.gateway, { query, variables: { input: input(sku) } }, await authOf(stack, shopper(customerId))));
    expect(answers.slice(0, 2).map((a) => a.body.data?.placeOrder?.order?.status)).toEqual(['CONFIRMED', 'CONFIRMED']);
    expect((await orderCount(customerId)) - before, `orders placed: ${JSON.stringify(answers.map((a) => a.status))}`).toBe(2);
    expectRateLimited(answers[2]!);
  });
});

describe('rate limits shared by two gateway instances through one redis-server (RATE_LIMIT_BURST=4)', () => {
  let a: TestStack;
  let b: TestStack;
  beforeAll(async () => {
    // Two full stacks, each embedding its own sandbox, on one Redis under one prefix: the buckets are Redis's.
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: `edge-${redis.freshPrefix()}`, RATE_LIMIT_RPS: '0.001', RATE_LIMIT_BURST: '4' };
    a = await startTestStack({}, env);
    b = await startTestStack({}, env);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  const ask = (stack: TestStack, headers: Record<string, string> = {}) => post(stack.urls.gateway, { query: '{ __typename }' }, headers);

  it('anonymous callers from 127.0.0.1: burst 4 spread over both instances, then the 5th is 429 on either', async () => {
    for (const [i, stack] of [a, b, a, b].entries()) expect((await ask(stack)).status, `request ${i + 1}`).toBe(200);
    expectRateLimited(await ask(a));
    expectRateLimited(await ask(b));
  });

  it('one customer signed in on both (each instance’s own provider minted the token): one bucket; another customer has their own', async () => {
    const customer = shopper('cust-00301');
    const onA = { authorization: await a.bearer(customer) };
    const onB = { authorization: await b.bearer(customer) };
    expect(onA.authorization).not.toBe(onB.authorization);
    for (const [i, [stack, headers]] of ([[a, onA], [b, onB], [b, onB], [a, onA]] as const).entries()) expect((await ask(stack, headers)).status, `request ${i + 1}`).toBe(200);
    expectRateLimited(await ask(b, onB));
    expectRateLimited(await ask(a, onA));
    expect((await ask(a, { authorization: await a.bearer(shopper('cust-00302')) })).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Production configuration and the sandbox's bind address.
// ---------------------------------------------------------------------------------------------------------------

describe('production configuration (NODE_ENV=production)', () => {
  const silent = createLogger({ level: 'silent' });
  const env = (extra: Record<string, string> = {}) => ({ NODE_ENV: 'production', GATEWAY_PORT: '0', SANDBOX_PORT: '0', CATALOG_PORT: '0', DATA_DIR: mkdtempSync(join(tmpdir(), 'edge-prod-')), ...extra });
  const JWKS = { AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json' };

  /** The start must fail; should it not, what it started is stopped again so that nothing is left listening. */
  async function refusesToStart(start: Promise<{ stop(): Promise<void> } | { service: { stop(): Promise<void> } }>, message: RegExp) {
    let started: { stop(): Promise<void> } | undefined;
    try {
      const result = await start;
      started = 'service' in result ? result.service : result;
    } catch (error) {
      expect((error as Error).message).toMatch(message);
      return;
    }
    await started.stop();
    throw new Error(`it started, and should not have (expected ${message})`);
  }

  it('the all-in-one stack refuses to start (the sandbox systems are development only), even with AUTH_JWKS_URL', async () => {
    await refusesToStart(startStack({ config: loadConfig(env()), logger: silent, ephemeralPorts: true }), /sandbox.*production/i);
    await refusesToStart(startStack({ config: loadConfig(env(JWKS)), logger: silent, ephemeralPorts: true }), /sandbox.*production/i);
    expect(() => checkProductionConfig(loadConfig(env(JWKS)), 'all')).toThrow(/sandbox/);
  });

  it('the lone sandbox refuses to start', async () => {
    await refusesToStart(startSandboxOnly(loadConfig(env(JWKS)), silent), /sandbox.*production/i);
    expect(() => checkProductionConfig(loadConfig(env()), 'sandbox')).toThrow(/sandbox/);
  });

  it('a lone gateway (or subgraph) without AUTH_JWKS_URL refuses to start and names the variable; with it the check passes', async () => {
    await refusesToStart(startGatewayOnly(loadConfig(env()), silent), /AUTH_JWKS_URL/);
    await refusesToStart(startSubgraph('catalog', loadConfig(env()), silent), /AUTH_JWKS_URL/);
    expect(() => checkProductionConfig(loadConfig(env(JWKS)), 'gateway')).not.toThrow();
    expect(() => checkProductionConfig(loadConfig(env(JWKS)), 'subgraph')).not.toThrow();
  });
});

describe('the sandbox control port binds to loopback by default (SANDBOX_HOST)', () => {
  let stack: Stack;
  beforeAll(async () => {
    // No `host` override: the gateway and subgraphs bind to HOST (0.0.0.0), the sandbox to SANDBOX_HOST's default.
    const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'edge-host-')), LOG_LEVEL: 'silent', SUPERGRAPH_PATH: SUPERGRAPH });
    expect(config.host).toBe('0.0.0.0');
    expect(config.sandboxHost).toBe('127.0.0.1');
    stack = await startStack({ config, logger: createLogger({ level: 'silent' }), ephemeralPorts: true });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

  it('its URL is on 127.0.0.1, where it answers', async () => {
    expect(stack.urls.sandbox).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${stack.urls.sandbox}/health`)).status).toBe(200);
  });

  it.skipIf(!external)('it is not reachable on this machine’s other address, where the gateway (bound to 0.0.0.0) is', async () => {
    const sandboxPort = new URL(stack.urls.sandbox).port;
    const gatewayPort = new URL(stack.urls.gateway).port;
    expect((await fetch(`http://${external}:${gatewayPort}/health`)).status).toBe(200);
    const refused = await fetch(`http://${external}:${sandboxPort}/health`).then(
      () => 'answered',
      (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
    );
    expect(refused).toBe('ECONNREFUSED');
  });
});
