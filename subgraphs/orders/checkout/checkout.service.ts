import { randomUUID } from 'node:crypto';
import { locationLabel, type Metrics } from '../../../common/telemetry/metrics.js';
import { forbiddenError } from '../../../common/auth/authorization.js';
import { createEvent, type CanonicalEvent, type EventBackbone } from '../../../common/events.js';
import type { EventEmitter } from '../../../common/outbox/event-outbox.js';
import { callerKeyDigest, callerOf, type CallerScope, type IdempotencyStore } from '../../../common/idempotency.js';
import { runIdempotent, userError, type UserErrorValue } from '../../../common/idempotent-mutation.js';

export { callerOf, type CallerScope };
import type { Logger } from '../../../common/logger.js';
import type { MoneyValue } from '../../../common/money.js';
import type { OrderMarketplaceRecord } from '../../../common/systems/records.js';
import { lineErrors, MAX_LINES } from '../line-rules.js';
import { checkoutCancelReference, completeCancellation, moveEventId, orderSourceOf, stockSourceOf } from '../canonical-events.js';
import type { ChannelCode, DeliveryMethodCode, OrderSystem, SalesOrder, SalesOrderLine } from '../ports.js';
import { systemOfOrderId } from '../routing.js';
import type { AllocationStrategy } from './allocation-strategy.js';
import { fulfillmentsOf, partsOf, type FulfillmentPart } from '../fulfillments.js';
import type { ChannelAllocationRule } from '../../../common/channels/channel-allocation-rule.js';
import type { OrderTaxOutcome, TaxService } from './tax.js';
import type { CustomerDirectoryPort, OrderWriterPort, PaymentAuthorizationPort, PaymentMethodCode, PriceListPort, Site, SiteDirectoryPort, StockCommitPort, StockCommitResult } from './ports.js';

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
  /** Where a shipped order goes (and is taxed); without it, the fulfilment location's address is the tax address. */
  shippingAddress?: ShippingAddressValue | null | undefined;
  /** Set only by the marketplace connector (subgraphs/orders/marketplace): where the order came from. */
  marketplace?: OrderMarketplaceRecord | undefined;
}

export interface ShippingAddressValue {
  country: string;
  postalCode: string;
  city: string;
  line1: string;
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
  /** Which stock each channel may sell (eligible locations, units held back), applied in the commitment itself. */
  channels: ChannelAllocationRule;
  /** The order's tax (the tax engine, with its outage policy). @default none: orders carry no tax */
  tax?: TaxService | undefined;
  idempotency: IdempotencyStore;
  /** What the order status feed listens to (checkout itself only emits). */
  backbone: EventBackbone;
  /** The outbox every step's events go through. */
  events: EventEmitter;
  logger?: Logger | undefined;
  now?: () => Date;
  /** Checkouts refused (by code and location) and the time to an acknowledged order. @default none */
  metrics?: Pick<Metrics, 'checkoutFailures' | 'orderAcknowledgement'> | undefined;
}

/** {@link placeOrder}, counted: the time to an acknowledged order by channel, each user error by code and location. */
export async function placeOrderObserved(deps: CheckoutDeps, scope: CallerScope, request: PlaceOrderRequest): Promise<PlaceOrderOutcome> {
  const started = performance.now();
  const outcome = await placeOrder(deps, scope, request);
  if (deps.metrics) {
    if (outcome.order) deps.metrics.orderAcknowledgement.observe({ channel: request.channel }, (performance.now() - started) / 1000);
    const location = request.deliveryMethod === 'PICKUP' ? locationLabel(request.pickupLocationId ?? undefined) : 'online';
    for (const error of outcome.userErrors) deps.metrics.checkoutFailures.inc({ code: error.code, location });
  }
  return outcome;
}

/** What is stored under an idempotency key: enough to give the same answer again. */
export interface StoredOutcome {
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
  if (input.shippingAddress) errors.push(...shippingAddressErrors(input));
  return errors;
}

