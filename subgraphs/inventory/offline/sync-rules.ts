import { userError, type UserErrorValue } from '../../../common/idempotent-mutation.js';
import type { CompensationRecord } from '../../../common/systems/exceptions.js';
import type { CommittedOrder } from './ports.js';

/*
 * The rules of an offline store's batch, without I/O: what a batch may hold, the order it applies in, how much of a
 * sale a count can still take, and the compensation an oversold sale proposes.
 */

export type StoreTransactionKind = 'SALE' | 'RETURN';

export interface StoreTransactionLine {
  sku: string;
  quantity: number;
}

export interface StoreTransaction {
  /** The POS's own id for the transaction (1 to 100 characters): it is applied once under it, whenever sent. */
  id: string;
  /** ISO 8601: when it happened at the till. */
  occurredAt: string;
  kind: StoreTransactionKind;
  lines: StoreTransactionLine[];
}

export interface SyncStoreTransactionsRequest {
  locationId: string;
  transactions: StoreTransaction[];
}

/** Transactions in one batch, at most. */
export const MAX_TRANSACTIONS = 500;
/** Lines of one transaction, at most. */
export const MAX_LINES = 100;
export const MAX_ID_LENGTH = 100;
/** Units of one line, at most (as a till's stock move). */
export const MAX_QUANTITY = 100_000;
/** How far ahead of the server's clock a till's time may be (clock skew), in ms; later is a bad time. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

const invalid = (message: string, field: string) => userError('INVALID_INPUT', message, field);

/**
 * Everything wrong with a batch (empty: it may be applied), checked before anything is applied: one bad transaction
 * refuses the whole batch, so that a till never has to work out which part landed.
 */
export function checkBatch(input: SyncStoreTransactionsRequest, now: Date): UserErrorValue[] {
  const errors: UserErrorValue[] = [];
  const { transactions } = input;
  if (transactions.length === 0) errors.push(invalid('a batch holds 1 transaction at least', 'transactions'));
  if (transactions.length > MAX_TRANSACTIONS) errors.push(invalid(`a batch holds ${MAX_TRANSACTIONS} transactions at most, got ${transactions.length}`, 'transactions'));
  if (errors.length) return errors;
  const seen = new Set<string>();
  transactions.forEach((t, i) => {
    const at = `transactions.${i}`;
    if (t.id.length < 1 || t.id.length > MAX_ID_LENGTH) errors.push(invalid(`a transaction id has 1 to ${MAX_ID_LENGTH} characters`, `${at}.id`));
    else if (seen.has(t.id)) errors.push(invalid(`transaction ${t.id} is in the batch twice`, `${at}.id`));
    seen.add(t.id);
    const time = Date.parse(t.occurredAt);
    if (!Number.isFinite(time)) errors.push(invalid(`occurredAt must be an ISO 8601 instant, got "${t.occurredAt}"`, `${at}.occurredAt`));
    else if (time > now.getTime() + MAX_CLOCK_SKEW_MS) errors.push(invalid(`occurredAt ${t.occurredAt} is in the future`, `${at}.occurredAt`));
    if (t.lines.length < 1 || t.lines.length > MAX_LINES) errors.push(invalid(`a transaction has 1 to ${MAX_LINES} lines, got ${t.lines.length}`, `${at}.lines`));
    t.lines.forEach((l, j) => {
      if (l.sku.trim() === '') errors.push(invalid('sku must not be empty', `${at}.lines.${j}.sku`));
      if (!Number.isInteger(l.quantity) || l.quantity < 1 || l.quantity > MAX_QUANTITY) errors.push(invalid(`quantity must be 1 to ${MAX_QUANTITY}, got ${l.quantity}`, `${at}.lines.${j}.quantity`));
    });
  });
  return errors;
}

/** The order a batch applies in: by when each happened at the till, ties by id (the till's order within a moment is unknown). */
export function applyOrder<T extends Pick<StoreTransaction, 'id' | 'occurredAt'>>(transactions: readonly T[]): T[] {
  return [...transactions].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A count as a sale sees it. */
export interface CountNow {
  onHand: number;
  committed: number;
  reserved: number;
  damaged: number;
}

/**
 * What an offline sale of `quantity` does to a count: the goods left the store, so it is applied whatever was
 * promised, but on hand never goes below the damaged units (nor 0): `removed` units come off on hand, the rest is
 * `onHandShortfall` (the count was wrong). `shortfall`: units that were not sellable (promised to orders or carts,
 * damaged, or not there), the size of the oversell.
 */
export function saleEffect(count: CountNow, quantity: number): { removed: number; shortfall: number; onHandShortfall: number } {
  const sound = Math.max(0, count.onHand - count.damaged);
  const sellable = Math.max(0, sound - count.committed - count.reserved);
  const removed = Math.min(quantity, sound);
  return { removed, shortfall: Math.max(0, quantity - sellable), onHandShortfall: quantity - removed };
}

/**
 * The compensation an oversell of `shortfall` units proposes: the open online orders holding the SKU there, newest
 * first (the newest customer waited least), until they hold the shortfall. Each is REROUTE to the first location of
 * `elsewhere` (in the caller's order) that still has its units sellable (a pickup order: a store customers collect
 * at), taken from it so that two orders are not sent to the same unit; else CANCEL.
 */
export function proposeCompensation(orders: readonly CommittedOrder[], shortfall: number, elsewhere: readonly { locationId: string; available: number; pickupEnabled: boolean }[]): CompensationRecord[] {
  const left = elsewhere.map((e) => ({ ...e }));
  const proposal: CompensationRecord[] = [];
  let covered = 0;
  const newestFirst = [...orders].sort((a, b) => (a.placedAt < b.placedAt ? 1 : a.placedAt > b.placedAt ? -1 : 0));
  for (const order of newestFirst) {
    if (covered >= shortfall) break;
    const to = left.find((e) => e.available >= order.quantity && (!order.pickup || e.pickupEnabled));
    if (to) to.available -= order.quantity;
    proposal.push({ orderId: order.orderId, orderNumber: order.orderNumber, quantity: order.quantity, action: to ? 'REROUTE' : 'CANCEL', rerouteLocationId: to?.locationId ?? null });
    covered += order.quantity;
  }
  return proposal;
}
