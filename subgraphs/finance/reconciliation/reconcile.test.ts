import { describe, expect, it } from 'vitest';
import type { EventDataByType, EventType } from '../../../common/events.js';
import { testEvent } from '../../../test/support/events.js';
import type { MergedPosting } from '../outbox/merge.js';
import { mergePostings } from '../outbox/merge.js';
import type { OutboxPosting } from '../outbox/ports.js';
import type { FinancePosting, PostingStatusCode, PostingTypeCode } from '../ports.js';
import { reconcile, type OrderLedger } from './reconcile.js';

const from = new Date('2026-03-01T00:00:00.000Z');
const to = new Date('2026-03-02T00:00:00.000Z');
const IN = '2026-03-01T12:00:00.000Z';
const BEFORE = '2026-02-28T12:00:00.000Z';
const AFTER = '2026-03-02T12:00:00.000Z';

let seq = 0;
const ev = <T extends EventType>(orderId: string, type: T, occurredAt: string, data: Partial<EventDataByType[T]> = {}) => testEvent(type, data, { id: `evt-${++seq}`, source: 'POS', occurredAt, correlationId: 'c', orderId });
const eur = (minor: number) => ({ minor, currency: 'EUR' });
const posting = (orderId: string, id: string, type: PostingTypeCode, minor: number, status: PostingStatusCode = 'POSTED', createdAt = IN): MergedPosting => ({
  id,
  orderId,
  type,
  status,
  attempts: 1,
  amount: eur(minor),
  erpDocumentNumber: status === 'POSTED' ? `FI-${id}` : null,
  lastError: status === 'POSTED' ? null : 'x',
  postedAt: status === 'POSTED' ? createdAt : null,
  createdAt,
});

/** An order sold in the window (placed before), booked by the outbox under the derived id. */
function sold(orderId: string, total: number, bookedMinor: number | null = total, status: PostingStatusCode = 'POSTED'): OrderLedger {
  const placed = ev(orderId, 'ORDER_PLACED', BEFORE, { total, currency: 'EUR' });
  const pickedUp = ev(orderId, 'PICKED_UP', IN, { total, currency: 'EUR' });
  return { orderId, events: [placed, pickedUp], postings: bookedMinor === null ? [] : [posting(orderId, `post-${pickedUp.id}`, 'SALE', bookedMinor, status)] };
}