/** A shipping address is for shipped orders, with a two-letter country and a plausible postal code. */
function shippingAddressErrors(input: PlaceOrderRequest): UserErrorValue[] {
  const address = input.shippingAddress!;
  const errors: UserErrorValue[] = [];
  if (input.deliveryMethod === 'PICKUP') errors.push(userError('INVALID_INPUT', 'a PICKUP order is collected at its store: no shippingAddress', 'shippingAddress'));
  if (!/^[A-Za-z]{2}$/.test(address.country)) errors.push(userError('INVALID_ADDRESS', 'country is an ISO 3166-1 alpha-2 code, e.g. DE', 'shippingAddress.country'));
  if (!/^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$/.test(address.postalCode)) errors.push(userError('INVALID_ADDRESS', 'postalCode is 2 to 10 letters, digits, spaces or dashes', 'shippingAddress.postalCode'));
  if (address.city.trim().length === 0 || address.city.length > 100) errors.push(userError('INVALID_ADDRESS', 'city is 1 to 100 characters', 'shippingAddress.city'));
  if (address.line1.trim().length === 0 || address.line1.length > 200) errors.push(userError('INVALID_ADDRESS', 'line1 is 1 to 200 characters', 'shippingAddress.line1'));
  return errors;
}

/**
 * Checkout as a saga: validate → commit stock for every line at one location, all or nothing → record the
 * order → authorize the payment → CONFIRMED. A declined payment gives the stock back and cancels the order
 * (PAYMENT_DECLINED); a system failure after the commitment is compensated the same way and the idempotency key
 * is given back so that the client's retry can run. Every step publishes its canonical event.
 */
export async function placeOrder(deps: CheckoutDeps, scope: CallerScope, request: PlaceOrderRequest): Promise<PlaceOrderOutcome> {
  // The marketplace's orders come from the marketplace itself (its signed webhook), paid there: no client places one.
  if (request.channel === 'MARKETPLACE' || request.marketplace) {
    return { order: null, userErrors: [userError('INVALID_INPUT', 'MARKETPLACE orders arrive from the marketplace through its webhook (README "Marketplace orders")', 'channel')] };
  }
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
    // When the saga throws, what it left is found again: the retry under this key resumes the checkout's order (or
    // finds its commitment), and checkout recovery undoes what no retry comes for. So the key may be given back.
    run: async () => {
      const { stored, order } = await runSaga(deps, scope, input, checkoutReferenceOf(scope, key));
      return { stored, outcome: { order, userErrors: stored.userErrors } };
    },
  });
}

/**
 * A marketplace order through the one checkout saga, under the reference the connector derived from the
 * marketplace's order id (its retry, after a crash too, resumes the same order). No idempotency record of its own:
 * the connector's kernel run is that. Paid at the marketplace, so no PSP step; a guest order (the buyer is the
 * marketplace's customer, not ours).
 */
