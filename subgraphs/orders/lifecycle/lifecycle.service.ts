import { fulfillmentsOf, isSplit } from '../fulfillments.js';
import { randomUUID } from 'node:crypto';
import { runInScope } from '../../../common/correlation.js';
import { createEvent, type EventDataByType, type EventSource, type EventType } from '../../../common/events.js';
import type { EventEmitter } from '../../../common/outbox/event-outbox.js';
import type { IdempotencyStore } from '../../../common/idempotency.js';
import type { Logger } from '../../../common/logger.js';
import { forbiddenError } from '../../../common/auth/authorization.js';
import type { OrderAccess, OrderAction } from '../access.js';
import { completeCancellation, moveEventId, orderSourceOf, stockLinesOf as stockLines, stockSourceOf } from '../canonical-events.js';
import { callerKeyDigest, callerOf, type CallerScope } from '../../../common/idempotency.js';
import { runIdempotent, userError, type UserErrorValue } from '../../../common/idempotent-mutation.js';
import type { OrderBooks, OrderReturn, OrderStatusCode, OrderSystem, SalesOrder } from '../ports.js';
import { systemOfOrderId, systemOfReturnId } from '../routing.js';
import { decide, decideReturn, type OrderCommand } from './order-state.js';
import type { LifecycleStockPort, OrderStatusPort, PaymentSettlementPort, ReturnConditionCode, ReturnDeskPort, ShipmentWriterPort } from './ports.js';
import { allUnitsReturned, checkReturnLines, MAX_REASON_LENGTH, refundAmount, refundTaxMinor, validateReturnShape, type ReturnLineRequest } from './return-rules.js';

/*
 * An order's life after checkout: ready for pickup, hand-over, shipment, delivery, cancellation, returns.
 *
 * Every mutation follows one shape: validate → read the order fresh from the system that holds it → decide the
 * move with the state machine (order-state.ts) → claim it with a compare-and-swap on the order's status in that
 * system (so of two concurrent moves exactly one lands, and a repeat finds the order moved and answers
 * INVALID_STATE naming the current status) → the side effects, compensated when one fails → one canonical event
 * per change, all under the ORDER's correlation id (the whole timeline shares one id; the system calls run in
 * that scope too).
 *
 * With an idempotencyKey the same key and input replay the first answer (the order as it is now, the stored
 * userErrors) and change nothing, another input is IDEMPOTENCY_KEY_REUSED, a call while the first runs is
 * IDEMPOTENCY_KEY_IN_USE; a system failure gives the key back so that the client's retry can run. Without a key
 * (the contract's ReadyForPickup and HandOver send none) the state machine alone makes a repeat harmless.
 */

export const MAX_ID_LENGTH = 200;
export const MAX_CARRIER_LENGTH = 100;

export interface LifecyclePorts {
  statuses: OrderStatusPort;
  returns: ReturnDeskPort;
  stock: LifecycleStockPort;
  payments: PaymentSettlementPort;
  shipments: ShipmentWriterPort;
  logger?: Logger | undefined;
}

export interface LifecycleDeps extends LifecyclePorts {
  /** Order reads, fresh from the systems (never a request's cache: a decision needs the status as it is now). */
  orderBooks: OrderBooks;
  /** Reads an order back for idempotent replays. */
  loadOrder: (id: string) => Promise<SalesOrder | null>;
  idempotency: IdempotencyStore;
  /** The outbox every move's events go through. */
  events: EventEmitter;
  /**
   * The row rule: may this caller do this to this order? `hide` answers as for an unknown order (its existence
   * does not leak); `forbid` is a FORBIDDEN error.
   */
  access: (order: SalesOrder, action: OrderAction) => OrderAccess;
  now?: (() => Date) | undefined;
}

export interface OrderMoveOutcome {
  order: SalesOrder | null;
  userErrors: UserErrorValue[];
}

export interface ReturnOutcome {
  return: OrderReturn | null;
  order: SalesOrder | null;
  userErrors: UserErrorValue[];
}

/** What is stored under an idempotency key: enough to give the same answer again. */
interface StoredOutcome {
  orderId: string | null;
  returnId: string | null;
  userErrors: UserErrorValue[];
}


/** Where the customer collects a pickup order (checkout commits its stock there too). */
const pickupStoreOf = (order: SalesOrder) => order.pickupLocationId ?? order.fulfillmentLocationId;

// ---------------------------------------------------------------------------------------------------------
// Idempotency and the shared steps

interface Stored<T> {
  stored: StoredOutcome;
  outcome: T;
}

/** An order move or return under the caller's idempotency key, through the one kernel (common/idempotent-mutation.ts). */
function withIdempotency<T>(
  deps: LifecycleDeps,
  scope: CallerScope,
  operation: string,
  key: string | null | undefined,
  input: unknown,
  refused: (userErrors: UserErrorValue[]) => T,
  replay: (stored: StoredOutcome) => Promise<T>,
  run: () => Promise<Stored<T>>,
): Promise<T> {
  return runIdempotent<StoredOutcome, T>({ store: deps.idempotency, caller: callerOf(scope), operation, key, input, refused, replay, run });
}

