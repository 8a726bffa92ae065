import { forbiddenError } from '../../../common/auth/authorization.js';
import type { CallerScope } from '../../../common/idempotency.js';
import { userError, type UserErrorValue } from '../../../common/idempotent-mutation.js';
import type { Logger } from '../../../common/logger.js';
import type { EventEmitter } from '../../../common/outbox/event-outbox.js';
import { movementOf, unannouncedIdOf } from '../../../common/systems/stock-book.js';
import type { LocationDirectoryPort, LocationKind, StockPolicy, StockPolicyPort, StockPort } from '../ports.js';
import { availableOf, compareLocations, locationKindOf } from '../stock.js';
import { announce } from '../writes/announce.js';
import { exceptionIdOf } from '../writes/events.js';
import type { ItemMasterPort, StockExceptionNote, StockMovement, StockWriterPort, UnannouncedStockWrite } from '../writes/ports.js';
import type { CommittedOrdersPort } from './ports.js';
import { applyOrder, checkBatch, proposeCompensation, saleEffect, type StoreTransaction, type SyncStoreTransactionsRequest } from './sync-rules.js';

export interface StoreSyncDeps {
  locations: Record<LocationKind, LocationDirectoryPort>;
  /** Fresh counts (never a request's cached ones): a sale's compare-and-swap is against the count as it is. */
  stock: Record<LocationKind, StockPort>;
  policies: StockPolicyPort;
  items: ItemMasterPort;
  writers: Record<LocationKind, StockWriterPort>;
  /** The outbox (see StockWriteDeps.events). */
  events: EventEmitter;
  orders: CommittedOrdersPort;
  logger?: Logger | undefined;
  now?: (() => Date) | undefined;
}

export type StoreTransactionStatus = 'APPLIED' | 'DUPLICATE';

/** An oversold line of a transaction: the exception it raised. */
export interface OversoldLine {
  sku: string;
  shortfall: number;
  exceptionId: string;
}

export interface StoreTransactionResult {
  id: string;
  occurredAt: string;
  status: StoreTransactionStatus;
  /** The lines this call found oversold (none on a DUPLICATE: the first call raised them). */
  oversold: OversoldLine[];
}

export interface SyncOutcome {
  /** In the order applied (by occurredAt, ties by id); [] when userErrors refused the batch. */
  results: StoreTransactionResult[];
  userErrors: UserErrorValue[];
}

/** Compare-and-swap attempts of one sale against a count that keeps moving (online orders at the same time). */
const CAS_ATTEMPTS = 8;

/**
 * A line's reference at the POS: the till's transaction id and the line, so that the book applies each once whoever
 * sends it and however often (a batch sent twice, batches that overlap). The prefix keeps them apart from the
 * references of `adjustInventory` (digests of idempotency keys).
 */
export const lineReference = (transactionId: string, line: number): string => `pos-txn:${transactionId}:${line}`;

/**
 * Apply a store's offline transactions (see README "Offline stores"): checked whole first (a bad one applies
 * nothing), then in till order, each line once under its reference. A sale applies even below what is promised
 * (the goods left the store), raising OVERSOLD with its proposed compensation in the same write as the move.
 */
