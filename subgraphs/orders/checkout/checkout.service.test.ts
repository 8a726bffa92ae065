import { describe, expect, it } from 'vitest';
import { InMemoryEventBackbone } from '../../../common/events.js';
import { InMemoryIdempotencyStore } from '../../../common/idempotency.js';
import { ResilienceRegistry } from '../../../common/resilience.js';
import { createSandbox } from '../../../sandbox/index.js';
import { toSalesOrder } from '../adapters/sandbox-records.js';
import { placeOrder, type CheckoutDeps } from './checkout.service.js';
import { sandboxCheckout } from './sandbox-adapters.js';
import { TEST_AGENT } from '../../../test/support/principals.js';
import { seededMasterData } from '../../../test/support/master-data.js';

async function checkoutOver(sandbox: ReturnType<typeof createSandbox>): Promise<CheckoutDeps> {
  const resilience = new ResilienceRegistry({ timeoutMs: 1000, retries: 0, breakerFailures: 100, breakerResetMs: 1000 });
  const { systems } = sandbox;
  const masterData = (await seededMasterData(systems)).store;
  return {
    ...sandboxCheckout(systems, resilience, { idempotency: new InMemoryIdempotencyStore(), backbone: new InMemoryEventBackbone(), masterData }),
    loadOrder: async (id) => {
      const [record] = await systems.ecom.getOrders([id]);
      return record ? toSalesOrder(record) : null;
    },
  };
}

/** The first pickup store, with 5 more units of the `variant`-th SKU on hand. */
async function stockedPickupStore(sandbox: ReturnType<typeof createSandbox>, variant: number): Promise<{ store: string; sku: string }> {
  const store = sandbox.data.stores.find((s) => s.pickupEnabled)!.id;
  const sku = sandbox.data.variants[variant]!.sku;
  await sandbox.systems.pos.adjustStock({ sku, locationId: store, onHandDelta: 5 });
  return { store, sku };
}

describe('placeOrder against a concurrent cancel', () => {
  it('does not confirm an order cancelled while its payment was being authorized: the payment is voided, the stock released once', async () => {
    const sandbox = createSandbox({ seed: 7, scale: 0.05 });
    const deps = await checkoutOver(sandbox);
    const { store, sku } = await stockedPickupStore(sandbox, 0);
    const [before] = await sandbox.systems.pos.getStock([{ sku, locationId: store }]);
    const committedBefore = before!.committed;

    // A store associate cancels the order (as cancelOrder does: status CAS, then release) while the PSP answers.
    const authorize = deps.payments.authorize.bind(deps.payments);
    let orderId = '';
    deps.payments.authorize = async (request) => {
      orderId = request.orderId;
      const moved = await sandbox.systems.ecom.compareAndSetStatus(request.orderId, 'PLACED', 'CANCELLED');
      expect(moved.ok).toBe(true);
      await sandbox.systems.pos.releaseStock(store, [{ sku, quantity: 1 }]);
      return authorize(request);
    };
    // A guest order (no customerId) is placed by a service agent.
    const outcome = await placeOrder(deps, { correlationId: 'race', principal: TEST_AGENT }, { idempotencyKey: 'k', channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: store, lines: [{ sku, quantity: 1 }] });

    expect(outcome.order).toBeNull();
    expect(outcome.userErrors.map((e) => e.code)).toEqual(['INVALID_STATE']);
    const [after] = await sandbox.systems.pos.getStock([{ sku, locationId: store }]);
    expect(after!.committed).toBe(committedBefore);
    const [payments] = await sandbox.systems.psp.getPaymentsByOrder([orderId]);
    expect(payments!.map((p) => p.status)).toEqual(['VOIDED']);
    const [order] = await sandbox.systems.ecom.getOrders([orderId]);
    expect(order!.status).toBe('CANCELLED');
  });
});

describe('placeOrder: the commitment\'s time', () => {
  it('stamps a commitment when it is made, not when the checkout began: slow reads before it never make it look stale to recovery', async () => {
    const sandbox = createSandbox({ seed: 7, scale: 0.05 });
    let clock = Date.parse('2030-01-01T00:00:00.000Z');
    const deps = { ...(await checkoutOver(sandbox)), now: () => new Date(clock) };
    const { store, sku } = await stockedPickupStore(sandbox, 0);
    // The checkout's reads take 20 s (retries under faults), more than recovery's CHECKOUT_STALE_MS in the chaos run.
    const getPrices = deps.prices.getPrices.bind(deps.prices);
    deps.prices.getPrices = async (skus) => {
      clock += 20_000;
      return getPrices(skus);
    };
    const stamps: string[] = [];
    const commit = deps.stock.commit.bind(deps.stock);
    deps.stock.commit = async (locationId, lines, reference) => {
      if (reference) stamps.push(reference.at);
      return commit(locationId, lines, reference);
    };
    const outcome = await placeOrder(deps, { correlationId: 'slow', principal: TEST_AGENT }, { idempotencyKey: 'k-slow', channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: store, lines: [{ sku, quantity: 1 }] });
    expect(outcome.userErrors).toEqual([]);
    expect(stamps).toEqual(['2030-01-01T00:00:20.000Z']);
  });
});