const orderFailure = (userErrors: UserErrorValue[]): OrderMoveOutcome => ({ order: null, userErrors });
const orderStored = (order: SalesOrder | null, userErrors: UserErrorValue[] = []): Stored<OrderMoveOutcome> => ({
  stored: { orderId: order?.id ?? null, returnId: null, userErrors },
  outcome: { order: userErrors.length ? null : order, userErrors },
});
const replayOrder = (deps: LifecycleDeps) => async (stored: StoredOutcome): Promise<OrderMoveOutcome> => ({
  order: stored.orderId && stored.userErrors.length === 0 ? await deps.loadOrder(stored.orderId) : null,
  userErrors: stored.userErrors,
});

/**
 * The order, read fresh from the system that holds it, if the caller may do `action` to it; a user error (never an
 * exception) when there is none or the caller may not know of it, a FORBIDDEN error when the caller may see but not
 * change it.
 */
async function readOrder(deps: LifecycleDeps, orderId: string, action: OrderAction, field = 'orderId'): Promise<{ order: SalesOrder; system: OrderSystem } | UserErrorValue> {
  const system = orderId.length <= MAX_ID_LENGTH ? systemOfOrderId(orderId) : null;
  const order = system ? ((await deps.orderBooks[system].getOrders([orderId]))[0] ?? null) : null;
  const access = order ? deps.access(order, action) : 'hide';
  if (!system || !order || access === 'hide') return userError('INVALID_INPUT', `no order ${orderId.slice(0, MAX_ID_LENGTH)}`, field);
  if (access === 'forbid') throw forbiddenError(`this caller may not ${ACTION_WORDS[action]} order ${order.id}`);
  return { order, system };
}

const ACTION_WORDS: Record<OrderAction, string> = {
  read: 'read',
  pickup: 'hand over (it is not a pickup at their store)',
  ship: 'ship (it does not leave from their location)',
  deliver: 'mark delivered',
  cancel: 'cancel',
  return: 'return goods of',
  'receive-return': 'receive a return of',
  'change-pickup': 'change the pickup store of',
  'report-shortage': 'report a pick shortage of (it is not picked at their location)',
};

const ACTION_OF: Record<OrderCommand['type'], OrderAction> = {
  // Checkout's own move; never reached through readOrder.
  CONFIRM: 'read',
  MARK_READY_FOR_PICKUP: 'pickup',
  CONFIRM_PICKUP: 'pickup',
  SHIP: 'ship',
  MARK_DELIVERED: 'deliver',
  CANCEL: 'cancel',
  REQUEST_RETURN: 'return',
  RECEIVE_RETURN: 'receive-return',
};

/**
 * The reference a move carries to the system of record: the order, the command and the caller's idempotency key.
 * Only a request under the same key may resume a move, and the kernel lets a key run again only once its earlier
 * run is over (it failed, or its lock lapsed after a crash), so a resume never races the run that made the move.
 * Without a key there is no reference: a repeat is INVALID_STATE, as the state machine says.
 */
function moveReference(scope: CallerScope, orderId: string, command: OrderCommand, key: string | null | undefined): string {
  // Without a key the move is still referenced (so that recovery finds it unsettled, see recoverUnsettledMoves) but
  // by one of its own: no retry can resume it.
  const digest = key ? callerKeyDigest(scope, key) : `once-${randomUUID()}`;
  return `${orderId}:${command.type}:${digest}`;
}

/** The command a move reference names (see moveReference). */
const commandOfReference = (reference: string): string | undefined => reference.split(':')[1];


/**
 * Decide `command` and claim the move with a compare-and-swap. When the order moved meanwhile (a concurrent
 * call won), the decision is taken again against what it is now, which names the new status. When the order's
 * last move is this very move and what follows it never finished (the first answer was lost to a timeout, or the
 * process died before the side effects and events), the move is resumed instead of refused as INVALID_STATE.
 */
async function claim(
  deps: LifecycleDeps,
  system: OrderSystem,
  order: SalesOrder,
  command: OrderCommand,
  reference: string,
): Promise<{ moved: SalesOrder; from: OrderStatusCode; reference: string } | UserErrorValue> {
  let current = order;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (current.lastMove?.reference === reference && !current.lastMove.settled) {
      deps.logger?.warn({ orderId: order.id, reference, status: current.status }, 'resuming an order move whose first run did not finish');
      return { moved: current, from: current.lastMove.from, reference };
    }
    const decision = decide(current, command);
    if (!decision.ok) return userError(decision.code, decision.message, null);
    const result = await deps.statuses.moveStatus(system, current.id, decision.from, decision.to, reference);
    if (result.ok) return { moved: result.value, from: decision.from, reference };
    if (!result.current) return userError('INVALID_INPUT', `no order ${order.id}`, 'orderId');
    current = result.current;
  }
  return userError('INVALID_STATE', `order ${order.id} is changing; try again`, null);
}

