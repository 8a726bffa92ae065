import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JournaledWrites } from '../common/durable.js';
import { Journal } from '../common/journal.js';
import { mulberry32 } from '../common/seeded-random.js';
import type { SystemWrite } from '../common/systems/writes.js';
import { createSandbox, type Sandbox } from './index.js';
import { generateSeedData } from './seed.js';
import { EXPORT_STATE } from './state.js';

/*
 * A sandbox snapshot holds the systems' state, not their writes: a sandbox restored from one (plus the writes after
 * it) must answer exactly as one that replayed every write from the seed, and go on from there the same way (the
 * next order id, invoice number, reservation id, document number).
 */

const CONFIG = { seed: 42, scale: 0.05 };
const data = generateSeedData(CONFIG);
const stores = data.stores.map((s) => s.id);
const warehouse = data.warehouses[0]!.id;
const skus = data.variants.slice(0, 12).map((v) => v.sku);
const customers = data.customers.slice(0, 5).map((c) => c.id);

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A sandbox whose writes are collected in `writes`, as the DATA_DIR journal would have them. */
function recording(options: { replay?: readonly SystemWrite[] } = {}): { sandbox: Sandbox; writes: SystemWrite[] } {
  const writes: SystemWrite[] = [];
  const sandbox = createSandbox(CONFIG, { data: generateSeedData(CONFIG), ...options, onWrite: async (write) => void writes.push(write) });
  return { sandbox, writes };
}

/**
 * Mixed traffic on every system with a write: checkouts (with references), pickups, shipments, payments voided and
 * refunded, returns, postings, invoices, stock moves, reservations held, released and expired, master-data changes.
 */
