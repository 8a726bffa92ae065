import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../common/global-id.js';
import type { SeedData } from '../sandbox/seed.js';
import { contractOperation } from './support/contract.js';
import { expectedLevel } from './support/expect.js';
import { AGENT, FINANCE, shopper, startTestStack, store, type Caller, type GraphQLResponse, type TestStack } from './support/stack.js';
import { collect, until, wsClient, type Collected } from './support/subscriptions.js';

/*
 * Who may see what, cell by cell: every contract operation as every kind of caller, through the real gateway (HTTP
 * for queries and mutations, graphql-ws for subscriptions), with the expected outcome of each cell written out; then
 * the same rules asked of the subgraph ports directly, where a caller that bypasses the gateway must get no more.
 *
 * A cell is one of:
 *   ok                      no error
 *   null:<path>             the value at <path> is null, with no error (not the caller's: reads as unknown)
 *   UNAUTH:<path>,…         exactly these paths are null with UNAUTHENTICATED (`*` stands for any list index)
 *   FORBID:<path>,…         exactly these paths are null with FORBIDDEN
 *   user:<CODE>             the payload's first user error has this code (an unknown order, for a shopper)
 *   idOnly:<path>           the object at <path> (reached by `node`) shows nothing but the id the caller gave, every
 *                           other field null, and every error is FORBIDDEN: its owner refused the row
 *   401                     the whole request fails with HTTP 401 UNAUTHENTICATED (a token that is not good)
 */

type Who = 'anonymous' | 'shopperA' | 'shopperB' | 'storeL' | 'storeM' | 'agent' | 'finance';
type Bad = 'expired' | 'tampered' | 'otherKey' | 'algNone';
const WHO: readonly Who[] = ['anonymous', 'shopperA', 'shopperB', 'storeL', 'storeM', 'agent', 'finance'];
const BAD: readonly Bad[] = ['expired', 'tampered', 'otherKey', 'algNone'];

interface Fixture {
  A: string;
  B: string;
  L: string;
  M: string;
  /** A's pickup order at L, CONFIRMED: timeline, number, tracking, ready and hand-over. */
  pickup: { id: string; number: string };
  /** Two of A's orders that may take a return (one for A, one for the agent), each with a line to send back; the first picked up at L. */
  returnable: [{ id: string; sku: string }, { id: string; sku: string }];
  /** Two fresh CONFIRMED orders of A (one for A to cancel, one for the agent). */
  cancellable: [string, string];
  /** A SKU at L (the pickup order's first line). */
  sku: string;
  /** A SKU every warehouse holds plenty of. */
  shippable: string;
}

/** A customer with a CONFIRMED pickup order at some store and two delivered or picked-up orders without returns. */
function pickCustomer(data: SeedData): Omit<Fixture, 'cancellable' | 'M' | 'B' | 'shippable'> {
  const returned = new Set(data.returns.map((r) => r.orderId));
  const byCustomer = new Map<string, SeedData['orders']>();
  for (const order of data.orders) if (order.customerId) (byCustomer.get(order.customerId) ?? byCustomer.set(order.customerId, []).get(order.customerId)!).push(order);
  for (const [customerId, orders] of byCustomer) {
    const pickup = orders.find((o) => o.deliveryMethod === 'PICKUP' && o.status === 'CONFIRMED' && o.channel !== 'STORE' && o.pickupLocationId);
    // The first returnable one was picked up at the same store: its associate may move it (the state machine says no).
    const returnable = orders
      .filter((o) => (o.status === 'PICKED_UP' || o.status === 'DELIVERED') && !returned.has(o.id))
      .sort((a, b) => Number(b.pickupLocationId === pickup?.pickupLocationId) - Number(a.pickupLocationId === pickup?.pickupLocationId));
    if (!pickup || returnable.length < 2 || returnable[0]!.pickupLocationId !== pickup.pickupLocationId) continue;
    const [r1, r2] = returnable as [SeedData['orders'][number], SeedData['orders'][number]];
    return {
      A: customerId,
      L: pickup.pickupLocationId!,
      pickup: { id: pickup.id, number: pickup.number },
      returnable: [
        { id: r1.id, sku: r1.lines[0]!.sku },
        { id: r2.id, sku: r2.lines[0]!.sku },
      ],
      sku: pickup.lines[0]!.sku,
    };
  }
  throw new Error('the seed has no customer for the matrix');
}