export async function placeMarketplaceOrder(deps: CheckoutDeps, scope: CallerScope, reference: string, request: PlaceOrderRequest & { marketplace: OrderMarketplaceRecord }): Promise<PlaceOrderOutcome & { stored: StoredOutcome }> {
  const input: PlaceOrderRequest = { ...request, channel: 'MARKETPLACE', customerId: null, paymentToken: null, pickupLocationId: null };
  const { stored, order } = await runSaga(deps, scope, input, reference);
  return { order, userErrors: stored.userErrors, stored };
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

async function runSaga(deps: CheckoutDeps, scope: CallerScope, input: PlaceOrderRequest, reference: string): Promise<{ stored: StoredOutcome; order: SalesOrder | null }> {
  const fail = (userErrors: UserErrorValue[]) => ({ stored: { orderId: null, userErrors }, order: null });
  const shapeErrors = validateShape(input);
  if (shapeErrors.length) return fail(shapeErrors);

  const now = deps.now ?? (() => new Date());
  const checkout = { reference };
  // A retry under the same key whose first run recorded the order (its answer was lost, or the PSP failed): that
  // order is the checkout's, resumed where it stopped; never a second one.
  const earlier = input.idempotencyKey ? (await deps.orders.forCheckout([checkout.reference]))[0] : null;
  if (earlier) return resumeCheckout(deps, input, earlier);

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
  } else if (input.deliveryMethod === 'PICKUP' && pickupSite && !deps.channels.eligible(input.channel, pickupSite)) {
    errors.push(userError('PICKUP_NOT_AVAILABLE', `${input.pickupLocationId} does not sell its stock to channel ${input.channel}`, 'pickupLocationId'));
  }
  if (!customerExists) errors.push(userError('UNKNOWN_CUSTOMER', `no customer ${input.customerId}`, 'customerId'));
  if (errors.length) return fail(errors);

  let lines: SalesOrderLine[] = input.lines.map((line, i) => ({ sku: line.sku, quantity: line.quantity, unitPrice: prices[i]!.price }));
  const currency = lines[0]!.unitPrice.currency;
  const total: MoneyValue = { minor: lines.reduce((sum, l) => sum + l.quantity * l.unitPrice.minor, 0), currency };
  const stockLines = input.lines.map((l) => ({ sku: l.sku, quantity: l.quantity }));
  // One quote per checkout. Where the address is known before any stock is committed (a pickup's store, a given
  // shipping address), a place the engine does not know is refused before anything changed.
  const quoteAt = (address: { country: string; postalCode: string }) => deps.tax!.taxOrder(address, lines.map((l) => ({ sku: l.sku, grossMinor: l.quantity * l.unitPrice.minor })));
  const knownAddress = input.shippingAddress ?? (input.deliveryMethod === 'PICKUP' ? pickupSite?.address : undefined);
  let tax: OrderTaxOutcome | null | undefined;
  if (deps.tax && knownAddress) {
    tax = await quoteAt(knownAddress);
    if (!tax) return fail([userError('INVALID_ADDRESS', `no tax jurisdiction for ${knownAddress.country} ${knownAddress.postalCode}`, input.shippingAddress ? 'shippingAddress.postalCode' : 'pickupLocationId')]);
  }

  // Commit stock, all lines at one location, under the checkout's reference: a commitment whose answer was lost is
  // found again by the retry (same key) instead of made twice, one whose order was never recorded is found and
  // given back by checkout recovery, and the order's cancellation or hand-over ends it once.
  // Each commit is stamped when it is made, not when the checkout began: the reads before it can take seconds under
  // faults, and recovery must never take a commitment made just now, whose order is about to be recorded, for stale.
  // The channel's share is held back in the same commit (on top of the safety stock), so the stock book's one atomic
  // check is also the share check: two channels racing for the last units cannot both pass it.
  const referenced = {
    commit: (at: string, l: readonly { sku: string; quantity: number }[]) =>
      deps.stock.commit(at, l.map((line) => ({ ...line, holdBack: deps.channels.holdBack(input.channel, at, line.sku) })), { reference: checkout.reference, at: now().toISOString() }),
    release: (at: string, l: readonly { sku: string; quantity: number }[]) => deps.stock.release(at, l, checkout.reference),
  };
  let locationId: string;
  let parts: FulfillmentPart[] | undefined;
  let candidateSites: Site[] = [];
  if (input.deliveryMethod === 'PICKUP') {
    const result = await referenced.commit(input.pickupLocationId!, stockLines);
    if (!result.ok) return fail(shortageErrors(input, result.shortages));
    locationId = input.pickupLocationId!;
  } else {
    candidateSites = (await deps.sites.listSites(input.deliveryMethod === 'SHIPPING' ? 'WAREHOUSE' : 'STORE')).filter((site) => deps.channels.eligible(input.channel, site));
    // No single location can take it: split shipments, each part committed at its location under this reference.
    const allocated = await deps.allocation.allocate(candidateSites, stockLines, referenced, input.shippingAddress ?? null, { split: true });
    if (!('locationId' in allocated)) return fail(shortageErrors(input, allocated.shortages));
    locationId = allocated.locationId;
    parts = allocated.parts && allocated.parts.length > 1 ? partsOf(allocated.parts) : undefined;
  }
  const releaseAll = () => Promise.all((parts ?? [{ locationId, lines: stockLines }]).map((p) => deps.stock.release(p.locationId, p.lines, checkout.reference)));
  if (deps.tax && tax === undefined) {
    // Shipped without an address: taxed where it leaves from (the CRM keeps no customer addresses).
    const origin = candidateSites.find((s) => s.id === locationId)?.address;
    tax = origin ? await quoteAt(origin) : null;
    if (!tax) {
      await releaseAll();
      return fail([userError('INVALID_ADDRESS', `no tax jurisdiction for the fulfilment location ${locationId}; give a shippingAddress`, 'shippingAddress')]);
    }
  }
  if (tax) {
    const taxed = tax.lines;
    lines = lines.map((l, i) => ({ ...l, taxMinor: taxed[i]?.taxMinor ?? 0, taxRateBp: taxed[i]?.taxRateBp ?? 0 }));
  }

  const system: OrderSystem = input.channel === 'STORE' ? 'pos' : 'ecom';
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
      checkoutReference: checkout.reference,
      tax: tax?.tax ?? null,
      shippingAddress: input.shippingAddress ? { ...input.shippingAddress, country: input.shippingAddress.country.toUpperCase() } : null,
      ...(input.marketplace ? { marketplace: { ...input.marketplace } } : {}),
      ...(parts ? { fulfillments: parts } : {}),
    });
  } catch (error) {
    // Not given back here: the order may have been recorded all the same (a timeout after the write). The retry
    // under this key finds it, or finds the commitment still open and records the order; with neither, checkout
    // recovery gives the commitment back once no order names its reference after CHECKOUT_STALE_MS.
    throw error;
  }
  // The order holds the commitments now. Should this fail, recovery finds the order by the reference and settles them.
  await settleParts(deps, order, checkout.reference);
  await deps.events.emit([...placedEvents(order, input.channel, input.deliveryMethod, now()), ...taxEvents(order, input.channel, tax?.estimate ?? null, now())]);
  return pay(deps, input, order, system);
}

