import type { OrderRecord, PostingRecord, RefundRecord, ReturnRecord, StockRecord } from '../../common/systems/records.js';
import type { ExitRecord, ManagedProcess } from './processes.js';
import type { CheckoutRecord, LoadStats, MoveRecord } from './load.js';
import { keyOf } from './sandbox-reads.js';
import type { SubscriberLog } from './subscribers.js';

/** One row of the printed table. `skipped`: not measurable on this build (said why in `measured`). */
export interface Invariant {
  name: string;
  expected: string;
  measured: string;
  ok: boolean | 'skipped';
  /** The first offending cases, for the report. */
  detail: string[];
}

const row = (name: string, expected: string, measured: string, ok: boolean | 'skipped', detail: string[] = []): Invariant => ({ name, expected, measured, ok, detail: detail.slice(0, 12) });

/** Statuses whose units are still committed at the fulfilment location. */
const OPEN = new Set(['PLACED', 'CONFIRMED', 'READY_FOR_PICKUP']);
/** Statuses whose units left the shelf (picked up; a return brings some back, counted from the returns). */
const FULFILLED = new Set(['PICKED_UP', 'PARTIALLY_RETURNED', 'RETURNED', 'SHIPPED', 'DELIVERED']);

export interface Evidence {
  checkouts: readonly CheckoutRecord[];
  moves: readonly MoveRecord[];
  stats: LoadStats;
  /** Orders of each checkout's customer created during the run (not in the start snapshot). */
  runOrders: Map<string, OrderRecord[]>;
  stockStart: Map<string, StockRecord | null>;
  stockEnd: Map<string, StockRecord | null>;
  /** Order ids (raw) the clients got back that the graph answered for (OrderTimeline as an agent). */
  readable: Set<string>;
  postings: Map<string, PostingRecord[]>;
  returns: Map<string, ReturnRecord[]>;
  refunds: Map<string, RefundRecord[]>;
  outbox: { pending: number; failed: number; deadLettered: number; posted: number } | null;
  reconciliation: { sourceTotal: { amount: string; currencyCode: string }; erpTotal: { amount: string; currencyCode: string }; pendingPostings: number; failedPostings: number; mismatches: unknown[] } | null;
  subscribers: readonly SubscriberLog[];
  /** Whether the graph has resumable subscriptions (`after`, `sequence`). */
  resume: boolean;
  /** Per location, the marker change made after the load stopped: the last change of that stream. */
  markers: Map<string, { sku: string; delta: number }>;
  processes: readonly ManagedProcess[];
  /** How each process ended at the final stop (SIGTERM). */
  finalExits: Map<string, ExitRecord | undefined>;
  /** Processes that were not running when the run ended (before the final stop). */
  notRunningAtEnd: string[];
  /** Restarts of the timeline that did not come back (exited or never ready). */
  failedStarts: string[];
}

export function checkInvariants(e: Evidence): Invariant[] {
  return [...stockRows(e), ...orderRows(e), ...postingRows(e), reconciliationRow(e), ...subscriberRows(e), processRow(e), queryRow(e)];
}

function allRunOrders(e: Evidence): OrderRecord[] {
  return [...e.runOrders.values()].flat();
}

function stockRows(e: Evidence): Invariant[] {
  const rows: Invariant[] = [];
  // a. Nothing promised beyond what is on the shelf: during the run (every StoreStock answer and stock change seen) and at the end.
  const negatives: string[] = [];
  let minEnd = Number.POSITIVE_INFINITY;
  for (const [key, level] of e.stockEnd) {
    if (!level) continue;
    const free = level.onHand - level.committed - level.reserved - level.damaged;
    minEnd = Math.min(minEnd, free);
    if (free < 0) negatives.push(`${key}: onHand ${level.onHand}, committed ${level.committed}, reserved ${level.reserved}, damaged ${level.damaged}`);
  }
  const during = e.stats.minUnpromised;
  for (const log of e.subscribers) for (const ev of log.events) if (ev.unpromised !== undefined && ev.unpromised < 0) negatives.push(`${log.id} ${log.stream} ${ev.sku}: ${ev.unpromised} after ${ev.reason} ${ev.delta}`);
  const minSeen = Math.min(during?.value ?? Number.POSITIVE_INFINITY, ...e.subscribers.flatMap((l) => l.events.map((ev) => ev.unpromised ?? Number.POSITIVE_INFINITY)));
  rows.push(row('1a. no level promised more than on hand', 'onHand − committed − reserved − damaged ≥ 0', `min ${fmt(minSeen)} during, ${fmt(minEnd)} at end (${e.stockEnd.size} levels)`, negatives.length === 0, negatives));

  // b. Conservation per SKU and location: what left or is committed is what the start, receipts and returns allow.
  const off = conservationOff(e);
  rows.push(row('1b. units committed/fulfilled = start + receipts − sales (per SKU+location)', '0 levels off', `${off.length} of ${e.stockEnd.size} off`, off.length === 0, off));
  const unresolvedMoves = e.moves.filter((m) => m.applied === undefined);
  rows.push(row('1c. every stock move got a definite answer', '0 unresolved', `${unresolvedMoves.length} of ${e.moves.length}`, unresolvedMoves.length === 0, unresolvedMoves.map((m) => m.key)));
  return rows;
}

