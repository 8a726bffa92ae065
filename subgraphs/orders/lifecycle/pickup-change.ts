import { forbiddenError } from '../../../common/auth/authorization.js';
import { runInScope } from '../../../common/correlation.js';
import { createEvent, type CanonicalEvent, type StockLineData } from '../../../common/events.js';
import { callerKeyDigest, callerOf, type CallerScope, type IdempotencyStore } from '../../../common/idempotency.js';
import { runIdempotent, userError, type UserErrorValue } from '../../../common/idempotent-mutation.js';
import type { Logger } from '../../../common/logger.js';
import type { EventEmitter } from '../../../common/outbox/event-outbox.js';
import type { OpenCommitment } from '../../../common/systems/stock-book.js';
import type { OrderAccess, OrderAction } from '../access.js';
import { orderSourceOf, stockLinesOf, stockSourceOf } from '../canonical-events.js';
import type { OrderWriterPort, SiteDirectoryPort, StockCommitPort } from '../checkout/ports.js';
import type { OrderBooks, OrderStatusCode, OrderSystem, SalesOrder } from '../ports.js';
import { systemOfOrderId } from '../routing.js';
import { shortDigest } from '../../../common/digest.js';

/*
 * Changing a pickup order's store after checkout (issue 13): before READY_FOR_PICKUP, the order's stock commitment
 * moves to the new store and the order is collected there.
 *
 * Two systems of record change, in this order, each step idempotent by a reference:
 *   1. the stock book moves the checkout's commitment (StockBook.moveCommitment: checked and committed at the new
 *      store, given back at the old one, all or nothing); at the new store it stays open, marked `movedFrom`;
 *   2. the order system changes the order's pickup and fulfilment location, by compare-and-swap on its status and
 *      its old store, remembering the change (`lastRelocation`, unsettled);
 *   3. the events go to the outbox (ids derived from the change's reference), then the commitment and the change
 *      are settled.
 * Stock first: a crash after 1 leaves the units at the new store and the order at the old one. The client's retry
 * under the same key runs again (the move finds the commitment moved and moves nothing more) and goes on with 2; a
 * crash after 2 is resumed by the retry from `lastRelocation`. When no retry comes, checkout recovery finds the open
 * commitment with `movedFrom` after CHECKOUT_STALE_MS and finishes or undoes it ({@link recoverRelocation}).
 */

export const MAX_ID_LENGTH = 200;

/** The statuses a pickup store may still change in: the goods are not picked for the store yet. */
export const CHANGEABLE_STATUSES: readonly OrderStatusCode[] = ['PLACED', 'CONFIRMED'];
/** Statuses that still hold their commitment (see checkout recovery). */
const HOLDING: ReadonlySet<OrderStatusCode> = new Set(['PLACED', 'CONFIRMED', 'READY_FOR_PICKUP']);

export interface PickupChangeDeps {
  /** Order reads, fresh from the systems. */
  orderBooks: OrderBooks;
  loadOrder: (id: string) => Promise<SalesOrder | null>;
  idempotency: IdempotencyStore;
  events: EventEmitter;
  /** The row rule for `change-pickup` (see access.ts). */
  access: (order: SalesOrder, action: OrderAction) => OrderAccess;
  sites: Pick<SiteDirectoryPort, 'getSites'>;
  stock: Pick<StockCommitPort, 'moveCommitment' | 'settle' | 'releaseCommitment'>;
  orders: Pick<OrderWriterPort, 'moveLocation' | 'settleRelocation'>;
  logger?: Logger | undefined;
  now?: (() => Date) | undefined;
}

export interface ChangePickupLocationRequest {
  idempotencyKey: string;
  orderId: string;
  pickupLocationId: string;
}

export interface PickupChangeOutcome {
  order: SalesOrder | null;
  userErrors: UserErrorValue[];
}

interface StoredOutcome {
  orderId: string | null;
  userErrors: UserErrorValue[];
}

const pickupStoreOf = (order: SalesOrder) => order.pickupLocationId ?? order.fulfillmentLocationId;

/** The change's reference: the order and a digest of the caller's key, so only a retry under that key resumes it. */
export const relocationReferenceOf = (scope: CallerScope, orderId: string, key: string): string => `${orderId}:CHANGE_PICKUP:${callerKeyDigest(scope, key)}`;

/**
 * The events of one change: PICKUP_LOCATION_CHANGED (the order's stream; both stores' pickup feeds), then per line
 * INVENTORY_RELEASED at the old store and INVENTORY_RESERVED at the new one (both stores' stock streams). Ids come
 * from the change's reference, so that a retry or recovery saying them again is dropped by the backbone.
 */
