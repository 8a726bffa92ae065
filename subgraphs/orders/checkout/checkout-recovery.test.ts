import { describe, expect, it } from 'vitest';
import { InMemoryEventBackbone } from '../../../common/events.js';
import { InMemoryIdempotencyStore } from '../../../common/idempotency.js';
import { ResilienceRegistry } from '../../../common/resilience.js';
import { createSandbox } from '../../../sandbox/index.js';
import { recoverAbandonedCheckouts } from './checkout-recovery.js';
import { recoverUnsettledMoves } from '../lifecycle/lifecycle.service.js';
import { SandboxLifecycleStock, SandboxOrderStatusWriter, SandboxPaymentSettlement } from '../lifecycle/sandbox-adapters.js';
import { sandboxCheckout } from './sandbox-adapters.js';
import { seededMasterData } from '../../../test/support/master-data.js';
import { withoutIds } from '../../../test/support/events.js';
import { cancellationEvents } from '../canonical-events.js';
import type { SalesOrder } from '../ports.js';

/** An order draft of one line of `sku`, fulfilled at `store` (a pickup there unless `deliveryMethod` says otherwise). */
function draftAt(store: string, sku: string, o: { status: SalesOrder['status']; quantity: number; placedAt: string; correlationId: string; checkoutReference?: string; deliveryMethod?: 'PICKUP' | 'SHIP_FROM_STORE' }) {
  const deliveryMethod = o.deliveryMethod ?? 'PICKUP';
  return {
    customerId: null,
    channel: 'WEB' as const,
    deliveryMethod,
    status: o.status,
    pickupLocationId: deliveryMethod === 'PICKUP' ? store : null,
    fulfillmentLocationId: store,
    lines: [{ sku, quantity: o.quantity, unitPrice: { minor: 1000, currency: 'EUR' as const } }],
    total: { minor: 1000 * o.quantity, currency: 'EUR' as const },
    placedAt: o.placedAt,
    correlationId: o.correlationId,
    ...(o.checkoutReference ? { checkoutReference: o.checkoutReference } : {}),
  };
}