/**
 * The levels whose change since the start does not match what the clients did: on hand moved by the applied stock
 * moves, the handed-over orders' units and the received returns; committed by the orders still open. One line per
 * level that is off (empty: all match).
 */
export function conservationOff(e: Pick<Evidence, 'moves' | 'runOrders' | 'returns' | 'stockStart' | 'stockEnd'> & Partial<Pick<Evidence, 'checkouts'>>): string[] {
  const expectOnHand = new Map<string, number>();
  const expectCommitted = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);
  for (const move of e.moves) if (move.applied) add(expectOnHand, keyOf(move), move.delta);
  for (const order of [...e.runOrders.values()].flat()) {
    for (const line of order.lines) {
      const key = keyOf({ sku: line.sku, locationId: order.fulfillmentLocationId });
      if (OPEN.has(order.status)) add(expectCommitted, key, line.quantity);
      if (FULFILLED.has(order.status)) add(expectOnHand, key, -line.quantity);
    }
    for (const ret of e.returns.get(order.id) ?? []) {
      if (ret.status === 'REQUESTED') continue;
      for (const line of ret.lines) add(expectOnHand, keyOf({ sku: line.sku, locationId: order.fulfillmentLocationId }), line.quantity);
    }
  }
  const off: string[] = [];
  for (const [key, end] of e.stockEnd) {
    const start = e.stockStart.get(key);
    if (!end || !start) continue;
    const onHand = end.onHand - start.onHand;
    const committed = end.committed - start.committed;
    if (onHand !== (expectOnHand.get(key) ?? 0) || committed !== (expectCommitted.get(key) ?? 0)) {
      off.push(`${key}: onHand ${start.onHand}→${end.onHand} (Δ${onHand}, expected Δ${expectOnHand.get(key) ?? 0}), committed ${start.committed}→${end.committed} (Δ${committed}, expected Δ${expectCommitted.get(key) ?? 0}); ${touching(e, key)}`);
    }
  }
  return off;
}

/** An order's last status move when it is still unsettled (its runner died, or recovery has not finished it yet), for the diagnosis. */
const moveNote = (o: OrderRecord): string => (o.lastMove && !o.lastMove.settled ? ` (unsettled ${o.lastMove.reference.split(':')[1] ?? 'move'} from ${o.lastMove.from})` : '');

/** What touched a level that is off, for its diagnosis: the run's orders holding its SKU there, and the pickup checkouts there. */
function touching(e: Pick<Evidence, 'runOrders'> & Partial<Pick<Evidence, 'checkouts'>>, key: string): string {
  const orders = [...e.runOrders.values()]
    .flat()
    .flatMap((o) => o.lines.filter((l) => keyOf({ sku: l.sku, locationId: o.fulfillmentLocationId }) === key).map((l) => `${o.id} ${o.status}${moveNote(o)} ×${l.quantity}`));
  const checkouts = (e.checkouts ?? [])
    .filter((c) => c.pickupLocationId !== null && c.lines.some((l) => keyOf({ sku: l.sku, locationId: c.pickupLocationId! }) === key))
    .map((c) => `${c.key} ${c.outcome}${c.codes?.length ? ` ${c.codes.join(',')}` : ''} after ${c.attempts} attempts${c.orderId ? ` → ${c.orderId}` : ''}`);
  return `orders here: ${orders.join(', ') || 'none'}; pickup checkouts here: ${checkouts.join(', ') || 'none'}`;
}

