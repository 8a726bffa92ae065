import { expect } from 'vitest';
import type { StockBook } from '../../common/systems/stock-book.js';

/**
 * The stock book's contract for unannounced writes, for either book: `book` holds A@S1 with 10 on hand and
 * nothing else. Every adjustment under a reference, reservation, release and expiry leaves one, recorded with the
 * write; a repeat under a reference adds none; marking forgets exactly the ids named; `before` excludes younger ones.
 */
export async function checkUnannouncedWrites(book: StockBook): Promise<void> {
  const later = new Date(Date.now() + 60_000).toISOString();
  const line = { sku: 'A', quantity: 2, safetyStock: 0 };
  await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: 3, reference: 'adj-1', reason: 'RECEIPT', correlationId: 'corr-adj' });
  await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: 3, reference: 'adj-1', reason: 'RECEIPT', correlationId: 'corr-adj' });
  // Without a reference, or without a reason (a return's receipt: the return's events are its caller's), nothing is kept.
  await book.adjustStock({ sku: 'A', locationId: 'S1', damagedDelta: 1, reason: 'DAMAGE' });
  await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: 1, damagedDelta: 1, reference: 'rtn-1-0' });
  // A refused adjustment changed nothing: nothing to announce.
  await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: -99, reference: 'adj-refused', reason: 'SALE' });
  const kept = await book.reserveStock('S1', [line], { expiresAt: later, correlationId: 'corr-keep' });
  const released = await book.reserveStock('S1', [line], { expiresAt: later, correlationId: 'corr-rsv' });
  const expiring = await book.reserveStock('S1', [line], { expiresAt: new Date(Date.now() - 1).toISOString(), correlationId: 'corr-exp' });
  if (!kept.ok || !released.ok || !expiring.ok) throw new Error('the test reservations did not fit');
  await book.releaseReservation(released.reservation.id, null, 'corr-release');
  await book.expireReservations(new Date().toISOString());

  const writes = await book.unannouncedWrites(later, 100);
  expect(writes.map((w) => w.id).sort()).toEqual(
    ['adjusted:adj-1', `reserved:${kept.reservation.id}`, `reserved:${released.reservation.id}`, `reserved:${expiring.reservation.id}`, `ended:${released.reservation.id}`, `ended:${expiring.reservation.id}`].sort(),
  );
  const byId = new Map(writes.map((w) => [w.id, w]));
  expect(byId.get('adjusted:adj-1')).toMatchObject({ kind: 'ADJUSTED', locationId: 'S1', sku: 'A', reason: 'RECEIPT', correlationId: 'corr-adj', movement: { onHandDelta: 3 }, previousOnHand: 10, record: { sku: 'A', locationId: 'S1', onHand: 13, damaged: 0 } });
  expect(byId.get(`reserved:${kept.reservation.id}`)).toMatchObject({ kind: 'RESERVED', locationId: 'S1', correlationId: 'corr-keep', reservation: { id: kept.reservation.id, lines: [{ sku: 'A', quantity: 2 }] } });
  expect(byId.get(`ended:${released.reservation.id}`)).toMatchObject({ kind: 'RELEASED', correlationId: 'corr-release', reservation: { id: released.reservation.id } });
  expect(byId.get(`ended:${expiring.reservation.id}`)).toMatchObject({ kind: 'EXPIRED', correlationId: 'corr-exp', reservation: { id: expiring.reservation.id } });
  for (const write of writes) expect(Number.isFinite(Date.parse(write.at))).toBe(true);
  // Oldest first, and only those made before `before`.
  expect(writes.map((w) => w.at)).toEqual([...writes.map((w) => w.at)].sort());
  expect(await book.unannouncedWrites(new Date(Date.parse(writes[0]!.at)).toISOString(), 100)).toEqual([]);
  expect(await book.unannouncedWrites(later, 2)).toHaveLength(2);

  await book.markAnnounced('S1', ['adjusted:adj-1', `ended:${released.reservation.id}`, 'unknown-id']);
  expect((await book.unannouncedWrites(later, 100)).map((w) => w.id).sort()).toEqual([`reserved:${kept.reservation.id}`, `reserved:${released.reservation.id}`, `reserved:${expiring.reservation.id}`, `ended:${expiring.reservation.id}`].sort());
  // A repeat of an announced adjustment answers as before and leaves nothing to announce again.
  expect(await book.adjustStock({ sku: 'A', locationId: 'S1', onHandDelta: 3, reference: 'adj-1' })).toMatchObject({ ok: true, record: { onHand: 13 } });
  expect((await book.unannouncedWrites(later, 100)).some((w) => w.id === 'adjusted:adj-1')).toBe(false);
}
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

