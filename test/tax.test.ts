import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { includedTax } from '../subgraphs/orders/checkout/tax.js';
import { expectedLevel } from './support/expect.js';
import { pollUntil } from './support/poll.js';
import { AGENT, FINANCE, shopper, startTestStack, store, type TestStack } from './support/stack.js';
import { contractOperation } from './support/contract.js';

/*
 * Tax from the tax engine, through the real gateway: per-line tax and totals, the PSP authorizing the total (prices
 * are tax-inclusive), rates by the tax address, the outage policy (last rate, default rate, review flag, event), one
 * engine call per checkout, and bad addresses refused before anything changed.
 */

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.sandboxCall('DELETE', '/sandbox/faults');
  await stack?.stop();
});

let keys = 0;
const key = () => `tax-${process.pid}-${++keys}`;
const CUSTOMER = 'cust-00007';
const SHOPPER = shopper(CUSTOMER);

const PLACE = /* GraphQL */ `
  mutation TaxPlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      order {
        id status
        total { amount currencyCode } subtotal { amount } taxTotal { amount }
        tax { status basis reviewRequired country postalCode jurisdiction }
        shippingAddress { country postalCode city line1 }
        lines { sku quantity lineTotal { amount } tax { ratePercent amount { amount } } }
      }
      userErrors { field message code }
    }
  }
`;
const ORDER = /* GraphQL */ `
  query TaxOrder($id: ID!) {
    order(id: $id) {
      id total { amount } taxTotal { amount } tax { status reviewRequired }
      payments { status amount { amount } }
      timeline { type summary }
    }
  }
`;

const minor = (amount: string) => Math.round(Number(amount) * 100);

/** SKUs with at least `min` sellable units at a location (from the seed, as the other checkout tests find them). */
function skusAt(locationId: string, min: number, count: number): string[] {
  const data = stack.sandbox.data;
  const found: string[] = [];
  for (const s of data.stock) {
    if (s.locationId !== locationId || (expectedLevel(data, s.sku, s.locationId)?.available ?? 0) < min) continue;
    found.push(s.sku);
    if (found.length === count) return found;
  }
  throw new Error(`no ${count} SKUs with ${min} units at ${locationId}`);
}
/** A SKU every warehouse can ship `min` of, so that whichever the allocation picks has it. */
function shippableSku(min: number, skip = 0): string {
  const data = stack.sandbox.data;
  const warehouses = data.warehouses.map((w) => w.id);
  let seen = 0;
  for (const v of data.variants) {
    if (!warehouses.every((w) => (expectedLevel(data, v.sku, w)?.available ?? 0) >= min)) continue;
    if (seen++ === skip) return v.sku;
  }
  throw new Error('no SKU every warehouse has');
}
const germanStore = () => stack.sandbox.data.stores.find((s) => s.pickupEnabled && s.address.country === 'DE')!;

async function place(input: Record<string, unknown>) {
  const { body } = await stack.queryAs(SHOPPER, PLACE, { input: { idempotencyKey: key(), channel: 'WEB', ...input } });
  expect(body.errors).toBeUndefined();
  return (body.data as any).placeOrder as { order: any; userErrors: { field: string | null; code: string }[] };
}
const shipTo = (country: string, postalCode: string) => ({ country, postalCode, city: 'Somewhere', line1: 'Main Street 1' });

