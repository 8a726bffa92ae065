import { describe, expect, it, vi } from 'vitest';
import { InMemoryEventBackbone, type CanonicalEvent } from '../../../common/events.js';
import { InMemoryIdempotencyStore } from '../../../common/idempotency.js';
import { EventOutbox } from '../../../common/outbox/event-outbox.js';
import { ResilienceRegistry } from '../../../common/resilience.js';
import { createSandbox } from '../../../sandbox/index.js';
import { seededMasterData } from '../../../test/support/master-data.js';
import { TEST_AGENT } from '../../../test/support/principals.js';
import { SandboxOrderBook } from '../adapters/sandbox-order-book.js';
import { placeOrder } from '../checkout/checkout.service.js';
import { sandboxCheckout } from '../checkout/sandbox-adapters.js';
import { recoverAbandonedCheckouts } from '../checkout/checkout-recovery.js';
import { changePickupLocation, recoverRelocation, type PickupChangeDeps } from './pickup-change.js';

/*
 * A change of pickup store whose caller fails between its two writes (stock moved, order not yet): the retry under
 * the same key finishes it without moving the stock twice, and without a retry checkout recovery moves the stock
 * back (or, when the old store sold the units meanwhile, finishes the change). Never both stores, never neither.
 */

async function setup() {
  const sandbox = createSandbox({ seed: 42, scale: 0.05 });
  const resilience = new ResilienceRegistry({ timeoutMs: 500, retries: 0, breakerFailures: 100, breakerResetMs: 1000 });
  const backbone = new InMemoryEventBackbone();
  const published: CanonicalEvent[] = [];
  backbone.subscribe((e) => published.push(e));
  const events = new EventOutbox({ backbone });
  const masterData = (await seededMasterData(sandbox.systems)).store;
  const orderBooks = { pos: new SandboxOrderBook('pos', sandbox.systems.pos, resilience), ecom: new SandboxOrderBook('ecom', sandbox.systems.ecom, resilience) };
  const loadOrder = async (id: string) => (await orderBooks.ecom.getOrders([id]))[0] ?? null;
  const checkout = { ...sandboxCheckout(sandbox.systems, resilience, { idempotency: new InMemoryIdempotencyStore(), backbone, events, masterData }), loadOrder };
  const deps: PickupChangeDeps = { orderBooks, loadOrder, idempotency: new InMemoryIdempotencyStore(), events, access: () => 'allow', sites: checkout.sites, stock: checkout.stock, orders: checkout.orders };
  // Two pickup stores and a SKU without safety stock at either, both stocked.
  const stores = sandbox.data.stores.filter((s) => s.pickupEnabled).map((s) => s.id);
  const [a, b] = stores as [string, string];
  const sku = sandbox.data.variants[6]!.sku;
  for (const locationId of [a, b]) await sandbox.systems.pos.adjustStock({ sku, locationId, onHandDelta: 10 });
  const committed = async (locationId: string) => (await sandbox.systems.pos.getStock([{ sku, locationId }]))[0]!.committed;
  const placed = await placeOrder(checkout, scope, { idempotencyKey: `k-place-${Math.random()}`, channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: a, customerId: null, lines: [{ sku, quantity: 2 }] });
  const order = placed.order!;
  const before = { a: await committed(a), b: await committed(b) };
  return { sandbox, deps, checkout, published, events, order, a, b, sku, committed, before };
}

const scope = { correlationId: 'corr-test', principal: TEST_AGENT };

