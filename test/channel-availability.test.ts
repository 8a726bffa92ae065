import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { toGlobalId } from '../common/global-id.js';
import { contractOperation } from './support/contract.js';
import { expectedLevel } from './support/expect.js';
import { AGENT, shopper, startTestStack, type TestStack } from './support/stack.js';
import { SANDBOX_MARKETPLACE_SECRET } from '../common/config.js';
import { MARKETPLACE_WEBHOOK_PATH, type MarketplaceOrderNotification } from '../common/systems/marketplace.js';
import { deliverNotification } from '../sandbox/marketplace-webhook.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

// The marketplace's view is not in the client contract (its stock feed and the operations console ask it).
const AVAILABILITY = `query ChannelAvailability($sku: String!, $channel: Channel, $locationIds: [ID!]) {
  variant(sku: $sku) { availability(channel: $channel, locationIds: $locationIds) { available locations { location { id } available } } }
}`;
const PLACE = () => contractOperation('PlaceOrder');
const BUFFER = 2;

async function availability(sku: string, channel: string | null, locationIds?: string[]) {
  const { body } = await stack.queryAs(AGENT, AVAILABILITY, { sku, channel, locationIds: locationIds?.map((id) => toGlobalId('Location', id)) ?? null });
  expect(body.errors ?? []).toEqual([]);
  const a = (body.data as any).variant.availability as { available: number; locations: { location: { id: string }; available: number }[] };
  return { available: a.available, at: new Map(a.locations.map((l) => [l.location.id, l.available])) };
}

/** A SKU no other test here uses, sellable at the warehouses only in small numbers, with at least one warehouse above the buffer. */
const used = new Set<string>();
function warehouseSku(maxTotal: number) {
  const data = stack.sandbox.data;
  const warehouses = data.warehouses.map((w) => w.id);
  for (const variant of data.variants) {
    if (used.has(variant.sku)) continue;
    const levels = warehouses.map((w) => ({ id: w, available: expectedLevel(data, variant.sku, w)?.available ?? 0 }));
    const total = levels.reduce((sum, l) => sum + l.available, 0);
    if (total < 4 || total > maxTotal || !levels.some((l) => l.available > BUFFER)) continue;
    if (data.stock.some((s) => s.sku === variant.sku && warehouses.includes(s.locationId) && (s.committed || s.reserved))) continue;
    used.add(variant.sku);
    return { sku: variant.sku, warehouses: levels };
  }
  throw new Error('no such SKU in the seed');
}

/** The WMS's own records (the seed's objects are the in-process book's: read them before, not after). */
async function wmsStock(sku: string, locationIds: string[]) {
  const answer = await stack.sandboxCall('POST', '/sandbox/rpc/wms/getStock', { args: [locationIds.map((locationId) => ({ sku, locationId }))] });
  expect(answer.status).toBe(200);
  return (answer.body.result as { onHand: number; committed: number }[]).map((r) => ({ onHand: r.onHand, committed: r.committed }));
}

const shipped = (sku: string, channel: string) => ({ idempotencyKey: `chan-${randomUUID()}`, channel, deliveryMethod: 'SHIPPING', lines: [{ sku, quantity: 1 }] });

/**
 * One unit bought at the marketplace: the buyer's order there, notified to our webhook. Answers whether we took it
 * (else the checkout's reasons: OUT_OF_STOCK).
 */
async function marketplaceBuys(sku: string): Promise<{ taken: boolean; codes: string[] }> {
  const placed = await stack.sandboxCall('POST', '/sandbox/marketplace/orders', { lines: [{ sku, quantity: 1 }], shippingAddress: { country: 'DE', postalCode: '10115', city: 'Berlin', line1: 'Invalidenstraße 1' }, externalOrderId: `MM-${randomUUID()}` });
  expect(placed.status).toBe(200);
  const delivery = await deliverNotification(new URL(MARKETPLACE_WEBHOOK_PATH, stack.urls.gateway).toString(), SANDBOX_MARKETPLACE_SECRET, placed.body as MarketplaceOrderNotification, { baseMs: 20, capMs: 200, maxAttempts: 20 });
  expect(delivery.status).toBe(200);
  const answer = delivery.body as { status: string; userErrors: { code: string }[] };
  return { taken: answer.status === 'ACCEPTED', codes: answer.userErrors.map((e) => e.code) };
}

