import { forbiddenError } from '../../../common/auth/authorization.js';
import { createEvent, type CanonicalEvent, type EventBackbone } from '../../../common/events.js';
import { callerOf, type CallerScope, type IdempotencyStore } from '../../../common/idempotency.js';
import { runIdempotent, userError, type UserErrorValue } from '../../../common/idempotent-mutation.js';

export { callerOf, type CallerScope };
import type { MoneyValue } from '../../../common/money.js';
import { lineErrors, MAX_LINES } from '../line-rules.js';
import { completeCancellation, orderSourceOf, stockSourceOf } from '../canonical-events.js';
import type { ChannelCode, DeliveryMethodCode, OrderSystem, SalesOrder, SalesOrderLine } from '../ports.js';
import type { AllocationStrategy } from './allocation-strategy.js';
import type { CustomerDirectoryPort, OrderWriterPort, PaymentAuthorizationPort, PaymentMethodCode, PriceListPort, SiteDirectoryPort, StockCommitPort } from './ports.js';

export { MAX_LINES, MAX_QUANTITY } from '../line-rules.js';

export interface PlaceOrderRequest {
  idempotencyKey: string;
  channel: ChannelCode;
  deliveryMethod: DeliveryMethodCode;
  customerId?: string | null | undefined;
  pickupLocationId?: string | null | undefined;
  lines: { sku: string; quantity: number }[];
  paymentMethod?: PaymentMethodCode | null | undefined;
  paymentToken?: string | null | undefined;
}


export interface PlaceOrderOutcome {
  order: SalesOrder | null;
  userErrors: UserErrorValue[];
}

export interface CheckoutDeps {
  prices: PriceListPort;
  sites: SiteDirectoryPort;
  customers: CustomerDirectoryPort;
  stock: StockCommitPort;
  payments: PaymentAuthorizationPort;
  orders: OrderWriterPort;
  /** Reads an order back (for idempotent replays). */
  loadOrder: (id: string) => Promise<SalesOrder | null>;
  allocation: AllocationStrategy;
  idempotency: IdempotencyStore;
  backbone: EventBackbone;
  now?: () => Date;
}

/** What is stored under an idempotency key: enough to give the same answer again. */
interface StoredOutcome {
  orderId: string | null;
  userErrors: UserErrorValue[];
}


/** Input checks that need no system: shape, limits, duplicates. */
export function validateShape(input: PlaceOrderRequest): UserErrorValue[] {
  const errors = lineErrors(input.lines, 'an order');
  // Without a usable list of lines nothing else is worth checking.
  if (input.lines.length === 0 || input.lines.length > MAX_LINES) return errors;
  if (input.deliveryMethod === 'PICKUP' && !input.pickupLocationId) errors.push(userError('PICKUP_NOT_AVAILABLE', 'a pickup order needs pickupLocationId', 'pickupLocationId'));
  if (input.deliveryMethod !== 'PICKUP' && input.pickupLocationId) errors.push(userError('INVALID_INPUT', 'pickupLocationId is only for PICKUP orders', 'pickupLocationId'));
  if ((input.customerId?.length ?? 0) > 200 || (input.pickupLocationId?.length ?? 0) > 200 || (input.paymentToken?.length ?? 0) > 200) {
    errors.push(userError('INVALID_INPUT', 'ids and tokens are at most 200 characters', null));
  }
  return errors;
}

/**
 * Checkout as a saga: validate → commit stock for every line at one location, all or nothing → record the
 * order → authorize the payment → CONFIRMED. A declined payment gives the stock back and cancels the order
 * (PAYMENT_DECLINED); a system failure after the commitment is compensated the same way and the idempotency key
 * is given back so that the client's retry can run. Every step publishes its canonical event.
 */