describe('tax at checkout', () => {
  it('a DE pickup order: per-line tax at 19 %, totals that add up, the PSP authorized the total, one tax call', async () => {
    const storeSite = germanStore();
    const [a, b] = skusAt(storeSite.id, 3, 2) as [string, string];
    let placed!: Awaited<ReturnType<typeof place>>;
    const calls = await stack.countCalls(async () => {
      placed = await place({ deliveryMethod: 'PICKUP', pickupLocationId: storeSite.id, lines: [{ sku: a, quantity: 2 }, { sku: b, quantity: 1 }] });
    });
    expect(placed.userErrors).toEqual([]);
    const order = placed.order;
    expect(order.status).toBe('CONFIRMED');
    expect(calls.tax).toEqual({ quote: 1 });
    expect(order.tax).toEqual({ status: 'CALCULATED', basis: 'ENGINE', reviewRequired: false, country: 'DE', postalCode: storeSite.address.postalCode, jurisdiction: 'DE' });
    for (const line of order.lines) {
      expect(line.tax.ratePercent).toBe(19);
      expect(minor(line.tax.amount.amount)).toBe(includedTax(minor(line.lineTotal.amount), 1900));
    }
    const total = minor(order.total.amount);
    const lineTotals = order.lines.reduce((sum: number, l: any) => sum + minor(l.lineTotal.amount), 0);
    const lineTaxes = order.lines.reduce((sum: number, l: any) => sum + minor(l.tax.amount.amount), 0);
    expect(total).toBe(lineTotals);
    expect(minor(order.taxTotal.amount)).toBe(lineTaxes);
    expect(minor(order.subtotal.amount) + minor(order.taxTotal.amount)).toBe(total);
    expect(lineTaxes).toBeGreaterThan(0);

    const { body } = await stack.queryAs(SHOPPER, ORDER, { id: order.id });
    const read = (body.data as any).order;
    expect(read.payments).toEqual([{ status: 'AUTHORIZED', amount: { amount: order.total.amount } }]);
    expect(read.taxTotal).toEqual(order.taxTotal);
  });

  it('a shipped order is taxed at its shipping address: AT 20 %, US by ZIP (CA 7.25 %), the address kept', async () => {
    const sku = shippableSku(3);
    const at = await place({ deliveryMethod: 'SHIPPING', lines: [{ sku, quantity: 1 }], shippingAddress: shipTo('at', '1010') });
    expect(at.userErrors).toEqual([]);
    expect(at.order.tax).toMatchObject({ status: 'CALCULATED', country: 'AT', jurisdiction: 'AT' });
    expect(at.order.lines[0].tax.ratePercent).toBe(20);
    expect(at.order.shippingAddress).toEqual({ country: 'AT', postalCode: '1010', city: 'Somewhere', line1: 'Main Street 1' });
    const us = await place({ deliveryMethod: 'SHIPPING', lines: [{ sku, quantity: 1 }], shippingAddress: shipTo('US', '94105') });
    expect(us.order.tax).toMatchObject({ jurisdiction: 'US-CA' });
    expect(us.order.lines[0].tax.ratePercent).toBe(7.25);
    expect(minor(us.order.lines[0].tax.amount.amount)).toBe(includedTax(minor(us.order.lines[0].lineTotal.amount), 725));
  });

  it('without an address a shipped order is taxed where it ships from', async () => {
    const placed = await place({ deliveryMethod: 'SHIPPING', lines: [{ sku: shippableSku(3, 1), quantity: 1 }] });
    expect(placed.userErrors).toEqual([]);
    expect(placed.order.shippingAddress).toBeNull();
    expect(placed.order.tax.status).toBe('CALCULATED');
    expect(['DE', 'NL', 'AT']).toContain(placed.order.tax.country);
  });

  it('the tax engine down: the checkout confirms, the tax estimated from the last rate (else the default), flagged, with its event', async () => {
    const storeSite = germanStore();
    const [sku] = skusAt(storeSite.id, 4, 1) as [string];
    // A quote for this store's place is known from a first order.
    expect((await place({ deliveryMethod: 'PICKUP', pickupLocationId: storeSite.id, lines: [{ sku, quantity: 1 }] })).order.tax.status).toBe('CALCULATED');
    await stack.sandboxCall('POST', '/sandbox/faults', { system: 'tax', down: true });
    try {
      const estimated = await place({ deliveryMethod: 'PICKUP', pickupLocationId: storeSite.id, lines: [{ sku, quantity: 1 }] });
      expect(estimated.userErrors).toEqual([]);
      expect(estimated.order.status).toBe('CONFIRMED');
      expect(estimated.order.tax).toMatchObject({ status: 'ESTIMATED', basis: 'LAST_RATE', reviewRequired: true, country: 'DE' });
      expect(estimated.order.lines[0].tax.ratePercent).toBe(19);

      // Never quoted for France: the default rate of the country.
      const fallback = await place({ deliveryMethod: 'SHIPPING', lines: [{ sku: shippableSku(3, 2), quantity: 1 }], shippingAddress: shipTo('FR', '75001') });
      expect(fallback.userErrors).toEqual([]);
      expect(fallback.order.status).toBe('CONFIRMED');
      expect(fallback.order.tax).toMatchObject({ status: 'ESTIMATED', basis: 'DEFAULT_RATE', reviewRequired: true, country: 'FR' });
      expect(fallback.order.lines[0].tax.ratePercent).toBe(20);

      const timeline = await pollUntil(
        async () => ((await stack.queryAs(SHOPPER, ORDER, { id: estimated.order.id })).body.data as any).order,
        (o) => (o?.timeline ?? []).some((e: { type: string }) => e.type === 'TAX_ESTIMATED'),
        'TAX_ESTIMATED on the timeline',
      );
      expect(timeline.tax).toEqual({ status: 'ESTIMATED', reviewRequired: true });
      expect(timeline.payments[0].amount.amount).toBe(estimated.order.total.amount);
      expect(timeline.timeline.find((e: { type: string }) => e.type === 'TAX_ESTIMATED').summary).toMatch(/19 % \(last known rate for DE\)/);
    } finally {
      await stack.sandboxCall('DELETE', '/sandbox/faults');
    }
    // Back up: quoted again.
    expect((await place({ deliveryMethod: 'PICKUP', pickupLocationId: storeSite.id, lines: [{ sku, quantity: 1 }] })).order.tax.status).toBe('CALCULATED');
  });

  it('a bad address is a coded error and changes nothing', async () => {
    const sku = shippableSku(3);
    const calls = await stack.countCalls(async () => {
      const country = await place({ deliveryMethod: 'SHIPPING', lines: [{ sku, quantity: 1 }], shippingAddress: shipTo('Germany', '10115') });
      expect(country.order).toBeNull();
      expect(country.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_ADDRESS', field: 'shippingAddress.country' })]);
      const postal = await place({ deliveryMethod: 'SHIPPING', lines: [{ sku, quantity: 1 }], shippingAddress: { ...shipTo('DE', '1'), city: '' } });
      expect(postal.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_ADDRESS', 'shippingAddress.postalCode'], ['INVALID_ADDRESS', 'shippingAddress.city']]);
      const pickup = await place({ deliveryMethod: 'PICKUP', pickupLocationId: germanStore().id, lines: [{ sku, quantity: 1 }], shippingAddress: shipTo('DE', '10115') });
      expect(pickup.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: 'shippingAddress' })]);
    });
    expect(calls.tax ?? {}).toEqual({});
    // A place the engine knows no rate for: refused after one quote, before any stock is committed.
    const unknownCalls = await stack.countCalls(async () => {
      const unknown = await place({ deliveryMethod: 'SHIPPING', lines: [{ sku, quantity: 1 }], shippingAddress: shipTo('US', '00501') });
      expect(unknown.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_ADDRESS', field: 'shippingAddress.postalCode' })]);
    });
    expect(unknownCalls.tax).toEqual({ quote: 1 });
    expect(unknownCalls.wms?.commitStock ?? 0).toBe(0);
    expect(unknownCalls.ecom?.createOrder ?? 0).toBe(0);
  });
});

