import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalEvent, EventOf } from '../common/events.js';
import { toGlobalId } from '../common/global-id.js';
import { contractOperation } from './support/contract.js';
import { expectedLevel } from './support/expect.js';
import { pollUntil } from './support/poll.js';
import { AGENT, OPS, shopper, startTestStack, store, type Caller, type TestStack } from './support/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

// Offline sync and the exception register are not in the client contract yet (the store app's offline mode and
// the operations console call them); these are the documents.
const SYNC = `mutation Sync($input: SyncStoreTransactionsInput!) {
  syncStoreTransactions(input: $input) {
    results { id occurredAt status oversold { sku shortfall exceptionId } }
    userErrors { field message code }
  }
}`;
const EXCEPTIONS = `query Exceptions($kind: ExceptionKind, $locationId: ID, $first: Int) {
  exceptions(kind: $kind, locationId: $locationId, first: $first) {
    id kind status sku transactionId quantity shortfall onHandShortfall occurredAt raisedAt
    location { id }
    variant { sku }
    proposal { order { id status } orderNumber quantity action rerouteLocation { id } }
  }
}`;
const STOCK = () => contractOperation('StoreStock');
const PLACE = () => contractOperation('PlaceOrder');

let runs = 0;
/** Ids as a till makes them: unique per test run, so a rerun against a kept DATA_DIR is not a DUPLICATE. */
const txnId = (name: string) => `till-${process.pid}-${Date.now().toString(36)}-${++runs}-${name}`;
const minutesAgo = (m: number, s = 0) => new Date(Date.now() - m * 60_000 - s * 1000).toISOString();

/** A fresh store record (one no other test here touches) with at least `min` and at most `max` available, nothing held. */
const taken = new Set<string>();
function storeStock(min: number, max = Number.MAX_SAFE_INTEGER, pickup = false) {
  const data = stack.sandbox.data;
  const pickupStores = new Set(data.stores.filter((s) => s.pickupEnabled).map((s) => s.id));
  for (const s of data.stock) {
    const id = `${s.sku}@${s.locationId}`;
    if (taken.has(id) || !s.locationId.startsWith('store-') || (pickup && !pickupStores.has(s.locationId)) || s.committed || s.reserved || s.damaged) continue;
    const available = expectedLevel(data, s.sku, s.locationId)?.available ?? 0;
    if (available < min || available > max || s.onHand !== available) continue;
    taken.add(id);
    return { sku: s.sku, locationId: s.locationId };
  }
  throw new Error('no such stock in the seed');
}

async function level(locationId: string, sku: string) {
  const { body } = await stack.queryAs(store(locationId), STOCK(), { locationId, skus: [sku] });
  expect(body.errors ?? []).toEqual([]);
  return (body.data as any).location.inventoryLevels[0] as { onHand: number; committed: number; available: number };
}

const sync = (locationId: string, transactions: unknown[], as: Caller = store(locationId)) => stack.queryAs(as, SYNC, { input: { locationId, transactions } });
const payload = (response: { body: { data?: any; errors?: unknown[] } }) => {
  expect(response.body.errors ?? []).toEqual([]);
  return response.body.data.syncStoreTransactions as { results: { id: string; occurredAt: string; status: string; oversold: { sku: string; shortfall: number; exceptionId: string }[] }[]; userErrors: { code: string; field: string }[] };
};
const sale = (id: string, occurredAt: string, sku: string, quantity = 1) => ({ id, occurredAt, kind: 'SALE', lines: [{ sku, quantity }] });

/** Every event published while `fn` runs, and until `until` holds of them. */
async function eventsDuring(fn: () => Promise<unknown>, until: (seen: readonly CanonicalEvent[]) => boolean): Promise<CanonicalEvent[]> {
  const seen: CanonicalEvent[] = [];
  const unsubscribe = stack.backbone.subscribe((e) => seen.push(e));
  try {
    await fn();
    await pollUntil(async () => seen, until, 'the events');
  } finally {
    unsubscribe();
  }
  return seen;
}
const adjustedAt = (seen: readonly CanonicalEvent[], locationId: string, sku: string) =>
  seen.filter((e): e is EventOf<'INVENTORY_ADJUSTED'> => e.type === 'INVENTORY_ADJUSTED' && e.locationId === locationId && e.sku === sku);

