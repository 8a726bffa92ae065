import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../common/global-id.js';
import { contractOperation } from './support/contract.js';
import { allLocationIds, customerName, eur, expectedAvailability, expectedLevel } from './support/expect.js';
import { AGENT, startTestStack, store, type TestStack } from './support/stack.js';

// Both ways the embedded gateway can reach its subgraphs: in process (the default) and over HTTP.
describe.each(['local', 'http'] as const)('%s dispatch', (dispatch) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ subgraphDispatch: dispatch });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const noErrors = (body: { errors?: unknown[] }) => expect(body.errors ?? []).toEqual([]);

  describe('storefront contract queries, through the gateway', () => {
    it('ProductPage returns the item master, prices and sellable stock at the chosen stores', async () => {
      const data = stack.sandbox.data;
      const product = data.products[0]!;
      const locationIds = ['store-001', 'wh-01', 'store-404'];
      const { status, body } = await stack.query(contractOperation('ProductPage'), { id: product.id, locationIds });
      expect(status).toBe(200);
      noErrors(body);
      const p = body.data!.product;
      expect(p).toMatchObject({ id: toGlobalId('Product', product.id), name: product.name, description: product.description, brand: product.brand, category: product.category });
      expect(p.variants.map((v: any) => v.sku)).toEqual(product.skus);
      for (const v of p.variants) {
        const record = data.variants.find((x) => x.sku === v.sku)!;
        expect(v.name).toBe(record.name);
        expect(v.price).toEqual(eur(record.priceMinor));
        expect(v.availability.available).toBe(expectedAvailability(data, v.sku, ['store-001', 'wh-01']));
        expect(['IN_STOCK', 'LOW_STOCK', 'OUT_OF_STOCK']).toContain(v.availability.status);
        if (v.availability.available === 0) expect(v.availability.status).toBe('OUT_OF_STOCK');
        if (v.availability.available > 5) expect(v.availability.status).toBe('IN_STOCK');
        // Unknown location ids are ignored, not errors.
        expect(v.availability.locations.map((l: any) => l.location.id)).toEqual([toGlobalId('Location', 'store-001'), toGlobalId('Location', 'wh-01')]);
        const atStore = v.availability.locations[0];
        expect(atStore.location).toEqual({ id: toGlobalId('Location', 'store-001'), name: data.stores[0]!.name, type: 'STORE', pickupEnabled: data.stores[0]!.pickupEnabled });
        expect(atStore.available).toBe(expectedLevel(data, v.sku, 'store-001')!.available);
      }
    });

    it('ProductPage without locationIds sums every location', async () => {
      const data = stack.sandbox.data;
      const product = data.products[10]!;
      const { body } = await stack.query(contractOperation('ProductPage'), { id: product.id });
      noErrors(body);
      for (const v of body.data!.product.variants) {
        expect(v.availability.available).toBe(expectedAvailability(data, v.sku));
        expect(v.availability.locations).toHaveLength(allLocationIds(data).length);
      }
    });

    it('ProductListing pages through a category with cursors and totalCount', async () => {
      const data = stack.sandbox.data;
      const shoes = data.products.filter((p) => p.category === 'shoes');
      const first = await stack.query(contractOperation('ProductListing'), { category: 'shoes', first: 5 });
      noErrors(first.body);
      const page = first.body.data!.products;
      expect(page.totalCount).toBe(shoes.length);
      expect(page.edges.map((e: any) => e.node.id)).toEqual(shoes.slice(0, 5).map((p) => toGlobalId('Product', p.id)));
      expect(page.pageInfo.hasNextPage).toBe(true);
      expect(page.pageInfo.endCursor).toBe(page.edges[4].cursor);
      const node = page.edges[0].node;
      expect(node.name).toBe(shoes[0]!.name);
      expect(node.variants[0].availability.available).toBe(expectedAvailability(data, node.variants[0].sku));
      expect(node.variants[0].price).toEqual(eur(data.variants.find((v) => v.sku === node.variants[0].sku)!.priceMinor));

      const second = await stack.query(contractOperation('ProductListing'), { category: 'shoes', first: 5, after: page.pageInfo.endCursor });
      noErrors(second.body);
      expect(second.body.data!.products.edges.map((e: any) => e.node.id)).toEqual(shoes.slice(5, 10).map((p) => toGlobalId('Product', p.id)));
    });

    it('ProductListing searches by words, case-insensitively', async () => {
      const data = stack.sandbox.data;
      const brand = data.products[3]!.brand;
      const { body } = await stack.query(contractOperation('ProductListing'), { query: brand.toUpperCase(), first: 50 });
      noErrors(body);
      const expected = data.products.filter((p) => `${p.name} ${p.brand} ${p.category} ${p.description}`.toLowerCase().includes(brand.toLowerCase()));
      expect(body.data!.products.totalCount).toBe(expected.length);
      expect(body.data!.products.edges.map((e: any) => e.node.id)).toEqual(expected.slice(0, 50).map((p) => toGlobalId('Product', p.id)));
    });

    it('PickupStores lists the stores with a pickup counter and their addresses', async () => {
      const { body } = await stack.query(contractOperation('PickupStores'));
      noErrors(body);
      const expected = stack.sandbox.data.stores.filter((s) => s.pickupEnabled);
      expect(body.data!.locations).toEqual(expected.map((s) => ({ id: toGlobalId('Location', s.id), name: s.name, address: s.address })));
      expect(expected.length).toBeLessThan(stack.sandbox.data.stores.length);
    });
  });

  describe('store-app contract queries', () => {
    it('StoreStock shows every quantity of the contract, available computed, names from catalog', async () => {
      const data = stack.sandbox.data;
      const skus = [data.variants[0]!.sku, data.variants[40]!.sku, data.variants[99]!.sku];
      const { body } = await stack.queryAs(store('store-003'), contractOperation('StoreStock'), { locationId: 'store-003', skus });
      noErrors(body);
      const location = body.data!.location;
      expect(location.id).toBe(toGlobalId('Location', 'store-003'));
      expect(location.name).toBe(data.stores[2]!.name);
      expect(location.inventoryLevels.map((l: any) => l.sku)).toEqual(skus);
      for (const level of location.inventoryLevels) {
        const { available, ...quantities } = expectedLevel(data, level.sku, 'store-003')!;
        expect(level).toMatchObject({ ...quantities, available });
        const variant = data.variants.find((v) => v.sku === level.sku)!;
        expect(level.variant.name).toBe(variant.name);
        expect(level.variant.product.name).toBe(data.products.find((p) => p.id === variant.productId)!.name);
      }
    });

    it('PickupQueue lists the orders waiting at the store with customer and lines', async () => {
      const data = stack.sandbox.data;
      const waiting = (loc: string) =>
        data.orders
          .filter((o) => o.channel !== 'STORE' && o.deliveryMethod === 'PICKUP' && o.pickupLocationId === loc && (o.status === 'CONFIRMED' || o.status === 'READY_FOR_PICKUP'))
          .sort((a, b) => (a.placedAt < b.placedAt ? -1 : 1));
      const pickupStore = data.stores.filter((s) => s.pickupEnabled).sort((a, b) => waiting(b.id).length - waiting(a.id).length)[0]!;
      const expected = waiting(pickupStore.id);
      expect(expected.length).toBeGreaterThan(0);
      const { body } = await stack.queryAs(store(pickupStore.id), contractOperation('PickupQueue'), { locationId: pickupStore.id });
      noErrors(body);
      const queue = body.data!.location.pickupQueue;
      expect(queue.map((o: any) => o.id)).toEqual(expected.map((o) => toGlobalId('Order', o.id)));
      const [first] = queue;
      const record = expected[0]!;
      expect(first).toMatchObject({ number: record.number, status: record.status, placedAt: record.placedAt });
      expect(first.customer?.name ?? null).toBe(customerName(data, record.customerId));
      expect(first.lines.map((l: any) => [l.sku, l.quantity])).toEqual(record.lines.map((l) => [l.sku, l.quantity]));
      expect(first.lines[0].variant.name).toBe(data.variants.find((v) => v.sku === record.lines[0]!.sku)!.name);
    });
  });

  describe('service-console contract queries', () => {
    it('CustomerLookup finds a customer by email, case-insensitively, with loyalty, consent and orders', async () => {
      const data = stack.sandbox.data;
      const customer = data.customers.find((c) => data.orders.filter((o) => o.customerId === c.id).length >= 3)!;
      const { body } = await stack.queryAs(AGENT, contractOperation('CustomerLookup'), { query: customer.email.toUpperCase() });
      noErrors(body);
      const [found, ...rest] = body.data!.searchCustomers;
      expect(rest).toEqual([]);
      expect(found).toMatchObject({
        id: toGlobalId('Customer', customer.id),
        name: `${customer.firstName} ${customer.lastName}`,
        email: customer.email,
        phone: customer.phone,
        loyalty: { tier: customer.loyaltyTier, pointsBalance: customer.loyaltyPoints },
        marketingConsent: { email: customer.consentEmail, sms: customer.consentSms },
      });
      const orders = data.orders.filter((o) => o.customerId === customer.id).sort((a, b) => (a.placedAt < b.placedAt ? 1 : a.placedAt > b.placedAt ? -1 : 0));
      expect(found.orders.totalCount).toBe(orders.length);
      expect(found.orders.edges.map((e: any) => e.node.id)).toEqual(orders.slice(0, 10).map((o) => toGlobalId('Order', o.id)));
      expect(found.orders.edges[0].node.total).toEqual(eur(orders[0]!.totalMinor));
    });

    it('CustomerLookup by name returns at most 10 matches, all matching', async () => {
      const { body } = await stack.queryAs(AGENT, contractOperation('CustomerLookup'), { query: 'müller' });
      noErrors(body);
      const found = body.data!.searchCustomers;
      expect(found.length).toBe(10);
      for (const c of found) expect(`${c.name} ${c.email}`.toLowerCase()).toContain('müller');
    });

    it('OrderTimeline joins every domain for one order, and every event carries its correlation id', async () => {
      const data = stack.sandbox.data;
      const order = data.orders.find((o) => o.channel === 'WEB' && o.deliveryMethod === 'SHIPPING' && o.status === 'RETURNED' && o.customerId)!;
      const { body } = await stack.queryAs(AGENT, contractOperation('OrderTimeline'), { orderId: order.id });
      noErrors(body);
      const o = body.data!.order;
      expect(o).toMatchObject({ id: toGlobalId('Order', order.id), number: order.number, status: 'RETURNED', channel: 'WEB', deliveryMethod: 'SHIPPING', placedAt: order.placedAt, correlationId: order.correlationId });
      expect(o.customer.name).toBe(customerName(data, order.customerId));
      expect(o.lines.map((l: any) => ({ sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice }))).toEqual(order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: eur(l.unitPriceMinor) })));
      const variant = data.variants.find((v) => v.sku === order.lines[0]!.sku)!;
      expect(o.lines[0].variant).toEqual({ name: variant.name, product: { name: data.products.find((p) => p.id === variant.productId)!.name, brand: data.products.find((p) => p.id === variant.productId)!.brand } });
      expect(o.total).toEqual(eur(order.lines.reduce((s, l) => s + l.quantity * l.unitPriceMinor, 0)));
      expect(o.financialStatus).toBe('REFUNDED');
      expect(o.payments).toEqual(data.payments.filter((p) => p.orderId === order.id).map((p) => ({ id: p.id, status: p.status, method: p.method, amount: eur(p.amountMinor), createdAt: p.createdAt })));
      expect(o.invoices.map((i: any) => i.number)).toEqual(data.invoices.filter((i) => i.orderId === order.id).map((i) => i.number));
      expect(o.refunds.map((r: any) => r.amount)).toEqual(data.refunds.filter((r) => r.orderId === order.id).map((r) => eur(r.amountMinor)));
      expect(o.erpPostings.map((p: any) => p.type).sort()).toEqual(['RETURN', 'SALE']);
      expect(o.shipments).toHaveLength(1);
      expect(o.shipments[0].status).toBe('DELIVERED');
      expect(o.returns[0].lines).toEqual(data.returns.find((r) => r.orderId === order.id)!.lines);

      const events = data.events.filter((e) => e.orderId === order.id).sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0));
      expect(o.timeline.map((e: any) => e.id)).toEqual(events.map((e) => e.id));
      expect(o.timeline.map((e: any) => e.type)).toContain('ORDER_PLACED');
      expect(o.timeline.map((e: any) => e.type)).toContain('RETURN_RECEIVED');
      const sources = new Set(o.timeline.map((e: any) => e.source));
      for (const source of ['WEB', 'WMS', 'PSP', 'ERP']) expect(sources).toContain(source);
      for (const e of o.timeline) {
        expect(e.correlationId).toBe(order.correlationId);
        expect(e.summary.length).toBeGreaterThan(5);
      }
      const times = o.timeline.map((e: any) => e.occurredAt);
      expect([...times].sort()).toEqual(times);
    });

    it('OrderTimeline of a till sale: no customer, POS source', async () => {
      const data = stack.sandbox.data;
      const order = data.orders.find((o) => o.channel === 'STORE' && o.customerId === null && o.status === 'PICKED_UP')!;
      const { body } = await stack.queryAs(AGENT, contractOperation('OrderTimeline'), { orderId: order.id });
      noErrors(body);
      expect(body.data!.order.customer).toBeNull();
      expect(body.data!.order.timeline[0]).toMatchObject({ type: 'ORDER_PLACED', source: 'POS' });
      expect(body.data!.order.financialStatus).toBe('PAID');
    });

    it('OrderByNumber finds web and store orders', async () => {
      const data = stack.sandbox.data;
      for (const order of [data.orders.find((o) => o.number.startsWith('W') && o.customerId)!, data.orders.find((o) => o.number.startsWith('S') && o.customerId)!]) {
        const { body } = await stack.queryAs(AGENT, contractOperation('OrderByNumber'), { number: order.number });
        noErrors(body);
        expect(body.data!.orderByNumber).toEqual({ id: toGlobalId('Order', order.id), number: order.number, status: order.status, customer: { name: customerName(data, order.customerId) } });
      }
    });
  });
});
