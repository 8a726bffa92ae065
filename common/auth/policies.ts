import type { PolicyRegistry } from './authorization.js';
import { fromGlobalId, type NodeTypeName } from '../global-id.js';
import { assertNever, type Principal } from './principal.js';

/*
 * The named policies that `@policy` refers to. Each one decides from the caller and the field's arguments only
 * (never from data), so the gateway can decide it before any fetch; the rows themselves (whose order, which store's
 * pickup) are the owning subgraph's to check. A policy speaks for the roles it names and lets every other role
 * through: the field's `@requiresScopes` decides which roles may ask at all.
 */

const stringArg = (value: unknown): string | null => (typeof value === 'string' ? value : null);
/** An id argument as the native id the principal carries: arguments take global ids and native ones alike. */
const idArg = (type: NodeTypeName, value: unknown): string | null => (typeof value === 'string' ? fromGlobalId(type, value) : null);
const inputOf = (args: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  typeof args.input === 'object' && args.input !== null ? (args.input as Record<string, unknown>) : {};

/** The customer id an operation acts for: `input.customerId` or `customerId`. */
const customerArg = (args: Readonly<Record<string, unknown>>): string | null => idArg('Customer', inputOf(args).customerId) ?? idArg('Customer', args.customerId);
/** The location an operation acts at: `input.locationId` or `locationId`. */
const locationArg = (args: Readonly<Record<string, unknown>>): string | null => idArg('Location', inputOf(args).locationId) ?? idArg('Location', args.locationId);

export const POLICY_NAMES = ['own_customer', 'own_location', 'own_order_feed'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export const POLICIES: PolicyRegistry & Record<PolicyName, PolicyRegistry[string]> = {
  /** A shopper acts for themselves only: the customer id, when given, is theirs. */
  own_customer(principal: Principal, args) {
    if (principal.kind !== 'shopper') return true;
    const customerId = customerArg(args);
    return customerId === null || customerId === principal.customerId;
  },
  /** A store associate acts at their own location only, and must name it. */
  own_location(principal: Principal, args) {
    if (principal.kind !== 'store') return true;
    return locationArg(args) === principal.locationId;
  },
  /**
   * Order status moves: a shopper follows one order (the orders subgraph checks it is theirs) or their own orders,
   * never a location's; a store associate follows their own location.
   */
  own_order_feed(principal: Principal, args) {
    switch (principal.kind) {
      case 'anonymous':
        return false;
      case 'shopper': {
        const customerId = idArg('Customer', args.customerId);
        if (stringArg(args.locationId) !== null) return false;
        if (customerId !== null) return customerId === principal.customerId;
        return stringArg(args.orderId) !== null;
      }
      case 'store':
        return idArg('Location', args.locationId) === principal.locationId;
      case 'agent':
      case 'finance':
      case 'ops':
        return true;
      default:
        return assertNever(principal);
    }
  },
};