function orderRows(e: Evidence): Invariant[] {
  const accepted = e.checkouts.filter((c) => c.outcome === 'order');
  const doubled: string[] = [];
  const missing: string[] = [];
  const strays: string[] = [];
  for (const c of e.checkouts) {
    const orders = e.runOrders.get(c.customerId) ?? [];
    if (orders.length > 1) doubled.push(`${c.key} (${c.outcome}): ${orders.map((o) => `${o.id} ${o.status}`).join(', ')}`);
    if (c.outcome === 'order' && !orders.some((o) => o.id === c.orderId)) missing.push(`${c.key}: ${c.orderId} not in the order systems`);
    if (c.outcome === 'order' && !e.readable.has(c.orderId!)) missing.push(`${c.key}: ${c.orderId} not readable through the graph`);
    // A refused checkout keeps no live order (a declined payment cancels the one it began).
    if (c.outcome === 'rejected' && orders.some((o) => o.status !== 'CANCELLED')) strays.push(`${c.key} refused (${c.codes?.join(',')}) but ${orders.map((o) => `${o.id} ${o.status}`).join(', ')}`);
    if (c.outcome === 'unresolved' && orders.some((o) => o.status !== 'CANCELLED')) strays.push(`${c.key} unresolved but ${orders.map((o) => `${o.id} ${o.status}`).join(', ')}`);
  }
  const unresolved = e.checkouts.filter((c) => c.outcome === 'unresolved');
  let liveDoubled = 0;
  let extra = 0;
  let extraCancelled = 0;
  for (const c of e.checkouts) {
    const orders = e.runOrders.get(c.customerId) ?? [];
    if (orders.filter((o) => o.status !== 'CANCELLED').length > 1) liveDoubled++;
    if (orders.length > 1) {
      extra += orders.length - 1;
      // The one kept is the client's (or a live one); the rest are the extra ones.
      const kept = orders.find((o) => o.id === c.orderId) ?? orders.find((o) => o.status !== 'CANCELLED') ?? orders[0]!;
      extraCancelled += orders.filter((o) => o !== kept && o.status === 'CANCELLED').length;
    }
  }
  return [
    row(
      '2a. one order per checkout key',
      '0 keys with 2+ orders',
      `${doubled.length} of ${e.checkouts.length} keys (${liveDoubled} with 2+ live orders; ${extra} orders beyond one per key, ${extraCancelled} of them cancelled)`,
      doubled.length === 0,
      doubled,
    ),
    row('2b. every order id a client got back exists and is readable', `${accepted.length} of ${accepted.length}`, `${accepted.length - new Set(missing.map((m) => m.split(':')[0])).size} of ${accepted.length}`, missing.length === 0, missing),
    row('2c. no live order behind a refused checkout', '0', String(strays.length), strays.length === 0, strays),
    row('2d. every checkout got a definite answer', '0 unresolved', `${unresolved.length} of ${e.checkouts.length}`, unresolved.length === 0, unresolved.map((c) => c.key)),
  ];
}

