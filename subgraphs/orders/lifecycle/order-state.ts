import { assertNever } from '../../../common/resilience.js';
import type { DeliveryMethodCode, OrderStatusCode, ReturnStatusCode } from '../ports.js';

/*
 * The order state machine of the client contract, as pure functions: no system is asked, nothing is written.
 *
 *   PLACED → CONFIRMED                                  (checkout: stock committed, payment authorized)
 *   PICKUP:            CONFIRMED → READY_FOR_PICKUP → PICKED_UP
 *   SHIPPING, SHIP_FROM_STORE: CONFIRMED → SHIPPED → DELIVERED
 *   PLACED | CONFIRMED | READY_FOR_PICKUP → CANCELLED   (before hand-over or shipment)
 *   PICKED_UP | DELIVERED | PARTIALLY_RETURNED → PARTIALLY_RETURNED | RETURNED   (a return received)
 *
 * Every other move is refused with INVALID_STATE, whose message names the current status; the services rely
 * on that to make a repeated move harmless (a second hand-over answers "already PICKED_UP").
 */

/** What can be done to an order: the commands of the lifecycle mutations (and checkout's confirmation). */
export type OrderCommand =
  | { type: 'CONFIRM' }
  | { type: 'MARK_READY_FOR_PICKUP' }
  | { type: 'CONFIRM_PICKUP' }
  | { type: 'SHIP' }
  | { type: 'MARK_DELIVERED' }
  | { type: 'CANCEL' }
  /** Ask to send goods back: allowed once goods were handed over; the status does not move. */
  | { type: 'REQUEST_RETURN' }
  /** Goods of a return arrived; `allUnitsReturned` when, with this return, every unit bought has come back. */
  | { type: 'RECEIVE_RETURN'; allUnitsReturned: boolean };

export type OrderCommandType = OrderCommand['type'];

export type Transition = { ok: true; from: OrderStatusCode; to: OrderStatusCode } | { ok: false; code: 'INVALID_STATE'; message: string };

/** Where an order is in its life, coarsely: what decides which commands apply. */
export type Phase =
  /** Not yet confirmed: checkout is still running. */
  | 'PENDING'
  /** Confirmed, goods not yet handed over or shipped: may still be cancelled. */
  | 'OPEN'
  /** On its way to the customer. */
  | 'IN_TRANSIT'
  /** With the customer (possibly partly returned): returns may be requested and received. */
  | 'FULFILLED'
  /** Nothing more happens: cancelled, or every unit returned. */
  | 'CLOSED';

export function phaseOf(status: OrderStatusCode): Phase {
  switch (status) {
    case 'PLACED':
      return 'PENDING';
    case 'CONFIRMED':
    case 'READY_FOR_PICKUP':
      return 'OPEN';
    case 'SHIPPED':
      return 'IN_TRANSIT';
    case 'PICKED_UP':
    case 'DELIVERED':
    case 'PARTIALLY_RETURNED':
      return 'FULFILLED';
    case 'CANCELLED':
    case 'RETURNED':
      return 'CLOSED';
    default:
      return assertNever(status);
  }
}

const isShipped = (method: DeliveryMethodCode): boolean => {
  switch (method) {
    case 'PICKUP':
      return false;
    case 'SHIPPING':
    case 'SHIP_FROM_STORE':
      return true;
    default:
      return assertNever(method);
  }
};

export interface OrderState {
  status: OrderStatusCode;
  deliveryMethod: DeliveryMethodCode;
  /** A split order's parts: one shipped already means the order is no longer cancelled whole. */
  fulfillments?: readonly { status: 'OPEN' | 'SHIPPED' | 'CANCELLED' }[] | null | undefined;
}

const COMMAND_WORDS: { readonly [K in OrderCommandType]: string } = {
  CONFIRM: 'confirmed',
  MARK_READY_FOR_PICKUP: 'marked ready for pickup',
  CONFIRM_PICKUP: 'handed over',
  SHIP: 'shipped',
  MARK_DELIVERED: 'marked delivered',
  CANCEL: 'cancelled',
  REQUEST_RETURN: 'returned',
  RECEIVE_RETURN: 'returned',
};