describe('tax in the books', () => {
  const FINANCE_VIEW = /* GraphQL */ `
    query TaxBooks($id: ID!) {
      order(id: $id) {
        id taxTotal { amount }
        invoices { total { amount } tax { amount } }
        erpPostings { type status amount { amount } tax { amount } }
      }
    }
  `;
  const RECEIVE = /* GraphQL */ `
    mutation TaxReceive($input: ReceiveReturnInput!) {
      receiveReturn(input: $input) { return { id status } userErrors { field message code } }
    }
  `;
  const books = async (id: string) => ((await stack.queryAs(FINANCE, FINANCE_VIEW, { id })).body.data as any).order;

  it('the sale is posted and invoiced with its tax; a refund posts its lines\' share of it', async () => {
    const storeSite = germanStore();
    const [a, b] = skusAt(storeSite.id, 4, 2) as [string, string];
    const placed = await place({ deliveryMethod: 'PICKUP', pickupLocationId: storeSite.id, lines: [{ sku: a, quantity: 2 }, { sku: b, quantity: 1 }] });
    expect(placed.userErrors).toEqual([]);
    const order = placed.order;
    const associate = store(storeSite.id);
    for (const operation of ['ReadyForPickup', 'HandOver']) {
      const { body } = await stack.queryAs(associate, contractOperation(operation), { orderId: order.id });
      expect(body.errors ?? []).toEqual([]);
    }
    const sold = await pollUntil(() => books(order.id), (o) => o.erpPostings.some((p: any) => p.type === 'SALE' && p.status === 'POSTED'), 'the SALE posted');
    const sale = sold.erpPostings.find((p: any) => p.type === 'SALE');
    expect(sale.amount.amount).toBe(order.total.amount);
    expect(sale.tax).toEqual({ amount: order.taxTotal.amount });
    expect(sold.invoices).toEqual([{ total: { amount: order.total.amount }, tax: { amount: order.taxTotal.amount } }]);

    // One of the two units of the first line comes back: its share of that line's tax is refunded and posted.
    const created = await stack.queryAs(AGENT, contractOperation('CreateReturn'), { input: { idempotencyKey: key(), orderId: order.id, reason: 'Too small', lines: [{ sku: a, quantity: 1 }] } });
    const returnId = (created.body.data as any).createReturn.return.id;
    const received = await stack.queryAs(associate, RECEIVE, { input: { idempotencyKey: key(), returnId, condition: 'RESTOCK' } });
    expect((received.body.data as any).receiveReturn.userErrors).toEqual([]);
    const refunded = await pollUntil(() => books(order.id), (o) => o.erpPostings.some((p: any) => p.type === 'REFUND' && p.status === 'POSTED'), 'the REFUND posted');
    const refund = refunded.erpPostings.find((p: any) => p.type === 'REFUND');
    const lineA = order.lines.find((l: any) => l.sku === a);
    expect(minor(refund.amount.amount)).toBe(minor(lineA.lineTotal.amount) / 2);
    expect(minor(refund.tax.amount)).toBe(Math.round(minor(lineA.tax.amount.amount) / 2));
  });
});