/** Numbers in a response path stand for list positions: `*` in a cell. */
const shape = (path: readonly (string | number)[] | undefined): string => (path ?? []).map((p) => (typeof p === 'number' ? '*' : p)).join('.');

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || value === undefined) return value;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** Check one HTTP answer against its cell. */
function verify(cell: string, response: GraphQLResponse, label: string): void {
  if (cell === '401') {
    expect(response.status, label).toBe(401);
    expect(response.body.errors?.[0]?.extensions?.code, label).toBe('UNAUTHENTICATED');
    expect(response.body.data, label).toBeUndefined();
    return;
  }
  expect(response.status, `${label}: ${JSON.stringify(response.body)}`).toBe(200);
  const errors = response.body.errors ?? [];
  const [kind, rest = ''] = cell.split(/:(.*)/s) as [string, string?];
  switch (kind) {
    case 'ok':
      expect(errors, label).toEqual([]);
      expect(response.body.data, label).toBeTruthy();
      for (const payload of Object.values(response.body.data as Record<string, unknown>)) {
        const userErrors = (payload as { userErrors?: unknown[] } | null)?.userErrors;
        if (userErrors) expect(userErrors, label).toEqual([]);
      }
      return;
    case 'null':
      expect(errors, label).toEqual([]);
      expect(valueAt(response.body.data, rest.split('.')), label).toBeNull();
      return;
    case 'UNAUTH':
    case 'FORBID': {
      const code = kind === 'UNAUTH' ? 'UNAUTHENTICATED' : 'FORBIDDEN';
      const expected = rest.split(',').sort();
      expect([...new Set(errors.map((e) => shape(e.path)))].sort(), `${label}: ${JSON.stringify(errors)}`).toEqual(expected);
      for (const error of errors) {
        expect(error.extensions?.code, `${label}: ${error.message}`).toBe(code);
        expect(valueAt(response.body.data, error.path ?? []), `${label}: ${shape(error.path)} holds a value`).toBeNull();
      }
      return;
    }
    case 'idOnly': {
      expect(errors.length, label).toBeGreaterThan(0);
      for (const error of errors) expect(error.extensions?.code, `${label}: ${error.message}`).toBe('FORBIDDEN');
      const object = valueAt(response.body.data, rest.split('.')) as Record<string, unknown>;
      for (const [field, value] of Object.entries(object)) if (field !== 'id' && field !== '__typename') expect(value, `${label}: ${field}`).toBeNull();
      return;
    }
    case 'user': {
      expect(errors, label).toEqual([]);
      const payload = Object.values(response.body.data as Record<string, unknown>)[0] as { userErrors: { code: string }[] };
      expect(payload.userErrors[0]?.code, label).toBe(rest);
      return;
    }
    default:
      throw new Error(`unknown cell ${cell}`);
  }
}

