import type { CanonicalEvent } from '../../../common/events.js';
import type { MoneyValue } from '../../../common/money.js';
import { sourceItemsOf, type SourceItem } from '../outbox/intake.js';
import type { MergedPosting } from '../outbox/merge.js';
import type { PostingStatusCode, PostingTypeCode } from '../ports.js';

/** The currency the report leads with when there is nothing to count, and on a tie (the sandbox's). */
const LEAD_CURRENCY = 'EUR';

/*
 * Reconciliation of a window [from, to): the money the source events say the business made against what the ERP
 * booked for it.
 *
 * - Source items are read from each order's canonical events (see sourceItemsOf): its sale and its refunds (a
 *   return's receipt carries no money). An item is in the window when its event happened in it.
 * - Each item is matched to one posting of its order: first the posting whose id the outbox derives from the
 *   item's event; then an unclaimed posting of the same type (the ERP's history has no event link), preferring
 *   the same amount; then an unclaimed posting of the other money-back type (the history books refunds as RETURN).
 * - sourceTotal = sales − refunds of the window's items; erpTotal = what the ERP booked (POSTED) for those same
 *   items, plus booked postings of the window that no source accounts for. RETURN items are reconciled item by
 *   item but kept out of both totals, so a return that is also refunded is not taken off twice.
 * - pendingPostings: the window's postings still being retried (PENDING, FAILED); failedPostings: DEAD_LETTER.
 * - mismatches: an item booked with another amount (AMOUNT_DIFFERS), an item with no booking that is not in flight
 *   (NOT_POSTED: dead-lettered or never queued), a booking of the window with no source (NO_SOURCE).
 *
 * So sourceTotal − erpTotal is exactly the signed sum of the mismatches' (expected − posted) plus the pending items.
 */

export interface OrderLedger {
  orderId: string;
  /** Every canonical event of the order, oldest first (not only the window's: items are matched across time). */
  events: readonly CanonicalEvent[];
  /** Every posting of the order: the ERP's merged with the outbox's. */
  postings: readonly MergedPosting[];
}

export type MismatchReason = 'AMOUNT_DIFFERS' | 'NOT_POSTED' | 'NO_SOURCE';

export interface Mismatch {
  orderId: string;
  type: PostingTypeCode;
  reason: MismatchReason;
  /** What the source events say; null for a booking with no source. */
  expected: MoneyValue | null;
  /** What the ERP booked; null when nothing is booked. */
  posted: MoneyValue | null;
  postingId: string | null;
  postingStatus: PostingStatusCode | null;
  sourceEventId: string | null;
  /** When the source event happened (for a booking with no source: when the posting was created). */
  occurredAt: string;
}

export interface CurrencyTotals {
  currency: string;
  sourceTotal: MoneyValue;
  erpTotal: MoneyValue;
}

export interface ReconciliationReport {
  from: string;
  to: string;
  /** The totals of the window's main currency (the one most items are in; EUR when there are none). */
  sourceTotal: MoneyValue;
  erpTotal: MoneyValue;
  /** The totals of every currency in the window, by code. */
  byCurrency: CurrencyTotals[];
  /** Source items of the window. */
  items: number;
  pendingPostings: number;
  failedPostings: number;
  /** By time, then order id. */
  mismatches: Mismatch[];
}

/** How an item of a type counts in the totals. */
const SIGN: Record<PostingTypeCode, number> = { SALE: 1, REFUND: -1, RETURN: 0 };
const MONEY_BACK: ReadonlySet<PostingTypeCode> = new Set(['REFUND', 'RETURN']);

const sameMoney = (a: MoneyValue, b: MoneyValue) => a.minor === b.minor && a.currency === b.currency;

