import { describe, expect, it, vi } from 'vitest';
import { InMemoryEventBackbone, type CanonicalEvent, type EventBackbone } from '../../../common/events.js';
import { InMemoryIdempotencyStore } from '../../../common/idempotency.js';
import { EventOutbox } from '../../../common/outbox/event-outbox.js';
import { ResilienceRegistry, SystemUnavailableError } from '../../../common/resilience.js';
import { createSandbox } from '../../../sandbox/index.js';
import { TEST_AGENT } from '../../../test/support/principals.js';
import { SandboxOrderBook } from '../adapters/sandbox-order-book.js';
import { toSalesOrder } from '../adapters/sandbox-records.js';
import type { SalesOrder } from '../ports.js';
import { cancelOrder, confirmPickup, markReadyForPickup, recoverUnsettledMoves, type LifecycleDeps } from './lifecycle.service.js';
import { placeOrder } from '../checkout/checkout.service.js';
import { sandboxCheckout } from '../checkout/sandbox-adapters.js';
import { seededMasterData } from '../../../test/support/master-data.js';
import { SandboxLifecycleStock, SandboxOrderStatusWriter, SandboxPaymentSettlement, SandboxReturnDesk, SandboxShipmentWriter } from './sandbox-adapters.js';

/*
 * The lifecycle's guarantees where the infrastructure fails: a move whose events cannot be published now is still
 * made and its events follow (the outbox), and a move whose answer was lost is resumed, not refused, by the retry.
 */

function setup() {
  const sandbox = createSandbox({ seed: 42, scale: 0.05 });
  // Short timeouts, no retries (writes are never retried anyway): a slow system costs this call its answer.
  const resilience = new ResilienceRegistry({ timeoutMs: 150, retries: 0, breakerFailures: 100, breakerResetMs: 1000 });
  const inner = new InMemoryEventBackbone();
  const published: CanonicalEvent[] = [];
  inner.subscribe((e) => published.push(e));
  const backbone = { down: false };
  const flaky: Pick<EventBackbone, 'publish'> = { publish: (e) => (backbone.down ? Promise.reject(new Error('backbone unavailable')) : inner.publish(e)) };
  const outbox = new EventOutbox({ backbone: flaky, retryBaseMs: 5, retryCapMs: 20 });
  const { systems } = sandbox;
  const orderBooks = { pos: new SandboxOrderBook('pos', systems.pos, resilience), ecom: new SandboxOrderBook('ecom', systems.ecom, resilience) };
  const deps: LifecycleDeps = {
    statuses: new SandboxOrderStatusWriter(systems, resilience),
    returns: new SandboxReturnDesk(systems, resilience),
    stock: new SandboxLifecycleStock(systems, resilience),
    payments: new SandboxPaymentSettlement(systems, resilience),
    shipments: new SandboxShipmentWriter(systems, resilience),
    orderBooks,
    loadOrder: async (id) => (await orderBooks.ecom.getOrders([id]))[0] ?? null,
    idempotency: new InMemoryIdempotencyStore(),
    events: outbox,
    access: () => 'allow',
  };
  const confirmedPickup = sandbox.data.orders.find((o) => o.status === 'CONFIRMED' && o.deliveryMethod === 'PICKUP' && o.id.startsWith('ord-w'));
  if (!confirmedPickup) throw new Error('the seed has no CONFIRMED pickup order');
  const order: SalesOrder = toSalesOrder(confirmedPickup);
  return { sandbox, deps, published, backbone, outbox, order };
}

const scope = { correlationId: 'corr-test', principal: TEST_AGENT };
const statusOf = async (deps: LifecycleDeps, id: string) => (await deps.orderBooks.ecom.getOrders([id]))[0]?.status;