function postingRows(e: Evidence): Invariant[] {
  const wrong: string[] = [];
  let sales = 0;
  let refunds = 0;
  for (const order of allRunOrders(e)) {
    const postings = e.postings.get(order.id) ?? [];
    const booked = (type: PostingRecord['type']) => postings.filter((p) => p.type === type && p.status === 'POSTED');
    const expectedSales = FULFILLED.has(order.status) ? 1 : 0;
    const refunded = (e.returns.get(order.id) ?? []).filter((r) => r.status === 'REFUNDED').length;
    const saleRows = booked('SALE');
    const refundRows = booked('REFUND');
    sales += saleRows.length;
    refunds += refundRows.length;
    if (saleRows.length !== expectedSales) wrong.push(`${order.id} ${order.status}: ${saleRows.length} SALE postings, expected ${expectedSales}`);
    else if (saleRows[0] && saleRows[0].amountMinor !== order.totalMinor) wrong.push(`${order.id}: SALE ${saleRows[0].amountMinor}, order total ${order.totalMinor}`);
    if (refundRows.length !== refunded) wrong.push(`${order.id}: ${refundRows.length} REFUND postings, ${refunded} refunded returns`);
    const refundedMinor = (e.refunds.get(order.id) ?? []).filter((r) => r.status === 'SUCCEEDED').reduce((s, r) => s + r.amountMinor, 0);
    const postedMinor = refundRows.reduce((s, p) => s + p.amountMinor, 0);
    if (refundRows.length === refunded && postedMinor !== refundedMinor) wrong.push(`${order.id}: REFUND postings ${postedMinor}, PSP refunds ${refundedMinor}`);
    const other = postings.filter((p) => p.status !== 'POSTED');
    if (other.length) wrong.push(`${order.id}: postings not booked: ${other.map((p) => `${p.type} ${p.status}`).join(', ')}`);
  }
  const o = e.outbox;
  return [
    row('3a. every sale and refund posted exactly once (ERP)', '0 orders off', `${wrong.length} off; ${sales} sales, ${refunds} refunds posted`, wrong.length === 0, wrong),
    row('3b. finance outbox drained', 'pending 0, failed 0, dead 0', o ? `pending ${o.pending}, failed ${o.failed}, dead ${o.deadLettered}, posted ${o.posted}` : 'no answer', !!o && o.pending === 0 && o.failed === 0 && o.deadLettered === 0),
  ];
}

function reconciliationRow(e: Evidence): Invariant {
  const r = e.reconciliation;
  if (!r) return row('4. reconciliation balanced', 'sourceTotal = erpTotal, 0 pending/failed/mismatches', 'no answer', false);
  const balanced = r.sourceTotal.amount === r.erpTotal.amount && r.sourceTotal.currencyCode === r.erpTotal.currencyCode;
  const ok = balanced && r.pendingPostings === 0 && r.failedPostings === 0 && r.mismatches.length === 0;
  return row(
    '4. reconciliation balanced (window of the run)',
    'sourceTotal = erpTotal, 0 pending/failed/mismatches',
    `${r.sourceTotal.amount} vs ${r.erpTotal.amount} ${r.erpTotal.currencyCode}; pending ${r.pendingPostings}, failed ${r.failedPostings}, mismatches ${r.mismatches.length}`,
    ok,
    r.mismatches.map((m) => JSON.stringify(m)),
  );
}