/** Match every item of one order to at most one posting, and every posting to at most one item. */
export function matchItems(items: readonly SourceItem[], postings: readonly MergedPosting[]): { matched: Map<SourceItem, MergedPosting>; unclaimed: MergedPosting[] } {
  const matched = new Map<SourceItem, MergedPosting>();
  const claimed = new Set<string>();
  const claim = (item: SourceItem, posting: MergedPosting | undefined) => {
    if (!posting) return;
    matched.set(item, posting);
    claimed.add(posting.id);
  };
  for (const item of items) claim(item, postings.find((p) => p.id === item.postingId && !claimed.has(p.id)));
  const pass = (fits: (item: SourceItem, posting: MergedPosting) => boolean) => {
    for (const item of items) {
      if (matched.has(item)) continue;
      const candidates = postings.filter((p) => !claimed.has(p.id) && fits(item, p));
      claim(item, candidates.find((p) => sameMoney(p.amount, item.amount)) ?? candidates[0]);
    }
  };
  pass((item, p) => p.type === item.type);
  pass((item, p) => MONEY_BACK.has(item.type) && MONEY_BACK.has(p.type));
  return { matched, unclaimed: postings.filter((p) => !claimed.has(p.id)) };
}

export function reconcile(input: { from: Date; to: Date; orders: readonly OrderLedger[] }): ReconciliationReport {
  const start = input.from.getTime();
  const end = input.to.getTime();
  const inWindow = (at: string) => {
    const t = Date.parse(at);
    return t >= start && t < end;
  };
  const totals = new Map<string, { source: number; erp: number; items: number }>();
  const totalsOf = (currency: string) => {
    let t = totals.get(currency);
    if (!t) totals.set(currency, (t = { source: 0, erp: 0, items: 0 }));
    return t;
  };
  const mismatches: Mismatch[] = [];
  let items = 0;
  let pendingPostings = 0;
  let failedPostings = 0;
  const inFlight = (status: PostingStatusCode) => status === 'PENDING' || status === 'FAILED';

  for (const order of input.orders) {
    const sourceItems = sourceItemsOf(order.events);
    const { matched, unclaimed } = matchItems(sourceItems, order.postings);
    for (const item of sourceItems) {
      if (!inWindow(item.occurredAt)) continue;
      items++;
      const sign = SIGN[item.type];
      const t = totalsOf(item.amount.currency);
      t.items++;
      t.source += sign * item.amount.minor;
      const posting = matched.get(item);
      const mismatch = (reason: MismatchReason, posted: MoneyValue | null) =>
        mismatches.push({ orderId: order.orderId, type: item.type, reason, expected: item.amount, posted, postingId: posting?.id ?? null, postingStatus: posting?.status ?? null, sourceEventId: item.eventId, occurredAt: item.occurredAt });
      if (!posting) {
        mismatch('NOT_POSTED', null);
      } else if (posting.status === 'POSTED') {
        totalsOf(posting.amount.currency).erp += sign * posting.amount.minor;
        if (!sameMoney(posting.amount, item.amount)) mismatch('AMOUNT_DIFFERS', posting.amount);
      } else if (inFlight(posting.status)) {
        pendingPostings++;
      } else {
        failedPostings++;
        mismatch('NOT_POSTED', null);
      }
    }
    for (const posting of unclaimed) {
      if (!inWindow(posting.createdAt)) continue;
      if (posting.status === 'POSTED') {
        totalsOf(posting.amount.currency).erp += SIGN[posting.type] * posting.amount.minor;
        mismatches.push({ orderId: order.orderId, type: posting.type, reason: 'NO_SOURCE', expected: null, posted: posting.amount, postingId: posting.id, postingStatus: posting.status, sourceEventId: null, occurredAt: posting.createdAt });
      } else if (inFlight(posting.status)) {
        pendingPostings++;
      } else {
        failedPostings++;
      }
    }
  }

  const byCurrency = [...totals.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([currency, t]) => ({ currency, sourceTotal: { minor: t.source, currency }, erpTotal: { minor: t.erp, currency } }));
  let main = LEAD_CURRENCY;
  let most = -1;
  for (const [currency, t] of totals) {
    if (t.items > most || (t.items === most && currency === LEAD_CURRENCY)) {
      main = currency;
      most = t.items;
    }
  }
  const mainTotals = totals.get(main) ?? { source: 0, erp: 0 };
  mismatches.sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0));
  return {
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    sourceTotal: { minor: mainTotals.source, currency: main },
    erpTotal: { minor: mainTotals.erp, currency: main },
    byCurrency,
    items,
    pendingPostings,
    failedPostings,
    mismatches,
  };
}
