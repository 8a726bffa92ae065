import { describe, expect, it } from 'vitest';
import { TransportError } from '../common/resilience.js';
import type { StockRecord } from '../common/systems/records.js';
import { STOCK_WRITES, WRITE_METHODS, type SystemWrite } from '../common/systems/writes.js';
import { createSandbox } from './index.js';
import { generateSeedData } from './seed.js';
import { MemoryStockBook } from './stock-book.js';
import { EXPORT_STATE, IMPORT_STATE } from './state.js';
import { checkOfflineSale, checkReleaseAsSeen, checkReservationUnderReference, checkUnannouncedWrites } from '../test/support/stock-book-contract.js';

/*
 * The POS and the WMS keep their stock in the book they are given, below the fault and call-count layer: with a
 * shared book (Redis's in production; here a MemoryStockBook, which keeps the same contract) their stock calls
 * are still counted and faulted as the system's calls, and the shared book's writes are neither journaled nor
 * replayed by the sandbox (the book keeps its own state). Without one, each keeps its own in memory, journaled.
 */

const CONFIG = { seed: 42, scale: 0.05 };
const data = generateSeedData(CONFIG);
const storeId = data.stores[0]!.id;
const warehouseId = data.warehouses[0]!.id;
const sku = data.stock.find((s) => s.locationId === storeId)!.sku;

function sharedBook() {
  return new MemoryStockBook(data.stock.map((s) => ({ ...s })));
}

describe('the sandbox stock book', () => {
  it('the POS and WMS answer stock from the shared book they are given, and write to it', async () => {
    const book = sharedBook();
    const { systems } = createSandbox(CONFIG, { data, stock: book });
    const [before] = (await book.getStock([{ sku, locationId: storeId }])) as [StockRecord];
    const onHand = before.onHand;
    const moved = await systems.pos.adjustStock({ sku, locationId: storeId, onHandDelta: 3 });
    expect(moved).toMatchObject({ ok: true, record: { onHand: onHand + 3 } });
    expect((await book.getStock([{ sku, locationId: storeId }]))[0]?.onHand).toBe(onHand + 3);
    // One book for both: a warehouse's record is there through the POS too, as it is in Redis.
    const warehouseSku = data.stock.find((s) => s.locationId === warehouseId)!.sku;
    expect((await systems.pos.getStock([{ sku: warehouseSku, locationId: warehouseId }]))[0]).toEqual((await systems.wms.getStock([{ sku: warehouseSku, locationId: warehouseId }]))[0]);
  });

  it('counts stock calls on a shared book as the system’s calls, and a fault set on the system fails them before the book is touched', async () => {
    const book = sharedBook();
    const { systems, control } = createSandbox(CONFIG, { data, stock: book });
    const onHand = (await book.getStock([{ sku, locationId: storeId }]))[0]!.onHand;
    await systems.pos.getStock([{ sku, locationId: storeId }]);
    control.setFault('pos', { down: true });
    await expect(systems.pos.adjustStock({ sku, locationId: storeId, onHandDelta: 5 })).rejects.toBeInstanceOf(TransportError);
    await expect(systems.pos.commitStock(storeId, [{ sku, quantity: 1, safetyStock: 0 }])).rejects.toBeInstanceOf(TransportError);
    expect(control.calls().pos).toEqual({ getStock: 1, adjustStock: 1, commitStock: 1 });
    expect((await book.getStock([{ sku, locationId: storeId }]))[0]!.onHand).toBe(onHand);
    control.clearFaults();
    await systems.pos.adjustStock({ sku, locationId: storeId, onHandDelta: 5 });
    expect((await book.getStock([{ sku, locationId: storeId }]))[0]!.onHand).toBe(onHand + 5);
  });

  it('journals no stock write to a shared book, but every other write of the POS and WMS', async () => {
    const writes: SystemWrite[] = [];
    const { systems } = createSandbox(CONFIG, { data, stock: sharedBook(), onWrite: async (write) => void writes.push(write) });
    await systems.pos.adjustStock({ sku, locationId: storeId, onHandDelta: 1 });
    await systems.wms.releaseStock(warehouseId, [{ sku, quantity: 1 }]);
    await systems.wms.recordDelivery('ord-none', '2026-01-01T00:00:00.000Z');
    expect(writes.map((w) => `${w.system}.${w.method}`)).toEqual(['wms.recordDelivery']);
  });

  it('journals the stock writes of its own books, and a replay applies them; a replay into a shared book skips them', async () => {
    const writes: SystemWrite[] = [];
    const own = createSandbox(CONFIG, { data: generateSeedData(CONFIG), onWrite: async (write) => void writes.push(write) });
    const onHand = (await own.systems.pos.getStock([{ sku, locationId: storeId }]))[0]!.onHand;
    await own.systems.pos.adjustStock({ sku, locationId: storeId, onHandDelta: 2 });
    expect(writes.map((w) => `${w.system}.${w.method}`)).toEqual(['pos.adjustStock']);

    const replayed = createSandbox(CONFIG, { data: generateSeedData(CONFIG), replay: writes });
    expect((await replayed.systems.pos.getStock([{ sku, locationId: storeId }]))[0]!.onHand).toBe(onHand + 2);

    const book = sharedBook();
    createSandbox(CONFIG, { data, stock: book, replay: writes });
    expect((await book.getStock([{ sku, locationId: storeId }]))[0]!.onHand).toBe(onHand);
  });

  it('refuses to replay a journal line that names no write of its system', () => {
    const read = { system: 'pos', method: 'getStock', args: [[]], at: '2026-01-01T00:00:00.000Z' } as unknown as SystemWrite;
    expect(() => createSandbox(CONFIG, { data, replay: [read] })).toThrow(/pos\.getStock, which is not a write of pos/);
  });
});