export function pickupChangeEvents(order: SalesOrder, fromLocationId: string, toLocationId: string, reference: string, at: Date): CanonicalEvent[] {
  const digest = shortDigest(reference);
  const meta = { correlationId: order.correlationId, orderId: order.id, occurredAt: at };
  const lines = stockLinesOf(order);
  return [
    createEvent('PICKUP_LOCATION_CHANGED', { previousStatus: order.status, status: order.status, fromLocationId, toLocationId, lines }, { ...meta, id: `evt-pc-${digest}-changed`, source: orderSourceOf(order.channel), locationId: toLocationId }),
    ...lines.map((line, i) => createEvent('INVENTORY_RELEASED', { quantity: line.quantity, reason: 'RELEASED' }, { ...meta, id: `evt-pc-${digest}-released-${i}`, source: stockSourceOf(fromLocationId), sku: line.sku, locationId: fromLocationId })),
    ...lines.map((line, i) => createEvent('INVENTORY_RESERVED', { quantity: line.quantity }, { ...meta, id: `evt-pc-${digest}-reserved-${i}`, source: stockSourceOf(toLocationId), sku: line.sku, locationId: toLocationId })),
  ];
}

/**
 * The events of a reroute (a shipped order's fulfilment location moved after a pick shortage): ORDER_REROUTED (the
 * order's timeline), then per line INVENTORY_RELEASED at the old location and INVENTORY_RESERVED at the new one.
 * Ids from the change's reference, as for a pickup change. `shortLines`: what the old shelf lacked (unknown to recovery: []).
 */
export function rerouteEvents(order: SalesOrder, fromLocationId: string, toLocationId: string, reference: string, at: Date, shortLines: StockLineData[]): CanonicalEvent[] {
  const digest = shortDigest(reference);
  const meta = { correlationId: order.correlationId, orderId: order.id, occurredAt: at };
  const lines = stockLinesOf(order);
  return [
    createEvent('ORDER_REROUTED', { previousStatus: order.status, status: order.status, fromLocationId, toLocationId, lines, shortLines }, { ...meta, id: `evt-rr-${digest}-rerouted`, source: stockSourceOf(fromLocationId), locationId: toLocationId }),
    ...lines.map((line, i) => createEvent('INVENTORY_RELEASED', { quantity: line.quantity, reason: 'RELEASED' }, { ...meta, id: `evt-rr-${digest}-released-${i}`, source: stockSourceOf(fromLocationId), sku: line.sku, locationId: fromLocationId })),
    ...lines.map((line, i) => createEvent('INVENTORY_RESERVED', { quantity: line.quantity }, { ...meta, id: `evt-rr-${digest}-reserved-${i}`, source: stockSourceOf(toLocationId), sku: line.sku, locationId: toLocationId })),
  ];
}

/** The events of a change of an order's location: a pickup store's change, or a shipped order's reroute. */
export function relocationEvents(order: SalesOrder, fromLocationId: string, toLocationId: string, reference: string, at: Date, shortLines: StockLineData[] = []): CanonicalEvent[] {
  return order.deliveryMethod === 'PICKUP' ? pickupChangeEvents(order, fromLocationId, toLocationId, reference, at) : rerouteEvents(order, fromLocationId, toLocationId, reference, at, shortLines);
}

/**
 * `changePickupLocation`: a PICKUP order in PLACED or CONFIRMED is to be collected at another store that hands over
 * pickups and has every line available; else INVALID_STATE, PICKUP_NOT_AVAILABLE, INVALID_INPUT (the same store) or
 * OUT_OF_STOCK, and nothing changes. Through the one idempotency kernel: the same key and input replay the first
 * answer.
 */
export async function changePickupLocation(deps: PickupChangeDeps, scope: CallerScope, request: ChangePickupLocationRequest): Promise<PickupChangeOutcome> {
  const input = { orderId: request.orderId, pickupLocationId: request.pickupLocationId.trim() };
  return relocationMutation(deps, scope, 'changePickupLocation', request.idempotencyKey, input, () => run(deps, scope, request.idempotencyKey, input));
}

/**
 * A change of an order's location (a pickup store's change, a reroute) through the one idempotency kernel: the order
 * (or the userErrors) is what a replay answers again, the order read back fresh.
 */
export function relocationMutation(deps: Pick<PickupChangeDeps, 'idempotency' | 'loadOrder'>, scope: CallerScope, operation: string, key: string, input: unknown, change: () => Promise<PickupChangeOutcome>): Promise<PickupChangeOutcome> {
  return runIdempotent<StoredOutcome, PickupChangeOutcome>({
    store: deps.idempotency,
    caller: callerOf(scope),
    operation,
    key,
    input,
    refused: (userErrors) => ({ order: null, userErrors }),
    replay: async (stored) => ({ order: stored.orderId && stored.userErrors.length === 0 ? await deps.loadOrder(stored.orderId) : null, userErrors: stored.userErrors }),
    run: async () => {
      const outcome = await change();
      return { stored: { orderId: outcome.order?.id ?? null, userErrors: outcome.userErrors }, outcome: { order: outcome.userErrors.length ? null : outcome.order, userErrors: outcome.userErrors } };
    },
  });
}

