import { expect } from 'vitest';
import type { StockRecord } from '../../common/systems/records.js';
import type { StockBook } from '../../common/systems/stock-book.js';

/*
 * StockBook.moveCommitment's contract, for either book: all or nothing, idempotent, atomic against every other
 * commit, and the moved commitment open (with `movedFrom`) at the new location until settled.
 */

/** The records a book under {@link checkMoveCommitment} starts from: A and B at S1 (10 each), at S2 (3 and 10). */
export const MOVE_RECORDS: readonly StockRecord[] = [
  { sku: 'A', locationId: 'S1', onHand: 10, committed: 0, reserved: 0, damaged: 0 },
  { sku: 'B', locationId: 'S1', onHand: 10, committed: 0, reserved: 0, damaged: 0 },
  { sku: 'A', locationId: 'S2', onHand: 3, committed: 0, reserved: 0, damaged: 0 },
  { sku: 'B', locationId: 'S2', onHand: 10, committed: 0, reserved: 0, damaged: 0 },
];

const levels = async (book: StockBook) =>
  (await book.getStock(MOVE_RECORDS.map((r) => ({ sku: r.sku, locationId: r.locationId })))).map((r) => `${r?.sku}@${r?.locationId}:${r?.committed}`);

export async function checkMoveCommitment(book: StockBook): Promise<void> {
  const at = new Date(Date.now() - 1_000).toISOString();
  const later = new Date(Date.now() + 60_000).toISOString();
  const lines = [
    { sku: 'A', quantity: 2, safetyStock: 0 },
    { sku: 'B', quantity: 1, safetyStock: 0 },
  ];
  expect(await book.commitStock('S1', lines, { reference: 'ord-1', at })).toEqual({ ok: true });
  await book.settleCommitment('S1', 'ord-1');

  // Unknown reference: nothing to move.
  expect(await book.moveCommitment('S1', 'S2', 'nobody', lines, at)).toEqual({ ok: false, reason: 'NOT_FOUND' });

  // Short at the new location (safety stock counts): nothing changes anywhere.
  const short = await book.moveCommitment('S1', 'S2', 'ord-1', [{ sku: 'A', quantity: 2, safetyStock: 2 }], at);
  expect(short).toEqual({ ok: false, reason: 'SHORTAGE', shortages: [{ sku: 'A', available: 1 }] });
  expect(await levels(book)).toEqual(['A@S1:2', 'B@S1:1', 'A@S2:0', 'B@S2:0']);

  // The move: held at the new location, given back at the old, open there with movedFrom until settled.
  expect(await book.moveCommitment('S1', 'S2', 'ord-1', lines, at)).toEqual({ ok: true });
  expect(await levels(book)).toEqual(['A@S1:0', 'B@S1:0', 'A@S2:2', 'B@S2:1']);
  const open = await book.openCommitments(later, 10);
  expect(open).toEqual([{ reference: 'ord-1', locationId: 'S2', lines: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }], at, movedFrom: 'S1' }]);

  // A repeat (the first answer was lost) moves nothing more.
  expect(await book.moveCommitment('S1', 'S2', 'ord-1', lines, at)).toEqual({ ok: true });
  expect(await levels(book)).toEqual(['A@S1:0', 'B@S1:0', 'A@S2:2', 'B@S2:1']);

  await book.settleCommitment('S2', 'ord-1');
  expect(await book.openCommitments(later, 10)).toEqual([]);
  // The old location has nothing left to give back; the new one hands the units over once.
  expect(await book.releaseCommitment('S1', 'ord-1')).toBe(false);
  expect(await book.fulfillCommitment('S2', 'ord-1')).toBe(true);
  expect((await book.getStock([{ sku: 'A', locationId: 'S2' }]))[0]).toMatchObject({ onHand: 1, committed: 0 });
}

/**
 * A move racing sales of the last units at the new location, many rounds: the new location never promises more than
 * it has on hand, and the commitment is at exactly one of the two locations after each round.
 */
export async function checkMoveRacingSales(book: StockBook, rounds: number): Promise<void> {
  const at = new Date().toISOString();
  for (let round = 0; round < rounds; round++) {
    const reference = `race-${round}`;
    expect(await book.commitStock('S1', [{ sku: 'B', quantity: 1, safetyStock: 0 }], { reference, at })).toEqual({ ok: true });
    const [before] = (await book.getStock([{ sku: 'B', locationId: 'S2' }])) as [StockRecord];
    const free = before.onHand - before.committed - before.reserved;
    // Top the new location up to one free unit, then move and sell that last unit at once.
    if (free < 1) await book.adjustStock({ sku: 'B', locationId: 'S2', onHandDelta: 1 - free });
    const [moved, sold] = await Promise.all([
      book.moveCommitment('S1', 'S2', reference, [{ sku: 'B', quantity: 1, safetyStock: 0 }], at),
      book.adjustStock({ sku: 'B', locationId: 'S2', onHandDelta: -1, protectPromised: true }),
    ]);
    expect(moved.ok || sold.ok).toBe(true);
    // Copies: the in-memory book hands out its live records.
    const [s1, s2] = ((await book.getStock([{ sku: 'B', locationId: 'S1' }, { sku: 'B', locationId: 'S2' }])) as [StockRecord, StockRecord]).map((r) => ({ ...r })) as [StockRecord, StockRecord];
    expect(s2.committed + s2.reserved).toBeLessThanOrEqual(s2.onHand);
    expect(s1.committed + s2.committed).toBeGreaterThanOrEqual(1);
    // Exactly one of them holds it: the other's release answers false.
    const heldAt = moved.ok ? 'S2' : 'S1';
    const elsewhere = heldAt === 'S2' ? 'S1' : 'S2';
    expect(await book.releaseCommitment(elsewhere, reference)).toBe(false);
    expect(await book.releaseCommitment(heldAt, reference)).toBe(true);
  }
}

/**
 * A move cut short half way (on a Redis Cluster: the new location's script ran, the old one's did not, so both
 * hold the commitment): the retry of the move gives the old location's units back and keeps the new one's.
 */
export async function checkHalfMoveFinished(book: StockBook): Promise<void> {
  const at = new Date().toISOString();
  const line = { sku: 'B', quantity: 1, safetyStock: 0 };
  const committed = async () => (await book.getStock([{ sku: 'B', locationId: 'S1' }, { sku: 'B', locationId: 'S2' }])).map((r) => r?.committed);
  const before = await committed();
  expect(await book.commitStock('S1', [line], { reference: 'half', at })).toEqual({ ok: true });
  expect(await book.commitStock('S2', [line], { reference: 'half', at })).toEqual({ ok: true });
  expect(await book.moveCommitment('S1', 'S2', 'half', [line], at)).toEqual({ ok: true });
  expect(await committed()).toEqual([before[0], (before[1] ?? 0) + 1]);
  expect(await book.releaseCommitment('S1', 'half')).toBe(false);
}
