import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGlobalId } from '../common/global-id.js';
import { formatMinor } from '../common/money.js';
import { contractOperation } from './support/contract.js';
import { expectedLevel } from './support/expect.js';
import { useRedisServer } from './support/redis.js';
import { AGENT, FINANCE, shopper, startTestStack, store, type TestStack } from './support/stack.js';
import { ERP_ADAPTERS, erpEnv } from './support/erp.js';
import { until } from './support/subscriptions.js';

/*
 * The ERP off the hot path: channels read the read models of ERP master data, kept in sync from the ERP's change
 * feed, and never the ERP itself. A price the merchandiser changes in the ERP reaches the storefront and the next
 * order; a change that fails the data-quality controls stays out; with the ERP down every store and the web shop
 * keep selling, and what they owe the ERP is posted once when it is back.
 */

/** Fast polls and short backoffs: a whole outage and its catch-up fit in a test. */
const FAST: Record<string, string> = {
  MASTER_DATA_POLL_MS: '100',
  MASTER_DATA_BACKOFF_BASE_MS: '50',
  MASTER_DATA_BACKOFF_CAP_MS: '200',
  ERP_OUTBOX_POLL_MS: '100',
  ERP_OUTBOX_BASE_MS: '50',
  ERP_OUTBOX_CAP_MS: '200',
  ERP_OUTBOX_MAX_ATTEMPTS: '10000',
};

/** ERP methods the request path may never call: the item master and stock policies are the read models' now. */
const READ_PATH_ERP_METHODS = ['getProducts', 'getVariants', 'getVariantsByProduct', 'searchProducts', 'getStockPolicies'];

const erpReadCalls = (calls: Record<string, Record<string, number>>): Record<string, number> =>
  Object.fromEntries(Object.entries(calls.erp ?? {}).filter(([method]) => READ_PATH_ERP_METHODS.includes(method)));

async function merchandise(stack: TestStack, path: 'items' | 'stock-policies', body: unknown): Promise<number> {
  const { status, body: answer } = await stack.sandboxCall('POST', `/sandbox/erp/${path}`, body);
  expect(status, JSON.stringify(answer)).toBe(200);
  return (answer as { sequence: number }).sequence;
}

async function readModelPosition(stack: TestStack): Promise<number | null> {
  const { body } = await stack.queryAs(FINANCE, '{ systemStatus { readModels { name sequence } } }');
  return (body.data as any)?.systemStatus?.readModels?.[0]?.sequence ?? null;
}

/** Until the read models have applied `sequence` (what systemStatus reports), within `ms`. */
async function applied(stack: TestStack, sequence: number, ms = 2_000): Promise<void> {
  await until(async () => ((await readModelPosition(stack)) ?? -1) >= sequence, ms, `the read models at sequence ${sequence}`);
}

/** The system of record's id behind a graph id (a global id names it in its key; a plain id is one already). */
const systemId = (id: string): string => parseGlobalId(id)?.key ?? id;

const productPage = (stack: TestStack, id: string) => stack.query(contractOperation('ProductPage'), { id });