function refuse(order: OrderState, command: OrderCommand, why?: string): Transition {
  return { ok: false, code: 'INVALID_STATE', message: `the order is ${order.status} and cannot be ${COMMAND_WORDS[command.type]}${why ? `: ${why}` : ''}` };
}

/** Whether the one move from `from` applies: `to` when it does. */
function move(order: OrderState, command: OrderCommand, from: readonly OrderStatusCode[], to: OrderStatusCode, why?: string): Transition {
  return from.includes(order.status) ? { ok: true, from: order.status, to } : refuse(order, command, why);
}

/**
 * Decide a command against an order's current state: the move it makes, or INVALID_STATE (the message names
 * the current status and, where it helps, why). Pure; the caller applies the move with a compare-and-swap from
 * `from`, so two concurrent commands can never both land.
 */
export function decide(order: OrderState, command: OrderCommand): Transition {
  switch (command.type) {
    case 'CONFIRM':
      return move(order, command, ['PLACED'], 'CONFIRMED');
    case 'MARK_READY_FOR_PICKUP':
      if (isShipped(order.deliveryMethod)) return refuse(order, command, `a ${order.deliveryMethod} order is shipped, not picked up`);
      return move(order, command, ['CONFIRMED'], 'READY_FOR_PICKUP');
    case 'CONFIRM_PICKUP':
      if (isShipped(order.deliveryMethod)) return refuse(order, command, `a ${order.deliveryMethod} order is shipped, not picked up`);
      return move(order, command, ['READY_FOR_PICKUP'], 'PICKED_UP', order.status === 'CONFIRMED' ? 'mark it ready for pickup first' : undefined);
    case 'SHIP':
      if (!isShipped(order.deliveryMethod)) return refuse(order, command, 'a PICKUP order is collected at the store');
      return move(order, command, ['CONFIRMED'], 'SHIPPED');
    case 'MARK_DELIVERED':
      if (!isShipped(order.deliveryMethod)) return refuse(order, command, 'a PICKUP order is collected at the store');
      return move(order, command, ['SHIPPED'], 'DELIVERED');
    case 'CANCEL': {
      const phase = phaseOf(order.status);
      switch (phase) {
        case 'PENDING':
        case 'OPEN':
          if (order.fulfillments?.some((p) => p.status === 'SHIPPED')) return refuse(order, command, 'part of it has shipped; create a return for what arrived');
          return { ok: true, from: order.status, to: 'CANCELLED' };
        case 'IN_TRANSIT':
        case 'FULFILLED':
          return refuse(order, command, 'the goods were already handed over or shipped; create a return instead');
        case 'CLOSED':
          return refuse(order, command);
        default:
          return assertNever(phase);
      }
    }
    case 'REQUEST_RETURN':
      return phaseOf(order.status) === 'FULFILLED' ? { ok: true, from: order.status, to: order.status } : refuse(order, command, notReturnable(order.status));
    case 'RECEIVE_RETURN':
      return phaseOf(order.status) === 'FULFILLED'
        ? { ok: true, from: order.status, to: command.allUnitsReturned ? 'RETURNED' : 'PARTIALLY_RETURNED' }
        : refuse(order, command, notReturnable(order.status));
    default:
      return assertNever(command);
  }
}

function notReturnable(status: OrderStatusCode): string {
  return status === 'RETURNED' ? 'every unit has come back already' : 'only goods handed over or delivered can be returned';
}

/** The return state machine: REQUESTED → RECEIVED (goods in, stock booked) → REFUNDED (money paid back). */
export type ReturnCommand = { type: 'RECEIVE' } | { type: 'REFUND' };

export type ReturnTransition = { ok: true; from: ReturnStatusCode; to: ReturnStatusCode } | { ok: false; code: 'INVALID_STATE'; message: string };

export function decideReturn(status: ReturnStatusCode, command: ReturnCommand): ReturnTransition {
  switch (command.type) {
    case 'RECEIVE':
      return status === 'REQUESTED' ? { ok: true, from: status, to: 'RECEIVED' } : { ok: false, code: 'INVALID_STATE', message: `the return is ${status} and was already received` };
    case 'REFUND':
      return status === 'RECEIVED' ? { ok: true, from: status, to: 'REFUNDED' } : { ok: false, code: 'INVALID_STATE', message: `the return is ${status} and cannot be refunded` };
    default:
      return assertNever(command);
  }
}