const failure = (error: UserErrorValue): PickupChangeOutcome => ({ order: null, userErrors: [error] });

async function run(deps: PickupChangeDeps, scope: CallerScope, key: string, input: { orderId: string; pickupLocationId: string }): Promise<PickupChangeOutcome> {
  if (input.pickupLocationId.length < 1 || input.pickupLocationId.length > MAX_ID_LENGTH) return failure(userError('INVALID_INPUT', `pickupLocationId must be 1 to ${MAX_ID_LENGTH} characters`, 'pickupLocationId'));
  const system = input.orderId.length <= MAX_ID_LENGTH ? systemOfOrderId(input.orderId) : null;
  const order = system ? ((await deps.orderBooks[system].getOrders([input.orderId]))[0] ?? null) : null;
  const access = order ? deps.access(order, 'change-pickup') : 'hide';
  if (!system || !order || access === 'hide') return failure(userError('INVALID_INPUT', `no order ${input.orderId.slice(0, MAX_ID_LENGTH)}`, 'orderId'));
  if (access === 'forbid') throw forbiddenError(`this caller may not change the pickup store of order ${order.id}`);
  return runInScope({ correlationId: order.correlationId, authorization: scope.authorization }, () => change(deps, system, order, input.pickupLocationId, relocationReferenceOf(scope, order.id, key)));
}

async function change(deps: PickupChangeDeps, system: OrderSystem, order: SalesOrder, to: string, reference: string): Promise<PickupChangeOutcome> {
  const now = deps.now ?? (() => new Date());
  // This very change landed in the order system and what follows did not finish (a lost answer, a crash): resume.
  const earlier = order.lastRelocation;
  if (earlier?.reference === reference && earlier.toLocationId === to) {
    if (!earlier.settled) await finish(deps, system, order, earlier.fromLocationId, to, reference, now());
    return { order, userErrors: [] };
  }
  if (order.deliveryMethod !== 'PICKUP') return failure(userError('INVALID_STATE', `order ${order.id} is not a pickup order (${order.deliveryMethod})`));
  if (!CHANGEABLE_STATUSES.includes(order.status)) return failure(userError('INVALID_STATE', `the pickup store of order ${order.id} cannot change once it is ${order.status}`));
  if (!order.checkoutReference) return failure(userError('INVALID_STATE', `order ${order.id} was placed before stock commitments carried references; its stock cannot move`));
  const from = pickupStoreOf(order);
  if (from === to) return failure(userError('INVALID_INPUT', `order ${order.id} is picked up at ${to} already`, 'pickupLocationId'));
  const site = (await deps.sites.getSites([to]))[0] ?? null;
  if (!site || site.kind !== 'STORE' || !site.pickupEnabled) return failure(userError('PICKUP_NOT_AVAILABLE', `${to} does not hand over pickup orders`, 'pickupLocationId'));

  const lines = stockLinesOf(order);
  const moved = await deps.stock.moveCommitment(from, to, order.checkoutReference, lines, now().toISOString());
  if (!moved.ok) {
    if (moved.reason === 'NOT_FOUND') return failure(userError('INVALID_STATE', `order ${order.id} holds no stock at ${from} to move`));
    return {
      order: null,
      userErrors: moved.shortages.map((s) => {
        const i = lines.findIndex((l) => l.sku === s.sku);
        return userError('OUT_OF_STOCK', `only ${s.available} of ${s.sku} can be promised at ${to}, ${lines[i]?.quantity ?? '?'} asked`, `lines.${i}.quantity`);
      }),
    };
  }
  const relocated = await deps.orders.moveLocation(system, order.id, CHANGEABLE_STATUSES, from, to, reference);
  if (!relocated.moved) {
    // The order moved on meanwhile (ready for pickup, cancelled, or its store changed by another request): the units
    // follow the order as it is now.
    await putBack(deps, order.checkoutReference, from, to, relocated.order, now());
    const status = relocated.order?.status ?? 'unknown';
    return failure(userError('INVALID_STATE', `order ${order.id} changed meanwhile (${status}); its pickup store stays ${relocated.order ? pickupStoreOf(relocated.order) : from}`));
  }
  const changed = relocated.order ?? { ...order, pickupLocationId: to, fulfillmentLocationId: to };
  await finish(deps, system, changed, from, to, reference, now());
  return { order: changed, userErrors: [] };
}