describe('placeOrder: a resumed checkout holds its units again', () => {
  it('commits again under the reference when a cancellation that was put back had given the units back all the same', async () => {
    const sandbox = createSandbox({ seed: 7, scale: 0.05 });
    const deps = await checkoutOver(sandbox);
    const { store, sku } = await stockedPickupStore(sandbox, 1);
    const committed = async () => (await sandbox.systems.pos.getStock([{ sku, locationId: store }]))[0]!.committed;
    const before = await committed();
    // The PSP fails the first time: the order stays PLACED, holding its unit, and the key is given back.
    const authorize = deps.payments.authorize.bind(deps.payments);
    let failures = 1;
    deps.payments.authorize = async (request) => {
      if (failures-- > 0) throw new Error('PSP unavailable');
      return authorize(request);
    };
    const request = { idempotencyKey: 'k-resume', channel: 'WEB' as const, deliveryMethod: 'PICKUP' as const, pickupLocationId: store, lines: [{ sku, quantity: 1 }] };
    const scope = { correlationId: 'resume', principal: TEST_AGENT };
    await expect(placeOrder(deps, scope, request)).rejects.toThrow('PSP unavailable');
    expect(await committed()).toBe(before + 1);
    // Recovery's cancellation gave the unit back, but its answer timed out, so it put the order back to PLACED.
    const [order] = await sandbox.systems.ecom.getOrdersByCheckout([(await sandbox.systems.ecom.listByStatus('PLACED', '2100-01-01T00:00:00.000Z', 100)).find((o) => o.lines[0]?.sku === sku)!.checkoutReference!]);
    expect(await sandbox.systems.pos.releaseCommitment(store, order!.checkoutReference!)).toBe(true);
    expect(await committed()).toBe(before);

    const resumed = await placeOrder(deps, scope, request);
    expect(resumed.userErrors).toEqual([]);
    expect(resumed.order).toMatchObject({ id: order!.id, status: 'CONFIRMED' });
    // The order holds its unit again, so its hand-over takes it off the shelf.
    expect(await committed()).toBe(before + 1);
    expect(await sandbox.systems.pos.fulfillCommitment(store, order!.checkoutReference!)).toBe(true);
  });
});

describe('placeOrder: a resumed checkout racing recovery', () => {
  it.each([
    ['the PSP answers', false],
    ['the PSP is down again', true],
  ])('gives back the units it held again for an order that recovery cancelled between its look and its commit (%s)', async (_, pspDown) => {
    const sandbox = createSandbox({ seed: 7, scale: 0.05 });
    const deps = await checkoutOver(sandbox);
    const { store, sku } = await stockedPickupStore(sandbox, 2);
    const committed = async () => (await sandbox.systems.pos.getStock([{ sku, locationId: store }]))[0]!.committed;
    const before = await committed();
    const authorize = deps.payments.authorize.bind(deps.payments);
    let failures = pspDown ? Number.POSITIVE_INFINITY : 1;
    deps.payments.authorize = async (request) => {
      if (failures-- > 0) throw new Error('PSP unavailable');
      return authorize(request);
    };
    const request = { idempotencyKey: 'k-race', channel: 'WEB' as const, deliveryMethod: 'PICKUP' as const, pickupLocationId: store, lines: [{ sku, quantity: 1 }] };
    const scope = { correlationId: 'race-resume', principal: TEST_AGENT };
    await expect(placeOrder(deps, scope, request)).rejects.toThrow('PSP unavailable');
    // The retry finds its order PLACED; before it holds the units again, recovery cancels the order and gives them back.
    const forCheckout = deps.orders.forCheckout.bind(deps.orders);
    deps.orders.forCheckout = async (references) => {
      const found = await forCheckout(references);
      const order = found[0];
      if (order?.status === 'PLACED') {
        expect((await sandbox.systems.ecom.compareAndSetStatus(order.id, 'PLACED', 'CANCELLED')).ok).toBe(true);
        expect(await sandbox.systems.pos.releaseCommitment(store, order.checkoutReference!)).toBe(true);
      }
      return found;
    };
    const resumed = await placeOrder(deps, scope, request);
    expect(resumed.order).toBeNull();
    expect(resumed.userErrors.map((e) => e.code)).toEqual(['INVALID_STATE']);
    // Nothing left committed for a cancelled order.
    expect(await committed()).toBe(before);
  });
});