describe('the one list of writes', () => {
  it('names methods each system has, and the stock writes are writes of both the POS and the WMS', () => {
    const { systems } = createSandbox(CONFIG, { data });
    for (const [system, methods] of Object.entries(WRITE_METHODS)) {
      for (const method of methods) expect(typeof (systems as unknown as Record<string, Record<string, unknown>>)[system]?.[method], `${system}.${method}`).toBe('function');
    }
    expect(WRITE_METHODS.pos).toEqual(expect.arrayContaining([...STOCK_WRITES]));
    expect(WRITE_METHODS.wms).toEqual(expect.arrayContaining([...STOCK_WRITES]));
    expect(WRITE_METHODS.pos).not.toContain('getStock');
  });
});

describe('MemoryStockBook: commitments under a checkout reference', () => {
  const rec = (sku: string, locationId: string, onHand: number): StockRecord => ({ sku, locationId, onHand, committed: 0, reserved: 0, damaged: 0 });
  it('commits once per reference, lists it while open (not once settled), ends it once: released or fulfilled', async () => {
    const book = new MemoryStockBook([rec('A', 'S1', 10), rec('A', 'W1', 10)]);
    const at = '2030-01-01T00:00:00.000Z';
    const line = [{ sku: 'A', quantity: 2, safetyStock: 0 }];
    expect(await book.commitStock('S1', line, { reference: 'chk-1', at })).toEqual({ ok: true });
    expect(await book.commitStock('S1', line, { reference: 'chk-1', at })).toEqual({ ok: true });
    expect(await book.commitStock('W1', line, { reference: 'chk-2', at })).toEqual({ ok: true });
    expect((await book.getStock([{ sku: 'A', locationId: 'S1' }]))[0]?.committed).toBe(2);
    expect((await book.openCommitments('2030-01-01T00:00:01.000Z', 10)).map((c) => c.reference)).toEqual(['chk-1', 'chk-2']);
    expect(await book.openCommitments(at, 10)).toEqual([]);
    expect([await book.releaseCommitment('S1', 'chk-1'), await book.releaseCommitment('S1', 'chk-1')]).toEqual([true, false]);
    expect((await book.getStock([{ sku: 'A', locationId: 'S1' }]))[0]?.committed).toBe(0);
    await book.settleCommitment('W1', 'chk-2');
    expect(await book.openCommitments('2030-01-02T00:00:00.000Z', 10)).toEqual([]);
    // Settled, it is the order's: its hand-over ends it, once.
    expect(await book.commitStock('W1', line, { reference: 'chk-2', at })).toEqual({ ok: true });
    expect([await book.fulfillCommitment('W1', 'chk-2'), await book.fulfillCommitment('W1', 'chk-2'), await book.releaseCommitment('W1', 'chk-2')]).toEqual([true, false, false]);
    expect((await book.getStock([{ sku: 'A', locationId: 'W1' }]))[0]).toMatchObject({ onHand: 8, committed: 0 });
  });
});