describe('syncStoreTransactions: an offline till sends its sales later', () => {
  it('applies a batch in the order the sales happened, whatever order it was sent in; the events keep the till’s times', async () => {
    const { sku, locationId } = storeStock(10);
    const before = await level(locationId, sku);
    const [a, b, c] = [txnId('a'), txnId('b'), txnId('c')];
    const batch = [sale(c, minutesAgo(10), sku, 1), sale(a, minutesAgo(30), sku, 2), sale(b, minutesAgo(20), sku, 3)];
    let answer!: ReturnType<typeof payload>;
    const seen = await eventsDuring(
      async () => {
        answer = payload(await sync(locationId, batch));
      },
      (s) => adjustedAt(s, locationId, sku).length >= 3,
    );
    expect(answer.userErrors).toEqual([]);
    expect(answer.results.map((r) => [r.id, r.status])).toEqual([[a, 'APPLIED'], [b, 'APPLIED'], [c, 'APPLIED']]);
    expect(answer.results.every((r) => r.oversold.length === 0)).toBe(true);
    expect((await level(locationId, sku)).onHand).toBe(before.onHand - 6);

    const adjusted = adjustedAt(seen, locationId, sku);
    expect(adjusted.map((e) => e.data.delta)).toEqual([-2, -3, -1]);
    expect(adjusted.map((e) => e.data.occurredAt)).toEqual([batch[1]!.occurredAt, batch[2]!.occurredAt, batch[0]!.occurredAt]);
    expect(adjusted.every((e) => e.data.reason === 'SALE' && e.source === 'POS')).toBe(true);
    expect(adjusted.map((e) => e.data.onHand)).toEqual([before.onHand - 2, before.onHand - 5, before.onHand - 6]);
  });

  it('a batch sent twice applies once: the second answer is all DUPLICATE, the levels stay, no second events', async () => {
    const { sku, locationId } = storeStock(10);
    const before = await level(locationId, sku);
    const batch = [sale(txnId('x'), minutesAgo(15), sku, 2), sale(txnId('y'), minutesAgo(14), sku, 1)];
    expect(payload(await sync(locationId, batch)).results.map((r) => r.status)).toEqual(['APPLIED', 'APPLIED']);
    expect((await level(locationId, sku)).onHand).toBe(before.onHand - 3);

    // The sentinel (a new sale after the repeat) is the signal that everything the repeat might have said was said.
    const sentinel = txnId('sentinel');
    let again!: ReturnType<typeof payload>;
    const seen = await eventsDuring(
      async () => {
        again = payload(await sync(locationId, batch));
        payload(await sync(locationId, [sale(sentinel, minutesAgo(1), sku, 1)]));
      },
      (s) => adjustedAt(s, locationId, sku).length >= 1,
    );
    expect(again.results.map((r) => [r.id, r.status])).toEqual(batch.map((t) => [t.id, 'DUPLICATE']));
    expect(adjustedAt(seen, locationId, sku).map((e) => e.data.delta)).toEqual([-1]);
    expect((await level(locationId, sku)).onHand).toBe(before.onHand - 4);
  });

  it('a batch that overlaps an earlier one applies only the new transactions', async () => {
    const { sku, locationId } = storeStock(10);
    const before = await level(locationId, sku);
    const [t1, t2, t3] = [txnId('1'), txnId('2'), txnId('3')];
    payload(await sync(locationId, [sale(t1, minutesAgo(40), sku, 1), sale(t2, minutesAgo(39), sku, 1)]));
    const overlap = payload(await sync(locationId, [sale(t2, minutesAgo(39), sku, 1), sale(t3, minutesAgo(38), sku, 2)]));
    expect(overlap.results.map((r) => [r.id, r.status])).toEqual([[t2, 'DUPLICATE'], [t3, 'APPLIED']]);
    expect((await level(locationId, sku)).onHand).toBe(before.onHand - 4);
  });

  it('a return recorded offline puts its units back', async () => {
    const { sku, locationId } = storeStock(3);
    const before = await level(locationId, sku);
    const answer = payload(await sync(locationId, [{ id: txnId('ret'), occurredAt: minutesAgo(5), kind: 'RETURN', lines: [{ sku, quantity: 2 }] }]));
    expect(answer.results.map((r) => r.status)).toEqual(['APPLIED']);
    expect((await level(locationId, sku)).onHand).toBe(before.onHand + 2);
  });

  it('oversold: units sold online meanwhile are sold offline too; the sale is applied and an OVERSOLD exception proposes the online order', async () => {
    const { sku, locationId } = storeStock(1, 4, true);
    const before = await level(locationId, sku);
    const units = before.available;
    // A shopper's pickup order takes the last units at the store.
    const placed = await stack.queryAs(shopper('cust-00007'), PLACE(), {
      input: { idempotencyKey: txnId('order'), channel: 'WEB', deliveryMethod: 'PICKUP', customerId: 'cust-00007', pickupLocationId: locationId, lines: [{ sku, quantity: units }] },
    });
    expect(placed.body.errors ?? []).toEqual([]);
    const order = (placed.body.data as any).placeOrder.order as { id: string; number: string };
    expect((placed.body.data as any).placeOrder.userErrors).toEqual([]);
    expect((await level(locationId, sku)).available).toBe(0);

    // The till, offline since before the order, sold the same units.
    const id = txnId('oversold');
    const occurredAt = minutesAgo(45);
    const answer = payload(await sync(locationId, [sale(id, occurredAt, sku, units)]));
    expect(answer.userErrors).toEqual([]);
    expect(answer.results).toHaveLength(1);
    const [result] = answer.results;
    expect(result).toMatchObject({ id, status: 'APPLIED', oversold: [{ sku, shortfall: units }] });
    const after = await level(locationId, sku);
    expect(after.onHand).toBe(before.onHand - units);
    expect(after.committed).toBe(before.committed + units);

    const exceptionId = result!.oversold[0]!.exceptionId;
    const listed = await pollUntil(async () => {
      const { body } = await stack.queryAs(AGENT, EXCEPTIONS, { kind: 'OVERSOLD', locationId });
      expect(body.errors ?? []).toEqual([]);
      return ((body.data as any).exceptions as any[]).find((e) => e.id === exceptionId);
    }, (e) => e !== undefined, 'the exception in the register');
    expect(listed).toMatchObject({
      kind: 'OVERSOLD',
      status: 'OPEN',
      sku,
      transactionId: id,
      quantity: units,
      shortfall: units,
      onHandShortfall: 0,
      occurredAt: new Date(occurredAt).toISOString(),
      location: { id: toGlobalId('Location', locationId) },
      variant: { sku },
    });
    expect(listed.proposal).toHaveLength(1);
    const [proposal] = listed.proposal;
    expect(proposal).toMatchObject({ order: { id: order.id, status: 'CONFIRMED' }, orderNumber: order.number, quantity: units });
    expect(['REROUTE', 'CANCEL']).toContain(proposal.action);
    if (proposal.action === 'REROUTE') expect(proposal.rerouteLocation?.id).not.toBe(toGlobalId('Location', locationId));
    else expect(proposal.rerouteLocation).toBeNull();

    // Operations see it too; a shopper and a store associate (even of that store) do not.
    const ops = await stack.queryAs(OPS, EXCEPTIONS, { kind: 'OVERSOLD', locationId });
    expect(((ops.body.data as any).exceptions as any[]).some((e) => e.id === exceptionId)).toBe(true);
    for (const caller of [shopper('cust-00007'), store(locationId), store('store-002')]) {
      const { body } = await stack.queryAs(caller, EXCEPTIONS, { kind: 'OVERSOLD' });
      expect((body.data as any)?.exceptions ?? null).toBeNull();
      expect((body.errors as any[]).map((e) => e.extensions?.code)).toContain('FORBIDDEN');
    }

    // Sent again: DUPLICATE, no second exception.
    const again = payload(await sync(locationId, [sale(id, occurredAt, sku, units)]));
    expect(again.results).toMatchObject([{ id, status: 'DUPLICATE', oversold: [] }]);
    const { body } = await stack.queryAs(AGENT, EXCEPTIONS, { kind: 'OVERSOLD', locationId, first: 100 });
    expect(((body.data as any).exceptions as any[]).filter((e) => e.transactionId === id)).toHaveLength(1);
  });

  it('a sale beyond what is on hand stops on hand at 0 and records the rest as an on-hand shortfall', async () => {
    const { sku, locationId } = storeStock(1, 3);
    const before = await level(locationId, sku);
    const answer = payload(await sync(locationId, [sale(txnId('over'), minutesAgo(3), sku, before.onHand + 2)]));
    // Nothing of it was sellable (shortfall: every unit beyond what was), and 2 units were not even on hand.
    expect(answer.results[0]).toMatchObject({ status: 'APPLIED', oversold: [{ sku, shortfall: before.onHand + 2 - before.available }] });
    expect((await level(locationId, sku)).onHand).toBe(0);
    const exceptionId = answer.results[0]!.oversold[0]!.exceptionId;
    const listed = await pollUntil(
      async () => (((await stack.queryAs(AGENT, EXCEPTIONS, { locationId })).body.data as any).exceptions as any[]).find((e) => e.id === exceptionId),
      (e) => e !== undefined,
      'the exception in the register',
    );
    expect(listed).toMatchObject({ onHandShortfall: 2, proposal: [] });
  });

  it('a store token of another location is FORBIDDEN, and nothing is applied', async () => {
    const { sku, locationId } = storeStock(3);
    const other = stack.sandbox.data.stores.find((s) => s.id !== locationId)!.id;
    const before = await level(locationId, sku);
    for (const caller of [store(other), AGENT, shopper('cust-00007')]) {
      const { body } = await sync(locationId, [sale(txnId('forbidden'), minutesAgo(2), sku)], caller);
      expect((body.data as any)?.syncStoreTransactions ?? null).toBeNull();
      expect((body.errors as any[]).map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    }
    expect((await level(locationId, sku)).onHand).toBe(before.onHand);
  });

  it('bad input is a coded error and applies nothing, not even the good transactions beside it', async () => {
    const { sku, locationId } = storeStock(3);
    const before = await level(locationId, sku);
    const good = sale(txnId('good'), minutesAgo(5), sku, 1);
    const cases: [unknown[], string[]][] = [
      [[good, sale(txnId('zero'), minutesAgo(4), sku, 0)], ['INVALID_INPUT@transactions.1.lines.0.quantity']],
      [[good, sale('x'.repeat(101), minutesAgo(4), sku)], ['INVALID_INPUT@transactions.1.id']],
      [[good, good], ['INVALID_INPUT@transactions.1.id']],
      [[good, sale(txnId('future'), new Date(Date.now() + 3_600_000).toISOString(), sku)], ['INVALID_INPUT@transactions.1.occurredAt']],
      [[good, sale(txnId('unknown'), minutesAgo(4), 'NO-SUCH-SKU')], ['UNKNOWN_SKU@transactions.1.lines.0.sku']],
      [[], ['INVALID_INPUT@transactions']],
      [Array.from({ length: 501 }, (_, i) => sale(`${good.id}-${i}`, minutesAgo(5), sku)), ['INVALID_INPUT@transactions']],
    ];
    for (const [transactions, expected] of cases) {
      const answer = payload(await sync(locationId, transactions));
      expect(answer.results).toEqual([]);
      expect(answer.userErrors.map((e) => `${e.code}@${e.field}`)).toEqual(expected);
    }
    // A time that is no DateTime at all is refused by the schema.
    const { body } = await sync(locationId, [sale(txnId('when'), 'yesterday', sku)]);
    expect(body.data?.syncStoreTransactions ?? null).toBeNull();
    expect(body.errors?.length).toBeGreaterThan(0);
    expect((await level(locationId, sku)).onHand).toBe(before.onHand);
    // Nothing was recorded under the good one's id either: alone, it applies.
    expect(payload(await sync(locationId, [good])).results.map((r) => r.status)).toEqual(['APPLIED']);
  });

  it('the register holds order exceptions beside OVERSOLD: the order and a sentence, no stock fields', async () => {
    // The way a flow about an order records one (a missed marketplace window, a reroute nowhere could take): into the
    // e-commerce register over the sandbox's RPC, as the orders subgraph's adapters do.
    const order = stack.sandbox.data.orders.find((o) => o.id.startsWith('ord-w'))!;
    const id = `exc-${process.pid}-${Date.now().toString(36)}-order`;
    const record = { id, kind: 'REROUTE_FAILED', status: 'OPEN', locationId: order.fulfillmentLocationId, sku: null, transactionId: null, quantity: null, shortfall: null, onHandShortfall: null, orderId: order.id, detail: 'no location can take 2 × SKU-X', occurredAt: minutesAgo(1), raisedAt: minutesAgo(0), proposal: [] };
    const recorded = await stack.sandboxCall('POST', '/sandbox/rpc/ecom/recordException', { args: [record] });
    expect(recorded.status).toBe(200);
    const ORDER_EXCEPTIONS = `query OrderExceptions($kind: ExceptionKind) { exceptions(kind: $kind, first: 100) { id kind sku transactionId quantity shortfall onHandShortfall detail order { id } variant { sku } location { id } } }`;
    const { body } = await stack.queryAs(AGENT, ORDER_EXCEPTIONS, { kind: 'REROUTE_FAILED' });
    expect(body.errors ?? []).toEqual([]);
    const found = ((body.data as any).exceptions as any[]).find((e) => e.id === id);
    expect(found).toEqual({
      id,
      kind: 'REROUTE_FAILED',
      sku: null,
      transactionId: null,
      quantity: null,
      shortfall: null,
      onHandShortfall: null,
      detail: 'no location can take 2 × SKU-X',
      order: { id: toGlobalId('Order', order.id) },
      variant: null,
      location: { id: toGlobalId('Location', order.fulfillmentLocationId) },
    });
    // OVERSOLD ones are not among them: the kind filters.
    const oversold = await stack.queryAs(AGENT, ORDER_EXCEPTIONS, { kind: 'OVERSOLD' });
    expect(((oversold.body.data as any).exceptions as any[]).some((e) => e.id === id)).toBe(false);
  });
});