describe('channel-aware availability', () => {
  it('availability(channel:) answers by the channel rule: the marketplace sees warehouses only, less the buffer', async () => {
    const { sku, warehouses } = warehouseSku(40);
    const all = await availability(sku, null);
    const web = await availability(sku, 'WEB');
    expect(web.available).toBe(all.available);
    const marketplace = await availability(sku, 'MARKETPLACE');
    const expected = warehouses.reduce((sum, w) => sum + Math.max(0, w.available - BUFFER), 0);
    expect(marketplace.available).toBe(expected);
    const warehouseIds = new Set(stack.sandbox.data.warehouses.map((w) => toGlobalId('Location', w.id)));
    for (const id of marketplace.at.keys()) expect(warehouseIds.has(id)).toBe(true);
    for (const w of warehouses) if (marketplace.at.has(toGlobalId('Location', w.id))) expect(marketplace.at.get(toGlobalId('Location', w.id))).toBe(Math.max(0, w.available - BUFFER));
    // A store asked for explicitly is still not the marketplace's.
    const someStore = stack.sandbox.data.stores[0]!.id;
    expect((await availability(sku, 'MARKETPLACE', [someStore])).available).toBe(0);
  });

  it('a marketplace order never takes the buffered units: it stops at the buffer, and the own channels still sell them', async () => {
    const { sku, warehouses } = warehouseSku(12);
    const share = warehouses.reduce((sum, w) => sum + Math.max(0, w.available - BUFFER), 0);
    const total = warehouses.reduce((sum, w) => sum + w.available, 0);
    let taken = 0;
    for (let i = 0; i < share + 2; i++) {
      const answer = await marketplaceBuys(sku);
      if (answer.taken) taken++;
      else expect(answer.codes).toEqual(['OUT_OF_STOCK']);
    }
    expect(taken).toBe(share);
    expect((await availability(sku, 'MARKETPLACE')).available).toBe(0);
    expect((await availability(sku, 'WEB', warehouses.map((w) => w.id))).available).toBe(total - share);
    const { body } = await stack.queryAs(shopper('cust-00002'), PLACE(), { input: { ...shipped(sku, 'WEB'), customerId: 'cust-00002' } });
    expect((body.data as any).placeOrder.userErrors).toEqual([]);
  });

  it('concurrent online and marketplace checkouts on one SKU: no channel exceeds its share, and no unit is sold twice', async () => {
    const { sku, warehouses } = warehouseSku(12);
    const share = warehouses.reduce((sum, w) => sum + Math.max(0, w.available - BUFFER), 0);
    const total = warehouses.reduce((sum, w) => sum + w.available, 0);
    const before = await wmsStock(sku, warehouses.map((w) => w.id));
    const marketplaceTries = share + 3;
    const webTries = total;
    const web = async () => {
      const { body } = await stack.queryAs(shopper('cust-00002'), PLACE(), { input: { ...shipped(sku, 'WEB'), customerId: 'cust-00002' } });
      expect(body.errors ?? []).toEqual([]);
      const answer = (body.data as any).placeOrder;
      return { taken: answer.order !== null, codes: answer.userErrors.map((e: any) => e.code) as string[] };
    };
    const runs = [
      ...Array.from({ length: marketplaceTries }, () => ({ channel: 'MARKETPLACE', call: () => marketplaceBuys(sku) })),
      ...Array.from({ length: webTries }, () => ({ channel: 'WEB', call: web })),
    ].sort(() => Math.random() - 0.5);
    const answers = await Promise.all(runs.map(async (r) => ({ channel: r.channel, answer: await r.call() })));
    const sold = { MARKETPLACE: 0, WEB: 0 } as Record<string, number>;
    for (const { channel, answer } of answers) {
      if (answer.taken) sold[channel]!++;
      else expect(answer.codes).toEqual(['OUT_OF_STOCK']);
    }
    expect(sold.MARKETPLACE).toBeLessThanOrEqual(share);
    // The web asked for every unit: each one was sold once, to one channel.
    expect(sold.MARKETPLACE! + sold.WEB!).toBe(total);
    const after = await availability(sku, 'WEB', warehouses.map((w) => w.id));
    expect(after.available).toBe(0);
    // The stock books agree: the units sold are committed at the warehouses, or gone already (the WMS ships on its own).
    const records = await wmsStock(sku, warehouses.map((w) => w.id));
    const moved = warehouses.reduce((sum, w, i) => {
      const start = before[i]!;
      const record = records[i]!;
      return sum + (start.onHand - record.onHand) + (record.committed - start.committed);
    }, 0);
    expect(moved).toBe(total);
  });
});