/** Put the status back after a failed side effect; a failure here is logged, the original error still wins. */
async function revert(deps: LifecycleDeps, system: OrderSystem, order: SalesOrder, from: OrderStatusCode): Promise<void> {
  try {
    await deps.statuses.moveStatus(system, order.id, order.status, from);
  } catch (error) {
    deps.logger?.error({ orderId: order.id, status: order.status, revertTo: from, err: (error as Error).message }, 'could not revert an order status after a failed step');
  }
}

/** Events about `order`; those of a move (`reference`) have ids derived from the move. */
function publisher(deps: Pick<LifecycleDeps, 'events' | 'now'>, order: SalesOrder, reference?: string) {
  const now = deps.now ?? (() => new Date());
  return async <T extends EventType>(type: T, source: EventSource, data: EventDataByType[T], extra: { locationId?: string; sku?: string; id?: string } = {}): Promise<void> => {
    const id = extra.id ?? (reference ? moveEventId(reference, type) : undefined);
    await deps.events.emit([createEvent(type, data, { source, correlationId: order.correlationId, orderId: order.id, occurredAt: now(), ...extra, id })]);
  };
}

/** System calls about an order carry the order's correlation id, whoever asks. */
const inOrderScope = <T>(scope: CallerScope, order: SalesOrder, fn: () => Promise<T>): Promise<T> =>
  runInScope({ correlationId: order.correlationId, authorization: scope.authorization }, fn);

const isError = (value: object): value is UserErrorValue => 'code' in value && 'message' in value;

/**
 * The common run of a status move: read, claim, then `effects`: the side effects and the events. An effect that
 * fails puts the status back (see `revert`) before it throws.
 */