/** The events, then the new location's commitment settled (the order holds it now) and the change settled. */
export async function finish(deps: Pick<PickupChangeDeps, 'events' | 'stock' | 'orders' | 'logger'>, system: OrderSystem, order: SalesOrder, from: string, to: string, reference: string, at: Date, shortLines: StockLineData[] = []): Promise<void> {
  await deps.events.emit(relocationEvents(order, from, to, reference, at, shortLines));
  // Unsettled, recovery settles them later (and says the events again, dropped as repeats): logged, not thrown.
  try {
    if (order.checkoutReference) await deps.stock.settle(to, order.checkoutReference);
    await deps.orders.settleRelocation(system, order.id, reference);
  } catch (error) {
    deps.logger?.warn({ orderId: order.id, reference, err: (error as Error).message }, 'order location changed but not settled in the systems of record');
  }
}

/** The commitment moved but the order did not: the units go back where the order is, or back to sale when it has ended. */
export async function putBack(deps: Pick<PickupChangeDeps, 'stock' | 'logger'>, commitment: string, from: string, to: string, current: SalesOrder | null, at: Date): Promise<void> {
  if (!current || !HOLDING.has(current.status)) {
    await deps.stock.releaseCommitment(to, commitment);
    return;
  }
  if (pickupStoreOf(current) === to) return;
  const back = await deps.stock.moveCommitment(to, from, commitment, stockLinesOf(current), at.toISOString());
  if (back.ok) await deps.stock.settle(from, commitment);
  // Never neither: the units stay committed at the new store, and recovery tries again.
  else deps.logger?.error({ orderId: current.id, from, to, result: back }, 'pickup store change undone in the order system, but its stock could not move back yet');
}

/** What checkout recovery needs to finish or undo a change of pickup store whose caller died. */
export type RelocationRecoveryDeps = Pick<PickupChangeDeps, 'events' | 'stock' | 'orders' | 'logger' | 'now'>;

/**
 * An open commitment with `movedFrom` older than CHECKOUT_STALE_MS: a change of pickup store whose caller died (or
 * gave up) between its steps. `order` is the one recorded under the commitment's reference.
 * - the order is at the new store: its change's events (if unsettled) are said, the commitment settled;
 * - the order is still at the old store and holds its stock: the commitment moves back (settled there); when the old
 *   store cannot take it back any more (its units were sold meanwhile), the change is finished instead;
 * - the order has ended (or there is none): the units go back to sale.
 */
export async function recoverRelocation(deps: RelocationRecoveryDeps, commitment: OpenCommitment, order: SalesOrder | null): Promise<void> {
  const from = commitment.movedFrom;
  if (!from) return;
  const to = commitment.locationId;
  const now = (deps.now ?? (() => new Date()))();
  const system = order ? systemOfOrderId(order.id) : null;
  if (!order || !system || !HOLDING.has(order.status)) {
    if (await deps.stock.releaseCommitment(to, commitment.reference, commitment.at)) deps.logger?.warn({ reference: commitment.reference, locationId: to, orderId: order?.id, status: order?.status }, 'stock moved for a pickup-store change of an order that has ended: given back');
    return;
  }
  const lines = commitment.lines;
  if (pickupStoreOf(order) === to) {
    // On a cluster the old store may still hold it (the move's second script never ran): the move finishes that.
    await deps.stock.moveCommitment(from, to, commitment.reference, lines, now.toISOString());
    const change = order.lastRelocation;
    if (change && !change.settled && change.toLocationId === to) await finish(deps, system, order, change.fromLocationId, to, change.reference, now);
    else await deps.stock.settle(to, commitment.reference);
    return;
  }
  if (pickupStoreOf(order) !== from) {
    deps.logger?.error({ orderId: order.id, reference: commitment.reference, from, to, at: pickupStoreOf(order) }, 'a moved commitment lies at neither of its order\'s stores; left for an operator');
    return;
  }
  const back = await deps.stock.moveCommitment(to, from, commitment.reference, lines, now.toISOString());
  if (back.ok) {
    await deps.stock.settle(from, commitment.reference);
    deps.logger?.warn({ orderId: order.id, reference: commitment.reference, from, to }, 'unfinished pickup-store change undone: the stock is back at the order\'s store');
    return;
  }
  if (!CHANGEABLE_STATUSES.includes(order.status)) {
    deps.logger?.error({ orderId: order.id, from, to, status: order.status, result: back }, 'unfinished pickup-store change: the stock cannot move back and the order is past changing; left at the new store');
    return;
  }
  const reference = `${order.id}:CHANGE_PICKUP:recovered-${shortDigest(`${commitment.reference}@${commitment.at}`, 16)}`;
  const relocated = await deps.orders.moveLocation(system, order.id, CHANGEABLE_STATUSES, from, to, reference);
  if (relocated.moved && relocated.order) {
    await finish(deps, system, relocated.order, from, to, reference, now);
    deps.logger?.warn({ orderId: order.id, from, to }, 'unfinished pickup-store change finished by recovery: the old store could not take the stock back');
  }
}