export async function placeOrder(deps: CheckoutDeps, scope: CallerScope, request: PlaceOrderRequest): Promise<PlaceOrderOutcome> {
  const input = { ...request, customerId: customerOfOrder(scope, request.customerId) };
  const { idempotencyKey: key, ...rest } = input;
  return runIdempotent<StoredOutcome, PlaceOrderOutcome>({
    store: deps.idempotency,
    caller: callerOf(scope),
    operation: 'placeOrder',
    key,
    input: { ...rest, paymentMethod: rest.paymentMethod ?? 'CARD' },
    refused: (userErrors) => ({ order: null, userErrors }),
    replay: async (stored) => ({ order: stored.orderId ? await deps.loadOrder(stored.orderId) : null, userErrors: stored.userErrors }),
    // Nothing is left committed when the saga throws (it compensates), so the key may be given back.
    run: async () => {
      const { stored, order } = await runSaga(deps, scope, input);
      return { stored, outcome: { order, userErrors: stored.userErrors } };
    },
  });
}

/**
 * Whom the order is for: a shopper orders for themselves (`customerId` left out means them; another customer's id
 * is FORBIDDEN); a service agent for any customer, or a guest.
 */
function customerOfOrder(scope: CallerScope, customerId: string | null | undefined): string | null {
  const principal = scope.principal;
  switch (principal?.kind) {
    case 'shopper':
      if (customerId !== null && customerId !== undefined && customerId !== principal.customerId) throw forbiddenError('a shopper places orders for themselves only');
      return principal.customerId;
    case 'agent':
      return customerId ?? null;
    default:
      throw forbiddenError('orders are placed by shoppers for themselves and by service agents');
  }
}