describe('MemoryStockBook: adjustments under a reference', () => {
  it('a repeat of an applied adjustment answers the first result and moves nothing', async () => {
    const book = new MemoryStockBook([{ sku: 'A', locationId: 'S1', onHand: 5, committed: 0, reserved: 0, damaged: 0 }]);
    const first = await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: 3, reference: 'adj-1' });
    const again = await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: 3, reference: 'adj-1' });
    expect(first).toMatchObject({ ok: true, previousOnHand: 5, record: { onHand: 8 } });
    // Marked as a repeat: an offline till's sync answers such a line DUPLICATE.
    expect(again).toEqual({ ok: true, previousOnHand: 5, record: { sku: 'A', locationId: 'S1', onHand: 8, committed: 0, reserved: 0, damaged: 0 }, repeated: true });
    expect(first).not.toHaveProperty('repeated');
    expect((await book.getStock([{ sku: 'A', locationId: 'S1' }]))[0]?.onHand).toBe(8);
    // Another reference is another movement; a refused one is not remembered (its repeat is decided again).
    expect(await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: 1, reference: 'adj-2' })).toMatchObject({ ok: true, record: { onHand: 9 } });
    expect(await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: -99, reference: 'adj-3' })).toMatchObject({ ok: false, reason: 'NEGATIVE_STOCK' });
    expect(await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: -9, reference: 'adj-3' })).toMatchObject({ ok: true, record: { onHand: 0 } });
  });
});

describe('MemoryStockBook: unannounced writes', () => {
  it('keeps each write\'s unannounced record with the write until it is marked announced, across a snapshot too', async () => {
    const book = new MemoryStockBook([{ sku: 'A', locationId: 'S1', onHand: 10, committed: 0, reserved: 0, damaged: 0 }]);
    await checkUnannouncedWrites(book);
    const restored = new MemoryStockBook([]);
    restored[IMPORT_STATE](JSON.parse(JSON.stringify(book[EXPORT_STATE]())));
    const later = new Date(Date.now() + 60_000).toISOString();
    expect(await restored.unannouncedWrites(later, 100)).toEqual(await book.unannouncedWrites(later, 100));
    expect(await restored.unannouncedWrites(later, 100)).toHaveLength(4);
  });
});

describe('MemoryStockBook: recovery\'s release', () => {
  it('gives a commitment back as recovery saw it only while it is still open so: not once a retry made it again, nor once settled', async () => {
    await checkReleaseAsSeen(new MemoryStockBook([{ sku: 'A', locationId: 'S1', onHand: 10, committed: 0, reserved: 0, damaged: 0 }]));
  });
});

describe('MemoryStockBook: an offline till’s sale', () => {
  it('applies below what is promised, answers a repeat as one, and keeps the till’s time and the exception with the write', async () => {
    await checkOfflineSale(new MemoryStockBook([{ sku: 'A', locationId: 'S1', onHand: 10, committed: 0, reserved: 0, damaged: 0 }]));
  });
});

describe('MemoryStockBook: reservations under a reference', () => {
  it('a repeat under the reference answers the first reservation and holds nothing more, also once it ended', async () => {
    await checkReservationUnderReference(new MemoryStockBook([{ sku: 'A', locationId: 'S1', onHand: 10, committed: 0, reserved: 0, damaged: 0 }]));
  });
});
