import type { Principal } from '../../../common/auth/principal.js';
import { createEvent } from '../../../common/events.js';
import { runIdempotent, userError, type UserErrorValue } from '../../../common/idempotent-mutation.js';
import type { Logger } from '../../../common/logger.js';
import type { MarketplaceOrderNotification } from '../../../common/systems/marketplace.js';
import { MAX_LINES, MAX_QUANTITY } from '../line-rules.js';
import { placeMarketplaceOrder, type CheckoutDeps, type StoredOutcome } from '../checkout/checkout.service.js';
import { cancelOrder, type LifecycleDeps } from '../lifecycle/lifecycle.service.js';
import type { SalesOrder } from '../ports.js';
import { shortDigest } from '../../../common/digest.js';

/** What the webhook answers the marketplace for one notification. */
export interface IntakeAnswer {
  /**
   * ACCEPTED: an order of ours holds it; REJECTED: we could not take it (`userErrors` say why; the marketplace is
   * told through the outbox too); CANCELLED: the buyer's cancellation is done (or came before the order: then no
   * order was made); BUSY: another delivery of it is being handled now, send it again later.
   */
  status: 'ACCEPTED' | 'REJECTED' | 'CANCELLED' | 'BUSY';
  /** The answer of an earlier delivery, given again: nothing changed. */
  duplicate: boolean;
  orderId: string | null;
  orderNumber: string | null;
  orderStatus: string | null;
  userErrors: UserErrorValue[];
}

export interface MarketplaceIntakeDeps {
  checkout: CheckoutDeps;
  /** The order moves, for a buyer's cancellation (the one cancellation path). */
  lifecycle: Omit<LifecycleDeps, 'access'>;
  /** How long after its notification an order must be acknowledged, in ms. */
  ackWindowMs: number;
  logger: Logger;
  now?: (() => Date) | undefined;
}

/**
 * The connector's identity in the order flows: it acts for the marketplace's own customer service, on that
 * marketplace's orders only (see `access` below); its idempotency keys are the marketplace's order ids.
 */
function connectorPrincipal(marketplace: string): Principal {
  return { kind: 'agent', subject: `marketplace:${marketplace}`, expiresAt: Number.MAX_SAFE_INTEGER };
}

/** The checkout reference of a marketplace order: from the marketplace and its order id, so that every delivery and retry finds the same commitment and order. */
export const marketplaceCheckoutReference = (marketplace: string, externalOrderId: string): string => `chk-mkt-${marketplaceDigest(marketplace, externalOrderId)}`;

/** The id of the rejection's event (one per marketplace order): told twice, it is published once. */
export const rejectedEventId = (marketplace: string, externalOrderId: string): string => `evt-mkt-${marketplaceDigest(marketplace, externalOrderId)}-rejected`;

/** A marketplace order's name in our references: the marketplace and its id, digested (no id of theirs leaks into ours). */
const marketplaceDigest = (marketplace: string, externalOrderId: string): string => shortDigest(`${marketplace}\0${externalOrderId}`);

const CANCELLED_FIRST = 'CANCELLED_BY_BUYER';

/**
 * Take one notification of the marketplace: at least once, in any order. Each marketplace order is accepted once,
 * by its id, through the one idempotent-mutation kernel: the first delivery decides, every later one (a duplicate,
 * a stale version) is answered from what it stored. A CREATED runs the checkout saga (channel MARKETPLACE, shipped
 * to the buyer, paid at the marketplace); a CANCELLED whose order exists cancels it through the one cancellation
 * path; a CANCELLED that comes first leaves a tombstone, so the CREATED after it makes no order.
 */
export async function acceptNotification(deps: MarketplaceIntakeDeps, notification: MarketplaceOrderNotification, correlationId: string): Promise<IntakeAnswer> {
  const principal = connectorPrincipal(notification.marketplace);
  const scope = { correlationId, principal };
  const { marketplace, externalOrderId } = notification;
  const now = deps.now ?? (() => new Date());
  let fresh = false;
  const first = await runIdempotent<StoredOutcome, { stored: StoredOutcome } | { refused: UserErrorValue[] }>({
    store: deps.checkout.idempotency,
    caller: `marketplace:${marketplace}`,
    operation: 'marketplaceOrder',
    key: externalOrderId,
    // Bound to the order alone: a later version of it is the same request, answered by what the first decided.
    input: { marketplace, externalOrderId },
    refused: (userErrors) => ({ refused: userErrors }),
    replay: (stored) => ({ stored }),
    run: async () => {
      fresh = true;
      if (notification.status === 'CANCELLED') {
        const stored = { orderId: null, userErrors: [userError(CANCELLED_FIRST, `${marketplace} order ${externalOrderId} was cancelled by the buyer before it was accepted`)] };
        return { stored, outcome: { stored } };
      }
      const receivedAt = now();
      const placed = await placeMarketplaceOrder(deps.checkout, scope, marketplaceCheckoutReference(marketplace, externalOrderId), {
        idempotencyKey: externalOrderId,
        channel: 'MARKETPLACE',
        deliveryMethod: 'SHIPPING',
        lines: notification.lines,
        shippingAddress: notification.shippingAddress,
        marketplace: { name: marketplace, externalOrderId, receivedAt: receivedAt.toISOString(), acknowledgeBy: new Date(receivedAt.getTime() + deps.ackWindowMs).toISOString() },
      });
      if (!placed.order) {
        // Told to the marketplace through the outbox (orders-marketplace), with the reasons.
        await deps.checkout.events.emit([
          createEvent('MARKETPLACE_ORDER_REJECTED', { marketplace, externalOrderId, reasons: placed.userErrors.map((e) => e.code) }, { id: rejectedEventId(marketplace, externalOrderId), source: 'MARKETPLACE', correlationId, occurredAt: now() }),
        ]);
      }
      return { stored: placed.stored, outcome: { stored: placed.stored } };
    },
  });
  if ('refused' in first) {
    return { status: 'BUSY', duplicate: false, orderId: null, orderNumber: null, orderStatus: null, userErrors: first.refused };
  }
  const { stored } = first;
  const duplicate = !fresh;
  if (!stored.orderId) {
    const cancelledFirst = stored.userErrors.some((e) => e.code === CANCELLED_FIRST);
    return { status: cancelledFirst ? 'CANCELLED' : 'REJECTED', duplicate, orderId: null, orderNumber: null, orderStatus: null, userErrors: stored.userErrors };
  }
  const order = await deps.checkout.loadOrder(stored.orderId);
  if (notification.status === 'CANCELLED' && order) return cancelForBuyer(deps, scope, notification, order);
  return answerOf(order, duplicate);
}