/**
 * The stock book's contract for reservations under a reference, for either book: `book` holds A@S1 with 10 on
 * hand. A repeat under the reference (its answer was lost) answers the first reservation and holds nothing more,
 * also once the reservation has ended; another reference is another reservation.
 */
export async function checkReservationUnderReference(book: StockBook): Promise<void> {
  const later = new Date(Date.now() + 60_000).toISOString();
  const line = [{ sku: 'A', quantity: 3, safetyStock: 0 }];
  const reserved = async () => (await book.getStock([{ sku: 'A', locationId: 'S1' }]))[0]?.reserved;
  const first = await book.reserveStock('S1', line, { expiresAt: later, correlationId: 'corr-1', reference: 'hold-1' });
  const again = await book.reserveStock('S1', line, { expiresAt: new Date(Date.now() + 90_000).toISOString(), correlationId: 'corr-1', reference: 'hold-1' });
  if (!first.ok) throw new Error('the test reservation did not fit');
  expect(again).toEqual(first);
  expect(await reserved()).toBe(3);
  // Only one unannounced write for it.
  expect((await book.unannouncedWrites(later, 100)).filter((w) => w.id === `reserved:${first.reservation.id}`)).toHaveLength(1);
  expect(await book.releaseReservation(first.reservation.id)).toMatchObject({ id: first.reservation.id });
  expect(await book.reserveStock('S1', line, { expiresAt: later, correlationId: 'corr-1', reference: 'hold-1' })).toEqual(first);
  expect(await reserved()).toBe(0);
  const other = await book.reserveStock('S1', line, { expiresAt: later, correlationId: 'corr-2', reference: 'hold-2' });
  expect(other.ok && other.reservation.id !== first.reservation.id).toBe(true);
  expect(await reserved()).toBe(3);
}

/**
 * The stock book's contract for an offline till's sale, for either book: `book` holds A@S1 with 10 on hand. Applied
 * below what is promised (no `protectPromised`), compare-and-swap on on hand; a repeat under its reference is
 * answered `repeated` before the compare (whatever on hand is now) and moves nothing; the unannounced write keeps
 * the till's time and the exception the sale raised, for its events.
 */
export async function checkOfflineSale(book: StockBook): Promise<void> {
  const later = new Date(Date.now() + 60_000).toISOString();
  expect(await book.commitStock('S1', [{ sku: 'A', quantity: 9, safetyStock: 0 }])).toEqual({ ok: true });
  const occurredAt = '2026-03-01T10:00:00.000Z';
  const exception = { kind: 'OVERSOLD' as const, transactionId: 't1', quantity: 10, shortfall: 9, onHandShortfall: 0, proposal: [{ orderId: 'ord-w-1', orderNumber: 'W1', quantity: 9, action: 'CANCEL' as const, rerouteLocationId: null }] };
  const sale = { sku: 'A', locationId: 'S1', onHandDelta: -10, expectedOnHand: 10, reference: 'pos-txn:t1:0', reason: 'SALE', correlationId: 'corr-till', occurredAt, exception };
  const first = await book.adjustStock(sale);
  expect(first).toMatchObject({ ok: true, previousOnHand: 10, record: { onHand: 0, committed: 9 } });
  expect(first.ok && first.repeated).toBeFalsy();
  const again = await book.adjustStock(sale);
  expect(again).toMatchObject({ ok: true, repeated: true, record: { onHand: 0 } });
  expect((await book.getStock([{ sku: 'A', locationId: 'S1' }]))[0]).toMatchObject({ onHand: 0, committed: 9 });
  const write = (await book.unannouncedWrites(later, 100)).find((w) => w.id === 'adjusted:pos-txn:t1:0');
  expect(write).toMatchObject({ kind: 'ADJUSTED', sku: 'A', reason: 'SALE', correlationId: 'corr-till', movement: { onHandDelta: -10 }, previousOnHand: 10, occurredAt, exception });
}