export async function syncStoreTransactions(deps: StoreSyncDeps, scope: CallerScope, input: SyncStoreTransactionsRequest): Promise<SyncOutcome> {
  const principal = scope.principal;
  // The gateway checks the same (@requiresScopes store, @policy own_location); this is the owner's own check.
  if (principal?.kind !== 'store') throw forbiddenError('only a store associate syncs a store\'s transactions');
  if (principal.locationId !== input.locationId) throw forbiddenError(`a store associate syncs the transactions of ${principal.locationId} only`);
  const fail = (userErrors: UserErrorValue[]): SyncOutcome => ({ results: [], userErrors });
  const now = (deps.now ?? (() => new Date()))();
  const errors = checkBatch(input, now);
  if (errors.length) return fail(errors);
  if (locationKindOf(input.locationId) !== 'STORE') return fail([userError('INVALID_INPUT', `${input.locationId} is not a store`, 'locationId')]);
  const skus = [...new Set(input.transactions.flatMap((t) => t.lines.map((l) => l.sku)))];
  const [[location], known, policies] = await Promise.all([
    deps.locations.STORE.getLocations([input.locationId]),
    deps.items.exist(skus),
    deps.policies.getStockPolicies(skus.map((sku) => ({ sku, locationId: input.locationId }))),
  ]);
  if (!location) return fail([userError('INVALID_INPUT', `no store ${input.locationId}`, 'locationId')]);
  const unknown = new Set(skus.filter((_, i) => known[i] !== true));
  if (unknown.size) {
    return fail(
      input.transactions.flatMap((t, i) => t.lines.flatMap((l, j) => (unknown.has(l.sku) ? [userError('UNKNOWN_SKU', `no SKU ${l.sku} in the item master`, `transactions.${i}.lines.${j}.sku`)] : []))),
    );
  }
  const policyOf = new Map<string, StockPolicy | null>(skus.map((sku, i) => [sku, policies[i] ?? null]));
  const results: StoreTransactionResult[] = [];
  for (const transaction of applyOrder(input.transactions)) results.push(await applyTransaction(deps, scope, input.locationId, transaction, policyOf));
  return { results, userErrors: [] };
}

async function applyTransaction(deps: StoreSyncDeps, scope: CallerScope, locationId: string, transaction: StoreTransaction, policyOf: ReadonlyMap<string, StockPolicy | null>): Promise<StoreTransactionResult> {
  const oversold: OversoldLine[] = [];
  let applied = false;
  for (const [index, line] of transaction.lines.entries()) {
    const reference = lineReference(transaction.id, index);
    const done = transaction.kind === 'RETURN' ? await applyReturn(deps, scope, locationId, transaction, line, reference) : await applySale(deps, scope, locationId, transaction, line, reference);
    if (done === 'REPEATED') continue;
    applied = true;
    await announce(deps, [done], (write) => (write.kind === 'ADJUSTED' ? (policyOf.get(write.sku) ?? null) : null));
    if (done.exception) oversold.push({ sku: line.sku, shortfall: done.exception.shortfall, exceptionId: exceptionIdOf(done) });
  }
  // Every line applied before (a batch sent again, or one that overlaps an earlier one): nothing moved now.
  return { id: transaction.id, occurredAt: transaction.occurredAt, status: applied ? 'APPLIED' : 'DUPLICATE', oversold };
}

type Applied = Extract<UnannouncedStockWrite, { kind: 'ADJUSTED' }>;

/** The unannounced write a move made, as the book keeps it (see StockBook.unannouncedWrites). */
function writeOf(scope: CallerScope, locationId: string, movement: StockMovement & { reference: string }, result: { count: Applied['record']; previousOnHand: number }, at: Date): Applied {
  return {
    kind: 'ADJUSTED',
    id: unannouncedIdOf.adjusted(movement.reference),
    locationId,
    at: at.toISOString(),
    correlationId: scope.correlationId,
    sku: movement.sku,
    reason: movement.reason ?? null,
    movement: movementOf(movement),
    record: result.count,
    previousOnHand: result.previousOnHand,
    ...(movement.occurredAt !== undefined && { occurredAt: movement.occurredAt }),
    ...(movement.exception !== undefined && { exception: movement.exception }),
  };
}

async function applyReturn(deps: StoreSyncDeps, scope: CallerScope, locationId: string, transaction: StoreTransaction, line: { sku: string; quantity: number }, reference: string): Promise<Applied | 'REPEATED'> {
  const movement = { sku: line.sku, locationId, onHandDelta: line.quantity, reference, reason: 'RETURN', correlationId: scope.correlationId, occurredAt: transaction.occurredAt };
  const result = await deps.writers.STORE.move(movement);
  if (!result.ok) throw new Error(`the POS refused the return ${transaction.id} of ${line.sku} (${result.reason})`);
  if (result.repeated) return 'REPEATED';
  return writeOf(scope, locationId, movement, result, (deps.now ?? (() => new Date()))());
}

