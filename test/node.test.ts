import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGlobalId, toGlobalId } from '../common/global-id.js';
import { contractOperation } from './support/contract.js';
import { AGENT, shopper, startTestStack, store, type Caller, type TestStack } from './support/stack.js';

/*
 * Global object identification through the gateway: every Node type's `id` is its global id, `node`/`nodes` find
 * each of them from the id alone (the nodes subgraph names the type, the owning subgraph answers the rest), arguments
 * take global and native ids alike, and the owners' row rules decide what a caller sees by `node` as by the root
 * field.
 */
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const data = () => stack.sandbox.data;
const noErrors = (body: { errors?: unknown[] }) => expect(body.errors ?? []).toEqual([]);
/** An id of our format naming a type that is no Node. */
const foreignTypeId = Buffer.from('Widget:1', 'utf8').toString('base64url');

async function ok(caller: Caller | null, document: string, variables?: Record<string, unknown>): Promise<Record<string, any>> {
  const { status, body } = caller ? await stack.queryAs(caller, document, variables) : await stack.query(document, variables);
  expect(status).toBe(200);
  noErrors(body);
  return body.data as Record<string, any>;
}

const NODE = `query($id: ID!) { node(id: $id) { __typename id ...Fields } }`;
const withFields = (fragment: string) => `${NODE}\n${fragment}`;

