import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractOperation } from './support/contract.js';
import { AGENT, startTestStack, store, totalCalls, type TestStack } from './support/stack.js';

// Sandbox call counters are the proof: a batch call is one call, however many keys it carries.
// Both ways the embedded gateway can reach its subgraphs: in process (the default) and over HTTP.
describe.each(['local', 'http'] as const)('%s dispatch', (dispatch) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ subgraphDispatch: dispatch });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  describe('no N+1: sandbox calls do not grow with page size or list length', () => {
    it('ProductListing with first: 50 makes no more calls than with first: 5', async () => {
      const run = (first: number) =>
        stack.countCalls(async () => {
          const { body } = await stack.query(contractOperation('ProductListing'), { first });
          expect(body.errors ?? []).toEqual([]);
          expect((body.data as any).products.edges).toHaveLength(first);
        });
      const small = await run(5);
      const large = await run(50);
      expect(totalCalls(large)).toBeLessThanOrEqual(totalCalls(small));
      expect(large).toEqual(small);
      // The whole page is a handful of batch calls: the location lists and their stock. Search, variants and stock
      // policies come from the in-memory read models of ERP master data: no ERP call at all.
      expect(large.erp).toBeUndefined();
      expect(totalCalls(large)).toBeLessThanOrEqual(4);
    });

    it('an order with 20 lines makes no more catalog calls than one with 2', async () => {
      const data = stack.sandbox.data;
      const big = data.orders.find((o) => o.lines.length === 20)!;
      const small = data.orders.find((o) => o.lines.length === 2 && o.channel === big.channel && (o.customerId === null) === (big.customerId === null))!;
      const run = (orderId: string) =>
        stack.countCalls(async () => {
          const { body } = await stack.queryAs(AGENT, contractOperation('OrderTimeline'), { orderId });
          expect(body.errors ?? []).toEqual([]);
        });
      const callsBig = await run(big.id);
      const callsSmall = await run(small.id);
      expect(callsBig.erp).toEqual(callsSmall.erp);
      expect(totalCalls(callsBig)).toBe(totalCalls(callsSmall));
    });

    it('CustomerLookup with ten customers reads their orders in one call per order system', async () => {
      const calls = await stack.countCalls(async () => {
        const { body } = await stack.queryAs(AGENT, contractOperation('CustomerLookup'), { query: 'a' });
        expect(body.errors ?? []).toEqual([]);
        expect((body.data as any).searchCustomers).toHaveLength(10);
      });
      expect(calls.crm).toEqual({ searchCustomers: 1 });
      expect(calls.ecom?.getOrdersByCustomer).toBe(1);
      expect(calls.pos?.getOrdersByCustomer).toBe(1);
    });

    it('PickupQueue resolves every order’s customer and variants in one batch each', async () => {
      const calls = await stack.countCalls(async () => {
        const { body } = await stack.queryAs(store('store-001'), contractOperation('PickupQueue'), { locationId: 'store-001' });
        expect(body.errors ?? []).toEqual([]);
      });
      expect(calls.crm?.getCustomers ?? 0).toBeLessThanOrEqual(1);
      // The variants come from the read model of the item master: no ERP call.
      expect(calls.erp).toBeUndefined();
      expect(calls.ecom?.getPickupQueue).toBe(1);
      // The customers subgraph's row rule for a store associate (only customers whose orders the store hands over
      // or ships): one batch call per order system for the whole queue, a fixed 2 calls per request.
      expect(calls.ecom?.getOrdersByCustomer).toBe(1);
      expect(calls.pos?.getOrdersByCustomer).toBe(1);
    });

    it('a store’s long PickupQueue makes no more calls than a short one, the row rule included', async () => {
      const data = stack.sandbox.data;
      const waiting = (loc: string) =>
        data.orders.filter((o) => o.channel !== 'STORE' && o.deliveryMethod === 'PICKUP' && o.pickupLocationId === loc && o.customerId && (o.status === 'CONFIRMED' || o.status === 'READY_FOR_PICKUP')).length;
      const stores = data.stores.filter((s) => s.pickupEnabled && waiting(s.id) > 0).sort((a, b) => waiting(b.id) - waiting(a.id));
      const long = stores[0]!;
      const short = stores[stores.length - 1]!;
      expect(waiting(long.id)).toBeGreaterThan(waiting(short.id));
      const customersSeen: Record<string, number> = {};
      const run = (locationId: string) =>
        stack.countCalls(async () => {
          const { body } = await stack.queryAs(store(locationId), contractOperation('PickupQueue'), { locationId });
          expect(body.errors ?? []).toEqual([]);
          customersSeen[locationId] = (body.data as any).location.pickupQueue.filter((o: any) => o.customer?.name).length;
        });
      const callsLong = await run(long.id);
      const callsShort = await run(short.id);
      expect(customersSeen[long.id]).toBe(waiting(long.id));
      expect(customersSeen[short.id]).toBe(waiting(short.id));
      expect(callsLong).toEqual(callsShort);
      // getStores (the location's name), getPickupQueue, getCustomers, and the row rule's getOrdersByCustomer at
      // both order systems (the variants come from the read model of the item master, without an ERP call).
      expect(totalCalls(callsLong)).toBe(5);
    });
  });
});