async function traffic(sandbox: Sandbox, seed: number, rounds: number): Promise<void> {
  const { erp, pos, wms, psp, ecom } = sandbox.direct!;
  const random = mulberry32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  for (let round = 0; round < rounds; round++) {
    const store = pick(stores);
    const sku = pick(skus);
    const customerId = pick(customers);
    const reference = `chk-${seed}-${round}`;
    const at = new Date(Date.UTC(2026, 10, 1, 9, 0, round)).toISOString();
    await pos.adjustStock({ sku, locationId: store, onHandDelta: 2 });
    await pos.commitStock(store, [{ sku, quantity: 1, safetyStock: 0 }], { reference, at });
    const pickup = random() < 0.5;
    const order = await (random() < 0.2 ? pos : ecom).createOrder({
      customerId: random() < 0.1 ? null : customerId,
      channel: 'WEB',
      deliveryMethod: pickup ? 'PICKUP' : 'SHIPPING',
      status: 'PLACED',
      pickupLocationId: pickup ? store : null,
      fulfillmentLocationId: store,
      lines: [{ sku, quantity: 1, unitPriceMinor: 1000 + round }],
      currency: 'EUR',
      totalMinor: 1000 + round,
      placedAt: random() < 0.3 ? new Date(Date.UTC(2026, 9, 1 + (round % 20))).toISOString() : at,
      correlationId: `corr-${round}`,
      checkoutReference: reference,
    });
    await pos.settleCommitment(store, reference);
    const system = order.id.startsWith('ord-s') ? pos : ecom;
    await psp.authorize({ orderId: order.id, amountMinor: order.totalMinor, currency: 'EUR', method: 'CARD', token: random() < 0.1 ? 'tok_decline' : null });
    await system.compareAndSetStatus(order.id, 'PLACED', 'CONFIRMED', `${order.id}:confirm`);
    if (random() < 0.7) await system.settleMove(order.id, `${order.id}:confirm`);
    const fate = random();
    if (fate < 0.2) {
      await system.compareAndSetStatus(order.id, 'CONFIRMED', 'CANCELLED', `${order.id}:cancel`);
      await psp.voidPayment(order.id);
      await pos.releaseStock(store, [{ sku, quantity: 1 }]);
    } else if (pickup) {
      await system.compareAndSetStatus(order.id, 'CONFIRMED', 'READY_FOR_PICKUP', null);
      if (fate < 0.8) {
        await system.compareAndSetStatus(order.id, 'READY_FOR_PICKUP', 'PICKED_UP', null);
        await pos.fulfillStock(store, [{ sku, quantity: 1 }]);
        await erp.issueInvoice({ id: `inv-${order.id}`, orderId: order.id, totalMinor: order.totalMinor, currency: 'EUR' });
        await erp.postJournal({ id: `post-${order.id}`, orderId: order.id, type: 'SALE', amountMinor: order.totalMinor, currency: 'EUR', postingDate: at, attempt: 1 });
        if (fate < 0.4) {
          const requested = await system.createReturn({ orderId: order.id, reason: 'too small', lines: [{ sku, quantity: 1 }], requestedAt: at });
          if (requested.ok) {
            await system.setReturnStatus(requested.record.id, 'REQUESTED', 'RECEIVED', at);
            await psp.refund({ orderId: order.id, amountMinor: order.totalMinor, currency: 'EUR', reason: 'return', reference: requested.record.id, createdAt: at });
            await erp.postJournalBatch([{ id: `post-${requested.record.id}`, orderId: order.id, type: 'RETURN', amountMinor: order.totalMinor, currency: 'EUR', postingDate: at }]);
          }
        }
      }
    } else {
      await wms.recordShipment({ orderId: order.id, carrier: 'DHL', trackingNumber: `trk-${round}`, shippedAt: at });
      if (fate < 0.6) await wms.recordDelivery(order.id, at);
      await system.setStatus(order.id, 'SHIPPED');
    }
    const hold = await wms.reserveStock(warehouse, [{ sku, quantity: 1, safetyStock: 0 }], { expiresAt: new Date(Date.UTC(2026, 10, 1, 10, round % 7)).toISOString(), holder: `cart-${round}` });
    if (hold.ok && random() < 0.3) await wms.releaseReservation(hold.reservation.id, `cart-${round}`);
    if (round % 5 === 4) await wms.expireReservations(new Date(Date.UTC(2026, 10, 1, 10, 3)).toISOString());
    if (round % 4 === 0) await erp.changeItem({ sku, listPriceMinor: 2000 + round });
    if (round % 6 === 0) await erp.setStockPolicy({ sku, locationId: store, safetyStock: round % 3 });
    if (round === 3) await erp.addProduct({ id: `prod-zz-${seed}`, name: 'Snapshot Boot', brand: 'Halden', category: 'shoes', variants: [{ sku: `SKU-ZZ-${seed}`, name: 'Snapshot Boot 42', listPriceMinor: 9900, currency: 'EUR' }] });
    if (round === 5) await pos.commitStock(store, [{ sku, quantity: 1, safetyStock: 0 }], { reference: `open-${seed}`, at });
  }
}

/** Every system's whole state, and what its indexes answer (the orders of each customer newest first, the pickup queues, …). */
async function answers(sandbox: Sandbox) {
  const { erp, pos, wms, psp, ecom } = sandbox.direct!;
  const state = JSON.parse(JSON.stringify([erp, pos, wms, psp, ecom].map((s) => s[EXPORT_STATE]()))) as unknown;
  const orders = (state as { orders?: { id: string; customerId: string | null; number: string; checkoutReference?: string | null }[] }[]).flatMap((s) => s.orders ?? []);
  const ids = orders.map((o) => o.id);
  const customerIds = [...new Set(orders.map((o) => o.customerId).filter((c): c is string => c !== null))];
  const references = orders.flatMap((o) => (o.checkoutReference ? [o.checkoutReference] : []));
  const reads = await Promise.all([
    ecom.getOrdersByCustomer(customerIds),
    pos.getOrdersByCustomer(customerIds),
    ecom.getPickupQueue(stores),
    ecom.getOrdersByCheckout(references),
    pos.getOrdersByCheckout(references),
    ecom.getOrdersByNumber(orders.map((o) => o.number)),
    ecom.getReturnsByOrder(ids),
    ecom.listByStatus('CONFIRMED', '2100-01-01T00:00:00.000Z', 10_000),
    psp.getPaymentsByOrder(ids),
    psp.getRefundsByOrder(ids),
    wms.getShipmentsByOrder(ids),
    erp.getInvoicesByOrder(ids),
    erp.getPostingsByOrder(ids),
    erp.getPostingsByDate('2000-01-01T00:00:00.000Z', '2100-01-01T00:00:00.000Z'),
    erp.getVariantsByProduct(data.products.slice(0, 20).map((p) => p.id).concat([1, 2, 3, 4, 5, 6].map((seed) => `prod-zz-${seed}`))),
    erp.searchProducts({ query: 'boot', limit: 50, offset: 0 }),
    erp.getMasterDataChanges(0, 5000),
    pos.openCommitments('2100-01-01T00:00:00.000Z', 1000),
  ]);
  return JSON.parse(JSON.stringify({ state, reads })) as unknown;
}