// A checkout whose process died half way, rebuilt step by step with the checkout's own ports over the sandbox:
// stock committed, order recorded PLACED, maybe the payment authorized, and then nothing.
describe('recoverAbandonedCheckouts', () => {
  const T0 = Date.parse('2026-11-23T10:00:00.000Z');
  const resilience = new ResilienceRegistry({ timeoutMs: 1000, retries: 0, breakerFailures: 100, breakerResetMs: 1000 });

  async function setUp() {
    const sandbox = createSandbox({ seed: 11, scale: 0.05 });
    const backbone = new InMemoryEventBackbone();
    const deps = sandboxCheckout(sandbox.systems, resilience, { idempotency: new InMemoryIdempotencyStore(), backbone, masterData: (await seededMasterData(sandbox.systems)).store });
    const store = sandbox.data.stores.find((s) => s.pickupEnabled)!.id;
    const sku = sandbox.data.variants[3]!.sku;
    await sandbox.systems.pos.adjustStock({ sku, locationId: store, onHandDelta: 10 });
    const committed = async () => (await sandbox.systems.pos.getStock([{ sku, locationId: store }]))[0]!.committed;
    const interrupted = async (placedAt: number, opts: { authorize?: boolean; status?: 'PLACED' | 'CONFIRMED' } = {}) => {
      expect((await deps.stock.commit(store, [{ sku, quantity: 2 }])).ok).toBe(true);
      const order = await deps.orders.create('ecom', draftAt(store, sku, { status: opts.status ?? 'PLACED', quantity: 2, placedAt: new Date(placedAt).toISOString(), correlationId: `corr-${placedAt}` }));
      if (opts.authorize) await deps.payments.authorize({ orderId: order.id, amount: order.total, method: 'CARD', token: null });
      return order;
    };
    return { sandbox, backbone, deps, committed, interrupted, store, sku };
  }

  it('cancels a PLACED order older than the threshold: stock back, payment voided, events under the order correlation id', async () => {
    const { sandbox, backbone, deps, committed, interrupted } = await setUp();
    const before = await committed();
    const abandoned = await interrupted(T0, { authorize: true });
    expect(await committed()).toBe(before + 2);

    const now = () => new Date(T0 + 121_000);
    const cancelled = await recoverAbandonedCheckouts({ ...deps, staleMs: 120_000, now });
    expect(cancelled.map((o) => o.id)).toEqual([abandoned.id]);
    expect((await sandbox.systems.ecom.getOrders([abandoned.id]))[0]!.status).toBe('CANCELLED');
    expect(await committed()).toBe(before);
    expect((await sandbox.systems.psp.getPaymentsByOrder([abandoned.id]))[0]!.map((p) => p.status)).toEqual(['VOIDED']);
    const [events] = await backbone.eventsForOrders([abandoned.id]);
    expect(events!.map((e) => e.type)).toEqual(['ORDER_CANCELLED', 'INVENTORY_RELEASED']);
    expect(events!.every((e) => e.correlationId === `corr-${T0}`)).toBe(true);
    // The one cancellation sequence (canonical-events.ts), as cancelOrder and checkout's compensation publish it.
    expect(withoutIds(events!)).toEqual(withoutIds(cancellationEvents(abandoned, 'PLACED', 'Checkout did not finish', true, now())));

    // Once: a second round (or another instance's) finds nothing to undo and gives nothing back twice.
    expect(await recoverAbandonedCheckouts({ ...deps, staleMs: 120_000, now })).toEqual([]);
    expect(await committed()).toBe(before);
  });

  it('a cancellation whose release fails (or whose process dies before it) stays CANCELLED and unsettled: move recovery gives the units back, once', async () => {
    const { sandbox, backbone, deps, committed, store, sku } = await setUp();
    const before = await committed();
    const at = new Date(T0).toISOString();
    expect((await deps.stock.commit(store, [{ sku, quantity: 2 }], { reference: 'chk-dies', at })).ok).toBe(true);
    const order = await deps.orders.create('ecom', draftAt(store, sku, { status: 'PLACED', quantity: 2, placedAt: at, correlationId: 'corr-dies', checkoutReference: 'chk-dies' }));
    await deps.stock.settle(store, 'chk-dies');
    // The stock system fails the release (a timeout, or this process killed right after the status move).
    const stock = { ...deps.stock, release: async () => Promise.reject(new Error('POS_UNAVAILABLE')) };
    await expect(recoverAbandonedCheckouts({ ...deps, stock, staleMs: 120_000, now: () => new Date(T0 + 121_000) })).rejects.toThrow('POS_UNAVAILABLE');
    const [cancelled] = await sandbox.systems.ecom.getOrders([order.id]);
    // Not put back to PLACED (a release whose answer was lost may have landed): CANCELLED, its move left to recovery.
    expect(cancelled!.status).toBe('CANCELLED');
    expect(cancelled!.lastMove).toMatchObject({ from: 'PLACED', settled: false });
    expect(await committed()).toBe(before + 2);
    expect((await backbone.eventsForOrders([order.id]))[0]).toEqual([]);

    const moves = {
      statuses: new SandboxOrderStatusWriter(sandbox.systems, resilience),
      stock: new SandboxLifecycleStock(sandbox.systems, resilience),
      payments: new SandboxPaymentSettlement(sandbox.systems, resilience),
      events: deps.events,
      // The order book stamps the move at the wall clock's now.
      now: () => new Date(Date.now() + 250_000),
    };
    expect(await recoverUnsettledMoves(moves, 120_000)).toBe(1);
    expect(await committed()).toBe(before);
    expect((await backbone.eventsForOrders([order.id]))[0]!.map((e) => e.type)).toEqual(['ORDER_CANCELLED', 'INVENTORY_RELEASED']);
    // Settled: nothing more to finish, nothing given back twice.
    expect(await recoverUnsettledMoves(moves, 120_000)).toBe(0);
    expect(await recoverAbandonedCheckouts({ ...deps, staleMs: 120_000, now: () => new Date(T0 + 250_000) })).toEqual([]);
    expect(await committed()).toBe(before);
  });

  it('leaves a checkout that may still be running, and orders past PLACED, alone', async () => {
    const { sandbox, deps, committed, interrupted } = await setUp();
    const recent = await interrupted(T0 + 100_000);
    const confirmed = await interrupted(T0, { status: 'CONFIRMED' });
    const before = await committed();
    const cancelled = await recoverAbandonedCheckouts({ ...deps, staleMs: 120_000, now: () => new Date(T0 + 121_000) });
    expect(cancelled).toEqual([]);
    expect((await sandbox.systems.ecom.getOrders([recent.id, confirmed.id])).map((o) => o!.status)).toEqual(['PLACED', 'CONFIRMED']);
    expect(await committed()).toBe(before);
  });

  it('of two instances undoing the same abandoned checkout at once, one does it', async () => {
    const { deps, committed, interrupted } = await setUp();
    const before = await committed();
    await interrupted(T0);
    const now = () => new Date(T0 + 200_000);
    const [a, b] = await Promise.all([recoverAbandonedCheckouts({ ...deps, now }), recoverAbandonedCheckouts({ ...deps, now })]);
    expect(a.length + b.length).toBe(1);
    expect(await committed()).toBe(before);
  });

  it('gives back, once, a commitment whose checkout died before recording its order; settles one whose order exists', async () => {
    const { deps, committed, store, sku } = await setUp();
    const before = await committed();
    const at = new Date(T0).toISOString();
    // Two checkouts committed under their references; one recorded its order and died before settling, the other
    // died before recording it.
    expect((await deps.stock.commit(store, [{ sku, quantity: 3 }], { reference: 'chk-orphan', at })).ok).toBe(true);
    // The same commitment again (a lost answer, retried under the same key) holds nothing more.
    expect((await deps.stock.commit(store, [{ sku, quantity: 3 }], { reference: 'chk-orphan', at })).ok).toBe(true);
    expect((await deps.stock.commit(store, [{ sku, quantity: 1 }], { reference: 'chk-recorded', at })).ok).toBe(true);
    await deps.orders.create('ecom', draftAt(store, sku, { status: 'CONFIRMED', quantity: 1, placedAt: at, correlationId: 'corr-recorded', checkoutReference: 'chk-recorded' }));
    expect(await committed()).toBe(before + 4);

    // Too young: a checkout may still be running.
    await recoverAbandonedCheckouts({ ...deps, staleMs: 120_000, now: () => new Date(T0 + 60_000) });
    expect(await committed()).toBe(before + 4);

    const now = () => new Date(T0 + 121_000);
    await Promise.all([recoverAbandonedCheckouts({ ...deps, staleMs: 120_000, now }), recoverAbandonedCheckouts({ ...deps, staleMs: 120_000, now })]);
    // The orphan's 3 units are back; the recorded order keeps its 1.
    expect(await committed()).toBe(before + 1);
    expect(await deps.stock.openCommitments(now().toISOString(), 10)).toEqual([]);
    await recoverAbandonedCheckouts({ ...deps, staleMs: 120_000, now });
    expect(await committed()).toBe(before + 1);
  });
  it('gives back a commitment that a late commit made again after its order was cancelled or handed over', async () => {
    const { sandbox, deps, committed, store, sku } = await setUp();
    const onHand = async () => (await sandbox.systems.pos.getStock([{ sku, locationId: store }]))[0]!.onHand;
    const [committedBefore, onHandBefore] = [await committed(), await onHand()];
    const at = new Date(T0).toISOString();
    const recordAs = (reference: string, status: 'CANCELLED' | 'PICKED_UP', quantity: number) =>
      deps.orders.create('ecom', draftAt(store, sku, { status, quantity, placedAt: at, correlationId: `corr-${reference}`, checkoutReference: reference }));
    // Each checkout committed and recorded its order, which then ended its commitment: one cancelled (given back), one
    // handed over (the goods left).
    for (const [reference, quantity] of [['chk-late-cancelled', 2], ['chk-late-picked', 1]] as const) {
      expect((await deps.stock.commit(store, [{ sku, quantity }], { reference, at })).ok).toBe(true);
      await deps.stock.settle(store, reference);
    }
    await recordAs('chk-late-cancelled', 'CANCELLED', 2);
    await recordAs('chk-late-picked', 'PICKED_UP', 1);
    await sandbox.systems.pos.releaseCommitment(store, 'chk-late-cancelled');
    await sandbox.systems.pos.fulfillCommitment(store, 'chk-late-picked');
    expect([await committed(), await onHand()]).toEqual([committedBefore, onHandBefore - 1]);
    // Then an earlier attempt of each, whose answer had timed out, landed: the same commitments again, open.
    expect((await deps.stock.commit(store, [{ sku, quantity: 2 }], { reference: 'chk-late-cancelled', at })).ok).toBe(true);
    expect((await deps.stock.commit(store, [{ sku, quantity: 1 }], { reference: 'chk-late-picked', at })).ok).toBe(true);
    expect(await committed()).toBe(committedBefore + 3);

    const now = () => new Date(T0 + 121_000);
    await recoverAbandonedCheckouts({ ...deps, staleMs: 120_000, now });
    // Given back, both: nothing holds units any more, and the goods handed over left the shelf once.
    expect([await committed(), await onHand()]).toEqual([committedBefore, onHandBefore - 1]);
    expect(await deps.stock.openCommitments(now().toISOString(), 10)).toEqual([]);
    await recoverAbandonedCheckouts({ ...deps, staleMs: 120_000, now });
    expect([await committed(), await onHand()]).toEqual([committedBefore, onHandBefore - 1]);
  });

  it('gives back a commitment made under the reference at a location its order does not ship from; settles the one at its location', async () => {
    const { sandbox, deps, committed, store, sku } = await setUp();
    const other = sandbox.data.stores.find((s) => s.id !== store)!.id;
    await sandbox.systems.pos.adjustStock({ sku, locationId: other, onHandDelta: 10 });
    const committedAt = async (locationId: string) => (await sandbox.systems.pos.getStock([{ sku, locationId }]))[0]!.committed;
    const [here, there] = [await committed(), await committedAt(other)];
    const at = new Date(T0).toISOString();
    // The first location's commit timed out and landed later; the checkout's retry committed at the next location and
    // recorded the order there.
    expect((await deps.stock.commit(other, [{ sku, quantity: 2 }], { reference: 'chk-moved-on', at })).ok).toBe(true);
    expect((await deps.stock.commit(store, [{ sku, quantity: 2 }], { reference: 'chk-moved-on', at })).ok).toBe(true);
    await deps.orders.create('ecom', draftAt(store, sku, { status: 'CONFIRMED', quantity: 2, placedAt: at, correlationId: 'corr-moved-on', checkoutReference: 'chk-moved-on', deliveryMethod: 'SHIP_FROM_STORE' }));

    const now = () => new Date(T0 + 121_000);
    await recoverAbandonedCheckouts({ ...deps, staleMs: 120_000, now });
    expect([await committed(), await committedAt(other)]).toEqual([here + 2, there]);
    expect(await deps.stock.openCommitments(now().toISOString(), 10)).toEqual([]);
  });
  it('settles every part of a split order whose checkout died before settling, and gives none back', async () => {
    const { sandbox, deps, committed, store, sku } = await setUp();
    const other = sandbox.data.stores.find((s) => s.id !== store)!.id;
    const otherSku = sandbox.data.variants[4]!.sku;
    await sandbox.systems.pos.adjustStock({ sku: otherSku, locationId: other, onHandDelta: 10 });
    const committedAt = async (locationId: string, of: string) => (await sandbox.systems.pos.getStock([{ sku: of, locationId }]))[0]!.committed;
    const [here, there] = [await committed(), await committedAt(other, otherSku)];
    const at = new Date(T0).toISOString();
    expect((await deps.stock.commit(store, [{ sku, quantity: 2 }], { reference: 'chk-split', at })).ok).toBe(true);
    expect((await deps.stock.commit(other, [{ sku: otherSku, quantity: 1 }], { reference: 'chk-split', at })).ok).toBe(true);
    const draft = draftAt(store, sku, { status: 'CONFIRMED', quantity: 2, placedAt: at, correlationId: 'corr-split', checkoutReference: 'chk-split', deliveryMethod: 'SHIP_FROM_STORE' });
    await deps.orders.create('ecom', {
      ...draft,
      lines: [...draft.lines, { sku: otherSku, quantity: 1, unitPrice: { minor: 1000, currency: 'EUR' as const } }],
      total: { minor: 3000, currency: 'EUR' as const },
      fulfillments: [
        { id: 'f1', locationId: store, lines: [{ sku, quantity: 2 }], status: 'OPEN' },
        { id: 'f2', locationId: other, lines: [{ sku: otherSku, quantity: 1 }], status: 'OPEN' },
      ],
    });

    const now = () => new Date(T0 + 121_000);
    await recoverAbandonedCheckouts({ ...deps, staleMs: 120_000, now });
    expect([await committed(), await committedAt(other, otherSku)]).toEqual([here + 2, there + 1]);
    expect(await deps.stock.openCommitments(now().toISOString(), 10)).toEqual([]);
  });

  it('leaves a commitment alone while its checkout is still retrying: a retry under the key keeps it young', async () => {
    const { deps, committed, store, sku } = await setUp();
    const before = await committed();
    expect((await deps.stock.commit(store, [{ sku, quantity: 1 }], { reference: 'chk-retrying', at: new Date(T0).toISOString() })).ok).toBe(true);
    // The checkout's retries went on (each one's order write failed); the last one committed again 100 s later.
    expect((await deps.stock.commit(store, [{ sku, quantity: 1 }], { reference: 'chk-retrying', at: new Date(T0 + 100_000).toISOString() })).ok).toBe(true);
    await recoverAbandonedCheckouts({ ...deps, staleMs: 120_000, now: () => new Date(T0 + 121_000) });
    expect(await committed()).toBe(before + 1);
    // Once the retries stop, it is an orphan like any other.
    await recoverAbandonedCheckouts({ ...deps, staleMs: 120_000, now: () => new Date(T0 + 221_000) });
    expect(await committed()).toBe(before);
  });

  it('leaves a commitment alone that a retry made again, and recorded its order, between recovery\'s look and its release', async () => {
    const { deps, committed, store, sku } = await setUp();
    const before = await committed();
    const at = new Date(T0).toISOString();
    expect((await deps.stock.commit(store, [{ sku, quantity: 1 }], { reference: 'chk-racing', at })).ok).toBe(true);
    const now = () => new Date(T0 + 121_000);
    // Recovery asks whether an order names the reference: none yet. Before it gives the commitment back, the
    // checkout's retry commits again under the reference (the same commitment, made young) and records its order.
    const orders = {
      listPlacedBefore: deps.orders.listPlacedBefore.bind(deps.orders),
      compareAndSetStatus: deps.orders.compareAndSetStatus.bind(deps.orders),
      settleMove: deps.orders.settleMove.bind(deps.orders),
      forCheckout: async (references: readonly string[]) => {
        const answer = await deps.orders.forCheckout(references);
        if (references.includes('chk-racing')) {
          expect((await deps.stock.commit(store, [{ sku, quantity: 1 }], { reference: 'chk-racing', at: now().toISOString() })).ok).toBe(true);
          await deps.orders.create('ecom', draftAt(store, sku, { status: 'CONFIRMED', quantity: 1, placedAt: now().toISOString(), correlationId: 'corr-racing', checkoutReference: 'chk-racing' }));
        }
        return answer;
      },
    };
    await recoverAbandonedCheckouts({ ...deps, orders, staleMs: 120_000, now });
    // Still committed: the order holds it now (its hand-over takes the unit off the shelf).
    expect(await committed()).toBe(before + 1);
    await recoverAbandonedCheckouts({ ...deps, staleMs: 120_000, now: () => new Date(T0 + 250_000) });
    expect(await committed()).toBe(before + 1);
    expect(await deps.stock.openCommitments(new Date(T0 + 250_000).toISOString(), 10)).toEqual([]);
  });
});