describe('ids are global', () => {
  it('every Node type answers its global id, which names its type and native key', async () => {
    const order = data().orders.find((o) => o.customerId && o.pickupLocationId)!;
    const level = data().stock.find((s) => s.locationId === 'store-003')!;
    const result = await ok(
      AGENT,
      `query($order: ID!, $product: ID!, $sku: String!, $loc: ID!, $skus: [String!]!) {
        order(id: $order) { id customer { id } pickupLocation { id } }
        product(id: $product) { id variants { id sku } }
        variant(sku: $sku) { id sku }
        location(id: $loc) { id inventoryLevels(skus: $skus) { id sku locationId } }
      }`,
      { order: order.id, product: 'prod-0001', sku: 'SKU-0001-1', loc: 'store-003', skus: [level.sku] },
    );
    expect(result.order).toEqual({ id: toGlobalId('Order', order.id), customer: { id: toGlobalId('Customer', order.customerId!) }, pickupLocation: { id: toGlobalId('Location', order.pickupLocationId!) } });
    expect(result.product.id).toBe(toGlobalId('Product', 'prod-0001'));
    for (const v of result.product.variants) expect(v.id).toBe(toGlobalId('ProductVariant', v.sku));
    expect(result.variant).toEqual({ id: toGlobalId('ProductVariant', 'SKU-0001-1'), sku: 'SKU-0001-1' });
    expect(result.location.id).toBe(toGlobalId('Location', 'store-003'));
    // References stay native: `locationId`, `sku`.
    expect(result.location.inventoryLevels).toEqual([{ id: toGlobalId('InventoryLevel', level.sku, 'store-003'), sku: level.sku, locationId: 'store-003' }]);
    expect(parseGlobalId(result.location.inventoryLevels[0].id)).toEqual({ type: 'InventoryLevel', parts: [level.sku, 'store-003'], key: `${level.sku}:store-003` });
  });

  it('arguments take the global id and the native id alike', async () => {
    const order = data().orders.find((o) => o.customerId)!;
    const customerId = order.customerId!;
    const pairs: [Caller | null, string, string, string][] = [
      [null, 'query($id: ID!) { product(id: $id) { id name variants { sku } } }', 'prod-0007', toGlobalId('Product', 'prod-0007')],
      [null, 'query($id: ID!) { location(id: $id) { id name type } }', 'wh-02', toGlobalId('Location', 'wh-02')],
      [AGENT, 'query($id: ID!) { order(id: $id) { id number status total { amount } } }', order.id, toGlobalId('Order', order.id)],
      [shopper(customerId), 'query($id: ID!) { customer(id: $id) { id name email } }', customerId, toGlobalId('Customer', customerId)],
    ];
    for (const [caller, document, native, global] of pairs) {
      const byNative = await ok(caller, document, { id: native });
      const byGlobal = await ok(caller, document, { id: global });
      expect(Object.values(byNative)[0]).not.toBeNull();
      expect(byGlobal).toEqual(byNative);
    }
    const availability = 'query($id: ID!, $locs: [ID!]) { product(id: $id) { variants { availability(locationIds: $locs) { available locations { location { id } } } } } }';
    const native = await ok(null, availability, { id: 'prod-0001', locs: ['store-001', 'wh-01'] });
    expect(await ok(null, availability, { id: 'prod-0001', locs: [toGlobalId('Location', 'store-001'), toGlobalId('Location', 'wh-01')] })).toEqual(native);
  });

  it("a shopper's own customer id works in global form where the policy compares it (placeOrder, pickup store)", async () => {
    const stock = data().stock.find((s) => data().stores.some((st) => st.id === s.locationId && st.pickupEnabled) && s.onHand - s.committed - s.reserved - s.damaged > 20)!;
    const customerId = 'cust-00002';
    const input = {
      idempotencyKey: `node-${process.pid}-${Date.now()}`,
      channel: 'WEB',
      deliveryMethod: 'PICKUP',
      customerId: toGlobalId('Customer', customerId),
      pickupLocationId: toGlobalId('Location', stock.locationId),
      lines: [{ sku: stock.sku, quantity: 1 }],
    };
    const placed = await ok(shopper(customerId), contractOperation('PlaceOrder'), { input });
    expect(placed.placeOrder.userErrors).toEqual([]);
    expect(placed.placeOrder.order.pickupLocation.id).toBe(toGlobalId('Location', stock.locationId));
    // The same key with the same input in native form is the same input: the first answer, nothing new.
    const again = await ok(shopper(customerId), contractOperation('PlaceOrder'), { input: { ...input, customerId, pickupLocationId: stock.locationId } });
    expect(again.placeOrder).toEqual(placed.placeOrder);
    // Another shopper's id in global form is still another shopper's.
    const { body } = await stack.queryAs(shopper('cust-00003'), contractOperation('PlaceOrder'), { input: { ...input, idempotencyKey: `${input.idempotencyKey}-b` } });
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('node and nodes', () => {
  it('resolve every Node type to what its own root field answers', async () => {
    const order = data().orders.find((o) => o.customerId && o.pickupLocationId)!;
    const customerId = order.customerId!;
    const level = data().stock.find((s) => s.locationId === 'store-005')!;

    const product = await ok(null, 'query($id: ID!) { product(id: $id) { id name brand variants { sku } } }', { id: 'prod-0042' });
    expect((await ok(null, withFields('fragment Fields on Product { name brand variants { sku } }'), { id: product.product.id })).node).toEqual({ __typename: 'Product', ...product.product });

    const variant = await ok(null, 'query($sku: String!) { variant(sku: $sku) { id sku name price { amount } product { name } availability { available } } }', { sku: 'SKU-0042-2' });
    expect((await ok(null, withFields('fragment Fields on ProductVariant { sku name price { amount } product { name } availability { available } }'), { id: variant.variant.id })).node).toEqual({
      __typename: 'ProductVariant',
      ...variant.variant,
    });

    const location = await ok(null, 'query($id: ID!) { location(id: $id) { id name type pickupEnabled address { city } } }', { id: 'store-005' });
    expect((await ok(null, withFields('fragment Fields on Location { name type pickupEnabled address { city } }'), { id: location.location.id })).node).toEqual({ __typename: 'Location', ...location.location });

    const customer = await ok(shopper(customerId), 'query($id: ID!) { customer(id: $id) { id name email orders(first: 2) { totalCount } } }', { id: customerId });
    expect((await ok(shopper(customerId), withFields('fragment Fields on Customer { name email orders(first: 2) { totalCount } }'), { id: customer.customer.id })).node).toEqual({
      __typename: 'Customer',
      ...customer.customer,
    });

    const orderFields = 'number status total { amount } customer { id name } pickupLocation { id name } payments { id } timeline { id }';
    const byOrder = await ok(AGENT, `query($id: ID!) { order(id: $id) { id ${orderFields} } }`, { id: order.id });
    expect((await ok(AGENT, withFields(`fragment Fields on Order { ${orderFields} }`), { id: byOrder.order.id })).node).toEqual({ __typename: 'Order', ...byOrder.order });

    const levelFields = 'sku locationId onHand committed reserved safetyStock damaged incoming available status location { id name } variant { name }';
    const levels = await ok(store('store-005'), `query($id: ID!, $skus: [String!]!) { location(id: $id) { inventoryLevels(skus: $skus) { id ${levelFields} } } }`, { id: 'store-005', skus: [level.sku] });
    const byLevel = levels.location.inventoryLevels[0];
    expect((await ok(store('store-005'), withFields(`fragment Fields on InventoryLevel { ${levelFields} }`), { id: byLevel.id })).node).toEqual({ __typename: 'InventoryLevel', ...byLevel });
  });

  it('is null for an id that is not a global id, names no Node type, or names nothing', async () => {
    const nodeOf = async (id: string, fragment = 'fragment Fields on Product { name }') => (await stack.query(withFields(fragment), { id })).body;
    for (const id of ['garbage', 'prod-0001', '', foreignTypeId, `${toGlobalId('Product', 'prod-0001')}=`, Buffer.from('Product:', 'utf8').toString('base64url')]) {
      const body = await nodeOf(id);
      noErrors(body);
      expect(body.data!.node).toBeNull();
    }
    // Well formed, but no product has that id: the catalog says so, and the node is null.
    expect((await nodeOf(toGlobalId('Product', 'prod-9999'))).data!.node).toBeNull();
    expect((await nodeOf(toGlobalId('ProductVariant', 'SKU-NOPE'), 'fragment Fields on ProductVariant { name }')).data!.node).toBeNull();
  });

  it('nodes keeps the order and length of ids, null where node would be', async () => {
    const ids = [toGlobalId('Location', 'wh-01'), 'garbage', toGlobalId('Product', 'prod-0003'), foreignTypeId, toGlobalId('ProductVariant', 'SKU-0003-1'), toGlobalId('Product', 'prod-0001')];
    const result = await ok(
      null,
      `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Location { name } ... on Product { name } ... on ProductVariant { sku name } } }`,
      { ids },
    );
    const names = Object.fromEntries([...data().stores, ...data().warehouses].map((l) => [l.id, l.name]));
    const product = (id: string) => data().products.find((p) => p.id === id)!.name;
    expect(result.nodes).toEqual([
      { __typename: 'Location', id: ids[0], name: names['wh-01'] },
      null,
      { __typename: 'Product', id: ids[2], name: product('prod-0003') },
      null,
      { __typename: 'ProductVariant', id: ids[4], sku: 'SKU-0003-1', name: data().variants.find((v) => v.sku === 'SKU-0003-1')!.name },
      { __typename: 'Product', id: ids[5], name: product('prod-0001') },
    ]);
    const { body } = await stack.query('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: Array.from({ length: 101 }, (_, i) => toGlobalId('Product', `p${i}`)) });
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('who sees what through node', () => {
  const ORDER_FIELDS = 'fragment Fields on Order { number status total { amount } customer { name } }';

  it('anonymous callers get catalog objects and no order or customer', async () => {
    expect((await ok(null, withFields('fragment Fields on Product { name }'), { id: toGlobalId('Product', 'prod-0001') })).node.name).toBe(data().products[0]!.name);
    const order = data().orders[0]!;
    const { body } = await stack.query(withFields(ORDER_FIELDS), { id: toGlobalId('Order', order.id) });
    expect(body.data?.node ?? null).toBeNull();
  });

  it("a shopper sees their own order and customer by node, and nothing of another shopper's", async () => {
    const mine = data().orders.find((o) => o.customerId)!;
    const theirs = data().orders.find((o) => o.customerId && o.customerId !== mine.customerId)!;
    const me = shopper(mine.customerId!);
    expect((await ok(me, withFields(ORDER_FIELDS), { id: toGlobalId('Order', mine.id) })).node.number).toBe(mine.number);

    const other = await stack.queryAs(me, withFields(ORDER_FIELDS), { id: toGlobalId('Order', theirs.id) });
    expect(other.body.data?.node ?? null).toBeNull();
    expect(JSON.stringify(other.body)).not.toContain(theirs.number);

    const otherCustomer = await stack.queryAs(me, withFields('fragment Fields on Customer { name email phone }'), { id: toGlobalId('Customer', theirs.customerId!) });
    const seen = otherCustomer.body.data?.node ?? null;
    if (seen !== null) expect(seen).toEqual({ __typename: 'Customer', id: toGlobalId('Customer', theirs.customerId!), name: null, email: null, phone: null });
    const record = data().customers.find((c) => c.id === theirs.customerId)!;
    expect(JSON.stringify(otherCustomer.body)).not.toContain(record.email);
  });

  it("a store associate reads their own location's stock levels by node, another location's are FORBIDDEN", async () => {
    const level = data().stock.find((s) => s.locationId === 'store-002')!;
    const id = toGlobalId('InventoryLevel', level.sku, 'store-002');
    expect((await ok(store('store-002'), withFields('fragment Fields on InventoryLevel { onHand }'), { id })).node.onHand).toBe(level.onHand);
    const { body } = await stack.queryAs(store('store-003'), withFields('fragment Fields on InventoryLevel { onHand }'), { id });
    expect(body.data?.node ?? null).toBeNull();
    expect(body.errors?.map((e) => e.extensions?.code)).toContain('FORBIDDEN');
  });
});

describe('PageInfo (Relay connection spec)', () => {
  const PAGE = 'query($first: Int, $after: String) { products(category: "shoes", first: $first, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } } }';

  it('products: startCursor and hasPreviousPage across pages', async () => {
    const first = (await ok(null, PAGE, { first: 3 })).products;
    expect(first.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: first.edges[0].cursor, endCursor: first.edges[2].cursor });
    const second = (await ok(null, PAGE, { first: 3, after: first.pageInfo.endCursor })).products;
    expect(second.pageInfo).toMatchObject({ hasPreviousPage: true, startCursor: second.edges[0].cursor, endCursor: second.edges[2].cursor });
    expect(second.edges[0].node.id).not.toBe(first.edges[2].node.id);
    // `after` naming the very first item: one item lies before the page.
    const fromSecond = (await ok(null, PAGE, { first: 1, after: first.edges[0].cursor })).products;
    expect(fromSecond.pageInfo.hasPreviousPage).toBe(true);
    expect(fromSecond.edges[0].node.id).toBe(first.edges[1].node.id);
    const empty = (await ok(null, PAGE, { first: 0 })).products;
    expect(empty.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null });
  });

  it("orders: startCursor and hasPreviousPage across a customer's pages", async () => {
    const counts = new Map<string, number>();
    for (const o of data().orders) if (o.customerId) counts.set(o.customerId, (counts.get(o.customerId) ?? 0) + 1);
    const [customerId] = [...counts].find(([, n]) => n >= 3)!;
    const ORDERS = 'query($id: ID!, $after: String) { customer(id: $id) { orders(first: 2, after: $after) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } } } }';
    const first = (await ok(AGENT, ORDERS, { id: customerId })).customer.orders;
    expect(first.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: first.edges[0].cursor, endCursor: first.edges[1].cursor });
    const second = (await ok(AGENT, ORDERS, { id: toGlobalId('Customer', customerId), after: first.pageInfo.endCursor })).customer.orders;
    expect(second.pageInfo.hasPreviousPage).toBe(true);
    expect(second.pageInfo.startCursor).toBe(second.edges[0].cursor);
  });
});