/** A snapshot as the journal writes and reads it: taken at the instant, written, parsed at the next start. */
function throughDisk(records: Iterable<unknown>): unknown[] {
  return [...records].map((r) => JSON.parse(JSON.stringify(r)) as unknown);
}

describe('the sandbox state snapshot', () => {
  it('restored, with the writes after it, answers as a replay of every write from the seed, and goes on the same way', async () => {
    const live = recording();
    await traffic(live.sandbox, 1, 40);
    // Taken at the instant and written while the systems go on, as the journal does: later writes must not reach it.
    const taken = [...live.sandbox.journaled.snapshot()];
    const before = live.writes.length;
    await traffic(live.sandbox, 2, 25);
    const later = live.writes.slice(before);
    const snapshot = throughDisk(taken);

    const replayed = recording({ replay: live.writes });
    const restored = recording();
    restored.sandbox.journaled.restore(snapshot);
    for (const write of later) restored.sandbox.journaled.replay(write);

    const expected = await answers(live.sandbox);
    expect(await answers(replayed.sandbox)).toEqual(expected);
    expect(await answers(restored.sandbox)).toEqual(expected);

    // The same traffic again on each: the same ids, numbers and sequences follow (at other times: the times of
    // these calls are masked).
    const from = Date.now();
    await traffic(replayed.sandbox, 3, 15);
    await traffic(restored.sandbox, 3, 15);
    const masked = (value: unknown) => JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' && ISO.test(v) && Date.parse(v) >= from ? 'now' : v))) as unknown;
    expect(masked(await answers(restored.sandbox))).toEqual(masked(await answers(replayed.sandbox)));
    expect(restored.writes.map((w) => w.method)).toEqual(replayed.writes.map((w) => w.method));
  });

  it('keeps what the seed sorts (the orders of a customer, the pickup queues) as the constructor sorted it', async () => {
    const live = recording();
    const restored = recording();
    restored.sandbox.journaled.restore(throughDisk(live.sandbox.journaled.snapshot()));
    expect(await answers(restored.sandbox)).toEqual(await answers(live.sandbox));
  });

  it('refuses a snapshot of another seed or format, or one without a system, with a coded error', () => {
    const records = throughDisk(recording().sandbox.journaled.snapshot()) as Record<string, unknown>[];
    const [header, ...rest] = records;
    const restore = (list: unknown[]) => () => recording().sandbox.journaled.restore(list);
    expect(restore([{ ...header, seed: 7 }, ...rest])).toThrow(/JOURNAL_SNAPSHOT_INCOMPATIBLE: .*seed 7 .*SANDBOX_SEED/);
    expect(restore([{ ...header, format: 99 }, ...rest])).toThrow(/JOURNAL_SNAPSHOT_INCOMPATIBLE: .*format 99/);
    expect(restore(rest)).toThrow(/JOURNAL_SNAPSHOT_CORRUPT/);
    expect(restore([header, ...rest.filter((r) => r.s !== 'psp')])).toThrow(/JOURNAL_SNAPSHOT_CORRUPT: .*PSP/);
    expect(restore([header, ...rest.filter((r) => !(r.s === 'erp' && r.p === 'masterSequence'))])).toThrow(/JOURNAL_SNAPSHOT_CORRUPT: .*masterSequence/);
  });

  it('with a shared stock book, leaves stock out of the snapshot and out of a restore', async () => {
    const { MemoryStockBook } = await import('./stock-book.js');
    const book = new MemoryStockBook(data.stock.map((s) => ({ ...s })));
    const shared = createSandbox(CONFIG, { data: generateSeedData(CONFIG), stock: book });
    const records = throughDisk(shared.journaled.snapshot()) as { s?: string; p?: string }[];
    expect(records.filter((r) => r.p === 'stock' || r.p === 'reservations')).toEqual([]);
    const own = throughDisk(recording().sandbox.journaled.snapshot()) as { s?: string; p?: string }[];
    expect(own.filter((r) => r.s === 'pos' && r.p === 'stock').length).toBeGreaterThan(0);
    // A snapshot with stock, restored over a shared book, leaves the book alone.
    await shared.direct!.pos.adjustStock({ sku: skus[0]!, locationId: stores[0]!, onHandDelta: 5 });
    const [onHand] = await book.getStock([{ sku: skus[0]!, locationId: stores[0]! }]);
    shared.journaled.restore(own);
    expect((await book.getStock([{ sku: skus[0]!, locationId: stores[0]! }]))[0]).toEqual(onHand);
  });
});