/** The buyer cancelled an order we accepted: through the one cancellation path, once (its key is the marketplace's order id). */
async function cancelForBuyer(deps: MarketplaceIntakeDeps, scope: { correlationId: string; principal: Principal }, notification: MarketplaceOrderNotification, order: SalesOrder): Promise<IntakeAnswer> {
  const lifecycle: LifecycleDeps = {
    ...deps.lifecycle,
    // The connector may move the orders of its own marketplace, and sees no other.
    access: (o) => (o.marketplace?.name === notification.marketplace && o.marketplace.externalOrderId === notification.externalOrderId ? 'allow' : 'hide'),
  };
  const outcome = await cancelOrder(lifecycle, scope, { idempotencyKey: `cancel:${notification.externalOrderId}`, orderId: order.id, reason: `Cancelled by the buyer at ${notification.marketplace}` });
  if (outcome.order) return { ...answerOf(outcome.order, false), status: 'CANCELLED' };
  // Already cancelled (this is a repeat), or past the point of no return (shipped): the order as it is, with the reason.
  const current = (await deps.checkout.loadOrder(order.id)) ?? order;
  const done = current.status === 'CANCELLED';
  return { ...answerOf(current, done), status: done ? 'CANCELLED' : 'ACCEPTED', userErrors: done ? [] : outcome.userErrors };
}

const answerOf = (order: SalesOrder | null, duplicate: boolean): IntakeAnswer => ({
  status: 'ACCEPTED',
  duplicate,
  orderId: order?.id ?? null,
  orderNumber: order?.number ?? null,
  orderStatus: order?.status ?? null,
  userErrors: [],
});

const NAME = /^[A-Z0-9][A-Z0-9_-]{0,49}$/;
const ID = /^[\x21-\x7e]{1,100}$/;

/** The notification's shape, checked before anything runs: every problem, each with its field (code INVALID_NOTIFICATION). */
export function notificationErrors(value: unknown): { notification: MarketplaceOrderNotification } | { errors: UserErrorValue[] } {
  const errors: UserErrorValue[] = [];
  const bad = (field: string, message: string) => errors.push(userError('INVALID_NOTIFICATION', message, field));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { errors: [userError('INVALID_NOTIFICATION', 'the body must be a JSON object', null)] };
  const n = value as Record<string, unknown>;
  if (typeof n.marketplace !== 'string' || !NAME.test(n.marketplace)) bad('marketplace', 'marketplace is 1 to 50 upper-case letters, digits, _ or -');
  if (typeof n.externalOrderId !== 'string' || !ID.test(n.externalOrderId)) bad('externalOrderId', 'externalOrderId is 1 to 100 printable characters, no spaces');
  if (!Number.isSafeInteger(n.version) || (n.version as number) < 1) bad('version', 'version is a whole number from 1');
  if (n.status !== 'CREATED' && n.status !== 'CANCELLED') bad('status', 'status is CREATED or CANCELLED');
  if (typeof n.placedAt !== 'string' || Number.isNaN(Date.parse(n.placedAt))) bad('placedAt', 'placedAt is an ISO 8601 instant');
  if (!Array.isArray(n.lines) || n.lines.length < 1 || n.lines.length > MAX_LINES) bad('lines', `lines is a list of 1 to ${MAX_LINES} lines`);
  else
    n.lines.forEach((line: unknown, i) => {
      const l = line as Record<string, unknown> | null;
      if (typeof l?.sku !== 'string' || l.sku.length < 1 || l.sku.length > 100) bad(`lines.${i}.sku`, 'sku is 1 to 100 characters');
      if (!Number.isSafeInteger(l?.quantity) || (l!.quantity as number) < 1 || (l!.quantity as number) > MAX_QUANTITY) bad(`lines.${i}.quantity`, `quantity is 1 to ${MAX_QUANTITY}`);
    });
  const a = n.shippingAddress as Record<string, unknown> | null | undefined;
  if (typeof a !== 'object' || a === null) bad('shippingAddress', 'shippingAddress is {country, postalCode, city, line1}');
  else for (const key of ['country', 'postalCode', 'city', 'line1'] as const) if (typeof a[key] !== 'string') bad(`shippingAddress.${key}`, `${key} is a string`);
  if (errors.length) return { errors };
  const address = a as Record<'country' | 'postalCode' | 'city' | 'line1', string>;
  return {
    notification: {
      marketplace: n.marketplace as string,
      externalOrderId: n.externalOrderId as string,
      version: n.version as number,
      status: n.status as 'CREATED' | 'CANCELLED',
      placedAt: n.placedAt as string,
      lines: (n.lines as { sku: string; quantity: number }[]).map((l) => ({ sku: l.sku, quantity: l.quantity })),
      shippingAddress: { country: address.country, postalCode: address.postalCode, city: address.city, line1: address.line1 },
    },
  };
}
