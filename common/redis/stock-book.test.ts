import { beforeAll, describe, expect, it } from 'vitest';
import type { StockRecord } from '../systems/records.js';
import { isCluster, type RedisClient } from './connection.js';
import { keysOf, REDIS_TOPOLOGIES, useRedisServer } from '../../test/support/redis.js';
import { slotOf } from './keys.js';
import { RedisStockBook } from './stock-book.js';
import { checkOfflineSale, checkReleaseAsSeen, checkReservationUnderReference, checkUnannouncedWrites } from '../../test/support/stock-book-contract.js';

describe.each(REDIS_TOPOLOGIES)('%s', (topology) => {
  const redisServer = useRedisServer(['stock-test-a', 'stock-test-b'], { topology });
  const { freshPrefix } = redisServer;
  let a: RedisClient;
  let b: RedisClient;

  beforeAll(() => {
    [a, b] = redisServer.clients as [RedisClient, RedisClient];
  });


  const rec = (sku: string, locationId: string, onHand: number, committed = 0, reserved = 0, damaged = 0): StockRecord => ({ sku, locationId, onHand, committed, reserved, damaged });

  /** A book on client `a` with `records` loaded, in a fresh namespace. */
  async function bookWith(records: StockRecord[], options: { expireBatch?: number } = {}): Promise<{ book: RedisStockBook; prefix: string }> {
    const prefix = freshPrefix();
    const book = new RedisStockBook({ redis: a, prefix, ...options });
    await book.load(records, 'seed');
    return { book, prefix };
  }

  const available = (r: StockRecord | null, safetyStock = 0) => (r ? Math.max(0, r.onHand - r.committed - r.reserved - r.damaged - safetyStock) : 0);

  describe(`RedisStockBook (${topology} Redis)`, () => {
    describe('load and getStock', () => {
      it('reads records in key order, null where there is none', async () => {
        const { book } = await bookWith([rec('A', 'S1', 5, 1, 2, 1), rec('B', 'S1', 3), rec('A', 'S2', 7)]);
        expect(await book.getStock([{ sku: 'A', locationId: 'S2' }, { sku: 'X', locationId: 'S1' }, { sku: 'A', locationId: 'S1' }, { sku: 'B', locationId: 'S1' }])).toEqual([
          rec('A', 'S2', 7),
          null,
          rec('A', 'S1', 5, 1, 2, 1),
          rec('B', 'S1', 3),
        ]);
        expect(await book.getStock([])).toEqual([]);
      });

      it('writes only where no record exists, once per tag, and never overwrites a changed record', async () => {
        const prefix = freshPrefix();
        const one = new RedisStockBook({ redis: a, prefix });
        const two = new RedisStockBook({ redis: b, prefix });
        await one.load([rec('A', 'S1', 5), rec('B', 'S1', 5)], 'seed-1');
        expect(await a.exists(`${prefix}:stock:seeded:seed-1`)).toBe(1);
        expect(await a.hgetall(`${prefix}:stock:{S1}:A`)).toEqual({ onHand: '5', committed: '0', reserved: '0', damaged: '0' });
        expect(await one.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: -2 })).toMatchObject({ ok: true });
        // The marker: the same tag does nothing at all, not even for records that are missing.
        await two.load([rec('A', 'S1', 99), rec('C', 'S1', 99)], 'seed-1');
        expect(await two.getStock([{ sku: 'A', locationId: 'S1' }, { sku: 'C', locationId: 'S1' }])).toEqual([rec('A', 'S1', 3), null]);
        // Another tag (or a load that raced past the marker): only absent records are written.
        await two.load([rec('A', 'S1', 99), rec('B', 'S1', 99), rec('C', 'S1', 4)], 'seed-2');
        expect(await two.getStock([{ sku: 'A', locationId: 'S1' }, { sku: 'B', locationId: 'S1' }, { sku: 'C', locationId: 'S1' }])).toEqual([
          rec('A', 'S1', 3),
          rec('B', 'S1', 5),
          rec('C', 'S1', 4),
        ]);
      });

      // Batched (a pipeline per batch, per node on a cluster): no wall-clock bound here, the time it takes is
      // the benchmark's business; the generous timeout only keeps a busy machine from failing it.
      it('loads 37,500 records in batches, also when two instances load at once', { timeout: 60_000 }, async () => {
        const prefix = freshPrefix();
        const records = Array.from({ length: 37_500 }, (_, i) => rec(`SKU-${i % 2_500}`, `LOC-${Math.floor(i / 2_500)}`, i % 17, i % 3, i % 2, 0));
        await Promise.all([new RedisStockBook({ redis: a, prefix }).load(records, 'big'), new RedisStockBook({ redis: b, prefix }).load(records, 'big')]);
        expect(await keysOf(a, `${prefix}:stock:{LOC-*`)).toHaveLength(37_500);
        const sample = [records[0]!, records[12_345]!, records[37_499]!];
        expect(await new RedisStockBook({ redis: a, prefix }).getStock(sample)).toEqual(sample);
        // One slot per location (15 here), and on a cluster the locations spread over its masters.
        expect(new Set(records.map((r) => slotOf(`${prefix}:stock:{${r.locationId}}:${r.sku}`))).size).toBe(15);
        if (isCluster(a)) {
          const perMaster = await Promise.all(a.nodes('master').map((node) => node.keys(`${prefix}:stock:{LOC-*`)));
          expect(perMaster.filter((keys) => keys.length > 0).length).toBeGreaterThan(1);
        }
      });
    });

    describe('commit, release, fulfil', () => {
      it('commits all lines or none, reporting every short line with what is sellable after safety stock', async () => {
        const { book } = await bookWith([rec('A', 'S1', 10, 2, 1, 1), rec('B', 'S1', 4)]);
        // A: 10 - 2 - 1 - 1 - 3 = 3 sellable; B: 4 - 1 = 3; C: no record.
        expect(await book.commitStock('S1', [{ sku: 'A', quantity: 4, safetyStock: 3 }, { sku: 'B', quantity: 3, safetyStock: 1 }, { sku: 'C', quantity: 1, safetyStock: 0 }])).toEqual({
          ok: false,
          shortages: [
            { sku: 'A', available: 3 },
            { sku: 'C', available: 0 },
          ],
        });
        // Safety stock larger than what is left: available is floored at 0.
        expect(await book.commitStock('S1', [{ sku: 'B', quantity: 1, safetyStock: 9 }])).toEqual({ ok: false, shortages: [{ sku: 'B', available: 0 }] });
        expect(await book.getStock([{ sku: 'A', locationId: 'S1' }, { sku: 'B', locationId: 'S1' }])).toEqual([rec('A', 'S1', 10, 2, 1, 1), rec('B', 'S1', 4)]);
        expect(await book.commitStock('S1', [{ sku: 'A', quantity: 3, safetyStock: 3 }, { sku: 'B', quantity: 3, safetyStock: 1 }])).toEqual({ ok: true });
        expect(await book.getStock([{ sku: 'A', locationId: 'S1' }, { sku: 'B', locationId: 'S1' }])).toEqual([rec('A', 'S1', 10, 5, 1, 1), rec('B', 'S1', 4, 3)]);
        expect(await book.commitStock('S1', [])).toEqual({ ok: true });
      });

      it('checks a SKU that appears twice line by line, as the sandbox does', async () => {
        const { book } = await bookWith([rec('A', 'S1', 5)]);
        expect(await book.commitStock('S1', [{ sku: 'A', quantity: 3, safetyStock: 0 }, { sku: 'A', quantity: 3, safetyStock: 0 }])).toEqual({ ok: true });
        expect(await book.getStock([{ sku: 'A', locationId: 'S1' }])).toEqual([rec('A', 'S1', 5, 6)]);
      });

      it('releases and fulfils never below zero, keeping damaged within on hand, and skips missing records', async () => {
        const { book } = await bookWith([rec('A', 'S1', 5, 3, 0, 4), rec('B', 'S1', 10, 6, 1, 1)]);
        await book.releaseStock('S1', [{ sku: 'A', quantity: 5 }, { sku: 'B', quantity: 2 }, { sku: 'C', quantity: 1 }]);
        expect(await book.getStock([{ sku: 'A', locationId: 'S1' }, { sku: 'B', locationId: 'S1' }, { sku: 'C', locationId: 'S1' }])).toEqual([
          rec('A', 'S1', 5, 0, 0, 4),
          rec('B', 'S1', 10, 4, 1, 1),
          null,
        ]);
        await book.fulfillStock('S1', [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 12 }, { sku: 'C', quantity: 1 }]);
        expect(await book.getStock([{ sku: 'A', locationId: 'S1' }, { sku: 'B', locationId: 'S1' }, { sku: 'C', locationId: 'S1' }])).toEqual([
          rec('A', 'S1', 3, 0, 0, 3),
          rec('B', 'S1', 0, 0, 1, 0),
          null,
        ]);
      });
    });

    describe('commitments under a checkout reference', () => {
      it('commits once per reference, lists it while open (not once settled), ends it once from either instance', async () => {
        const { book, prefix } = await bookWith([rec('A', 'S1', 10), rec('B', 'S1', 10), rec('A', 'W1', 10)]);
        const other = new RedisStockBook({ redis: b, prefix });
        const at = '2030-01-01T00:00:00.000Z';
        const lines = [{ sku: 'A', quantity: 2, safetyStock: 0 }, { sku: 'B', quantity: 1, safetyStock: 0 }];
        expect(await book.commitStock('S1', lines, { reference: 'chk-1', at })).toEqual({ ok: true });
        // The same reference again (a lost answer): nothing more is committed.
        expect(await other.commitStock('S1', lines, { reference: 'chk-1', at })).toEqual({ ok: true });
        expect(await book.commitStock('W1', [{ sku: 'A', quantity: 4, safetyStock: 0 }], { reference: 'chk-2', at: '2030-01-01T00:00:05.000Z' })).toEqual({ ok: true });
        expect((await book.getStock([{ sku: 'A', locationId: 'S1' }, { sku: 'B', locationId: 'S1' }])).map((r) => r?.committed)).toEqual([2, 1]);
        // A shortage keeps nothing open.
        expect((await book.commitStock('S1', [{ sku: 'A', quantity: 99, safetyStock: 0 }], { reference: 'chk-3', at })).ok).toBe(false);

        expect((await other.openCommitments('2030-01-01T00:00:01.000Z', 10)).map((c) => [c.reference, c.locationId, c.lines])).toEqual([
          ['chk-1', 'S1', [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }]],
        ]);
        expect((await book.openCommitments('2030-01-02T00:00:00.000Z', 10)).map((c) => c.reference).sort()).toEqual(['chk-1', 'chk-2']);

        const released = await Promise.all([book.releaseCommitment('S1', 'chk-1'), other.releaseCommitment('S1', 'chk-1')]);
        expect(released.filter(Boolean)).toHaveLength(1);
        expect((await book.getStock([{ sku: 'A', locationId: 'S1' }, { sku: 'B', locationId: 'S1' }])).map((r) => r?.committed)).toEqual([0, 0]);

        await book.settleCommitment('W1', 'chk-2');
        expect(await book.openCommitments('2030-01-02T00:00:00.000Z', 10)).toEqual([]);
        // Settled, it is the order's: its hand-over ends it, once, whichever instance asks.
        expect(await other.commitStock('W1', [{ sku: 'A', quantity: 4, safetyStock: 0 }], { reference: 'chk-2', at })).toEqual({ ok: true });
        const ended = await Promise.all([book.fulfillCommitment('W1', 'chk-2'), other.fulfillCommitment('W1', 'chk-2')]);
        expect(ended.filter(Boolean)).toHaveLength(1);
        expect(await other.releaseCommitment('W1', 'chk-2')).toBe(false);
        expect((await book.getStock([{ sku: 'A', locationId: 'W1' }]))[0]).toMatchObject({ onHand: 6, committed: 0 });
      });

      it('gives one back as recovery saw it only while it is still open so: not once a retry made it again, nor once settled', async () => {
        const { book } = await bookWith([rec('A', 'S1', 10)]);
        await checkReleaseAsSeen(book);
      });
    });

    describe('adjustStock', () => {
      it('under a reference: a repeat from either instance answers the first result and moves nothing', async () => {
        const { book, prefix } = await bookWith([rec('A', 'S1', 5)]);
        const other = new RedisStockBook({ redis: b, prefix });
        const first = await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: 3, reference: 'adj-1' });
        const again = await other.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: 3, reference: 'adj-1' });
        expect(first).toEqual({ ok: true, previousOnHand: 5, record: rec('A', 'S1', 8) });
        // Marked as a repeat: an offline till's sync answers such a line DUPLICATE.
        expect(again).toEqual({ ...first, repeated: true });
        expect((await book.getStock([{ sku: 'A', locationId: 'S1' }]))[0]?.onHand).toBe(8);
        expect(await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: -99, reference: 'adj-2' })).toMatchObject({ ok: false, reason: 'NEGATIVE_STOCK' });
        expect(await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: -8, reference: 'adj-2' })).toMatchObject({ ok: true, record: { onHand: 0 } });
      });

      it('compare-and-swaps on on hand: stale with the record, or null when there is none', async () => {
        const { book } = await bookWith([rec('A', 'S1', 5, 1)]);
        expect(await book.adjustStock({ sku: 'A', locationId: 'S1', expectedOnHand: 4, onHandDelta: 1 })).toEqual({ ok: false, reason: 'STALE_QUANTITY', record: rec('A', 'S1', 5, 1) });
        expect(await book.adjustStock({ sku: 'X', locationId: 'S1', expectedOnHand: 3, onHandDelta: 1 })).toEqual({ ok: false, reason: 'STALE_QUANTITY', record: null });
        expect(await book.adjustStock({ sku: 'A', locationId: 'S1', expectedOnHand: 5, onHandDelta: 2 })).toEqual({ ok: true, record: rec('A', 'S1', 7, 1), previousOnHand: 5 });
        // A missing record counts as 0 on hand, as in the sandbox.
        expect(await book.adjustStock({ sku: 'Y', locationId: 'S1', expectedOnHand: 0, onHandDelta: 2 })).toEqual({ ok: true, record: rec('Y', 'S1', 2), previousOnHand: 0 });
      });

      it('refuses negative on hand, negative damaged and damaged above on hand', async () => {
        const { book } = await bookWith([rec('A', 'S1', 5, 0, 0, 2)]);
        const before = rec('A', 'S1', 5, 0, 0, 2);
        expect(await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: -6 })).toEqual({ ok: false, reason: 'NEGATIVE_STOCK', record: before });
        expect(await book.adjustStock({ sku: 'A', locationId: 'S1', damagedDelta: -3 })).toEqual({ ok: false, reason: 'NEGATIVE_STOCK', record: before });
        expect(await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: -4 })).toEqual({ ok: false, reason: 'NEGATIVE_STOCK', record: before });
        expect(await book.adjustStock({ sku: 'X', locationId: 'S1', onHandDelta: -1 })).toEqual({ ok: false, reason: 'NEGATIVE_STOCK', record: null });
        expect(await book.getStock([{ sku: 'A', locationId: 'S1' }, { sku: 'X', locationId: 'S1' }])).toEqual([before, null]);
      });

      it('under protectPromised refuses a move that lowers sound units below what is promised, lets others through', async () => {
        const { book } = await bookWith([rec('A', 'S1', 10, 4, 3, 1), rec('B', 'S1', 5, 4, 3, 0)]);
        // A: sound 9, promised 7. Down to 6 sound: refused; down to 7: fine.
        expect(await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: -3, protectPromised: true })).toEqual({ ok: false, reason: 'BELOW_PROMISED', record: rec('A', 'S1', 10, 4, 3, 1) });
        expect(await book.adjustStock({ sku: 'A', locationId: 'S1', damagedDelta: 3, protectPromised: true })).toMatchObject({ ok: false, reason: 'BELOW_PROMISED' });
        expect(await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: -2, protectPromised: true })).toEqual({ ok: true, record: rec('A', 'S1', 8, 4, 3, 1), previousOnHand: 10 });
        // Without the flag the same move is let through.
        expect(await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: -3 })).toEqual({ ok: true, record: rec('A', 'S1', 5, 4, 3, 1), previousOnHand: 8 });
        // B has drifted (sound 5 < promised 7): a move that does not lower sound units passes, one that does is refused.
        expect(await book.adjustStock({ sku: 'B', locationId: 'S1', countedOnHand: 5, protectPromised: true })).toMatchObject({ ok: true, previousOnHand: 5 });
        expect(await book.adjustStock({ sku: 'B', locationId: 'S1', onHandDelta: 1, protectPromised: true })).toMatchObject({ ok: true, record: rec('B', 'S1', 6, 4, 3, 0) });
        expect(await book.adjustStock({ sku: 'B', locationId: 'S1', onHandDelta: -1, protectPromised: true })).toMatchObject({ ok: false, reason: 'BELOW_PROMISED' });
      });

      it('sets on hand from a count, moves damaged, and creates a missing record', async () => {
        const { book } = await bookWith([rec('A', 'S1', 10, 2, 1, 1)]);
        expect(await book.adjustStock({ sku: 'A', locationId: 'S1', countedOnHand: 6, onHandDelta: 100, damagedDelta: 2 })).toEqual({ ok: true, record: rec('A', 'S1', 6, 2, 1, 3), previousOnHand: 10 });
        expect(await book.adjustStock({ sku: 'N', locationId: 'S2', onHandDelta: 4, damagedDelta: 1 })).toEqual({ ok: true, record: rec('N', 'S2', 4, 0, 0, 1), previousOnHand: 0 });
        expect(await book.getStock([{ sku: 'A', locationId: 'S1' }, { sku: 'N', locationId: 'S2' }])).toEqual([rec('A', 'S1', 6, 2, 1, 3), rec('N', 'S2', 4, 0, 0, 1)]);
      });

      it('refuses non-finite numbers before touching Redis', async () => {
        const { book } = await bookWith([rec('A', 'S1', 10)]);
        await expect(book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: Number.NaN })).rejects.toThrow(/onHandDelta/);
        await expect(book.commitStock('S1', [{ sku: 'A', quantity: 1, safetyStock: Number.POSITIVE_INFINITY }])).rejects.toThrow(/safetyStock/);
        await expect(book.reserveStock('S1', [{ sku: 'A', quantity: 1, safetyStock: 0 }], { expiresAt: 'soon' })).rejects.toThrow(/expiresAt/);
        expect(await book.getStock([{ sku: 'A', locationId: 'S1' }])).toEqual([rec('A', 'S1', 10)]);
      });
    });

    describe('unannounced writes', () => {
      it('keeps each write\'s unannounced record in its script until it is marked announced, seen by every instance', async () => {
        const { book, prefix } = await bookWith([rec('A', 'S1', 10)]);
        await checkUnannouncedWrites(book);
        const later = new Date(Date.now() + 60_000).toISOString();
        expect(await new RedisStockBook({ redis: b, prefix }).unannouncedWrites(later, 100)).toEqual(await book.unannouncedWrites(later, 100));
      });
    });

    describe('an offline till’s sale', () => {
      it('applies below what is promised, answers a repeat as one, and keeps the till’s time and the exception with the write', async () => {
        const { book } = await bookWith([rec('A', 'S1', 10)]);
        await checkOfflineSale(book);
      });
    });

    describe('reservations', () => {
      it('under a reference: a repeat answers the first reservation and holds nothing more, also once it ended', async () => {
        const { book } = await bookWith([rec('A', 'S1', 10)]);
        await checkReservationUnderReference(book);
      });

      it('reserves all or nothing with shared ids, and releases once', async () => {
        const { book, prefix } = await bookWith([rec('A', 'S1', 10, 2), rec('B', 'S1', 3)]);
        expect(await book.reserveStock('S1', [{ sku: 'A', quantity: 2, safetyStock: 0 }, { sku: 'B', quantity: 4, safetyStock: 0 }], { expiresAt: '2030-01-01T00:10:00.000Z' })).toEqual({
          ok: false,
          shortages: [{ sku: 'B', available: 3 }],
        });
        const made = await book.reserveStock('S1', [{ sku: 'A', quantity: 5, safetyStock: 1 }, { sku: 'B', quantity: 3, safetyStock: 0 }], { expiresAt: '2030-01-01T00:10:00.000Z', correlationId: 'c-1' });
        const reservation = { id: 'rsv-000001@S1', locationId: 'S1', lines: [{ sku: 'A', quantity: 5 }, { sku: 'B', quantity: 3 }], expiresAt: '2030-01-01T00:10:00.000Z', correlationId: 'c-1', holder: null };
        expect(made).toEqual({ ok: true, reservation });
        // Another instance continues the sequence.
        const other = new RedisStockBook({ redis: b, prefix });
        expect(await other.reserveStock('S1', [], { expiresAt: '2030-01-01T00:20:00.000Z' })).toEqual({
          ok: true,
          reservation: { id: 'rsv-000002@S1', locationId: 'S1', lines: [], expiresAt: '2030-01-01T00:20:00.000Z', correlationId: null, holder: null },
        });
        expect(await book.getStock([{ sku: 'A', locationId: 'S1' }, { sku: 'B', locationId: 'S1' }])).toEqual([rec('A', 'S1', 10, 2, 5), rec('B', 'S1', 3, 0, 3)]);
        // Reserved units are not sellable.
        expect(await book.commitStock('S1', [{ sku: 'A', quantity: 4, safetyStock: 0 }])).toEqual({ ok: false, shortages: [{ sku: 'A', available: 3 }] });
        expect(await other.releaseReservation('rsv-000001@S1')).toEqual(reservation);
        expect(await book.releaseReservation('rsv-000001@S1')).toBeNull();
        expect(await book.releaseReservation('rsv-999999@S1')).toBeNull();
        expect(await book.getStock([{ sku: 'A', locationId: 'S1' }, { sku: 'B', locationId: 'S1' }])).toEqual([rec('A', 'S1', 10, 2, 0), rec('B', 'S1', 3, 0, 0)]);
        expect(await a.zrange(`${prefix}:stock-rsv:{S1}:due`, 0, -1)).toEqual(['rsv-000002@S1']);
      });

      it('records the holder, and with a holder ends only that holder\'s reservation', async () => {
        const { book } = await bookWith([rec('A', 'S1', 10)]);
        const made = await book.reserveStock('S1', [{ sku: 'A', quantity: 2, safetyStock: 0 }], { expiresAt: '2030-01-01T00:10:00.000Z', holder: 'cust-00042' });
        if (!made.ok) throw new Error('not reserved');
        expect(made.reservation.holder).toBe('cust-00042');
        expect(await book.releaseReservation(made.reservation.id, 'cust-00043')).toBeNull();
        expect(await book.getStock([{ sku: 'A', locationId: 'S1' }])).toEqual([rec('A', 'S1', 10, 0, 2)]);
        expect(await book.releaseReservation(made.reservation.id, 'cust-00042')).toEqual(made.reservation);
        expect(await book.getStock([{ sku: 'A', locationId: 'S1' }])).toEqual([rec('A', 'S1', 10)]);
      });

      it('gives units back never below zero, and not to records that are gone', async () => {
        const { book, prefix } = await bookWith([rec('A', 'S1', 10), rec('B', 'S1', 10)]);
        const made = await book.reserveStock('S1', [{ sku: 'A', quantity: 4, safetyStock: 0 }, { sku: 'B', quantity: 4, safetyStock: 0 }], { expiresAt: '2030-01-01T00:00:00Z' });
        expect(made.ok).toBe(true);
        await a.hset(`${prefix}:stock:{S1}:A`, 'reserved', '1');
        await a.del(`${prefix}:stock:{S1}:B`);
        expect(await book.releaseReservation('rsv-000001@S1')).toMatchObject({ id: 'rsv-000001@S1' });
        expect(await book.getStock([{ sku: 'A', locationId: 'S1' }, { sku: 'B', locationId: 'S1' }])).toEqual([rec('A', 'S1', 10), null]);
      });

      it('expires what is due, in the order made, and tells when the next one is due; a reservation ends once', async () => {
        const { book } = await bookWith([rec('A', 'S1', 100), rec('A', 'S2', 100)]);
        const hold = async (locationId: string, quantity: number, expiresAt: string) => {
          const result = await book.reserveStock(locationId, [{ sku: 'A', quantity, safetyStock: 0 }], { expiresAt });
          if (!result.ok) throw new Error('not reserved');
          return result.reservation;
        };
        const r1 = await hold('S1', 1, '2030-01-01T00:05:00.000Z');
        const r2 = await hold('S2', 2, '2030-01-01T00:01:00.000Z');
        const r3 = await hold('S1', 4, '2030-01-01T00:10:00.000Z');
        const r4 = await hold('S1', 8, '2030-01-01T00:03:00.000Z');
        expect(await book.expireReservations('2029-12-31T23:59:59.000Z')).toEqual({ expired: [], nextExpiresAt: r2.expiresAt });
        expect(await book.releaseReservation(r4.id)).toEqual(r4);
        // Due at or before asOf; the order is the order in which they were made, not by due time.
        expect(await book.expireReservations('2030-01-01T00:05:00.000Z')).toEqual({ expired: [r1, r2], nextExpiresAt: r3.expiresAt });
        expect(await book.releaseReservation(r1.id)).toBeNull();
        expect(await book.getStock([{ sku: 'A', locationId: 'S1' }, { sku: 'A', locationId: 'S2' }])).toEqual([rec('A', 'S1', 100, 0, 4), rec('A', 'S2', 100)]);
        expect(await book.expireReservations('not a date')).toEqual({ expired: [], nextExpiresAt: r3.expiresAt });
        expect(await book.expireReservations('2031-01-01T00:00:00.000Z')).toEqual({ expired: [r3], nextExpiresAt: null });
        expect(await book.expireReservations('2031-01-01T00:00:00.000Z')).toEqual({ expired: [], nextExpiresAt: null });
      });

      it('expires more than one batch in one call', async () => {
        const { book } = await bookWith([rec('A', 'S1', 100)], { expireBatch: 3 });
        const ids: string[] = [];
        for (let i = 0; i < 10; i++) {
          const result = await book.reserveStock('S1', [{ sku: 'A', quantity: 1, safetyStock: 0 }], { expiresAt: new Date(Date.UTC(2030, 0, 1, 0, 10 - i)).toISOString() });
          if (result.ok) ids.push(result.reservation.id);
        }
        const { expired, nextExpiresAt } = await book.expireReservations('2030-01-01T00:09:00.000Z');
        expect(expired.map((r) => r.id)).toEqual(ids.slice(1));
        expect(nextExpiresAt).toBe('2030-01-01T00:10:00.000Z');
        expect(await book.getStock([{ sku: 'A', locationId: 'S1' }])).toEqual([rec('A', 'S1', 100, 0, 1)]);
      });

      it('ends each reservation exactly once when two instances release and expire at the same time', async () => {
        const { book: one, prefix } = await bookWith([rec('A', 'S1', 1_000)]);
        const two = new RedisStockBook({ redis: b, prefix });
        const ids: string[] = [];
        for (let i = 0; i < 100; i++) {
          const result = await one.reserveStock('S1', [{ sku: 'A', quantity: 3, safetyStock: 0 }], { expiresAt: '2030-01-01T00:00:00.000Z' });
          if (result.ok) ids.push(result.reservation.id);
        }
        const [released, ...expiries] = await Promise.all([
          Promise.all(ids.map((id, i) => (i % 2 ? one : two).releaseReservation(id))),
          one.expireReservations('2030-01-01T00:00:00.000Z'),
          two.expireReservations('2030-01-01T00:00:00.000Z'),
        ]);
        const ended = [...released.filter((r) => r !== null).map((r) => r.id), ...expiries.flatMap((e) => e.expired.map((r) => r.id))];
        expect(ended.sort()).toEqual([...ids].sort());
        expect(await one.getStock([{ sku: 'A', locationId: 'S1' }])).toEqual([rec('A', 'S1', 1_000)]);
      });
    });

    describe('two instances at once', () => {
      // 30 on hand less 3 committed, 2 reserved, 1 damaged and 4 safety stock: 20 sellable units.
      const seeded = rec('A', 'S1', 30, 3, 2, 1);
      const line = { sku: 'A', quantity: 1, safetyStock: 4 };

      it('lets exactly 20 of 200 concurrent one-unit commitments take the 20 sellable units', async () => {
        const { prefix } = await bookWith([seeded]);
        const books = [new RedisStockBook({ redis: a, prefix }), new RedisStockBook({ redis: b, prefix })];
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => books[i % 2]!.commitStock('S1', [line])));
        expect(results.filter((r) => r.ok)).toHaveLength(20);
        expect(results.filter((r) => !r.ok)).toHaveLength(180);
        const [record] = await books[1]!.getStock([{ sku: 'A', locationId: 'S1' }]);
        expect(record).toEqual({ ...seeded, committed: seeded.committed + 20 });
        expect(available(record!, line.safetyStock)).toBe(0);
      });

      it('lets exactly 20 of 200 concurrent one-unit reservations take the 20 sellable units', async () => {
        const { prefix } = await bookWith([seeded]);
        const books = [new RedisStockBook({ redis: a, prefix }), new RedisStockBook({ redis: b, prefix })];
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => books[i % 2]!.reserveStock('S1', [line], { expiresAt: '2030-01-01T00:00:00.000Z' })));
        const ids = results.flatMap((r) => (r.ok ? [r.reservation.id] : []));
        expect(ids).toHaveLength(20);
        expect(new Set(ids).size).toBe(20);
        expect(ids.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `rsv-${String(i + 1).padStart(6, '0')}@S1`));
        const [record] = await books[0]!.getStock([{ sku: 'A', locationId: 'S1' }]);
        expect(record).toEqual({ ...seeded, reserved: seeded.reserved + 20 });
        expect(available(record!, line.safetyStock)).toBe(0);
        expect(await a.zcard(`${prefix}:stock-rsv:{S1}:due`)).toBe(20);
      });
    });
  });
});