async function runSaga(deps: CheckoutDeps, scope: CallerScope, input: PlaceOrderRequest): Promise<{ stored: StoredOutcome; order: SalesOrder | null }> {
  const fail = (userErrors: UserErrorValue[]) => ({ stored: { orderId: null, userErrors }, order: null });
  const shapeErrors = validateShape(input);
  if (shapeErrors.length) return fail(shapeErrors);

  // Validate against the systems of record, side by side.
  const [prices, pickupSite, customerExists] = await Promise.all([
    deps.prices.getPrices(input.lines.map((l) => l.sku)),
    input.pickupLocationId ? deps.sites.getSites([input.pickupLocationId]).then((s) => s[0] ?? null) : Promise.resolve(null),
    input.customerId ? deps.customers.exist([input.customerId]).then((e) => e[0] === true) : Promise.resolve(true),
  ]);
  const errors: UserErrorValue[] = [];
  prices.forEach((price, i) => {
    if (!price) errors.push(userError('UNKNOWN_SKU', `no SKU ${input.lines[i]!.sku} in the item master`, `lines.${i}.sku`));
    else if (price.status === 'DISCONTINUED') errors.push(userError('DISCONTINUED', `${price.sku} is discontinued and no longer sold`, `lines.${i}.sku`));
  });
  if (input.deliveryMethod === 'PICKUP' && (!pickupSite || !pickupSite.pickupEnabled)) {
    errors.push(userError('PICKUP_NOT_AVAILABLE', `${input.pickupLocationId} does not hand over pickup orders`, 'pickupLocationId'));
  }
  if (!customerExists) errors.push(userError('UNKNOWN_CUSTOMER', `no customer ${input.customerId}`, 'customerId'));
  if (errors.length) return fail(errors);

  const lines: SalesOrderLine[] = input.lines.map((line, i) => ({ sku: line.sku, quantity: line.quantity, unitPrice: prices[i]!.price }));
  const currency = lines[0]!.unitPrice.currency;
  const total: MoneyValue = { minor: lines.reduce((sum, l) => sum + l.quantity * l.unitPrice.minor, 0), currency };
  const stockLines = input.lines.map((l) => ({ sku: l.sku, quantity: l.quantity }));

  // Commit stock, all lines at one location.
  let locationId: string;
  if (input.deliveryMethod === 'PICKUP') {
    const result = await deps.stock.commit(input.pickupLocationId!, stockLines);
    if (!result.ok) return fail(shortageErrors(input, result.shortages));
    locationId = input.pickupLocationId!;
  } else {
    const candidates = (await deps.sites.listSites(input.deliveryMethod === 'SHIPPING' ? 'WAREHOUSE' : 'STORE')).map((s) => s.id);
    const allocated = await deps.allocation.allocate(candidates, stockLines, deps.stock);
    if (!('locationId' in allocated)) return fail(shortageErrors(input, allocated.shortages));
    locationId = allocated.locationId;
  }

  const now = deps.now ?? (() => new Date());
  const system: OrderSystem = input.channel === 'STORE' ? 'pos' : 'ecom';
  const publish = (event: CanonicalEvent) => deps.backbone.publish(event);

  let order: SalesOrder;
  try {
    order = await deps.orders.create(system, {
      customerId: input.customerId ?? null,
      channel: input.channel,
      deliveryMethod: input.deliveryMethod,
      status: 'PLACED',
      pickupLocationId: input.pickupLocationId ?? null,
      fulfillmentLocationId: locationId,
      lines,
      total,
      placedAt: now().toISOString(),
      correlationId: scope.correlationId,
    });
  } catch (error) {
    await deps.stock.release(locationId, stockLines);
    throw error;
  }
  const source = orderSourceOf(input.channel);
  // The status moves and the order's keys travel with the events, so that status subscribers filter without a lookup.
  const meta = { correlationId: scope.correlationId, orderId: order.id };
  await publish(
    createEvent(
      'ORDER_PLACED',
      {
        number: order.number,
        channel: input.channel,
        deliveryMethod: input.deliveryMethod,
        total: total.minor,
        currency,
        lines: lines.length,
        previousStatus: null,
        status: 'PLACED',
        customerId: order.customerId,
        pickupLocationId: order.pickupLocationId,
        fulfillmentLocationId: order.fulfillmentLocationId,
      },
      { ...meta, source, occurredAt: now() },
    ),
  );
  for (const line of stockLines) await publish(createEvent('INVENTORY_RESERVED', { quantity: line.quantity }, { ...meta, source: stockSourceOf(locationId), sku: line.sku, locationId, occurredAt: now() }));

  // Compensation, by the one cancellation path. The status move comes first: if someone cancelled the order
  // meanwhile, they have released its stock already, and releasing it again would sell units twice. The payment
  // is voided too: an authorization that timed out may still have been made at the PSP.
  const cancel = async (reason: string) => {
    const moved = await deps.orders.compareAndSetStatus(system, order.id, 'PLACED', 'CANCELLED');
    if (!moved.moved) return;
    const cancellation = { release: deps.stock.release.bind(deps.stock), voidPayment: deps.payments.void.bind(deps.payments), backbone: deps.backbone, now };
    await completeCancellation(cancellation, moved.order ?? order, 'PLACED', reason);
  };

  let payment: { paymentId: string; status: 'AUTHORIZED' | 'DECLINED' };
  const method = input.paymentMethod ?? 'CARD';
  try {
    payment = await deps.payments.authorize({ orderId: order.id, amount: total, method, token: input.paymentToken ?? null });
  } catch (error) {
    await cancel('Payment service unavailable');
    throw error;
  }
  if (payment.status === 'DECLINED') {
    await cancel('Payment declined');
    return fail([userError('PAYMENT_DECLINED', 'the payment was declined', 'paymentToken')]);
  }
  await publish(createEvent('PAYMENT_AUTHORIZED', { paymentId: payment.paymentId, amount: total.minor, currency: total.currency, method }, { ...meta, source: 'PSP', occurredAt: now() }));
  const confirmed = await deps.orders.compareAndSetStatus(system, order.id, 'PLACED', 'CONFIRMED');
  if (!confirmed.moved) {
    // Cancelled while the payment was being authorized: the cancel released the stock; the money must go back too.
    await deps.payments.void(order.id);
    return fail([userError('INVALID_STATE', `order ${order.number} was cancelled while it was being placed`, null)]);
  }
  await publish(createEvent('ORDER_CONFIRMED', { previousStatus: 'PLACED', status: 'CONFIRMED' }, { ...meta, source, occurredAt: now() }));
  return { stored: { orderId: order.id, userErrors: [] }, order: confirmed.order ?? { ...order, status: 'CONFIRMED' } };
}

function shortageErrors(input: PlaceOrderRequest, shortages: { sku: string; available: number }[]): UserErrorValue[] {
  return shortages.map((s) => {
    const i = input.lines.findIndex((l) => l.sku === s.sku);
    return userError('OUT_OF_STOCK', `only ${s.available} of ${s.sku} can be promised, ${input.lines[i]?.quantity ?? '?'} asked`, `lines.${i}.quantity`);
  });
}
