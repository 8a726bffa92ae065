import { forbiddenError } from '../../common/auth/authorization.js';
import { assertNever, type Principal } from '../../common/auth/principal.js';
import type { SalesOrder } from './ports.js';

/*
 * The orders subgraph's row rules: which orders a caller may see and move. The schema's directives decide which
 * roles may ask at all (and the gateway applies them before anything is fetched); these decide, per order, what
 * the directives cannot know: whose order it is and which store it belongs to.
 *
 * - shopper: their own orders. Another customer's order reads as null and is moved as an unknown id would be,
 *   so its existence does not leak.
 * - store associate: orders picked up at or fulfilled from their location; they move pickups at their store,
 *   ship what leaves it and report what its shelf lacks (a pick shortage).
 * - agent: every order; cancels, returns, deliveries and changes of pickup store (the shopper may change their own).
 * - finance: every order, read only.
 */

/** What a caller wants to do with an order. */
export type OrderAction = 'read' | 'pickup' | 'ship' | 'deliver' | 'cancel' | 'return' | 'receive-return' | 'change-pickup' | 'report-shortage';

/** allow; hide (answer as for an unknown id); forbid (a FORBIDDEN error). */
export type OrderAccess = 'allow' | 'hide' | 'forbid';

/** The store a pickup order is collected at (checkout commits its stock there too). */
const pickupStoreOf = (order: SalesOrder): string => order.pickupLocationId ?? order.fulfillmentLocationId;
/** Where the order is picked up or leaves from (any part of a split order). */
const leavesFrom = (order: SalesOrder, locationId: string): boolean => order.fulfillmentLocationId === locationId || (order.fulfillments ?? []).some((p) => p.locationId === locationId);
const atLocation = (order: SalesOrder, locationId: string): boolean => order.pickupLocationId === locationId || leavesFrom(order, locationId);

export function orderAccess(principal: Principal, order: SalesOrder, action: OrderAction): OrderAccess {
  switch (principal.kind) {
    case 'anonymous':
      return 'hide';
    case 'shopper': {
      if (order.customerId !== principal.customerId) return 'hide';
      return action === 'read' || action === 'cancel' || action === 'return' || action === 'change-pickup' ? 'allow' : 'forbid';
    }
    case 'store': {
      const here = principal.locationId;
      switch (action) {
        case 'read':
          // The store a pickup order was moved away from still reads it: its PickupFeed says which order left.
          return atLocation(order, here) || order.lastRelocation?.fromLocationId === here ? 'allow' : 'hide';
        case 'pickup':
          // Where it would be handed over; whether it is a pickup at all is the state machine's to answer.
          return pickupStoreOf(order) === here ? 'allow' : 'forbid';
        case 'ship':
          return leavesFrom(order, here) ? 'allow' : 'forbid';
        case 'deliver':
        // The shelf that came up short is the one the order is picked from.
        case 'report-shortage':
          return order.fulfillmentLocationId === here ? 'allow' : 'forbid';
        case 'receive-return':
          // Returned goods are booked in where the order was fulfilled from.
          return order.fulfillmentLocationId === here ? 'allow' : 'forbid';
        case 'cancel':
        case 'return':
        // Where the customer collects is theirs (or a service agent's) to choose, not a store's.
        case 'change-pickup':
          return 'forbid';
        default:
          return assertNever(action);
      }
    }
    case 'agent':
      return action === 'read' || action === 'cancel' || action === 'return' || action === 'deliver' || action === 'change-pickup' ? 'allow' : 'forbid';
    case 'finance':
    // Operations follow an order's timeline from the operations console; they change nothing.
    case 'ops':
      return action === 'read' ? 'allow' : 'forbid';
    default:
      return assertNever(principal);
  }
}

/** The order when the caller may read it; null (as for an unknown id) when not. */
export function visibleOrder(principal: Principal, order: SalesOrder | null): SalesOrder | null {
  return order && orderAccess(principal, order, 'read') === 'allow' ? order : null;
}

/** Orders are listed by customer for the customer themselves and for service agents. */
export function checkCustomerOrders(principal: Principal, customerId: string): void {
  if (principal.kind === 'agent') return;
  if (principal.kind === 'shopper' && principal.customerId === customerId) return;
  throw forbiddenError("a customer's orders are for the customer and service agents");
}

/** A location's pickup queue is for its own associates and for service agents. */
export function checkPickupQueue(principal: Principal, locationId: string): void {
  if (principal.kind === 'agent') return;
  if (principal.kind === 'store' && principal.locationId === locationId) return;
  throw forbiddenError(`the pickup queue of ${locationId} is for its own associates`);
}