describe('reconcile', () => {
  it('all booked as the source says: equal totals, no mismatches', () => {
    const r = reconcile({ from, to, orders: [sold('o1', 10_000), sold('o2', 2_550)] });
    expect(r).toMatchObject({ sourceTotal: eur(12_550), erpTotal: eur(12_550), items: 2, pendingPostings: 0, failedPostings: 0, mismatches: [] });
  });

  it('refunds come off both totals; a history posting (no event link) matches by type, a refund may be booked as RETURN', () => {
    const placed = ev('o1', 'ORDER_PLACED', BEFORE, { total: 9_000 });
    const shipped = ev('o1', 'ORDER_SHIPPED', IN, { total: 9_000 });
    const refund = ev('o1', 'REFUND_ISSUED', IN, { amount: 3_000 });
    const ledger: OrderLedger = { orderId: 'o1', events: [placed, shipped, refund], postings: [posting('o1', 'post-o1-sale-1', 'SALE', 9_000), posting('o1', 'post-o1-return-2', 'RETURN', 3_000)] };
    const r = reconcile({ from, to, orders: [ledger] });
    expect(r).toMatchObject({ sourceTotal: eur(6_000), erpTotal: eur(6_000), items: 2, mismatches: [] });
  });

  it('reports an amount booked differently, and a dead-lettered item as NOT_POSTED (counted failed)', () => {
    const r = reconcile({ from, to, orders: [sold('o1', 10_000, 9_000), sold('o2', 500, 500, 'DEAD_LETTER')] });
    expect(r).toMatchObject({ sourceTotal: eur(10_500), erpTotal: eur(9_000), failedPostings: 1, pendingPostings: 0 });
    expect(r.mismatches.map((m) => [m.orderId, m.type, m.reason, m.expected?.minor, m.posted?.minor ?? null, m.postingStatus])).toEqual([
      ['o1', 'SALE', 'AMOUNT_DIFFERS', 10_000, 9_000, 'POSTED'],
      ['o2', 'SALE', 'NOT_POSTED', 500, null, 'DEAD_LETTER'],
    ]);
  });

  it('counts items in flight as pending, not as mismatches; an item nobody queued is NOT_POSTED', () => {
    const r = reconcile({ from, to, orders: [sold('o1', 1_000, 1_000, 'FAILED'), sold('o2', 2_000, 2_000, 'PENDING'), sold('o3', 4_000, null)] });
    expect(r).toMatchObject({ sourceTotal: eur(7_000), erpTotal: eur(0), pendingPostings: 2, failedPostings: 0 });
    expect(r.mismatches).toEqual([expect.objectContaining({ orderId: 'o3', reason: 'NOT_POSTED', postingId: null, expected: eur(4_000), posted: null })]);
  });

  it('keeps items outside the window out, even when their booking falls inside it', () => {
    const placed = ev('o1', 'ORDER_PLACED', BEFORE, { total: 1_000 });
    const pickedUp = ev('o1', 'PICKED_UP', '2026-02-28T23:59:30.000Z', { total: 1_000 });
    const late = posting('o1', 'post-o1-sale-1', 'SALE', 1_000, 'POSTED', '2026-03-01T00:00:30.000Z');
    const r = reconcile({ from, to, orders: [{ orderId: 'o1', events: [placed, pickedUp], postings: [late] }, sold('o2', 300)] });
    expect(r).toMatchObject({ sourceTotal: eur(300), erpTotal: eur(300), items: 1, mismatches: [] });
    const after = reconcile({ from, to, orders: [{ orderId: 'o1', events: [placed, ev('o1', 'PICKED_UP', AFTER, { total: 1_000 })], postings: [posting('o1', 'p', 'SALE', 1_000, 'POSTED', AFTER)] }] });
    expect(after).toMatchObject({ items: 0, sourceTotal: eur(0), erpTotal: eur(0) });
  });

  it('reports a booking of the window that no source accounts for (NO_SOURCE), in erpTotal', () => {
    const ledger: OrderLedger = { orderId: 'o9', events: [], postings: [posting('o9', 'manual-1', 'SALE', 1_234)] };
    const r = reconcile({ from, to, orders: [ledger, sold('o1', 100)] });
    expect(r).toMatchObject({ sourceTotal: eur(100), erpTotal: eur(1_334) });
    expect(r.mismatches).toEqual([expect.objectContaining({ orderId: 'o9', reason: 'NO_SOURCE', expected: null, posted: eur(1_234) })]);
  });

  it('a return receipt is no source item (it carries no money): only the refund is taken off, once', () => {
    const placed = ev('o1', 'ORDER_PLACED', BEFORE, { total: 5_000 });
    const pickedUp = ev('o1', 'PICKED_UP', BEFORE, { total: 5_000 });
    const received = ev('o1', 'RETURN_RECEIVED', IN, { returnId: 'ret-1' });
    const refund = ev('o1', 'REFUND_ISSUED', IN, { amount: 2_000, returnId: 'ret-1' });
    const r = reconcile({ from, to, orders: [{ orderId: 'o1', events: [placed, pickedUp, received, refund], postings: [posting('o1', `post-${refund.id}`, 'REFUND', 2_000)] }] });
    expect(r).toMatchObject({ sourceTotal: eur(-2_000), erpTotal: eur(-2_000), items: 1, mismatches: [] });
  });

  it('sourceTotal − erpTotal is the signed sum of the mismatches plus what is pending', () => {
    const orders = [sold('a', 1_000, 900), sold('b', 2_000, 2_000, 'DEAD_LETTER'), sold('c', 3_000, 3_000, 'FAILED'), sold('d', 4_000), { orderId: 'e', events: [], postings: [posting('e', 'x', 'SALE', 50)] }];
    const r = reconcile({ from, to, orders });
    const sign = (t: PostingTypeCode) => (t === 'SALE' ? 1 : t === 'REFUND' ? -1 : 0);
    const explained = r.mismatches.reduce((sum, m) => sum + sign(m.type) * ((m.expected?.minor ?? 0) - (m.posted?.minor ?? 0)), 0) + 3_000;
    expect(r.sourceTotal.minor - r.erpTotal.minor).toBe(explained);
  });

  it('totals per currency; the main one is the one most items are in', () => {
    const chf = sold('o2', 700);
    chf.events = [ev('o2', 'ORDER_PLACED', BEFORE, { total: 700, currency: 'CHF' }), ev('o2', 'PICKED_UP', IN, { total: 700, currency: 'CHF' })];
    chf.postings = [{ ...posting('o2', `post-${chf.events[1]!.id}`, 'SALE', 700), amount: { minor: 700, currency: 'CHF' } }];
    const r = reconcile({ from, to, orders: [sold('o1', 100), sold('o3', 200), chf] });
    expect(r.sourceTotal).toEqual(eur(300));
    expect(r.byCurrency).toEqual([
      { currency: 'CHF', sourceTotal: { minor: 700, currency: 'CHF' }, erpTotal: { minor: 700, currency: 'CHF' } },
      { currency: 'EUR', sourceTotal: eur(300), erpTotal: eur(300) },
    ]);
    expect(reconcile({ from, to, orders: [] })).toMatchObject({ sourceTotal: eur(0), erpTotal: eur(0), byCurrency: [], items: 0 });
  });
});

describe('mergePostings', () => {
  const erp = (id: string, status: PostingStatusCode, extra: Partial<FinancePosting> = {}): FinancePosting => ({ ...posting('o1', id, 'SALE', 1_000, status), ...extra });
  const own = (id: string, status: PostingStatusCode, extra: Partial<OutboxPosting> = {}): OutboxPosting => ({
    ...posting('o1', id, 'SALE', 1_000, status),
    sourceEventId: 'evt-1',
    sourceType: 'PICKED_UP',
    sourceOccurredAt: IN,
    correlationId: 'c',
    nextAttemptAt: null,
    roundAttempts: 1,
    deadLetters: 0,
    invoice: null,
    ...extra,
  });

  it('one entry per id: the outbox state unless the ERP has booked it, then the ERP’s booking', () => {
    const merged = mergePostings(
      [erp('hist', 'POSTED', { createdAt: BEFORE }), erp('both', 'POSTED', { amount: eur(900), erpDocumentNumber: 'FI-9' }), erp('dead', 'DEAD_LETTER')],
      [own('both', 'FAILED', { attempts: 4, lastError: 'lost answer' }), own('dead', 'PENDING', { attempts: 8 }), own('new', 'FAILED', { attempts: 2 })],
    );
    expect(merged.map((p) => [p.id, p.status, p.attempts, p.amount.minor, p.erpDocumentNumber, p.lastError])).toEqual([
      ['hist', 'POSTED', 1, 1_000, 'FI-hist', null],
      ['both', 'POSTED', 4, 900, 'FI-9', null],
      ['dead', 'PENDING', 8, 1_000, null, 'x'],
      ['new', 'FAILED', 2, 1_000, null, 'x'],
    ]);
  });
});