async function moveOrder(
  deps: LifecycleDeps,
  scope: CallerScope,
  key: string | null | undefined,
  orderId: string,
  command: OrderCommand,
  effects: (order: SalesOrder, system: OrderSystem, from: OrderStatusCode, reference: string) => Promise<void>,
  /** The order as the caller read it just now (through the same row rule): not read again. */
  alreadyRead?: { order: SalesOrder; system: OrderSystem },
): Promise<Stored<OrderMoveOutcome>> {
  const read = alreadyRead ?? (await readOrder(deps, orderId, ACTION_OF[command.type]));
  if (isError(read)) return orderStored(null, [read]);
  return inOrderScope(scope, read.order, async () => {
    const claimed = await claim(deps, read.system, read.order, command, moveReference(scope, read.order.id, command, key));
    if (isError(claimed)) return orderStored(read.order, [claimed]);
    await effects(claimed.moved, read.system, claimed.from, claimed.reference);
    const reference = claimed.reference;
    // Unsettled, the move is resumed by a retry under the same key or by recovery: harmless (its stock moves and
    // events are once by reference), only wasted work, so a failure here is logged, not thrown.
    await deps.statuses.settleMove(read.system, read.order.id, reference).catch((error: unknown) => {
      deps.logger?.warn({ orderId: read.order.id, reference, err: (error as Error).message }, 'order move done but not settled in the system of record');
    });
    return orderStored(claimed.moved);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Pickup

export interface OrderKeyRequest {
  orderId: string;
  /** Optional where the contract sends none: then a repeat answers INVALID_STATE naming the current status. */
  idempotencyKey?: string | null | undefined;
}

/** CONFIRMED → READY_FOR_PICKUP (PICKUP orders): the goods are picked and waiting at the store. */
export async function markReadyForPickup(deps: LifecycleDeps, scope: CallerScope, request: OrderKeyRequest): Promise<OrderMoveOutcome> {
  return withIdempotency(deps, scope, 'markReadyForPickup', request.idempotencyKey, { orderId: request.orderId }, orderFailure, replayOrder(deps), () =>
    moveOrder(deps, scope, request.idempotencyKey, request.orderId, { type: 'MARK_READY_FOR_PICKUP' }, async (order, _system, from, reference) => {
      await publisher(deps, order, reference)('READY_FOR_PICKUP', 'POS', { previousStatus: from, status: order.status }, { locationId: pickupStoreOf(order) });
    }),
  );
}

/**
 * READY_FOR_PICKUP → PICKED_UP: the customer has the goods, so the committed units leave the shelf (on hand and
 * committed both down at the store). PICKED_UP carries the total for finance to post the sale.
 */
export async function confirmPickup(deps: LifecycleDeps, scope: CallerScope, request: OrderKeyRequest): Promise<OrderMoveOutcome> {
  return withIdempotency(deps, scope, 'confirmPickup', request.idempotencyKey, { orderId: request.orderId }, orderFailure, replayOrder(deps), () =>
    moveOrder(deps, scope, request.idempotencyKey, request.orderId, { type: 'CONFIRM_PICKUP' }, async (order, system, from, reference) => {
      try {
        await deps.stock.fulfil(order.fulfillmentLocationId, stockLines(order), order.checkoutReference ?? null);
      } catch (error) {
        await revert(deps, system, order, from);
        throw error;
      }
      await publisher(deps, order, reference)('PICKED_UP', 'POS', pickedUpData(order, from), { locationId: pickupStoreOf(order) });
    }),
  );
}

/** The tax a refund's event carries for finance: the returned lines' share (none on orders placed before tax). */
const refundTaxOf = (order: SalesOrder, lines: readonly ReturnLineRequest[]): { taxAmount?: number } => (order.tax ? { taxAmount: refundTaxMinor(order, lines) } : {});

/** The tax a sale's event carries for finance (none on orders placed before tax). */
const taxOf = (order: SalesOrder): { taxTotal?: number } => (order.tax ? { taxTotal: order.tax.taxMinor } : {});

/** PICKED_UP carries the total for finance to post the sale. */
const pickedUpData = (order: SalesOrder, from: OrderStatusCode): EventDataByType['PICKED_UP'] => ({
  total: order.total.minor,
  ...taxOf(order),
  currency: order.total.currency,
  lines: stockLines(order),
  previousStatus: from,
  status: 'PICKED_UP',
});

// ---------------------------------------------------------------------------------------------------------
// Shipping

export interface ShipOrderRequest {
  idempotencyKey: string;
  orderId: string;
  carrier: string;
  trackingNumber?: string | null | undefined;
  /** The caller's location (a store or warehouse associate's): which part of a split order leaves from here. */
  fromLocationId?: string | null | undefined;
}

/**
 * CONFIRMED → SHIPPED (SHIPPING and SHIP_FROM_STORE orders): the WMS records the shipment (its PENDING one
 * becomes SHIPPED) and the committed units leave the fulfilment location. ORDER_SHIPPED carries the total for
 * finance. A failure of either step puts the status back; a shipment recorded before a failed stock step is
 * written again, not twice, by the retry.
 */
export async function shipOrder(deps: LifecycleDeps, scope: CallerScope, request: ShipOrderRequest): Promise<OrderMoveOutcome> {
  const { idempotencyKey, ...input } = request;
  const normalized = { orderId: input.orderId, carrier: input.carrier.trim(), trackingNumber: input.trackingNumber?.trim() ?? '' };
  return withIdempotency(deps, scope, 'shipOrder', idempotencyKey, normalized, orderFailure, replayOrder(deps), async () => {
    const errors: UserErrorValue[] = [];
    if (normalized.carrier.length < 1 || normalized.carrier.length > MAX_CARRIER_LENGTH) errors.push(userError('INVALID_INPUT', `carrier must be 1 to ${MAX_CARRIER_LENGTH} characters`, 'carrier'));
    if (normalized.trackingNumber.length > MAX_CARRIER_LENGTH) errors.push(userError('INVALID_INPUT', `trackingNumber must be at most ${MAX_CARRIER_LENGTH} characters`, 'trackingNumber'));
    if (errors.length) return orderStored(null, errors);
    const now = deps.now ?? (() => new Date());
    const read = await readOrder(deps, normalized.orderId, 'ship');
    if (isError(read)) return orderStored(null, [read]);
    if (isSplit(read.order)) return shipPart(deps, scope, idempotencyKey, read.order, read.system, normalized, request.fromLocationId ?? null);
    return moveOrder(deps, scope, idempotencyKey, normalized.orderId, { type: 'SHIP' }, async (order, system, from, reference) => {
      let shipmentId: string;
      try {
        shipmentId = (await deps.shipments.recordShipment({ orderId: order.id, carrier: normalized.carrier, trackingNumber: normalized.trackingNumber, shippedAt: now().toISOString() })).id;
        await deps.stock.fulfil(order.fulfillmentLocationId, stockLines(order), order.checkoutReference ?? null);
      } catch (error) {
        await revert(deps, system, order, from);
        throw error;
      }
      await publisher(deps, order, reference)(
        'ORDER_SHIPPED',
        stockSourceOf(order.fulfillmentLocationId),
        {
          shipmentId,
          carrier: normalized.carrier,
          trackingNumber: normalized.trackingNumber || null,
          total: order.total.minor,
          ...taxOf(order),
          currency: order.total.currency,
          lines: stockLines(order),
          previousStatus: from,
          status: order.status,
        },
        { locationId: order.fulfillmentLocationId },
      );
    }, read);
  });
}

/**
 * One part of a split order ships: the part leaving from the caller's location (or, for a caller without one, the
 * first still open). The WMS records its parcel, the order system marks the part SHIPPED by compare-and-swap (the
 * order is SHIPPED with its last part; a part shipped makes the order no longer cancellable whole), then its
 * committed units leave its location. ORDER_SHIPPED carries the part's lines, total and tax: finance books each
 * part's sale. A failure of the stock step is thrown: the retry under the same key finishes it (every step is
 * idempotent by the move's reference or the parcel).
 */
async function shipPart(
  deps: LifecycleDeps,
  scope: CallerScope,
  key: string,
  order: SalesOrder,
  system: OrderSystem,
  input: { carrier: string; trackingNumber: string },
  at: string | null,
): Promise<Stored<OrderMoveOutcome>> {
  const now = deps.now ?? (() => new Date());
  return inOrderScope(scope, order, async () => {
    const part = fulfillmentsOf(order).find((p) => p.status === 'OPEN' && (at === null || p.locationId === at));
    if (order.status !== 'CONFIRMED') return orderStored(order, [userError('INVALID_STATE', `order ${order.id} is ${order.status}; only a CONFIRMED order ships`, null)]);
    if (!part) return orderStored(order, [userError('INVALID_STATE', `no part of order ${order.id} is still to ship${at ? ` from ${at}` : ''}`, null)]);
    const reference = `${moveReference(scope, order.id, { type: 'SHIP' }, key)}:${part.id}`;
    const shipment = await deps.shipments.recordShipment({ orderId: order.id, carrier: input.carrier, trackingNumber: input.trackingNumber, shippedAt: now().toISOString() });
    const shipped = await deps.statuses.shipPart(system, order.id, part.id, shipment.id, reference);
    if (!shipped.ok) return orderStored(shipped.current ?? order, [userError('INVALID_STATE', `order ${order.id} changed meanwhile (${shipped.current?.status ?? 'gone'}); part ${part.id} did not ship`, null)]);
    await deps.stock.fulfil(part.locationId, part.lines, order.checkoutReference ?? null);
    const lines = part.lines.map((l) => order.lines.find((o) => o.sku === l.sku)!);
    await publisher(deps, order, reference)(
      'ORDER_SHIPPED',
      stockSourceOf(part.locationId),
      {
        shipmentId: shipment.id,
        carrier: input.carrier,
        trackingNumber: input.trackingNumber || null,
        total: lines.reduce((sum, l) => sum + l.quantity * l.unitPrice.minor, 0),
        ...(order.tax ? { taxTotal: lines.reduce((sum, l) => sum + (l.taxMinor ?? 0), 0) } : {}),
        currency: order.total.currency,
        lines: part.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
        fulfillmentId: part.id,
        previousStatus: 'CONFIRMED',
        status: shipped.value.status,
      },
      { locationId: part.locationId },
    );
    return orderStored(shipped.value);
  });
}

export interface MarkDeliveredRequest {
  idempotencyKey: string;
  orderId: string;
}

/** SHIPPED → DELIVERED: the carrier delivered; the WMS marks the order's shipments DELIVERED. */
export async function markDelivered(deps: LifecycleDeps, scope: CallerScope, request: MarkDeliveredRequest): Promise<OrderMoveOutcome> {
  const now = deps.now ?? (() => new Date());
  return withIdempotency(deps, scope, 'markDelivered', request.idempotencyKey, { orderId: request.orderId }, orderFailure, replayOrder(deps), () =>
    moveOrder(deps, scope, request.idempotencyKey, request.orderId, { type: 'MARK_DELIVERED' }, async (order, system, from, reference) => {
      let shipmentId: string | undefined;
      try {
        shipmentId = (await deps.shipments.recordDelivery(order.id, now().toISOString())).find((s) => s.status === 'DELIVERED')?.id;
      } catch (error) {
        await revert(deps, system, order, from);
        throw error;
      }
      await publisher(deps, order, reference)('ORDER_DELIVERED', 'WMS', { shipmentId: shipmentId ?? null, previousStatus: from, status: order.status });
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Cancellation

export interface CancelOrderRequest {
  idempotencyKey: string;
  orderId: string;
  reason: string;
}

/**
 * PLACED | CONFIRMED | READY_FOR_PICKUP → CANCELLED: the committed stock goes back to sale and the payment's
 * authorization is voided. After hand-over or shipment it is INVALID_STATE and nothing changes. A release that
 * fails leaves the order CANCELLED with its move unsettled, finished by the retry under the key or by move recovery
 * (an order without a checkout reference has its status put back instead); the void is best effort (an uncaptured authorization lapses at
 * the PSP by itself), its outcome is in the event's `paymentVoided`. The one cancellation path
 * (canonical-events.ts): ORDER_CANCELLED, then one INVENTORY_RELEASED per line.
 */
export async function cancelOrder(deps: LifecycleDeps, scope: CallerScope, request: CancelOrderRequest): Promise<OrderMoveOutcome> {
  const { idempotencyKey, ...input } = request;
  const normalized = { orderId: input.orderId, reason: input.reason.trim() };
  return withIdempotency(deps, scope, 'cancelOrder', idempotencyKey, normalized, orderFailure, replayOrder(deps), async () => {
    if (normalized.reason.length < 1 || normalized.reason.length > MAX_REASON_LENGTH) {
      return orderStored(null, [userError('INVALID_INPUT', `reason must be 1 to ${MAX_REASON_LENGTH} characters`, 'reason')]);
    }
    return moveOrder(deps, scope, idempotencyKey, normalized.orderId, { type: 'CANCEL' }, async (order, system, from, reference) => {
      const cancellation = {
        release: deps.stock.release.bind(deps.stock),
        voidPayment: deps.payments.voidAuthorizations.bind(deps.payments),
        events: deps.events,
        logger: deps.logger,
        now: deps.now,
      };
      // A release by the checkout's reference may have landed although its answer timed out: putting the status back
      // would leave a live order with nothing committed behind it. So the order stays CANCELLED with its move
      // unsettled, and the retry under the key (or move recovery) releases again, once. Only a release by lines (an
      // order older than checkout references, which no retry can repeat safely) is compensated by putting it back.
      const putBack = order.checkoutReference ? undefined : () => revert(deps, system, order, from);
      await completeCancellation(cancellation, order, from, normalized.reason, putBack, moveEventId(reference, 'ORDER_CANCELLED'));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Returns

export interface CreateReturnRequest {
  idempotencyKey: string;
  orderId: string;
  reason: string;
  lines: ReturnLineRequest[];
}

const returnFailure = (userErrors: UserErrorValue[]): ReturnOutcome => ({ return: null, order: null, userErrors });
const returnStored = (ret: OrderReturn | null, order: SalesOrder | null, userErrors: UserErrorValue[] = []): Stored<ReturnOutcome> => ({
  stored: { orderId: order?.id ?? null, returnId: ret?.id ?? null, userErrors },
  outcome: userErrors.length ? returnFailure(userErrors) : { return: ret, order, userErrors },
});
const replayReturn = (deps: LifecycleDeps) => async (stored: StoredOutcome): Promise<ReturnOutcome> => {
  if (stored.userErrors.length || !stored.returnId) return returnFailure(stored.userErrors);
  const system = systemOfReturnId(stored.returnId);
  const [ret, order] = await Promise.all([system ? deps.returns.getReturns(system, [stored.returnId]).then((r) => r[0] ?? null) : null, stored.orderId ? deps.loadOrder(stored.orderId) : null]);
  return { return: ret, order, userErrors: [] };
};

/**
 * Ask to send goods back (PICKED_UP, DELIVERED or PARTIALLY_RETURNED orders): every SKU on the order, each
 * quantity 1 to what was bought less what earlier returns take back. Creates a REQUESTED return in the system
 * that holds the order (atomically against every other request); the order's status does not move until the
 * goods are received. Event: RETURN_REQUESTED.
 */
export async function createReturn(deps: LifecycleDeps, scope: CallerScope, request: CreateReturnRequest): Promise<ReturnOutcome> {
  const { idempotencyKey, ...input } = request;
  const normalized = { orderId: input.orderId, reason: input.reason.trim(), lines: input.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) };
  const now = deps.now ?? (() => new Date());
  return withIdempotency(deps, scope, 'createReturn', idempotencyKey, normalized, returnFailure, replayReturn(deps), async () => {
    const shapeErrors = validateReturnShape(normalized);
    if (shapeErrors.length) return returnStored(null, null, shapeErrors);
    const read = await readOrder(deps, normalized.orderId, 'return');
    if (isError(read)) return returnStored(null, null, [read]);
    const { order, system } = read;
    return inOrderScope(scope, order, async () => {
      const decision = decide(order, { type: 'REQUEST_RETURN' });
      if (!decision.ok) return returnStored(null, order, [userError(decision.code, decision.message, null)]);
      const lineErrors = checkReturnLines(order, await deps.returns.getReturnsByOrder(system, order.id), normalized.lines);
      if (lineErrors.length) return returnStored(null, order, lineErrors);
      const created = await deps.returns.request(system, { orderId: order.id, reason: normalized.reason, lines: normalized.lines, requestedAt: now().toISOString() });
      if (!created.ok) {
        if (created.reason === 'UNKNOWN_ORDER') return returnStored(null, null, [userError('INVALID_INPUT', `no order ${order.id}`, 'orderId')]);
        // Another return took the units between our check and the system's.
        return returnStored(
          null,
          order,
          created.lines.map((l) => {
            const i = normalized.lines.findIndex((x) => x.sku === l.sku);
            return userError('INVALID_QUANTITY', `only ${l.returnable} of ${l.sku} can still be returned`, `lines.${i}.quantity`);
          }),
        );
      }
      const ret = created.value;
      await publisher(deps, order)(
        'RETURN_REQUESTED',
        orderSourceOf(order.channel),
        { returnId: ret.id, reason: ret.reason, lines: ret.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) },
      );
      return returnStored(ret, order);
    });
  });
}

export interface ReceiveReturnRequest {
  idempotencyKey: string;
  returnId: string;
  condition: ReturnConditionCode;
}

/**
 * The goods of a REQUESTED return arrived at the order's fulfilment location:
 * 1. the return becomes RECEIVED (compare-and-swap: a second receipt answers INVALID_STATE);
 * 2. the units are booked in there: RESTOCK back on hand and sellable, DAMAGED on hand and damaged
 *    (a failure puts the return back to REQUESTED; the lines are booked under the return's reference, so the repeat books only what is missing);
 * 3. the order becomes PARTIALLY_RETURNED, or RETURNED once every unit bought came back; RETURN_RECEIVED;
 * 4. the PSP refunds quantity × unit price (idempotent by the return id), the return becomes REFUNDED;
 *    REFUND_ISSUED.
 * When the PSP fails at 4 the return stays RECEIVED and the call fails; calling again (same key) resumes at 4,
 * without booking the stock twice. A REFUNDED return is INVALID_STATE.
 */
export async function receiveReturn(deps: LifecycleDeps, scope: CallerScope, request: ReceiveReturnRequest): Promise<ReturnOutcome> {
  const { idempotencyKey, ...input } = request;
  const now = deps.now ?? (() => new Date());
  return withIdempotency(deps, scope, 'receiveReturn', idempotencyKey, input, returnFailure, replayReturn(deps), async () => {
    const system = input.returnId.length <= MAX_ID_LENGTH ? systemOfReturnId(input.returnId) : null;
    const found = system ? ((await deps.returns.getReturns(system, [input.returnId]))[0] ?? null) : null;
    if (!system || !found) return returnStored(null, null, [userError('INVALID_INPUT', `no return ${input.returnId.slice(0, MAX_ID_LENGTH)}`, 'returnId')]);
    const read = await readOrder(deps, found.orderId, 'receive-return');
    if (isError(read)) return returnStored(null, null, [read]);
    const order = read.order;
    return inOrderScope(scope, order, async () => {
      const emit = publisher(deps, order);
      let ret = found;
      let current = order;
      if (ret.status === 'REQUESTED') {
        const received = await receiveGoods(deps, system, order, ret, input.condition, now);
        if (isError(received)) return returnStored(null, order, [received]);
        ({ ret, order: current } = received);
        await emit('RETURN_RECEIVED', stockSourceOf(order.fulfillmentLocationId), {
          returnId: ret.id,
          condition: input.condition,
          lines: ret.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
          previousStatus: received.previousStatus,
          status: current.status,
        }, { locationId: order.fulfillmentLocationId, id: `evt-${ret.id}-received` });
      }
      if (ret.status === 'REFUNDED') {
        // Refunded, but the run that did it may have died (or lost an answer) before its event: the refund is
        // idempotent by the return's id at the PSP and the event's id is the return's, so saying it again pays
        // nothing and publishes nothing twice, and finance never misses the refund.
        const amount = refundAmount(order, ret.lines);
        const refund = await deps.payments.refund({ orderId: order.id, amount, reason: ret.reason, reference: ret.id, createdAt: now().toISOString() });
        await emit('REFUND_ISSUED', 'PSP', { refundId: refund.refundId, amount: amount.minor, ...refundTaxOf(order, ret.lines), currency: amount.currency, returnId: ret.id }, { id: `evt-${ret.id}-refunded` });
        return returnStored(null, order, [userError('INVALID_STATE', `the return is REFUNDED: it was received and refunded already`, null)]);
      }
      const refundable = decideReturn(ret.status, { type: 'REFUND' });
      if (!refundable.ok) return returnStored(null, order, [userError(refundable.code, refundable.message, null)]);
      const amount = refundAmount(order, ret.lines);
      const refund = await deps.payments.refund({ orderId: order.id, amount, reason: ret.reason, reference: ret.id, createdAt: now().toISOString() });
      const refunded = await deps.returns.moveStatus(system, ret.id, 'RECEIVED', 'REFUNDED', now().toISOString());
      // Either way the refund is said (once: the event's id is the return's); of two concurrent resumes the PSP paid once.
      await emit('REFUND_ISSUED', 'PSP', { refundId: refund.refundId, amount: amount.minor, ...refundTaxOf(order, ret.lines), currency: amount.currency, returnId: ret.id }, { id: `evt-${ret.id}-refunded` });
      return returnStored(refunded.ok ? refunded.value : (refunded.current ?? ret), current);
    });
  });
}

/** Steps 1 to 3 of receiveReturn. */
async function receiveGoods(
  deps: LifecycleDeps,
  system: OrderSystem,
  order: SalesOrder,
  ret: OrderReturn,
  condition: ReturnConditionCode,
  now: () => Date,
): Promise<{ ret: OrderReturn; order: SalesOrder; previousStatus: OrderStatusCode } | UserErrorValue> {
  // The order must still take returns (it always does once a return was requested; checked for clarity).
  const allowed = decide(order, { type: 'RECEIVE_RETURN', allUnitsReturned: false });
  if (!allowed.ok) return userError(allowed.code, allowed.message, null);
  const receipt = decideReturn(ret.status, { type: 'RECEIVE' });
  if (!receipt.ok) return userError(receipt.code, receipt.message, null);
  const moved = await deps.returns.moveStatus(system, ret.id, receipt.from, receipt.to, now().toISOString());
  if (!moved.ok) {
    const again = decideReturn(moved.current?.status ?? 'REFUNDED', { type: 'RECEIVE' });
    return userError('INVALID_STATE', again.ok ? `return ${ret.id} is changing; try again` : again.message, null);
  }
  try {
    await deps.stock.receive(order.fulfillmentLocationId, ret.lines, condition, `rcv-${ret.id}`);
  } catch (error) {
    await deps.returns.moveStatus(system, ret.id, 'RECEIVED', 'REQUESTED', now().toISOString()).catch((revertError: unknown) => {
      deps.logger?.error({ returnId: ret.id, err: (revertError as Error).message }, 'could not put a return back to REQUESTED after a failed stock booking');
    });
    throw error;
  }
  // The order's status follows every received return; two receipts at once may race, so read, decide, swap.
  let current = order;
  for (let attempt = 0; attempt < 5; attempt++) {
    const returns = await deps.returns.getReturnsByOrder(system, order.id);
    const target = allUnitsReturned(current, returns) ? 'RETURNED' : 'PARTIALLY_RETURNED';
    if (current.status === target || current.status === 'RETURNED') break;
    const decision = decide(current, { type: 'RECEIVE_RETURN', allUnitsReturned: target === 'RETURNED' });
    if (!decision.ok) break;
    const result = await deps.statuses.moveStatus(system, order.id, decision.from, decision.to);
    if (result.ok) {
      current = result.value;
      break;
    }
    if (!result.current) break;
    current = result.current;
  }
  return { ret: moved.value, order: current, previousStatus: order.status };
}

// ---------------------------------------------------------------------------------------------------------
// Recovery of moves whose caller died

/** What finishing an abandoned move needs. */
export type MoveRecoveryDeps = Pick<LifecycleDeps, 'statuses' | 'stock' | 'payments' | 'events' | 'logger' | 'now'>;

/** Moves finished per system and round. */
const RECOVERY_BATCH = 100;

/**
 * Finish the moves whose caller died between the move and its end (the stock, the events, the settle): a move still
 * unsettled `staleMs` after it was made has no live run behind it (a run's calls time out within seconds). What
 * follows the move is done again, each part once whoever does it: the events have the move's ids (the backbone
 * drops repeats), the commitment is handed over or given back once by the checkout's reference.
 * - READY_FOR_PICKUP: its event.
 * - PICKED_UP: the commitment handed over, then PICKED_UP (which finance posts). An order placed before checkout
 *   references (no commitment to move once) has its stock left as it is, with an error logged, rather than moved
 *   twice.
 * - CANCELLED: the cancellation path again (release once, void, the events).
 * - SHIPPED, DELIVERED: left to the client's retry under its key (the shipment's carrier and tracking are the
 *   request's); logged once.
 * @returns the moves finished.
 */
export async function recoverUnsettledMoves(deps: MoveRecoveryDeps, staleMs: number): Promise<number> {
  const now = (deps.now ?? (() => new Date()))();
  const before = new Date(now.getTime() - staleMs).toISOString();
  let finished = 0;
  for (const system of ['ecom', 'pos'] as const) {
    for (const order of await deps.statuses.listUnsettledMoves(system, before, RECOVERY_BATCH)) {
      const move = order.lastMove;
      if (!move) continue;
      const done = await runInScope({ correlationId: order.correlationId }, () => finishMove(deps, system, order, move));
      if (done) finished++;
    }
  }
  return finished;
}

const leftToClient = new Set<string>();

async function finishMove(deps: MoveRecoveryDeps, system: OrderSystem, order: SalesOrder, move: NonNullable<SalesOrder['lastMove']>): Promise<boolean> {
  const emit = publisher(deps, order, move.reference);
  switch (commandOfReference(move.reference)) {
    case 'MARK_READY_FOR_PICKUP':
      await emit('READY_FOR_PICKUP', 'POS', { previousStatus: move.from, status: order.status }, { locationId: pickupStoreOf(order) });
      break;
    case 'CONFIRM_PICKUP':
      if (order.checkoutReference) await deps.stock.fulfil(order.fulfillmentLocationId, stockLines(order), order.checkoutReference);
      else deps.logger?.error({ orderId: order.id }, 'recovered hand-over of an order without a checkout reference: its stock is left as it is (check the shelf)');
      await emit('PICKED_UP', 'POS', pickedUpData(order, move.from), { locationId: pickupStoreOf(order) });
      break;
    case 'CANCEL': {
      const cancellation = { release: deps.stock.release.bind(deps.stock), voidPayment: deps.payments.voidAuthorizations.bind(deps.payments), events: deps.events, logger: deps.logger, now: deps.now };
      await completeCancellation(cancellation, order, move.from, 'Cancellation finished by recovery', undefined, moveEventId(move.reference, 'ORDER_CANCELLED'));
      break;
    }
    default:
      if (!leftToClient.has(move.reference)) {
        leftToClient.add(move.reference);
        deps.logger?.warn({ orderId: order.id, reference: move.reference, status: order.status }, 'unsettled order move left to the client\'s retry under its key');
      }
      return false;
  }
  await deps.statuses.settleMove(system, order.id, move.reference);
  deps.logger?.warn({ orderId: order.id, reference: move.reference, status: order.status }, 'order move whose caller died finished by recovery');
  return true;
}