function subscriberRows(e: Evidence): Invariant[] {
  const inventory = e.subscribers.filter((l) => l.kind === 'inventory');
  const orders = e.subscribers.filter((l) => l.kind === 'order');
  const statusOf = new Map(allRunOrders(e).map((o) => [o.id, o.status]));
  const idOf = new Map(e.checkouts.filter((c) => c.globalId).map((c) => [c.globalId!, c.orderId!]));
  const reconnects = e.subscribers.reduce((s, l) => s + l.connections - 1, 0);
  const tooOld = e.subscribers.filter((l) => l.endings.includes('RESUME_TOO_OLD')).length;
  // The last status seen is the order's (every subscriber, resume or not: the final move must arrive).
  const stale: string[] = [];
  for (const log of orders) {
    const status = statusOf.get(idOf.get(log.stream) ?? '');
    const last = log.events.at(-1)?.status;
    if (status && last !== status) stale.push(`${log.id} ${idOf.get(log.stream)}: last seen ${last ?? 'nothing'}, order is ${status} (${log.connections} connections, endings ${log.endings.slice(-3).join(',')})`);
  }
  const markerMissed: string[] = [];
  for (const log of inventory) {
    const marker = e.markers.get(log.stream);
    if (marker && !log.events.some((ev) => ev.sku === marker.sku && ev.delta === marker.delta && ev.reason === 'RECEIPT')) markerMissed.push(`${log.id} ${log.stream}: no marker among ${log.events.length} changes (${log.connections} connections)`);
  }
  const summary = `${e.subscribers.length} subscribers (${inventory.length} StoreInventory, ${orders.length} OrderTracking), ${reconnects} reconnects`;
  if (!e.resume) {
    return [
      row('5a. every subscriber saw every change once, in order (sequences)', 'sequence +1 per stream from the first', `not measurable: the graph has no \`after\`/\`sequence\` yet (part 6); ${summary}`, 'skipped'),
      row('5b. OrderTracking: last status seen = order status', '0 stale', `${stale.length} of ${orders.length}`, 'skipped', stale),
      row('5c. StoreInventory: the final (marker) change reached every subscriber', '0 missed', `${markerMissed.length} of ${inventory.length}`, 'skipped', markerMissed),
    ];
  }
  const gaps: string[] = [];
  for (const log of e.subscribers) {
    const seqs = log.events.map((ev) => ev.sequence);
    if (seqs.some((s) => s === null)) {
      gaps.push(`${log.id}: a change without a sequence`);
      continue;
    }
    for (let i = 1; i < seqs.length; i++) {
      if (seqs[i] !== seqs[i - 1]! + 1) {
        const around = log.events.slice(Math.max(0, i - 2), i + 2).map((ev) => `${ev.sequence}${ev.sku ? ` ${ev.sku} ${ev.reason} ${ev.delta}` : ` ${ev.status}`}`);
        gaps.push(`${log.id} ${log.stream}: ${around.join(' | ')} (${seqs[i]! <= seqs[i - 1]! ? 'repeat/out of order' : 'gap'}; ${log.connections} connections, endings ${log.endings.join(',') || 'none'})`);
        break;
      }
    }
  }
  return [
    row('5a. every subscriber saw every change once, in order (sequences)', 'sequence +1 per stream from the first; 0 RESUME_TOO_OLD', `${gaps.length} subscribers off, ${tooOld} RESUME_TOO_OLD; ${summary}`, gaps.length === 0 && tooOld === 0, gaps),
    row('5b. OrderTracking: last status seen = order status', '0 stale', `${stale.length} of ${orders.length}`, stale.length === 0, stale),
    row('5c. StoreInventory: the final (marker) change reached every subscriber', '0 missed', `${markerMissed.length} of ${inventory.length}`, markerMissed.length === 0, markerMissed),
  ];
}

function processRow(e: Evidence): Invariant {
  const crashes = e.processes.flatMap((p) => p.crashes());
  const unclean = [...e.finalExits].filter(([, exit]) => exit && exit.code !== 0).map(([name, exit]) => `${name}: final SIGTERM exit code ${exit!.code} signal ${exit!.signal}`);
  const detail = [
    ...crashes.map((c) => `${c.name} exited unasked (code ${c.code}, signal ${c.signal}): ${c.tail.slice(-600)}`),
    ...e.notRunningAtEnd.map((n) => `${n} was not running at the end`),
    ...e.failedStarts.map((f) => `restart failed: ${f}`),
    ...unclean,
  ];
  const intended = e.processes.reduce((s, p) => s + p.exits.filter((x) => x.intended).length, 0) - [...e.finalExits.values()].filter(Boolean).length;
  return row('6. no process crashed', '0 unasked exits; all up at the end; exit 0 on SIGTERM', `${crashes.length} crashes, ${e.failedStarts.length} failed restarts, ${e.notRunningAtEnd.length} down, ${unclean.length} unclean stops (${intended} kills/restarts on purpose)`, detail.length === 0, detail);
}

/** Under faults a query may fail, but an answer must say why with a code (the product's rule for every error). */
function queryRow(e: Evidence): Invariant {
  const q = e.stats.queries;
  return row('7. every failed query answered with coded errors', '0 uncoded', `${q.uncoded} uncoded of ${q.failed} failed (${q.ok + q.failed} queries)`, q.uncoded === 0, q.uncodedSamples);
}

const fmt = (n: number) => (Number.isFinite(n) ? String(n) : '–');

/** The table, as printed: name, expected, measured, ok. */
export function formatTable(rows: readonly Invariant[]): string {
  const cells = rows.map((r) => [r.name, r.expected, r.measured, r.ok === 'skipped' ? 'SKIP' : r.ok ? 'ok' : 'FAIL']);
  const head = ['invariant', 'expected', 'measured', 'ok'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

/** The offending cases of the failed rows, for the end of the report. */
export function formatDetails(rows: readonly Invariant[]): string {
  return rows
    .filter((r) => r.ok !== true && r.detail.length)
    .map((r) => `${r.name}:\n${r.detail.map((d) => `  - ${d}`).join('\n')}`)
    .join('\n');
}