/** The order holds its commitments (one per part): each settled; one that fails is logged and settled by recovery. */
async function settleParts(deps: Pick<CheckoutDeps, 'stock' | 'logger'>, order: SalesOrder, reference: string): Promise<void> {
  for (const part of fulfillmentsOf(order)) {
    await deps.stock.settle(part.locationId, reference).catch((error: unknown) => {
      deps.logger?.warn({ orderId: order.id, reference, locationId: part.locationId, err: (error as Error).message }, 'checkout: commitment not settled; recovery will');
    });
  }
}

/** The estimate a recorded order carries, for its event said again by a resumed checkout (dropped if already out). */
function recordedEstimate(order: SalesOrder): OrderTaxOutcome['estimate'] {
  const tax = order.tax;
  if (tax?.status !== 'ESTIMATED' || tax.basis === 'ENGINE') return null;
  return { basis: tax.basis, rateBp: order.lines[0]?.taxRateBp ?? 0, reason: 'the tax engine did not answer' };
}

/** TAX_ESTIMATED when the outage policy priced the tax; its id is the order's, so a resumed checkout repeats none. */
function taxEvents(order: SalesOrder, channel: ChannelCode, estimate: OrderTaxOutcome['estimate'], at: Date): CanonicalEvent[] {
  if (!estimate || !order.tax) return [];
  return [
    createEvent(
      'TAX_ESTIMATED',
      { basis: estimate.basis, country: order.tax.country, postalCode: order.tax.postalCode, rateBp: estimate.rateBp, taxTotal: order.tax.taxMinor, currency: order.total.currency, reason: estimate.reason },
      { correlationId: order.correlationId, orderId: order.id, id: `evt-${order.id}-tax-estimated`, source: orderSourceOf(channel), occurredAt: at },
    ),
  ];
}

