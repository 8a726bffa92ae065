import { expect } from 'vitest';
import type { StockBook } from '../../common/systems/stock-book.js';

/**
 * The stock book's contract for recovery's release (`seenAt`), for either book: `book` holds A@S1 with 10 on hand.
 * A commitment is given back only while still open as recovery listed it: not once a retry made it again (later
 * `at`), nor once settled.
 */
export async function checkReleaseAsSeen(book: StockBook): Promise<void> {
  const t0 = '2030-01-01T00:00:00.000Z';
  const t1 = '2030-01-01T00:01:40.000Z';
  const line = [{ sku: 'A', quantity: 1, safetyStock: 0 }];
  const committed = async () => (await book.getStock([{ sku: 'A', locationId: 'S1' }]))[0]?.committed;
  expect(await book.commitStock('S1', line, { reference: 'chk-retried', at: t0 })).toEqual({ ok: true });
  expect(await book.commitStock('S1', line, { reference: 'chk-settled', at: t0 })).toEqual({ ok: true });
  expect(await book.commitStock('S1', line, { reference: 'chk-orphan', at: t0 })).toEqual({ ok: true });
  // Recovery listed all three as of t0; then a retry made one again, and another's order was recorded.
  expect(await book.commitStock('S1', line, { reference: 'chk-retried', at: t1 })).toEqual({ ok: true });
  // Listed again later, a commitment made again shows when it last was: recovery's release as seen then ends it.
  expect((await book.openCommitments('2030-01-02T00:00:00.000Z', 10)).map((c) => [c.reference, c.at]).sort()).toEqual([['chk-orphan', t0], ['chk-retried', t1], ['chk-settled', t0]]);
  await book.settleCommitment('S1', 'chk-settled');
  expect(await book.releaseCommitment('S1', 'chk-retried', t0)).toBe(false);
  expect(await book.releaseCommitment('S1', 'chk-settled', t0)).toBe(false);
  expect(await book.releaseCommitment('S1', 'chk-orphan', t0)).toBe(true);
  expect(await book.releaseCommitment('S1', 'chk-orphan', t0)).toBe(false);
  expect(await committed()).toBe(2);
  // As seen at the retry's time it is open as listed; without `seenAt` (a cancellation) any commitment ends.
  expect(await book.releaseCommitment('S1', 'chk-retried', t1)).toBe(true);
  expect(await book.releaseCommitment('S1', 'chk-settled')).toBe(true);
  expect(await committed()).toBe(0);
}