// The same acceptance suite with either ERP adapter family: the sandbox ERP's API, and the OData connector.
describe.each(ERP_ADAPTERS)('with the %s ERP adapter', (adapter) => {
  const ENV = { ...FAST, ...erpEnv(adapter) };

  describe('the read models of ERP master data', () => {
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startTestStack({}, ENV);
    });
    afterAll(async () => {
      await stack?.stop();
    });

    it('a price changed in the ERP shows in ProductPage within 2 s and in the next order, while an earlier order keeps the price it was sold at', async () => {
      const data = stack.sandbox.data;
      const product = data.products[7]!;
      const sku = product.skus[0]!;
      const variant = data.variants.find((v) => v.sku === sku)!;
      const place = async (key: string) =>
        (
          await stack.queryAs(shopper('cust-00011'), contractOperation('PlaceOrder'), {
            input: { idempotencyKey: key, channel: 'WEB', deliveryMethod: 'SHIPPING', lines: [{ sku, quantity: 2 }] },
          })
        ).body.data as any;
      const before = await place('md-price-before');
      expect(before.placeOrder.userErrors).toEqual([]);
      expect(before.placeOrder.order.total.amount).toBe(formatMinor(2 * variant.priceMinor, 'EUR'));

      const newMinor = variant.priceMinor + 1234;
      const sequence = await merchandise(stack, 'items', { sku, listPrice: formatMinor(newMinor, 'EUR') });
      await until(
        async () => ((await productPage(stack, product.id)).body.data as any).product.variants.find((v: any) => v.sku === sku).price.amount === formatMinor(newMinor, 'EUR'),
        2_000,
        'the new price in ProductPage',
      );
      await applied(stack, sequence);
      const after = await place('md-price-after');
      expect(after.placeOrder.order.lines[0].unitPrice.amount).toBe(formatMinor(newMinor, 'EUR'));
      expect(after.placeOrder.order.total.amount).toBe(formatMinor(2 * newMinor, 'EUR'));
      // The first order was sold at the old price and stays so.
      const first = await stack.queryAs(AGENT, contractOperation('OrderTimeline'), { orderId: before.placeOrder.order.id });
      expect((first.body.data as any).order.total.amount).toBe(formatMinor(2 * variant.priceMinor, 'EUR'));
    });

    it('a change that fails the data-quality controls lands in masterDataExceptions with an event, and the previous good version stays in service', async () => {
      const data = stack.sandbox.data;
      const product = data.products[12]!;
      const sku = product.skus[0]!;
      const price = ((await productPage(stack, product.id)).body.data as any).product.variants.find((v: any) => v.sku === sku).price;
      const rejected: string[] = [];
      const unsubscribe = stack.backbone.subscribe((event) => {
        if (event.type === 'MASTER_DATA_REJECTED') rejected.push(event.id);
      });
      const zero = await merchandise(stack, 'items', { sku, listPrice: '0' });
      const negative = await merchandise(stack, 'items', { sku, listPrice: '-5' });
      const currency = await merchandise(stack, 'items', { sku, listPrice: '12.00', currencyCode: 'XXX' });
      const malformed = await merchandise(stack, 'items', {
        product: { id: 'prod-0999', name: 'Odd', brand: 'Nobody', category: 'shoes', description: 'a bad SKU', variants: [{ sku: 'bad sku!', name: 'Odd one', listPrice: '10.00', currencyCode: 'EUR' }] },
      });
      await applied(stack, malformed);
      // The price a shopper sees is still the last good one.
      expect(((await productPage(stack, product.id)).body.data as any).product.variants.find((v: any) => v.sku === sku).price).toEqual(price);
      const { body } = await stack.queryAs(FINANCE, '{ masterDataExceptions(first: 20) { sequence kind key reason message } }');
      expect(body.errors ?? []).toEqual([]);
      const reasons = new Map((body.data as any).masterDataExceptions.map((e: any) => [e.sequence, e.reason]));
      expect(reasons.get(zero)).toBe('NON_POSITIVE_PRICE');
      expect(reasons.get(negative)).toBe('NON_POSITIVE_PRICE');
      expect(reasons.get(currency)).toBe('UNKNOWN_CURRENCY');
      expect(reasons.get(malformed)).toBe('MALFORMED_SKU');
      // Each refusal is a canonical event too.
      await until(() => rejected.length >= 4, 2_000, 'the MASTER_DATA_REJECTED events');
      unsubscribe();
      // Exceptions are for finance and agents.
      const refused = await stack.queryAs(shopper('cust-00011'), '{ masterDataExceptions { id } }');
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });

    it('a discontinued variant is shown DISCONTINUED and can no longer be ordered', async () => {
      const product = stack.sandbox.data.products[20]!;
      const sku = product.skus[0]!;
      await applied(stack, await merchandise(stack, 'items', { sku, status: 'DISCONTINUED' }));
      const page = await stack.query('query ($id: ID!) { product(id: $id) { variants { sku status } } }', { id: product.id });
      expect((page.body.data as any).product.variants.find((v: any) => v.sku === sku).status).toBe('DISCONTINUED');
      const { body } = await stack.queryAs(shopper('cust-00012'), contractOperation('PlaceOrder'), {
        input: { idempotencyKey: 'md-discontinued', channel: 'WEB', deliveryMethod: 'SHIPPING', lines: [{ sku, quantity: 1 }] },
      });
      expect((body.data as any).placeOrder).toEqual({ order: null, userErrors: [{ field: 'lines.0.sku', message: expect.stringMatching(/discontinued/), code: 'DISCONTINUED' }] });
    });

    it('a product added in the ERP is listed and sold; a safety stock changed there shows in StoreStock', async () => {
      const sequence = await merchandise(stack, 'items', {
        product: { id: 'prod-0777', name: 'Nordlys Trail Runner', brand: 'Nordlys', category: 'shoes', description: 'new this season', variants: [{ sku: 'SKU-0777-1', name: 'Trail Runner 42', listPrice: '129.00', currencyCode: 'EUR' }] },
      });
      await applied(stack, sequence);
      const listing = await stack.query(contractOperation('ProductListing'), { query: 'Nordlys Trail', first: 5 });
      expect((listing.body.data as any).products.edges.map((e: any) => systemId(e.node.id))).toEqual(['prod-0777']);
      expect((listing.body.data as any).products.edges[0].node.variants[0].price).toEqual({ amount: '129.00', currencyCode: 'EUR' });

      const data = stack.sandbox.data;
      const level = data.stock.find((s) => s.locationId === 'store-004' && expectedLevel(data, s.sku, 'store-004')!.available > 3)!;
      await applied(stack, await merchandise(stack, 'stock-policies', { sku: level.sku, locationId: 'store-004', safetyStock: 3 }));
      const { body } = await stack.queryAs(store('store-004'), contractOperation('StoreStock'), { locationId: 'store-004', skus: [level.sku] });
      const shown = (body.data as any).location.inventoryLevels[0];
      expect(shown.safetyStock).toBe(3);
      expect(shown.available).toBe(Math.max(0, shown.onHand - shown.committed - shown.reserved - 3 - shown.damaged));
    });

    it('systemStatus reports each system and the read models: their position, its time and the lag', async () => {
      const { body } = await stack.queryAs(AGENT, '{ systemStatus { systems { system state } readModels { name sequence changeAt appliedAt lagSeconds latestSequence syncState } } }');
      expect(body.errors ?? []).toEqual([]);
      const status = (body.data as any).systemStatus;
      expect(status.systems.map((s: any) => s.system).sort()).toEqual(['crm', 'ecom', 'erp', 'marketplace', 'pos', 'psp', 'tax', 'wms']);
      expect(status.readModels.map((r: any) => r.name)).toEqual(['ITEM_MASTER', 'STOCK_POLICIES']);
      for (const model of status.readModels) {
        expect(model.sequence).toBeGreaterThan(0);
        expect(model.syncState).toMatch(/IN_SYNC|CATCHING_UP/);
        expect(model.lagSeconds).toBeGreaterThanOrEqual(0);
        expect(Date.parse(model.appliedAt)).toBeGreaterThanOrEqual(Date.parse(model.changeAt));
      }
      expect((await stack.query('{ systemStatus { systems { system } } }')).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('with the ERP down, the stores and the web shop keep selling', () => {
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startTestStack({}, ENV);
    });
    afterAll(async () => {
      await stack?.sandboxCall('DELETE', '/sandbox/faults');
      await stack?.stop();
    });

    it('reads answer without errors, checkout and the order lifecycle succeed, with no ERP call on the request path; what is owed the ERP posts once when it is back and reconciles', async () => {
      const data = stack.sandbox.data;
      const pickupStore = data.stores.find((s) => s.pickupEnabled)!.id;
      const sku = data.stock.find((s) => s.locationId === pickupStore && expectedLevel(data, s.sku, pickupStore)!.available >= 3)!.sku;
      const product = data.variants.find((v) => v.sku === sku)!.productId;
      const customer = shopper('cust-00021');
      await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', down: true });
      const started = new Date().toISOString();

      const reads = await stack.countCalls(async () => {
        for (const { op, vars, as } of [
          { op: 'ProductPage', vars: { id: product }, as: undefined },
          { op: 'ProductListing', vars: { first: 10 }, as: undefined },
          { op: 'StoreStock', vars: { locationId: pickupStore, skus: [sku] }, as: store(pickupStore) },
          { op: 'PickupQueue', vars: { locationId: pickupStore }, as: store(pickupStore) },
        ]) {
          const { body } = as ? await stack.queryAs(as, contractOperation(op), vars) : await stack.query(contractOperation(op), vars);
          expect(body.errors ?? [], `${op}: ${JSON.stringify(body.errors)}`).toEqual([]);
        }
      });
      expect(erpReadCalls(reads), 'ERP calls on the read path').toEqual({});

      // Checkout, then every move of a pickup, a cancellation and a return, with the ERP down.
      let orderId = '';
      const writes = await stack.countCalls(async () => {
        const placed = await stack.queryAs(customer, contractOperation('PlaceOrder'), {
          input: { idempotencyKey: 'erp-down-1', channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: pickupStore, lines: [{ sku, quantity: 1 }] },
        });
        expect((placed.body.data as any).placeOrder.userErrors).toEqual([]);
        orderId = (placed.body.data as any).placeOrder.order.id;
        for (const op of ['ReadyForPickup', 'HandOver'] as const) {
          const moved = await stack.queryAs(store(pickupStore), contractOperation(op), { orderId });
          expect(moved.body.errors ?? [], op).toEqual([]);
        }
        const ret = await stack.queryAs(customer, contractOperation('CreateReturn'), { input: { idempotencyKey: 'erp-down-return', orderId, reason: 'too big', lines: [{ sku, quantity: 1 }] } });
        expect((ret.body.data as any).createReturn.userErrors).toEqual([]);
        const second = await stack.queryAs(customer, contractOperation('PlaceOrder'), {
          input: { idempotencyKey: 'erp-down-2', channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: pickupStore, lines: [{ sku, quantity: 1 }] },
        });
        const cancelled = await stack.queryAs(customer, contractOperation('CancelOrder'), { input: { idempotencyKey: 'erp-down-cancel', orderId: (second.body.data as any).placeOrder.order.id, reason: 'changed my mind' } });
        expect((cancelled.body.data as any).cancelOrder.order.status).toBe('CANCELLED');
      });
      expect(erpReadCalls(writes), 'ERP calls on the checkout path').toEqual({});

      // OrderTimeline answers; only the ERP's own fields may carry ERP_UNAVAILABLE.
      const timeline = await stack.queryAs(AGENT, contractOperation('OrderTimeline'), { orderId });
      for (const error of timeline.body.errors ?? []) {
        expect(error.extensions?.code).toBe('ERP_UNAVAILABLE');
        expect(['invoices', 'erpPostings']).toContain(error.path?.[1]);
      }
      expect((timeline.body.data as any).order.lines[0].variant.name).toBeTruthy();
      // The sale waits in the outbox while the ERP is away: a long outage compressed by the backoff settings (a cap of
      // 200 ms), so the posting goes through many failed rounds before the ERP is back, as over a maintenance window.
      await until(async () => {
        const { body } = await stack.queryAs(FINANCE, '{ erpOutbox(orderId: "' + orderId + '") { type status attempts } }');
        const sale = ((body.data as any).erpOutbox as { type: string; status: string; attempts: number }[]).find((p) => p.type === 'SALE');
        return sale !== undefined && sale.status !== 'POSTED' && sale.attempts >= 8;
      }, 10_000, 'the sale retried through the outage');

      // The ERP comes back: the sale posts exactly once, and the window reconciles.
      await stack.sandboxCall('DELETE', '/sandbox/faults');
      await until(async () => {
        const { body } = await stack.queryAs(FINANCE, '{ erpOutbox(orderId: "' + orderId + '") { type status } }');
        return ((body.data as any).erpOutbox as { type: string; status: string }[]).some((p) => p.type === 'SALE' && p.status === 'POSTED');
      }, 10_000, 'the sale posted');
      const { body } = await stack.queryAs(FINANCE, '{ erpOutbox(orderId: "' + orderId + '") { id type status } }');
      const sales = ((body.data as any).erpOutbox as { id: string; type: string }[]).filter((p) => p.type === 'SALE');
      expect(sales).toHaveLength(1);
      const erp = await stack.sandboxCall('POST', '/sandbox/rpc/erp/getPostingsByOrder', { args: [[systemId(orderId)]] });
      expect(((erp.body as any).result[0] as { type: string }[]).filter((p) => p.type === 'SALE')).toHaveLength(1);
      const reconciliation = await stack.queryAs(FINANCE, contractOperation('Reconciliation'), { from: started, to: new Date(Date.now() + 60_000).toISOString() });
      expect((reconciliation.body.data as any).reconciliation.pendingPostings).toBe(0);
      expect((reconciliation.body.data as any).reconciliation.mismatches).toEqual([]);
    });

    it('systemStatus says the ERP is not UP while the sync cannot reach it, and the read models keep their position', async () => {
      await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', down: true });
      try {
        await until(async () => {
          const { body } = await stack.queryAs(AGENT, '{ systemStatus { systems { system state } readModels { syncState } } }');
          const status = (body.data as any).systemStatus;
          return status.systems.find((s: any) => s.system === 'erp').state !== 'UP' && status.readModels[0].syncState === 'BACKING_OFF';
        }, 5_000, 'the ERP reported down');
      } finally {
        await stack.sandboxCall('DELETE', '/sandbox/faults');
      }
    });
  });

  describe('the sync resumes, resyncs, and survives restarts', () => {
    it('after a restart it resumes from its stored position (no snapshot, nothing applied again); a lost position gives a full resync', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'retail-md-'));
      let stack = await startTestStack({ dataDir }, ENV);
      const sku = stack.sandbox.data.variants[30]!.sku;
      try {
        const sequence = await merchandise(stack, 'items', { sku, listPrice: '77.70' });
        await applied(stack, sequence);
      } finally {
        await stack.stop();
      }
      stack = await startTestStack({ dataDir }, ENV);
      try {
        // The position came back from DATA_DIR: the first round asked for the changes after it, and no snapshot was
        // taken (the restarted stack's own log says so from its start).
        expect(await readModelPosition(stack)).toBeGreaterThanOrEqual(1);
        expect(stack.logs.filter((l) => l.msg === 'master data replaced from a snapshot')).toEqual([]);
        expect(stack.logs.filter((l) => l.msg === 'master-data batch applied')).toEqual([]);
        const variant = await stack.query('query ($sku: String!) { variant(sku: $sku) { price { amount } } }', { sku });
        expect((variant.body.data as any).variant.price.amount).toBe('77.70');

        // The ERP goes away; meanwhile the merchandiser changes two prices and the ERP drops its change log.
        await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', down: true });
        const other = stack.sandbox.data.variants[31]!.sku;
        await merchandise(stack, 'items', { sku, listPrice: '66.60' });
        const last = await merchandise(stack, 'items', { sku: other, listPrice: '55.50' });
        await stack.sandboxCall('POST', '/sandbox/erp/changes/trim', { keep: 0 });
        await stack.sandboxCall('DELETE', '/sandbox/faults');
        await applied(stack, last, 5_000);
        expect(stack.logs.some((l) => l.msg === 'master data replaced from a snapshot')).toBe(true);
        const prices = await stack.query('query ($a: String!, $b: String!) { a: variant(sku: $a) { price { amount } } b: variant(sku: $b) { price { amount } } }', { a: sku, b: other });
        expect(prices.body.data).toEqual({ a: { price: { amount: '66.60' } }, b: { price: { amount: '55.50' } } });
      } finally {
        await stack.sandboxCall('DELETE', '/sandbox/faults');
        await stack.stop();
      }
    });
  });

  describe('two instances on one Redis', () => {
    const redis = useRedisServer([]);

    it('share the read models with one sync worker: one syncs, the other stands by, and a price change reaches both', async () => {
      const prefix = redis.freshPrefix();
      const a = await startTestStack({}, { ...ENV, REDIS_URL: redis.url, REDIS_PREFIX: prefix });
      const b = await startTestStack({ sandboxUrl: a.urls.sandbox }, { ...ENV, REDIS_URL: redis.url, REDIS_PREFIX: prefix });
      try {
        const states = async () =>
          Promise.all([a, b].map(async (s) => ((await s.queryAs(AGENT, '{ systemStatus { readModels { syncState } } }')).body.data as any).systemStatus.readModels[0].syncState as string));
        await until(async () => (await states()).sort().join() === 'IN_SYNC,STANDBY', 5_000, 'one worker in sync, one standing by');
        const product = a.sandbox.data.products[40]!;
        const sku = product.skus[0]!;
        const sequence = await merchandise(a, 'items', { sku, listPrice: '42.42' });
        for (const s of [a, b]) {
          await until(
            async () => ((await productPage(s, product.id)).body.data as any).product.variants.find((v: any) => v.sku === sku).price.amount === '42.42',
            2_000,
            'the price on both instances',
          );
        }
        // The holder stops: the other takes the sync over and follows the next change.
        const holder = (await states())[0] === 'IN_SYNC' ? a : b;
        const survivor = holder === a ? b : a;
        // Only the holder's worker stops (its stack keeps serving, and a's sandbox stays up for b).
        await holder.masterData.sync.stop();
        await until(async () => ((await survivor.queryAs(AGENT, '{ systemStatus { readModels { syncState } } }')).body.data as any).systemStatus.readModels[0].syncState === 'IN_SYNC', 15_000, 'the takeover');
        const next = await merchandise(a, 'items', { sku, listPrice: '43.43' });
        await applied(survivor, next, 5_000);
        expect(sequence).toBeLessThan(next);
      } finally {
        await b.stop();
        await a.stop();
      }
    });
  });
});