/** The events of a recorded order and its commitment; ids derived from the order, so a resumed checkout repeats none. */
function placedEvents(order: SalesOrder, channel: ChannelCode, deliveryMethod: DeliveryMethodCode, at: Date): CanonicalEvent[] {
  const meta = { correlationId: order.correlationId, orderId: order.id, occurredAt: at };
  // One per line and part, at the part's location (the first line's id is the one a single-part order always had).
  let n = 0;
  const reserved = fulfillmentsOf(order).flatMap((part) =>
    part.lines.map((line) => {
      const i = n++;
      return createEvent('INVENTORY_RESERVED', { quantity: line.quantity }, { ...meta, id: `evt-${order.id}-reserved-${i}`, source: stockSourceOf(part.locationId), sku: line.sku, locationId: part.locationId });
    }),
  );
  return [
    createEvent(
      'ORDER_PLACED',
      {
        number: order.number,
        channel,
        deliveryMethod,
        total: order.total.minor,
        currency: order.total.currency,
        lines: order.lines.length,
        previousStatus: null,
        status: 'PLACED',
        customerId: order.customerId,
        pickupLocationId: order.pickupLocationId,
        fulfillmentLocationId: order.fulfillmentLocationId,
      },
      { ...meta, id: `evt-${order.id}-placed`, source: orderSourceOf(channel) },
    ),
    ...reserved,
  ];
}

const confirmedEvent = (order: SalesOrder, at: Date): CanonicalEvent =>
  createEvent('ORDER_CONFIRMED', { previousStatus: 'PLACED', status: 'CONFIRMED' }, { correlationId: order.correlationId, orderId: order.id, id: `evt-${order.id}-confirmed`, source: orderSourceOf(order.channel), occurredAt: at });

/**
 * The checkout's order found again by a retry under the same key: CONFIRMED (or further) is the first run's answer;
 * PLACED is a checkout that stopped before its payment (the PSP failed, or the process died): its events again (the
 * backbone drops those already published), then the payment; CANCELLED (recovery undid it meanwhile) is final.
 */
async function resumeCheckout(deps: CheckoutDeps, input: PlaceOrderRequest, order: SalesOrder): Promise<{ stored: StoredOutcome; order: SalesOrder | null }> {
  switch (order.status) {
    case 'PLACED': {
      const system = systemOfOrderId(order.id);
      if (!system) throw new Error(`order ${order.id} names no order system`);
      const held = await holdAgain(deps, order, system);
      if (held === 'cancelled') return cancelledCheckout(order);
      if (held) return { stored: { orderId: null, userErrors: shortageErrors(input, held.shortages) }, order: null };
      await deps.events.emit([...placedEvents(order, input.channel, input.deliveryMethod, new Date(order.placedAt)), ...taxEvents(order, input.channel, recordedEstimate(order), new Date(order.placedAt))]);
      return pay(deps, input, order, system);
    }
    case 'CANCELLED':
      return cancelledCheckout(order);
    case 'CONFIRMED':
      // The first run may have died between confirming and saying so: its events again (repeats are dropped).
      await deps.events.emit([...placedEvents(order, input.channel, input.deliveryMethod, new Date(order.placedAt)), confirmedEvent(order, deps.now?.() ?? new Date())]);
      return { stored: { orderId: order.id, userErrors: [] }, order };
    default:
      return { stored: { orderId: order.id, userErrors: [] }, order };
  }
}

const cancelledCheckout = (order: SalesOrder): { stored: StoredOutcome; order: null } => ({
  stored: { orderId: null, userErrors: [userError('INVALID_STATE', `this checkout's order ${order.number} was cancelled; place a new order with a new idempotencyKey`, null)] },
  order: null,
});