describe('order moves when the infrastructure fails', () => {
  it('a move made while the backbone is down succeeds, and its event is published once the backbone is back', async () => {
    const { deps, published, backbone, outbox, order } = setup();
    backbone.down = true;
    const outcome = await markReadyForPickup(deps, scope, { orderId: order.id, idempotencyKey: 'k-ready' });
    expect(outcome.userErrors).toEqual([]);
    expect(outcome.order?.status).toBe('READY_FOR_PICKUP');
    expect(published.filter((e) => e.orderId === order.id)).toEqual([]);
    expect(await outbox.depth()).toBe(1);
    backbone.down = false;
    await vi.waitFor(() => expect(published.filter((e) => e.orderId === order.id).map((e) => e.type)).toEqual(['READY_FOR_PICKUP']));
    await outbox.stop();
  });

  it('a move whose answer was lost (the write landed, the answer did not) is resumed by the retry: one move, one event', async () => {
    const { deps, published, outbox, order } = setup();
    await markReadyForPickup(deps, scope, { orderId: order.id });
    // The system makes the move but its answer never arrives (a timeout after the write, a connection cut).
    const real = deps.statuses;
    const lossy: LifecycleDeps = {
      ...deps,
      statuses: {
        moveStatus: async (...args) => {
          await real.moveStatus(...args);
          throw new SystemUnavailableError('ecom', 'timed out');
        },
        settleMove: (...args) => real.settleMove(...args),
        listUnsettledMoves: (...args) => real.listUnsettledMoves(...args),
        shipPart: (...args) => real.shipPart(...args),
      },
    };
    await expect(confirmPickup(lossy, scope, { orderId: order.id, idempotencyKey: 'k-pickup' })).rejects.toThrow('timed out');
    expect(await statusOf(deps, order.id)).toBe('PICKED_UP');
    expect(published.filter((e) => e.orderId === order.id && e.type === 'PICKED_UP')).toEqual([]);

    const retried = await confirmPickup(deps, scope, { orderId: order.id, idempotencyKey: 'k-pickup' });
    expect(retried.userErrors).toEqual([]);
    expect(retried.order?.status).toBe('PICKED_UP');
    expect(published.filter((e) => e.orderId === order.id && e.type === 'PICKED_UP')).toHaveLength(1);
    // Settled: a further hand-over of the same order is refused as before.
    const again = await confirmPickup(deps, scope, { orderId: order.id });
    expect(again.userErrors.map((e) => e.code)).toEqual(['INVALID_STATE']);
    expect(published.filter((e) => e.orderId === order.id && e.type === 'PICKED_UP')).toHaveLength(1);
    await outbox.stop();
  });

  it('a cancellation whose release landed but answered a timeout stays CANCELLED; the retry under its key releases nothing twice', async () => {
    const { sandbox, deps, outbox } = setup();
    const resilience = new ResilienceRegistry({ timeoutMs: 1000, retries: 0, breakerFailures: 100, breakerResetMs: 1000 });
    const checkout = { ...sandboxCheckout(sandbox.systems, resilience, { idempotency: new InMemoryIdempotencyStore(), backbone: new InMemoryEventBackbone(), events: deps.events, masterData: (await seededMasterData(sandbox.systems)).store }), loadOrder: deps.loadOrder };
    const store = sandbox.data.stores.find((s) => s.pickupEnabled)!.id;
    const sku = sandbox.data.variants[4]!.sku;
    await sandbox.systems.pos.adjustStock({ sku, locationId: store, onHandDelta: 10 });
    const committed = async () => (await sandbox.systems.pos.getStock([{ sku, locationId: store }]))[0]!.committed;
    const before = await committed();
    const placed = await placeOrder(checkout, scope, { idempotencyKey: 'k-place-cancel', channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: store, customerId: null, lines: [{ sku, quantity: 2 }] });
    const orderId = placed.order!.id;
    expect(await committed()).toBe(before + 2);
    const real = deps.stock;
    const lossy: LifecycleDeps = {
      ...deps,
      stock: Object.assign(Object.create(Object.getPrototypeOf(real) as object) as typeof real, real, {
        release: async (...args: Parameters<typeof real.release>) => {
          await real.release(...args);
          throw new SystemUnavailableError('pos', 'timed out');
        },
      }),
    };
    const request = { orderId, idempotencyKey: 'k-cancel', reason: 'customer asked' };
    await expect(cancelOrder(lossy, scope, request)).rejects.toThrow('timed out');
    // Not put back to CONFIRMED: its units are back on sale already, so a live order would have nothing behind it.
    expect(await statusOf(deps, orderId)).toBe('CANCELLED');
    expect(await committed()).toBe(before);
    const retried = await cancelOrder(deps, scope, request);
    expect(retried.userErrors).toEqual([]);
    expect(retried.order?.status).toBe('CANCELLED');
    expect(await committed()).toBe(before);
    await outbox.stop();
  });

  it('a hand-over whose process died after the move (no key) is finished by recovery: the stock leaves once, PICKED_UP is said once', async () => {
    const { sandbox, deps, published, outbox } = setup();
    const resilience = new ResilienceRegistry({ timeoutMs: 1000, retries: 0, breakerFailures: 100, breakerResetMs: 1000 });
    const checkout = { ...sandboxCheckout(sandbox.systems, resilience, { idempotency: new InMemoryIdempotencyStore(), backbone: new InMemoryEventBackbone(), events: deps.events, masterData: (await seededMasterData(sandbox.systems)).store }), loadOrder: deps.loadOrder };
    const store = sandbox.data.stores.find((s) => s.pickupEnabled)!.id;
    const sku = sandbox.data.variants[3]!.sku;
    await sandbox.systems.pos.adjustStock({ sku, locationId: store, onHandDelta: 10 });
    const stock = async () => ({ ...(await sandbox.systems.pos.getStock([{ sku, locationId: store }]))[0]! });
    const placed = await placeOrder(checkout, scope, { idempotencyKey: 'k-place', channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: store, customerId: null, lines: [{ sku, quantity: 2 }] });
    const orderId = placed.order!.id;
    await markReadyForPickup(deps, scope, { orderId });
    const before = await stock();

    // The process dies right after the system of record made the move: no stock moved, no event, nothing settled.
    const real = deps.statuses;
    const dying: LifecycleDeps = {
      ...deps,
      statuses: {
        moveStatus: async (...args) => {
          await real.moveStatus(...args);
          throw new Error('process killed');
        },
        settleMove: (...args) => real.settleMove(...args),
        listUnsettledMoves: (...args) => real.listUnsettledMoves(...args),
        shipPart: (...args) => real.shipPart(...args),
      },
    };
    await expect(confirmPickup(dying, scope, { orderId })).rejects.toThrow('process killed');
    expect(await statusOf(deps, orderId)).toBe('PICKED_UP');
    expect(await stock()).toMatchObject({ onHand: before.onHand, committed: before.committed });
    const pickedUp = () => published.filter((e) => e.orderId === orderId && e.type === 'PICKED_UP');
    expect(pickedUp()).toEqual([]);

    // Too young: a run may still be finishing it.
    expect(await recoverUnsettledMoves(deps, 60_000)).toBe(0);
    const later = { ...deps, now: () => new Date(Date.now() + 120_000) };
    expect(await recoverUnsettledMoves(later, 60_000)).toBe(1);
    expect(await stock()).toMatchObject({ onHand: before.onHand - 2, committed: before.committed - 2 });
    expect(pickedUp()).toHaveLength(1);
    // Once: a second round (another instance's) finds nothing, moves nothing, says nothing.
    expect(await recoverUnsettledMoves(later, 60_000)).toBe(0);
    expect(await stock()).toMatchObject({ onHand: before.onHand - 2, committed: before.committed - 2 });
    expect(pickedUp()).toHaveLength(1);
    await outbox.stop();
  });
});