describe('JournaledWrites with the sandbox attached', () => {
  /** A sandbox on the journal in `dir`, as stack.ts wires it: attached before the replay. */
  async function open(dir: string) {
    const journal = await Journal.create(dir, { compactOnClose: false, compactAfterStartMs: 1_000_000 });
    const writes = new JournaledWrites(journal);
    const sandbox = createSandbox(CONFIG, { data: generateSeedData(CONFIG), onWrite: (write) => writes.record(write) });
    writes.attach(sandbox.journaled);
    const stats = await journal.replay();
    return { journal, writes, sandbox, stats };
  }

  it('compacts into the systems\' state, and a restart from it with the entries after it answers as before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-snapshot-'));
    dirs.push(dir);
    const first = await open(dir);
    await traffic(first.sandbox, 4, 30);
    await first.journal.compact();
    await traffic(first.sandbox, 5, 10);
    const expected = await answers(first.sandbox);
    await first.journal.close();

    const snapshot = readFileSync(join(dir, 'journal.snapshot.ndjson'), 'utf8');
    expect(snapshot).toContain('"k":"sandbox-state"');
    expect(snapshot).not.toContain('"t":"call"');
    const second = await open(dir);
    expect(second.stats.snapshotRecords).toBeGreaterThan(0);
    // Nothing is kept aside: the writes went into the systems.
    expect(second.writes.list()).toEqual([]);
    expect(await answers(second.sandbox)).toEqual(expected);
    await second.journal.close();
  });

  it('reads a snapshot of writes (written before snapshots held state) and writes state at the next compaction', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-snapshot-old-'));
    dirs.push(dir);
    // Without systems attached, the snapshot holds the writes as they came: the format of earlier versions.
    const journal = await Journal.create(dir, { compactOnClose: false, compactAfterStartMs: 1_000_000 });
    const writes = new JournaledWrites(journal);
    const live = createSandbox(CONFIG, { data: generateSeedData(CONFIG), onWrite: (write) => writes.record(write) });
    await journal.replay();
    await traffic(live, 6, 20);
    await journal.compact();
    await journal.close();
    expect(readFileSync(join(dir, 'journal.snapshot.ndjson'), 'utf8')).toContain('"r":{"t":"call"');

    const reopened = await open(dir);
    expect(await answers(reopened.sandbox)).toEqual(await answers(live));
    await reopened.journal.compact();
    await reopened.journal.close();
    const again = readFileSync(join(dir, 'journal.snapshot.ndjson'), 'utf8');
    expect(again).toContain('"k":"sandbox-state"');
    expect(again).not.toContain('"t":"call"');
  });
});