/**
 * Make sure a resumed PLACED order still holds its units before it is paid for. A cancellation whose release timed
 * out puts the order back to PLACED (so that it is cancelled again later), but the release may have landed all the
 * same: the order would then go on to be paid for and handed over with nothing committed behind it. Committing
 * under the checkout's reference again holds nothing more when the commitment is still there (open or settled)
 * and holds it anew when it was given back. When the units are gone meanwhile, the order is cancelled through the
 * one cancellation path and the shortages are answered.
 * @returns null when the order holds its units, `cancelled` when it was cancelled meanwhile, else the shortages.
 */
async function holdAgain(deps: CheckoutDeps, order: SalesOrder, system: OrderSystem): Promise<{ shortages: { sku: string; available: number }[] } | 'cancelled' | null> {
  if (!order.checkoutReference) return null;
  const now = deps.now ?? (() => new Date());
  // Held again under the channel's rule too: a resumed marketplace checkout must not take the units held back from it.
  // Part by part (a split order holds one commitment per location); a part that cannot be held again gives back those held.
  const reference = order.checkoutReference;
  const parts = fulfillmentsOf(order);
  let held: StockCommitResult = { ok: true };
  const heldAt: FulfillmentPart[] = [];
  for (const part of parts) {
    held = await deps.stock.commit(part.locationId, part.lines.map((l) => ({ ...l, holdBack: deps.channels.holdBack(order.channel, part.locationId, l.sku) })), { reference, at: now().toISOString() });
    if (!held.ok) break;
    heldAt.push(part);
  }
  if (!held.ok) for (const part of heldAt) await deps.stock.release(part.locationId, part.lines, reference);
  if (held.ok) {
    // Recovery may have cancelled the order, and given its units back, between this retry's look at it and the commit
    // just made: a cancelled order holds nothing, so the units go back (once, by reference). Looked at before the
    // settle: should this process die in between, the commitment is still open and recovery gives it back.
    const [current] = await deps.orders.forCheckout([reference]);
    if (current?.status === 'CANCELLED') {
      for (const part of parts) await deps.stock.release(part.locationId, part.lines, reference);
      return 'cancelled';
    }
    await settleParts(deps, order, reference);
    return null;
  }
  await cancelPlaced(deps, order, system, 'Out of stock when the checkout resumed');
  return { shortages: held.shortages };
}

/**
 * Cancel a PLACED order through the one cancellation path. The status move comes first: if someone cancelled the
 * order meanwhile, they have released its stock already. The move is referenced and stays unsettled until the
 * release and the events are done: when the release fails, or this process dies before it, move recovery finishes
 * the cancellation (see checkoutCancelReference).
 */
async function cancelPlaced(deps: CheckoutDeps, order: SalesOrder, system: OrderSystem, reason: string): Promise<void> {
  const reference = checkoutCancelReference(order, 'checkout');
  const moved = await deps.orders.compareAndSetStatus(system, order.id, 'PLACED', 'CANCELLED', reference);
  if (!moved.moved) return;
  const cancellation = { release: deps.stock.release.bind(deps.stock), voidPayment: deps.payments.void.bind(deps.payments), events: deps.events, logger: deps.logger, now: deps.now ?? (() => new Date()) };
  await completeCancellation(cancellation, moved.order ?? order, 'PLACED', reason, undefined, moveEventId(reference, 'ORDER_CANCELLED'));
  await deps.orders.settleMove(system, order.id, reference).catch((error: unknown) => {
    deps.logger?.warn({ orderId: order.id, reference, err: (error as Error).message }, 'checkout: cancellation done but not settled; move recovery repeats it harmlessly');
  });
}

/**
 * Authorize the payment (under the checkout's reference: a repeat answers the first authorization) and confirm. A
 * decline cancels the order through the one cancellation path; a PSP failure leaves it PLACED, holding its stock,
 * and throws: the client's retry under the same key resumes here, and checkout recovery cancels it when none comes.
 */
