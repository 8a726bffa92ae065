import type { EventBackbone } from '../../../common/events.js';
import type { Metrics } from '../../../common/telemetry/metrics.js';
import { badInput } from '../../../common/pagination.js';
import { mergePostings } from '../outbox/merge.js';
import type { OutboxPosting } from '../outbox/ports.js';
import type { LedgerPort } from '../ports.js';
import { reconcile, type ReconciliationReport } from './reconcile.js';

/** The longest window one reconciliation covers (a quarter). */
export const MAX_WINDOW_DAYS = 92;
const DAY_MS = 86_400_000;
/**
 * How far outside the window the ERP's journal is read to find the window's orders: a history posting is dated a
 * little after its sale, and a sale just inside the window may be booked just outside it.
 */
const DISCOVERY_SLACK_MS = 2 * DAY_MS;

export interface ReconciliationDeps {
  ledger: Pick<LedgerPort, 'getPostingsByDate' | 'getPostingsByOrder'>;
  outbox: { bySourceTime(from: string, to: string): Promise<OutboxPosting[]>; postingsOf(orderIds: readonly string[]): Promise<OutboxPosting[][]> };
  backbone: Pick<EventBackbone, 'eventsForOrders'>;
  /** Runs counted, the latest run's mismatches kept. @default none */
  metrics?: Pick<Metrics, 'reconciliationRuns' | 'reconciliationMismatches'> | undefined;
}

/** A window is [from, to) with from before to and at most MAX_WINDOW_DAYS long; anything else is BAD_USER_INPUT. */
export function checkWindow(from: Date, to: Date): void {
  if (Number.isNaN(from.getTime())) throw badInput('from is not a date-time', 'from');
  if (Number.isNaN(to.getTime())) throw badInput('to is not a date-time', 'to');
  if (from.getTime() >= to.getTime()) throw badInput('from must be before to', 'from');
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) throw badInput(`a reconciliation covers at most ${MAX_WINDOW_DAYS} days`, 'to');
}

/**
 * Reconcile [from, to): the window's orders are those the ERP's journal has postings for around the window, and
 * those with outbox postings whose source happened in it. Their events and postings (ERP and outbox) are read in
 * one batch each, so the cost is a handful of calls whatever the number of orders. An ERP failure rejects with
 * ERP_UNAVAILABLE: without the ERP there is nothing to reconcile against.
 */
export async function reconciliation(deps: ReconciliationDeps, from: Date, to: Date): Promise<ReconciliationReport> {
  checkWindow(from, to);
  const [journal, own] = await Promise.all([
    deps.ledger.getPostingsByDate(new Date(from.getTime() - DISCOVERY_SLACK_MS).toISOString(), new Date(to.getTime() + DISCOVERY_SLACK_MS).toISOString()),
    deps.outbox.bySourceTime(from.toISOString(), to.toISOString()),
  ]);
  const orderIds = [...new Set([...journal.map((p) => p.orderId), ...own.map((p) => p.orderId)])].sort();
  const [events, erpPostings, ownPostings] = await Promise.all([deps.backbone.eventsForOrders(orderIds), deps.ledger.getPostingsByOrder(orderIds), deps.outbox.postingsOf(orderIds)]);
  const report = reconcile({
    from,
    to,
    orders: orderIds.map((orderId, i) => ({ orderId, events: events[i] ?? [], postings: mergePostings(erpPostings[i] ?? [], ownPostings[i] ?? []) })),
  });
  deps.metrics?.reconciliationRuns.inc();
  deps.metrics?.reconciliationMismatches.set(report.mismatches.length);
  return report;
}