describe('who may see what: every contract operation as every caller', () => {
  let stack: TestStack;
  let fx: Fixture;
  const auth = new Map<Who | Bad, string | undefined>();
  const callerOf = (who: Who): Caller | undefined =>
    ({ anonymous: undefined, shopperA: shopper(fx.A), shopperB: shopper(fx.B), storeL: store(fx.L), storeM: store(fx.M), agent: AGENT, finance: FINANCE })[who];
  const headersOf = (who: Who | Bad): Record<string, string> => {
    const value = auth.get(who);
    return value ? { authorization: value } : {};
  };
  const ask = (who: Who | Bad, operation: string, variables: Record<string, unknown>) => stack.query(contractOperation(operation), variables, headersOf(who));

  beforeAll(async () => {
    // No clock skew allowed, so that the expired token is refused as soon as it expires.
    stack = await startTestStack({}, { AUTH_CLOCK_TOLERANCE_S: '0' });
    const data = stack.sandbox.data;
    const picked = pickCustomer(data);
    const M = data.stores.find((s) => s.id !== picked.L && s.pickupEnabled)!.id;
    const B = data.customers.find((c) => c.id !== picked.A && data.orders.some((o) => o.customerId === c.id))!.id;
    // A SKU that every warehouse holds plenty of, for orders shipped from one.
    const shippable = data.variants.find((v) => data.warehouses.every((w) => (expectedLevel(data, v.sku, w.id)?.available ?? 0) > 20))!.sku;
    const place = async (key: string) => {
      const { body } = await stack.queryAs(AGENT, contractOperation('PlaceOrder'), {
        input: { idempotencyKey: key, channel: 'CALL_CENTER', deliveryMethod: 'SHIPPING', customerId: picked.A, lines: [{ sku: shippable, quantity: 1 }] },
      });
      expect(body.errors ?? [], JSON.stringify(body)).toEqual([]);
      expect((body.data as any).placeOrder.userErrors, JSON.stringify(body)).toEqual([]);
      return (body.data as any).placeOrder.order.id as string;
    };
    fx = { ...picked, B, M, shippable, cancellable: [await place('matrix-cancel-1'), await place('matrix-cancel-2')] };

    for (const who of WHO) {
      const caller = callerOf(who);
      auth.set(who, caller ? await stack.bearer(caller) : undefined);
    }
    const good = await stack.token(shopper(fx.A));
    const [header, payload] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    // Tampered: another customer's id in the claims, the original signature kept.
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: fx.B })).toString('base64url');
    auth.set('tampered', `Bearer ${header}.${forged}.${good.split('.')[2]}`);
    // Unsigned: alg none, the claims of a real token.
    auth.set('algNone', `Bearer ${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`);
    // Signed by a key the identity provider never published.
    const { privateKey } = await generateKeyPair('ES256');
    const foreign = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', kid: 'not-ours', typ: 'JWT' }).sign(privateKey);
    auth.set('otherKey', `Bearer ${foreign}`);
    // Expired: a one-second token, used once its second is over.
    const short = await stack.token(shopper(fx.A), 1);
    const exp = (JSON.parse(Buffer.from(short.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number }).exp;
    await until(() => Date.now() > exp * 1000 + 5, 5_000, 'the short token to expire');
    auth.set('expired', `Bearer ${short}`);
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  describe('storefront, store app and service console queries over HTTP', () => {
    const rows: { op: string; vars: () => Record<string, unknown>; cells: Record<Who, string> }[] = [
      { op: 'ProductPage', vars: () => ({ id: 'prod-0001', locationIds: [fx.L] }), cells: { anonymous: 'ok', shopperA: 'ok', shopperB: 'ok', storeL: 'ok', storeM: 'ok', agent: 'ok', finance: 'ok' } },
      { op: 'ProductListing', vars: () => ({ first: 5 }), cells: { anonymous: 'ok', shopperA: 'ok', shopperB: 'ok', storeL: 'ok', storeM: 'ok', agent: 'ok', finance: 'ok' } },
      { op: 'PickupStores', vars: () => ({}), cells: { anonymous: 'ok', shopperA: 'ok', shopperB: 'ok', storeL: 'ok', storeM: 'ok', agent: 'ok', finance: 'ok' } },
      {
        op: 'MyAccount',
        vars: () => ({}),
        cells: { anonymous: 'UNAUTH:me', shopperA: 'ok', shopperB: 'ok', storeL: 'null:me', storeM: 'null:me', agent: 'null:me', finance: 'null:me' },
      },
      {
        op: 'StoreStock',
        vars: () => ({ locationId: fx.L, skus: [fx.sku] }),
        cells: {
          anonymous: 'UNAUTH:location.inventoryLevels',
          shopperA: 'FORBID:location.inventoryLevels',
          shopperB: 'FORBID:location.inventoryLevels',
          storeL: 'ok',
          storeM: 'FORBID:location.inventoryLevels',
          agent: 'ok',
          finance: 'FORBID:location.inventoryLevels',
        },
      },
      {
        op: 'PickupQueue',
        vars: () => ({ locationId: fx.L }),
        cells: {
          anonymous: 'UNAUTH:location.pickupQueue',
          shopperA: 'FORBID:location.pickupQueue',
          shopperB: 'FORBID:location.pickupQueue',
          storeL: 'ok',
          storeM: 'FORBID:location.pickupQueue',
          agent: 'ok',
          finance: 'FORBID:location.pickupQueue',
        },
      },
      {
        op: 'CustomerLookup',
        vars: () => ({ query: stack.sandbox.data.customers.find((c) => c.id === fx.A)!.email }),
        cells: {
          anonymous: 'UNAUTH:searchCustomers',
          shopperA: 'FORBID:searchCustomers',
          shopperB: 'FORBID:searchCustomers',
          storeL: 'FORBID:searchCustomers',
          storeM: 'FORBID:searchCustomers',
          agent: 'ok',
          finance: 'FORBID:searchCustomers',
        },
      },
      {
        op: 'OrderTimeline',
        vars: () => ({ orderId: fx.pickup.id }),
        cells: {
          anonymous: 'UNAUTH:order',
          // The customer's own: everything but the ERP's postings.
          shopperA: 'FORBID:order.erpPostings',
          shopperB: 'null:order',
          // The store that hands it over: the order, the customer's name, nothing of the money.
          storeL: 'FORBID:order.customer.email,order.customer.loyalty,order.financialStatus,order.payments,order.invoices,order.refunds,order.erpPostings',
          storeM: 'null:order',
          agent: 'ok',
          // Finance: every order and its money; of the customer, the name.
          finance: 'FORBID:order.customer.email,order.customer.loyalty',
        },
      },
      {
        op: 'OrderByNumber',
        vars: () => ({ number: fx.pickup.number }),
        cells: { anonymous: 'UNAUTH:orderByNumber', shopperA: 'ok', shopperB: 'null:orderByNumber', storeL: 'ok', storeM: 'null:orderByNumber', agent: 'ok', finance: 'ok' },
      },
      {
        op: 'Reconciliation',
        vars: () => ({ from: '2026-08-01T00:00:00Z', to: '2026-08-08T00:00:00Z' }),
        cells: {
          anonymous: 'UNAUTH:reconciliation',
          shopperA: 'FORBID:reconciliation',
          shopperB: 'FORBID:reconciliation',
          storeL: 'FORBID:reconciliation',
          storeM: 'FORBID:reconciliation',
          agent: 'FORBID:reconciliation',
          finance: 'ok',
        },
      },
    ];

    for (const row of rows) {
      it(`${row.op}: ${WHO.map((w) => `${w} ${row.cells[w]}`).join(' | ')}; a token that is not good: 401`, async () => {
        for (const who of WHO) verify(row.cells[who], await ask(who, row.op, row.vars()), `${row.op} as ${who}`);
        for (const bad of BAD) verify('401', await ask(bad, row.op, row.vars()), `${row.op} with a ${bad} token`);
      });
    }

    it('what the cells show is the data of the caller: A sees A, the store its own queue, the agent anyone', async () => {
      const data = stack.sandbox.data;
      const mine = await ask('shopperA', 'MyAccount', {});
      expect((mine.body.data as any).me.id).toBe(toGlobalId('Customer', fx.A));
      const theirs = await ask('shopperB', 'MyAccount', {});
      expect((theirs.body.data as any).me.id).toBe(toGlobalId('Customer', fx.B));
      const queue = await ask('storeL', 'PickupQueue', { locationId: fx.L });
      const orders = (queue.body.data as any).location.pickupQueue as { id: string; customer: { name: string; phone: string } | null }[];
      expect(orders.map((o) => o.id)).toContain(toGlobalId('Order', fx.pickup.id));
      const a = data.customers.find((c) => c.id === fx.A)!;
      expect(orders.find((o) => o.id === toGlobalId('Order', fx.pickup.id))!.customer).toEqual({ name: `${a.firstName} ${a.lastName}`, phone: a.phone });
      const timeline = await ask('storeL', 'OrderTimeline', { orderId: fx.pickup.id });
      expect((timeline.body.data as any).order.customer.name).toBe(`${a.firstName} ${a.lastName}`);
      expect((timeline.body.data as any).order.timeline.length).toBeGreaterThan(0);
    });

    // node/nodes are open to anyone; what of an object a caller sees is its owner's rule, as through its root field.
    const nodeRows: { name: string; query: string; vars: () => Record<string, unknown>; cells: Record<Who, string> }[] = [
      {
        name: 'node(Product)',
        query: 'query($id: ID!) { node(id: $id) { id ... on Product { name } } }',
        vars: () => ({ id: toGlobalId('Product', 'prod-0001') }),
        cells: { anonymous: 'ok', shopperA: 'ok', shopperB: 'ok', storeL: 'ok', storeM: 'ok', agent: 'ok', finance: 'ok' },
      },
      {
        name: "node(A's pickup order)",
        query: 'query($id: ID!) { node(id: $id) { id ... on Order { number status total { amount } } } }',
        vars: () => ({ id: toGlobalId('Order', fx.pickup.id) }),
        cells: { anonymous: 'null:node', shopperA: 'ok', shopperB: 'null:node', storeL: 'ok', storeM: 'null:node', agent: 'ok', finance: 'ok' },
      },
      {
        name: "node(A's pickup order) { payments erpPostings }",
        query: 'query($id: ID!) { node(id: $id) { id ... on Order { number payments { id } erpPostings { id } } } }',
        vars: () => ({ id: toGlobalId('Order', fx.pickup.id) }),
        cells: {
          // The order is hidden from anonymous callers, so the refused fields' errors go with it.
          anonymous: 'null:node',
          shopperA: 'FORBID:node.erpPostings',
          shopperB: 'null:node',
          storeL: 'FORBID:node.payments,node.erpPostings',
          storeM: 'null:node',
          agent: 'ok',
          finance: 'ok',
        },
      },
      {
        name: 'node(customer A)',
        query: 'query($id: ID!) { node(id: $id) { id ... on Customer { name email } } }',
        vars: () => ({ id: toGlobalId('Customer', fx.A) }),
        cells: {
          anonymous: 'UNAUTH:node.name,node.email',
          shopperA: 'ok',
          shopperB: 'null:node.email',
          storeL: 'FORBID:node.email',
          storeM: 'idOnly:node',
          agent: 'ok',
          finance: 'FORBID:node.email',
        },
      },
      {
        name: "nodes([a product, A's pickup order])",
        query: 'query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Product { name } ... on Order { number } } }',
        vars: () => ({ ids: [toGlobalId('Product', 'prod-0002'), toGlobalId('Order', fx.pickup.id)] }),
        cells: { anonymous: 'null:nodes.1', shopperA: 'ok', shopperB: 'null:nodes.1', storeL: 'ok', storeM: 'null:nodes.1', agent: 'ok', finance: 'ok' },
      },
    ];

    for (const row of nodeRows) {
      it(`${row.name}: ${WHO.map((w) => `${w} ${row.cells[w]}`).join(' | ')}`, async () => {
        for (const who of WHO) verify(row.cells[who], await stack.query(row.query, row.vars(), headersOf(who)), `${row.name} as ${who}`);
      });
    }

    it("a shopper reading another shopper's order or customer record via node gets no data of it", async () => {
      const data = stack.sandbox.data;
      const a = data.customers.find((c) => c.id === fx.A)!;
      for (const [query, id] of [
        ['query($id: ID!) { node(id: $id) { ... on Order { number status customer { name email } } } }', toGlobalId('Order', fx.pickup.id)],
        ['query($id: ID!) { node(id: $id) { ... on Customer { name email phone } } }', toGlobalId('Customer', fx.A)],
      ] as const) {
        const text = JSON.stringify((await stack.query(query, { id }, headersOf('shopperB'))).body);
        for (const secret of [fx.pickup.number, a.email, a.phone, a.lastName]) expect(text).not.toContain(secret);
      }
    });
  });

  describe('subscriptions over graphql-ws, and the mutations that feed them', () => {
    const subscriptions: { op: string; vars: () => Record<string, unknown>; cells: Record<Who, 'ok' | 'UNAUTHENTICATED' | 'FORBIDDEN'> }[] = [
      {
        op: 'OrderTracking',
        vars: () => ({ orderId: fx.pickup.id }),
        cells: { anonymous: 'UNAUTHENTICATED', shopperA: 'ok', shopperB: 'FORBIDDEN', storeL: 'FORBIDDEN', storeM: 'FORBIDDEN', agent: 'ok', finance: 'FORBIDDEN' },
      },
      {
        op: 'StoreInventory',
        vars: () => ({ locationId: fx.L, skus: [fx.sku] }),
        cells: { anonymous: 'UNAUTHENTICATED', shopperA: 'FORBIDDEN', shopperB: 'FORBIDDEN', storeL: 'ok', storeM: 'FORBIDDEN', agent: 'ok', finance: 'FORBIDDEN' },
      },
      {
        op: 'PickupFeed',
        vars: () => ({ locationId: fx.L }),
        cells: { anonymous: 'UNAUTHENTICATED', shopperA: 'FORBIDDEN', shopperB: 'FORBIDDEN', storeL: 'ok', storeM: 'FORBIDDEN', agent: 'ok', finance: 'FORBIDDEN' },
      },
    ];
    const mutations: { op: string; vars: (who: Who) => Record<string, unknown>; cells: Record<Who, string> }[] = [
      {
        op: 'PlaceOrder',
        vars: (who) => ({ input: { idempotencyKey: `matrix-place-${who}`, channel: 'WEB', deliveryMethod: 'SHIPPING', customerId: fx.A, lines: [{ sku: fx.shippable, quantity: 1 }] } }),
        cells: { anonymous: 'UNAUTH:placeOrder', shopperA: 'ok', shopperB: 'FORBID:placeOrder', storeL: 'FORBID:placeOrder', storeM: 'FORBID:placeOrder', agent: 'ok', finance: 'FORBID:placeOrder' },
      },
      {
        op: 'AdjustStock',
        vars: (who) => ({ input: { idempotencyKey: `matrix-adjust-${who}`, locationId: fx.L, sku: fx.sku, reason: 'RECEIPT', delta: 2 } }),
        cells: {
          anonymous: 'UNAUTH:adjustInventory',
          shopperA: 'FORBID:adjustInventory',
          shopperB: 'FORBID:adjustInventory',
          storeL: 'ok',
          storeM: 'FORBID:adjustInventory',
          agent: 'FORBID:adjustInventory',
          finance: 'FORBID:adjustInventory',
        },
      },
      {
        op: 'ReadyForPickup',
        vars: () => ({ orderId: fx.pickup.id }),
        cells: {
          anonymous: 'UNAUTH:markReadyForPickup',
          shopperA: 'FORBID:markReadyForPickup',
          shopperB: 'FORBID:markReadyForPickup',
          storeL: 'ok',
          storeM: 'FORBID:markReadyForPickup',
          agent: 'FORBID:markReadyForPickup',
          finance: 'FORBID:markReadyForPickup',
        },
      },
      {
        op: 'HandOver',
        vars: () => ({ orderId: fx.pickup.id }),
        cells: {
          anonymous: 'UNAUTH:confirmPickup',
          shopperA: 'FORBID:confirmPickup',
          shopperB: 'FORBID:confirmPickup',
          storeL: 'ok',
          storeM: 'FORBID:confirmPickup',
          agent: 'FORBID:confirmPickup',
          finance: 'FORBID:confirmPickup',
        },
      },
      {
        op: 'CancelOrder',
        // A and the agent each cancel one of A's fresh orders; the others try A's first one.
        vars: (who) => ({ input: { idempotencyKey: `matrix-cancel-${who}`, orderId: who === 'agent' ? fx.cancellable[1] : fx.cancellable[0], reason: 'changed my mind' } }),
        cells: {
          anonymous: 'UNAUTH:cancelOrder',
          shopperA: 'ok',
          // Another customer's order is moved as an unknown one would be: its existence does not leak.
          shopperB: 'user:INVALID_INPUT',
          storeL: 'FORBID:cancelOrder',
          storeM: 'FORBID:cancelOrder',
          agent: 'ok',
          finance: 'FORBID:cancelOrder',
        },
      },
      {
        op: 'CreateReturn',
        vars: (who) => {
          const target = who === 'agent' ? fx.returnable[1] : fx.returnable[0];
          return { input: { idempotencyKey: `matrix-return-${who}`, orderId: target.id, reason: 'too small', lines: [{ sku: target.sku, quantity: 1 }] } };
        },
        cells: {
          anonymous: 'UNAUTH:createReturn',
          shopperA: 'ok',
          shopperB: 'user:INVALID_INPUT',
          storeL: 'FORBID:createReturn',
          storeM: 'FORBID:createReturn',
          agent: 'ok',
          finance: 'FORBID:createReturn',
        },
      },
    ];

    it('subscribe as everyone, then run every mutation as everyone: each cell answers as written, and the allowed subscribers hear the changes', async () => {
      const clients = WHO.map((who) => {
        const value = auth.get(who);
        return { who, client: wsClient(stack.urls.gateway, value ? { connectionParams: { authorization: value } } : {}) };
      });
      const streams: { op: string; who: Who; cell: string; stream: Collected }[] = [];
      const started = () => stack.logs.filter((l) => l.msg === 'graphql subscription started').length;
      const before = started();
      try {
        for (const sub of subscriptions) for (const { who, client } of clients) streams.push({ op: sub.op, who, cell: sub.cells[who], stream: collect(client, contractOperation(sub.op), sub.vars()) });
        // Refusals arrive as an error for that subscription alone; the allowed ones are listening once their
        // subgraph says so.
        for (const s of streams.filter((x) => x.cell !== 'ok')) {
          await s.stream.ended();
          const errors = s.stream.error as { extensions?: { code?: string } }[];
          expect(Array.isArray(errors), `${s.op} as ${s.who}: ${JSON.stringify(s.stream.error)}`).toBe(true);
          expect(errors[0]?.extensions?.code, `${s.op} as ${s.who}`).toBe(s.cell);
        }
        const allowed = streams.filter((x) => x.cell === 'ok');
        await until(() => started() - before >= allowed.length, 10_000, 'every allowed subscription to start');

        for (const row of mutations) {
          // Refused cells first: they must change nothing, so the allowed ones still find what they expect.
          const order = [...WHO].sort((a, b) => Number(row.cells[a] === 'ok') - Number(row.cells[b] === 'ok'));
          for (const who of order) verify(row.cells[who], await ask(who, row.op, row.vars(who)), `${row.op} as ${who}`);
          for (const bad of BAD) verify('401', await ask(bad, row.op, row.vars('shopperA')), `${row.op} with a ${bad} token`);
        }

        // The allowed subscribers heard the moves and the stock change, with the fields of other subgraphs.
        for (const s of allowed) {
          const [first] = await s.stream.waitFor(1);
          expect(first?.errors ?? [], `${s.op} as ${s.who}: ${JSON.stringify(first)}`).toEqual([]);
        }
        const tracking = allowed.find((s) => s.op === 'OrderTracking' && s.who === 'shopperA')!;
        const moves = await tracking.stream.waitFor(2);
        expect(moves.map((m) => (m.data as any).orderStatusChanged.status)).toEqual(['READY_FOR_PICKUP', 'PICKED_UP']);
      } finally {
        for (const s of streams) s.stream.unsubscribe();
        await Promise.all(clients.map(({ client }) => client.dispose()));
      }
      // What the refused cells did not do: the orders the allowed callers moved are where those callers left them.
      const status = async (id: string) => ((await stack.queryAs(AGENT, '{ order(id: $id) { status } }'.replace('$id', JSON.stringify(id)))).body.data as any).order.status;
      expect(await status(fx.pickup.id)).toBe('PICKED_UP');
      expect(await status(fx.cancellable[0])).toBe('CANCELLED');
      expect(await status(fx.cancellable[1])).toBe('CANCELLED');
    });

    it('a token that is not good closes the socket with 4401 before anything runs', async () => {
      for (const bad of BAD) {
        const client = wsClient(stack.urls.gateway, { connectionParams: { authorization: auth.get(bad) } });
        try {
          const stream = collect(client, contractOperation('StoreInventory'), { locationId: fx.L });
          await stream.ended();
          expect((stream.error as { code?: number }).code, `${bad}: ${JSON.stringify(stream.error)}`).toBe(4401);
        } finally {
          await client.dispose();
        }
      }
    });
  });

  describe('straight to the subgraph ports: no more than through the gateway', () => {
    const entities = (typename: string, id: string, selection: string) => ({
      query: `query ($r: [_Any!]!) { _entities(representations: $r) { ... on ${typename} { ${selection} } } }`,
      variables: () => ({ r: [{ __typename: typename, id }] }),
    });
    const direct = async (subgraph: keyof TestStack['urls']['subgraphs'], who: Who | Bad, query: string, variables: Record<string, unknown>): Promise<GraphQLResponse> => {
      const response = await fetch(stack.urls.subgraphs[subgraph], { method: 'POST', headers: { 'content-type': 'application/json', ...headersOf(who) }, body: JSON.stringify({ query, variables }) });
      return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResponse['body'] };
    };
    const rows: { name: string; subgraph: keyof TestStack['urls']['subgraphs']; query: () => string; vars: () => Record<string, unknown>; cells: Record<Who, string> }[] = [
      {
        name: 'customers: customer(id: A)',
        subgraph: 'customers',
        query: () => `{ customer(id: "${fx.A}") { id name email } }`,
        vars: () => ({}),
        cells: { anonymous: 'UNAUTH:customer', shopperA: 'ok', shopperB: 'null:customer', storeL: 'FORBID:customer', storeM: 'FORBID:customer', agent: 'ok', finance: 'FORBID:customer' },
      },
      {
        name: 'customers: _entities(Customer A) { name phone email }',
        subgraph: 'customers',
        query: () => entities('Customer', fx.A, 'name phone email').query,
        vars: () => entities('Customer', fx.A, '').variables(),
        cells: {
          anonymous: 'null:_entities.0',
          shopperA: 'ok',
          shopperB: 'null:_entities.0',
          storeL: 'FORBID:_entities.*.email',
          storeM: 'FORBID:_entities.*',
          agent: 'ok',
          finance: 'FORBID:_entities.*.phone,_entities.*.email',
        },
      },
      {
        name: 'customers: searchCustomers',
        subgraph: 'customers',
        query: () => `{ searchCustomers(query: "a", first: 1) { id } }`,
        vars: () => ({}),
        cells: {
          anonymous: 'UNAUTH:searchCustomers',
          shopperA: 'FORBID:searchCustomers',
          shopperB: 'FORBID:searchCustomers',
          storeL: 'FORBID:searchCustomers',
          storeM: 'FORBID:searchCustomers',
          agent: 'ok',
          finance: 'FORBID:searchCustomers',
        },
      },
      {
        name: "orders: order(id: A's pickup)",
        subgraph: 'orders',
        query: () => `{ order(id: "${fx.pickup.id}") { id customer { id } } }`,
        vars: () => ({}),
        cells: { anonymous: 'UNAUTH:order', shopperA: 'ok', shopperB: 'null:order', storeL: 'ok', storeM: 'null:order', agent: 'ok', finance: 'ok' },
      },
      {
        name: "orders: _entities(Customer A) { orders }",
        subgraph: 'orders',
        query: () => entities('Customer', fx.A, 'orders(first: 1) { totalCount }').query,
        vars: () => entities('Customer', fx.A, '').variables(),
        cells: {
          anonymous: 'UNAUTH:_entities.*.orders',
          shopperA: 'ok',
          shopperB: 'FORBID:_entities.*.orders',
          storeL: 'FORBID:_entities.*.orders',
          storeM: 'FORBID:_entities.*.orders',
          agent: 'ok',
          finance: 'FORBID:_entities.*.orders',
        },
      },
      {
        name: 'orders: _entities(Location L) { pickupQueue }',
        subgraph: 'orders',
        query: () => entities('Location', fx.L, 'pickupQueue { id }').query,
        vars: () => entities('Location', fx.L, '').variables(),
        cells: {
          anonymous: 'UNAUTH:_entities.*.pickupQueue',
          shopperA: 'FORBID:_entities.*.pickupQueue',
          shopperB: 'FORBID:_entities.*.pickupQueue',
          storeL: 'ok',
          storeM: 'FORBID:_entities.*.pickupQueue',
          agent: 'ok',
          finance: 'FORBID:_entities.*.pickupQueue',
        },
      },
      {
        name: 'orders: placeOrder for A',
        subgraph: 'orders',
        query: () => `mutation { placeOrder(input: { idempotencyKey: "direct-place", channel: WEB, deliveryMethod: SHIPPING, customerId: "${fx.A}", lines: [{ sku: "SKU-9999-9", quantity: 1 }] }) { order { id } userErrors { code } } }`,
        vars: () => ({}),
        // An unknown SKU: an allowed caller gets the business answer, and nothing is created.
        cells: { anonymous: 'UNAUTH:placeOrder', shopperA: 'user:UNKNOWN_SKU', shopperB: 'FORBID:placeOrder', storeL: 'FORBID:placeOrder', storeM: 'FORBID:placeOrder', agent: 'user:UNKNOWN_SKU', finance: 'FORBID:placeOrder' },
      },
      {
        name: 'inventory: location(L) { inventoryLevels }',
        subgraph: 'inventory',
        query: () => `{ location(id: "${fx.L}") { id inventoryLevels(skus: ["${fx.sku}"]) { onHand } } }`,
        vars: () => ({}),
        cells: {
          anonymous: 'UNAUTH:location.inventoryLevels',
          shopperA: 'FORBID:location.inventoryLevels',
          shopperB: 'FORBID:location.inventoryLevels',
          storeL: 'ok',
          storeM: 'FORBID:location.inventoryLevels',
          agent: 'ok',
          finance: 'FORBID:location.inventoryLevels',
        },
      },
      {
        name: 'inventory: adjustInventory at L (a stale count: allowed callers get STALE_QUANTITY, nothing moves)',
        subgraph: 'inventory',
        query: () => `mutation { adjustInventory(input: { idempotencyKey: "direct-count", locationId: "${fx.L}", sku: "${fx.sku}", reason: CYCLE_COUNT, onHand: 1, expectedOnHand: 987654 }) { level { onHand } userErrors { code } } }`,
        vars: () => ({}),
        cells: {
          anonymous: 'UNAUTH:adjustInventory',
          shopperA: 'FORBID:adjustInventory',
          shopperB: 'FORBID:adjustInventory',
          storeL: 'user:STALE_QUANTITY',
          storeM: 'FORBID:adjustInventory',
          agent: 'FORBID:adjustInventory',
          finance: 'FORBID:adjustInventory',
        },
      },
      {
        name: "finance: _entities(Order A's pickup) { payments erpPostings }",
        subgraph: 'finance',
        query: () => entities('Order', fx.pickup.id, 'payments { id } erpPostings { id }').query,
        vars: () => entities('Order', fx.pickup.id, '').variables(),
        cells: {
          anonymous: 'UNAUTH:_entities.*.payments,_entities.*.erpPostings',
          shopperA: 'FORBID:_entities.*.erpPostings',
          shopperB: 'null:_entities.0',
          storeL: 'FORBID:_entities.*.payments,_entities.*.erpPostings',
          storeM: 'FORBID:_entities.*.payments,_entities.*.erpPostings',
          agent: 'ok',
          finance: 'ok',
        },
      },
      {
        name: 'finance: reconciliation',
        subgraph: 'finance',
        query: () => `{ reconciliation(from: "2026-08-01T00:00:00Z", to: "2026-08-02T00:00:00Z") { pendingPostings } }`,
        vars: () => ({}),
        cells: {
          anonymous: 'UNAUTH:reconciliation',
          shopperA: 'FORBID:reconciliation',
          shopperB: 'FORBID:reconciliation',
          storeL: 'FORBID:reconciliation',
          storeM: 'FORBID:reconciliation',
          agent: 'FORBID:reconciliation',
          finance: 'ok',
        },
      },
      {
        name: 'customers: me',
        subgraph: 'customers',
        query: () => `{ me { id } }`,
        vars: () => ({}),
        cells: { anonymous: 'UNAUTH:me', shopperA: 'ok', shopperB: 'ok', storeL: 'null:me', storeM: 'null:me', agent: 'null:me', finance: 'null:me' },
      },
      {
        name: "orders: cancelOrder of A's delivered order (allowed callers get INVALID_STATE: nothing moves)",
        subgraph: 'orders',
        query: () => `mutation { cancelOrder(input: { idempotencyKey: "direct-cancel", orderId: "${fx.returnable[0].id}", reason: "probe" }) { order { id } userErrors { code } } }`,
        vars: () => ({}),
        cells: {
          anonymous: 'UNAUTH:cancelOrder',
          shopperA: 'user:INVALID_STATE',
          shopperB: 'user:INVALID_INPUT',
          storeL: 'FORBID:cancelOrder',
          storeM: 'FORBID:cancelOrder',
          agent: 'user:INVALID_STATE',
          finance: 'FORBID:cancelOrder',
        },
      },
      {
        name: "orders: createReturn of 999 units of A's order (allowed callers get INVALID_QUANTITY: nothing is created)",
        subgraph: 'orders',
        query: () =>
          `mutation { createReturn(input: { idempotencyKey: "direct-return", orderId: "${fx.returnable[1].id}", reason: "probe", lines: [{ sku: "${fx.returnable[1].sku}", quantity: 999 }] }) { return { id } userErrors { code } } }`,
        vars: () => ({}),
        cells: {
          anonymous: 'UNAUTH:createReturn',
          shopperA: 'user:INVALID_QUANTITY',
          shopperB: 'user:INVALID_INPUT',
          storeL: 'FORBID:createReturn',
          storeM: 'FORBID:createReturn',
          agent: 'user:INVALID_QUANTITY',
          finance: 'FORBID:createReturn',
        },
      },
      {
        name: "orders: markReadyForPickup of A's delivered order (the store it belongs to gets the state machine's answer)",
        subgraph: 'orders',
        query: () => `mutation { markReadyForPickup(orderId: "${fx.returnable[0].id}") { order { id } userErrors { code } } }`,
        vars: () => ({}),
        cells: {
          anonymous: 'UNAUTH:markReadyForPickup',
          shopperA: 'FORBID:markReadyForPickup',
          shopperB: 'FORBID:markReadyForPickup',
          storeL: 'user:INVALID_STATE',
          storeM: 'FORBID:markReadyForPickup',
          agent: 'FORBID:markReadyForPickup',
          finance: 'FORBID:markReadyForPickup',
        },
      },
      {
        name: 'catalog: product',
        subgraph: 'catalog',
        query: () => `{ product(id: "prod-0001") { name } }`,
        vars: () => ({}),
        cells: { anonymous: 'ok', shopperA: 'ok', shopperB: 'ok', storeL: 'ok', storeM: 'ok', agent: 'ok', finance: 'ok' },
      },
    ];

    for (const row of rows) {
      it(`${row.name}: ${WHO.map((w) => `${w} ${row.cells[w]}`).join(' | ')}; a token that is not good: 401`, async () => {
        for (const who of WHO) verify(row.cells[who], await direct(row.subgraph, who, row.query(), row.vars()), `${row.name} as ${who}`);
        for (const bad of BAD) verify('401', await direct(row.subgraph, bad, row.query(), row.vars()), `${row.name} with a ${bad} token`);
      });
    }

    it('subscriptions straight to the subgraph sockets: refused as through the gateway, a token that is not good closes the socket with 4401', async () => {
      const cases: { subgraph: 'inventory' | 'orders'; query: string; variables: Record<string, unknown>; cells: Partial<Record<Who, string>> }[] = [
        {
          subgraph: 'inventory',
          query: 'subscription ($l: ID!) { inventoryChanged(locationId: $l) { sku } }',
          variables: { l: fx.L },
          cells: { anonymous: 'UNAUTHENTICATED', shopperA: 'FORBIDDEN', storeM: 'FORBIDDEN', finance: 'FORBIDDEN' },
        },
        {
          subgraph: 'orders',
          query: 'subscription ($o: ID!) { orderStatusChanged(orderId: $o) { status } }',
          variables: { o: fx.pickup.id },
          cells: { anonymous: 'UNAUTHENTICATED', shopperB: 'FORBIDDEN', storeL: 'FORBIDDEN', finance: 'FORBIDDEN' },
        },
      ];
      for (const c of cases) {
        for (const [who, code] of Object.entries(c.cells) as [Who, string][]) {
          const value = auth.get(who);
          const client = wsClient(stack.urls.subgraphs[c.subgraph], value ? { connectionParams: { authorization: value } } : {});
          try {
            const stream = collect(client, c.query, c.variables);
            // A refusal is one result with errors (the subgraph answers it), then the end.
            await stream.waitFor(1);
            expect(stream.results[0]?.errors?.[0]?.extensions?.code, `${c.subgraph} as ${who}: ${JSON.stringify(stream.results)}`).toBe(code);
          } finally {
            await client.dispose();
          }
        }
        for (const bad of BAD) {
          const client = wsClient(stack.urls.subgraphs[c.subgraph], { connectionParams: { authorization: auth.get(bad) } });
          try {
            const stream = collect(client, c.query, c.variables);
            await stream.ended();
            expect((stream.error as { code?: number }).code, `${c.subgraph} with a ${bad} token`).toBe(4401);
          } finally {
            await client.dispose();
          }
        }
      }
    });
  });
});