async function pay(deps: CheckoutDeps, input: PlaceOrderRequest, order: SalesOrder, system: OrderSystem): Promise<{ stored: StoredOutcome; order: SalesOrder | null }> {
  const now = deps.now ?? (() => new Date());
  const fail = (userErrors: UserErrorValue[]) => ({ stored: { orderId: null, userErrors }, order: null });
  const meta = { correlationId: order.correlationId, orderId: order.id };
  const method = input.paymentMethod ?? 'CARD';
  // A marketplace order was paid at the marketplace: nothing to authorize here.
  if (order.channel === 'MARKETPLACE') return confirm(deps, order, system);
  const payment = await deps.payments.authorize({ orderId: order.id, amount: order.total, method, token: input.paymentToken ?? null, reference: order.checkoutReference ?? null });
  if (payment.status === 'DECLINED') {
    await cancelPlaced(deps, order, system, 'Payment declined');
    return fail([userError('PAYMENT_DECLINED', 'the payment was declined', 'paymentToken')]);
  }
  await deps.events.emit([createEvent('PAYMENT_AUTHORIZED', { paymentId: payment.paymentId, amount: order.total.minor, currency: order.total.currency, method }, { ...meta, id: `evt-${order.id}-authorized`, source: 'PSP', occurredAt: now() })]);
  return confirm(deps, order, system);
}

/** PLACED → CONFIRMED once paid for (or, for a marketplace order, once recorded). */
async function confirm(deps: CheckoutDeps, order: SalesOrder, system: OrderSystem): Promise<{ stored: StoredOutcome; order: SalesOrder | null }> {
  const now = deps.now ?? (() => new Date());
  const fail = (userErrors: UserErrorValue[]) => ({ stored: { orderId: null, userErrors }, order: null });
  const confirmed = await deps.orders.compareAndSetStatus(system, order.id, 'PLACED', 'CONFIRMED');
  if (!confirmed.moved) {
    if (confirmed.order?.status === 'CONFIRMED') {
      // Confirmed by another run of this checkout: its event again, in case that run died before saying it (the
      // event's id is the order's, so the backbone drops a repeat).
      await deps.events.emit([confirmedEvent(order, now())]);
      return { stored: { orderId: order.id, userErrors: [] }, order: confirmed.order };
    }
    // Cancelled while the payment was being authorized: the cancel released the stock; the money must go back too.
    // A resumed checkout may have held the units again (holdAgain) after that release: a cancelled order holds
    // nothing, so its checkout's commitment is given back here (once by reference: a no-op when it has ended).
    if (confirmed.order?.status === 'CANCELLED' && order.checkoutReference) {
      for (const part of fulfillmentsOf(order)) {
        await deps.stock.release(part.locationId, part.lines, order.checkoutReference).catch((error: unknown) => {
          deps.logger?.warn({ orderId: order.id, err: (error as Error).message }, 'checkout: units held again for an order cancelled meanwhile could not be given back');
        });
      }
    }
    await deps.payments.void(order.id);
    return fail([userError('INVALID_STATE', `order ${order.number} was cancelled while it was being placed`, null)]);
  }
  await deps.events.emit([confirmedEvent(order, now())]);
  return { stored: { orderId: order.id, userErrors: [] }, order: confirmed.order ?? { ...order, status: 'CONFIRMED' } };
}

/**
 * A checkout's reference: from the caller's idempotency key, so that the client's retry of a checkout whose answer
 * was lost finds the commitment the first run made; without a key, one of its own.
 */
function checkoutReferenceOf(scope: CallerScope, key: string | null | undefined): string {
  if (!key) return `chk-${randomUUID()}`;
  return `chk-${callerKeyDigest(scope, key)}`;
}

function shortageErrors(input: PlaceOrderRequest, shortages: { sku: string; available: number }[]): UserErrorValue[] {
  return shortages.map((s) => {
    const i = input.lines.findIndex((l) => l.sku === s.sku);
    return userError('OUT_OF_STOCK', `only ${s.available} of ${s.sku} can be promised, ${input.lines[i]?.quantity ?? '?'} asked`, `lines.${i}.quantity`);
  });
}