/**
 * One sale line, compare-and-swap on on hand: read the count, work out what the sale takes and whether it oversells
 * (and then the proposal), write that only if on hand is still what was read; else read again. The book answers a
 * line applied before (its reference) first, whatever the count: REPEATED.
 */
async function applySale(deps: StoreSyncDeps, scope: CallerScope, locationId: string, transaction: StoreTransaction, line: { sku: string; quantity: number }, reference: string): Promise<Applied | 'REPEATED'> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const [count] = await deps.stock.STORE.getStock([{ sku: line.sku, locationId }]);
    const now = { onHand: count?.onHand ?? 0, committed: count?.committed ?? 0, reserved: count?.reserved ?? 0, damaged: count?.damaged ?? 0 };
    const effect = saleEffect(now, line.quantity);
    const exception: StockExceptionNote | undefined = effect.shortfall > 0 ? { kind: 'OVERSOLD', transactionId: transaction.id, quantity: line.quantity, shortfall: effect.shortfall, onHandShortfall: effect.onHandShortfall, proposal: await proposalFor(deps, locationId, line.sku, effect.shortfall) } : undefined;
    const movement = {
      sku: line.sku,
      locationId,
      onHandDelta: -effect.removed,
      expectedOnHand: now.onHand,
      reference,
      reason: 'SALE',
      correlationId: scope.correlationId,
      occurredAt: transaction.occurredAt,
      overridePromised: true,
      ...(exception && { exception }),
    };
    const result = await deps.writers.STORE.move(movement);
    if (result.ok) return result.repeated ? 'REPEATED' : writeOf(scope, locationId, movement, result, (deps.now ?? (() => new Date()))());
    deps.logger?.debug({ locationId, sku: line.sku, transactionId: transaction.id, reason: result.reason, attempt }, 'offline sale raced another stock write: reading the count again');
  }
  throw new Error(`the count of ${line.sku} at ${locationId} kept moving: sale ${transaction.id} not applied (send the batch again)`);
}

/** The compensation of an oversell: the online orders holding the SKU here, rerouted where it is sellable now. */
async function proposalFor(deps: StoreSyncDeps, locationId: string, sku: string, shortfall: number) {
  const [[orders = []], stores, warehouses] = await Promise.all([deps.orders.openOrdersAt(locationId, [sku]), deps.locations.STORE.listLocations(), deps.locations.WAREHOUSE.listLocations()]);
  if (orders.length === 0) return [];
  const others = [...stores, ...warehouses].filter((l) => l.id !== locationId).sort(compareLocations);
  const keys = others.map((l) => ({ sku, locationId: l.id }));
  const kinds: LocationKind[] = ['STORE', 'WAREHOUSE'];
  const [counts, policies] = await Promise.all([
    Promise.all(kinds.map((kind) => deps.stock[kind].getStock(keys.filter((k) => locationKindOf(k.locationId) === kind)))),
    deps.policies.getStockPolicies(keys),
  ]);
  const byLocation = new Map(kinds.flatMap((kind, k) => keys.filter((key) => locationKindOf(key.locationId) === kind).map((key, i) => [key.locationId, counts[k]?.[i] ?? null] as const)));
  const elsewhere = others.map((l, i) => {
    const count = byLocation.get(l.id) ?? null;
    return { locationId: l.id, pickupEnabled: l.kind === 'STORE' && l.pickupEnabled, available: count ? availableOf(count, policies[i]?.safetyStock ?? 0) : 0 };
  });
  return proposeCompensation(orders, shortfall, elsewhere);
}