describe('changePickupLocation when a write fails half way', () => {
  it('a failure after the stock moved: the retry under the key finishes it, the stock moved once', async () => {
    const { deps, order, a, b, committed, before, published, events } = await setup();
    const failing: PickupChangeDeps = { ...deps, orders: { ...deps.orders, moveLocation: () => Promise.reject(new Error('ECOM_UNAVAILABLE')), settleRelocation: deps.orders.settleRelocation } };
    const request = { idempotencyKey: 'k-change', orderId: order.id, pickupLocationId: b };
    await expect(changePickupLocation(failing, scope, request)).rejects.toThrow('ECOM_UNAVAILABLE');
    // Never neither: the units are at the new store, and the order still at the old one.
    expect([await committed(a), await committed(b)]).toEqual([before.a - 2, before.b + 2]);

    const retried = await changePickupLocation(deps, scope, request);
    expect(retried.userErrors).toEqual([]);
    expect(retried.order).toMatchObject({ pickupLocationId: b, fulfillmentLocationId: b });
    expect([await committed(a), await committed(b)]).toEqual([before.a - 2, before.b + 2]);
    await vi.waitFor(() => expect(published.filter((e) => e.orderId === order.id && e.type === 'PICKUP_LOCATION_CHANGED')).toHaveLength(1));
    await events.stop();
  });

  it('without a retry, checkout recovery moves the stock back to the order’s store, settled there', async () => {
    const { deps, checkout, order, a, b, committed, before } = await setup();
    const failing: PickupChangeDeps = { ...deps, orders: { ...deps.orders, moveLocation: () => Promise.reject(new Error('ECOM_UNAVAILABLE')), settleRelocation: deps.orders.settleRelocation } };
    await expect(changePickupLocation(failing, scope, { idempotencyKey: 'k-change', orderId: order.id, pickupLocationId: b })).rejects.toThrow();
    const later = () => new Date(Date.now() + 10 * 60_000);
    const recoveryDeps = { events: deps.events, stock: deps.stock, orders: deps.orders, now: later };
    await recoverAbandonedCheckouts({ ...checkout, now: later, recoverRelocation: (c, o) => recoverRelocation(recoveryDeps, c, o) });
    expect([await committed(a), await committed(b)]).toEqual([before.a, before.b]);
    expect((await deps.loadOrder(order.id))?.pickupLocationId).toBe(a);
    // Settled at the old store again: a second round finds nothing to do.
    expect(await deps.stock.releaseCommitment(a, order.checkoutReference!, later().toISOString())).toBe(false);
    await recoverAbandonedCheckouts({ ...checkout, now: later, recoverRelocation: (c, o) => recoverRelocation(recoveryDeps, c, o) });
    expect([await committed(a), await committed(b)]).toEqual([before.a, before.b]);
  });

  it('when the old store sold the units meanwhile, recovery finishes the change instead (the units stay at the new store)', async () => {
    const { sandbox, deps, checkout, order, a, b, sku, committed, before, published, events } = await setup();
    const failing: PickupChangeDeps = { ...deps, orders: { ...deps.orders, moveLocation: () => Promise.reject(new Error('ECOM_UNAVAILABLE')), settleRelocation: deps.orders.settleRelocation } };
    await expect(changePickupLocation(failing, scope, { idempotencyKey: 'k-change', orderId: order.id, pickupLocationId: b })).rejects.toThrow();
    const [atA] = await sandbox.systems.pos.getStock([{ sku, locationId: a }]);
    await sandbox.systems.pos.adjustStock({ sku, locationId: a, countedOnHand: atA!.committed + atA!.reserved + atA!.damaged });
    const later = () => new Date(Date.now() + 10 * 60_000);
    const recoveryDeps = { events: deps.events, stock: deps.stock, orders: deps.orders, now: later };
    await recoverAbandonedCheckouts({ ...checkout, now: later, recoverRelocation: (c, o) => recoverRelocation(recoveryDeps, c, o) });
    expect([await committed(a), await committed(b)]).toEqual([before.a - 2, before.b + 2]);
    expect((await deps.loadOrder(order.id))?.pickupLocationId).toBe(b);
    await vi.waitFor(() => expect(published.filter((e) => e.orderId === order.id).map((e) => e.type).slice(-3)).toEqual(['PICKUP_LOCATION_CHANGED', 'INVENTORY_RELEASED', 'INVENTORY_RESERVED']));
    await events.stop();
  });

  it('an order cancelled while its stock was moving: recovery gives the new store’s units back', async () => {
    const { sandbox, deps, checkout, order, a, b, committed, before } = await setup();
    const failing: PickupChangeDeps = { ...deps, orders: { ...deps.orders, moveLocation: () => Promise.reject(new Error('ECOM_UNAVAILABLE')), settleRelocation: deps.orders.settleRelocation } };
    await expect(changePickupLocation(failing, scope, { idempotencyKey: 'k-change', orderId: order.id, pickupLocationId: b })).rejects.toThrow();
    // A cancellation at the old store finds nothing to release there (the units are at the new one).
    await sandbox.systems.ecom.compareAndSetStatus(order.id, 'CONFIRMED', 'CANCELLED');
    expect(await sandbox.systems.pos.releaseCommitment(a, order.checkoutReference!)).toBe(false);
    const later = () => new Date(Date.now() + 10 * 60_000);
    const recoveryDeps = { events: deps.events, stock: deps.stock, orders: deps.orders, now: later };
    await recoverAbandonedCheckouts({ ...checkout, now: later, recoverRelocation: (c, o) => recoverRelocation(recoveryDeps, c, o) });
    expect([await committed(a), await committed(b)]).toEqual([before.a - 2, before.b]);
  });
});
