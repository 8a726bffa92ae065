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
