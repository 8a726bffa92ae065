import { Arg, Args, Ctx, Directive, Mutation, Resolver } from 'type-graphql';
import { orderAccess } from '../access.js';
import { fromGlobalId } from '../../../common/global-id.js';
import { UserError } from '../../../common/graphql-types.js';
import type { UserErrorValue } from '../../../common/idempotent-mutation.js';
import type { OrdersContext } from '../context.js';
import { toOrder, toReturn } from '../mapping.js';
import type { OrderReturn, SalesOrder } from '../ports.js';
import { cancelOrder, confirmPickup, createReturn, markDelivered, markReadyForPickup, receiveReturn, shipOrder, type LifecycleDeps } from './lifecycle.service.js';
import { changePickupLocation, type PickupChangeDeps } from './pickup-change.js';
import { reportPickShortage, type PickShortageDeps } from './pick-shortage.js';
import {
  CancelOrderInput,
  ChangePickupLocationInput,
  CreateReturnInput,
  CreateReturnPayload,
  ReportPickShortageInput,
  KeyedOrderMoveArgs,
  OrderMoveArgs,
  OrderStatusPayload,
  ReceiveReturnInput,
  ReceiveReturnPayload,
  ShipOrderInput,
} from './order-lifecycle.js';

function deps(ctx: OrdersContext): LifecycleDeps {
  return {
    ...ctx.lifecycle,
    orderBooks: ctx.ports.orderBooks,
    idempotency: ctx.checkout.idempotency,
    events: ctx.checkout.events,
    now: ctx.checkout.now,
    loadOrder: (id) => ctx.loaders.order.load(id),
    access: (order, action) => orderAccess(ctx.principal, order, action),
  };
}

function pickupChangeDeps(ctx: OrdersContext): PickupChangeDeps {
  return {
    orderBooks: ctx.ports.orderBooks,
    loadOrder: (id) => ctx.loaders.order.load(id),
    idempotency: ctx.checkout.idempotency,
    events: ctx.checkout.events,
    access: (order, action) => orderAccess(ctx.principal, order, action),
    sites: ctx.checkout.sites,
    stock: ctx.checkout.stock,
    orders: ctx.checkout.orders,
    logger: ctx.lifecycle.logger,
    now: ctx.checkout.now,
  };
}

/** A reroute is a change of the order's location, routed as checkout routes. */
function pickShortageDeps(ctx: OrdersContext): PickShortageDeps {
  return { ...pickupChangeDeps(ctx), sites: ctx.checkout.sites, allocation: ctx.checkout.allocation, channels: ctx.checkout.channels };
}

/** What this request cached about the order is stale after a write: the payload's fields read it again. */
function forget(ctx: OrdersContext, order: SalesOrder | null): void {
  if (!order) return;
  ctx.loaders.order.clear(order.id).prime(order.id, order);
  ctx.loaders.orderByNumber.clear(order.number).prime(order.number, order);
  ctx.loaders.eventsByOrder.clear(order.id);
  ctx.loaders.returnsByOrder.clear(order.id);
  ctx.loaders.shipmentsByOrder.clear(order.id);
}

const userErrors = (errors: UserErrorValue[]) => errors.map((e) => Object.assign(new UserError(), e));

function statusPayload(ctx: OrdersContext, outcome: { order: SalesOrder | null; userErrors: UserErrorValue[] }): OrderStatusPayload {
  forget(ctx, outcome.order);
  return Object.assign(new OrderStatusPayload(), { order: outcome.order ? toOrder(outcome.order) : null, userErrors: userErrors(outcome.userErrors) });
}

/** An order argument: its global id or its native id (decoded before the idempotency record sees it). */
const orderIdOf = (id: string): string => fromGlobalId('Order', id);

const returnOf = (r: OrderReturn | null) => (r ? toReturn(r) : null);

/** The lifecycle mutations: each delegates to lifecycle.service.ts, where the state machine and the sagas live. */
@Resolver()
export class OrderLifecycleResolver {
  @Directive('@requiresScopes(scopes: [["store"]])')
  @Mutation(() => OrderStatusPayload, {
    nullable: true,
    description:
      'CONFIRMED → READY_FOR_PICKUP for a PICKUP order. Without idempotencyKey a repeat answers INVALID_STATE naming the current status and changes nothing.',
  })
  async markReadyForPickup(@Args(() => OrderMoveArgs) { orderId, idempotencyKey }: OrderMoveArgs, @Ctx() ctx: OrdersContext): Promise<OrderStatusPayload> {
    return statusPayload(ctx, await markReadyForPickup(deps(ctx), ctx.scope, { orderId: orderIdOf(orderId), idempotencyKey }));
  }

  @Directive('@requiresScopes(scopes: [["store"]])')
  @Mutation(() => OrderStatusPayload, {
    nullable: true,
    description:
      'Hand-over at the store: READY_FOR_PICKUP → PICKED_UP; the committed units leave the shelf. Without idempotencyKey a repeat answers INVALID_STATE naming the current status and changes nothing.',
  })
  async confirmPickup(@Args(() => OrderMoveArgs) { orderId, idempotencyKey }: OrderMoveArgs, @Ctx() ctx: OrdersContext): Promise<OrderStatusPayload> {
    return statusPayload(ctx, await confirmPickup(deps(ctx), ctx.scope, { orderId: orderIdOf(orderId), idempotencyKey }));
  }

  @Directive('@requiresScopes(scopes: [["store"]])')
  @Mutation(() => OrderStatusPayload, { nullable: true, description: 'CONFIRMED → SHIPPED for a SHIPPING or SHIP_FROM_STORE order: shipment recorded in the WMS, stock leaves the fulfilment location.' })
  async shipOrder(@Arg('input', () => ShipOrderInput) input: ShipOrderInput, @Ctx() ctx: OrdersContext): Promise<OrderStatusPayload> {
    const fromLocationId = ctx.principal.kind === 'store' ? ctx.principal.locationId : null;
    return statusPayload(ctx, await shipOrder(deps(ctx), ctx.scope, { idempotencyKey: input.idempotencyKey, orderId: orderIdOf(input.orderId), carrier: input.carrier, trackingNumber: input.trackingNumber, fromLocationId }));
  }

  @Directive('@requiresScopes(scopes: [["store"], ["agent"]])')
  @Mutation(() => OrderStatusPayload, { nullable: true, description: 'SHIPPED → DELIVERED: the carrier delivered the order.' })
  async markDelivered(@Args(() => KeyedOrderMoveArgs) { orderId, idempotencyKey }: KeyedOrderMoveArgs, @Ctx() ctx: OrdersContext): Promise<OrderStatusPayload> {
    return statusPayload(ctx, await markDelivered(deps(ctx), ctx.scope, { orderId: orderIdOf(orderId), idempotencyKey }));
  }

  @Directive('@requiresScopes(scopes: [["shopper"], ["agent"]])')
  @Mutation(() => OrderStatusPayload, {
    nullable: true,
    description: 'Cancel before hand-over or shipment: committed stock released, payment authorization voided. Afterwards INVALID_STATE, and nothing changes.',
  })
  async cancelOrder(@Arg('input', () => CancelOrderInput) input: CancelOrderInput, @Ctx() ctx: OrdersContext): Promise<OrderStatusPayload> {
    return statusPayload(ctx, await cancelOrder(deps(ctx), ctx.scope, { idempotencyKey: input.idempotencyKey, orderId: orderIdOf(input.orderId), reason: input.reason }));
  }

  @Directive('@requiresScopes(scopes: [["shopper"], ["agent"]])')
  @Mutation(() => OrderStatusPayload, {
    nullable: true,
    description:
      'Collect a PICKUP order at another store, before it is READY_FOR_PICKUP: its committed stock moves to the new store in one step (never held at both, never at neither). INVALID_STATE after that; PICKUP_NOT_AVAILABLE or OUT_OF_STOCK at the new store, and nothing changes.',
  })
  async changePickupLocation(@Arg('input', () => ChangePickupLocationInput) input: ChangePickupLocationInput, @Ctx() ctx: OrdersContext): Promise<OrderStatusPayload> {
    return statusPayload(ctx, await changePickupLocation(pickupChangeDeps(ctx), ctx.scope, { idempotencyKey: input.idempotencyKey, orderId: orderIdOf(input.orderId), pickupLocationId: fromGlobalId('Location', input.pickupLocationId) }));
  }

  @Directive('@requiresScopes(scopes: [["store"]])')
  @Mutation(() => OrderStatusPayload, {
    nullable: true,
    description:
      'The shelf of the location a shipped order is picked at lacks some of its lines: the order is rerouted, its committed stock moving in one step to the nearest location of the same kind that has every line (never held at both, never at neither). REROUTE_FAILED when none can take it: the order stays, and an exception is open for customer service. For the associates of the order\'s fulfilment location.',
  })
  async reportPickShortage(@Arg('input', () => ReportPickShortageInput) input: ReportPickShortageInput, @Ctx() ctx: OrdersContext): Promise<OrderStatusPayload> {
    return statusPayload(ctx, await reportPickShortage(pickShortageDeps(ctx), ctx.scope, { idempotencyKey: input.idempotencyKey, orderId: orderIdOf(input.orderId), lines: input.lines }));
  }

  @Directive('@requiresScopes(scopes: [["shopper"], ["agent"]])')
  @Mutation(() => CreateReturnPayload, { nullable: true, description: 'Ask to send goods of a PICKED_UP, DELIVERED or PARTIALLY_RETURNED order back: a REQUESTED return.' })
  async createReturn(@Arg('input', () => CreateReturnInput) input: CreateReturnInput, @Ctx() ctx: OrdersContext): Promise<CreateReturnPayload> {
    const outcome = await createReturn(deps(ctx), ctx.scope, {
      idempotencyKey: input.idempotencyKey,
      orderId: orderIdOf(input.orderId),
      reason: input.reason,
      lines: input.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
    });
    forget(ctx, outcome.order);
    return Object.assign(new CreateReturnPayload(), { return: returnOf(outcome.return), userErrors: userErrors(outcome.userErrors) });
  }

  @Directive('@requiresScopes(scopes: [["store"]])')
  @Mutation(() => ReceiveReturnPayload, {
    nullable: true,
    description: 'The goods of a REQUESTED return arrived: booked in (RESTOCK or DAMAGED), refunded at the PSP; the order becomes PARTIALLY_RETURNED or RETURNED.',
  })
  async receiveReturn(@Arg('input', () => ReceiveReturnInput) input: ReceiveReturnInput, @Ctx() ctx: OrdersContext): Promise<ReceiveReturnPayload> {
    const outcome = await receiveReturn(deps(ctx), ctx.scope, { idempotencyKey: input.idempotencyKey, returnId: input.returnId, condition: input.condition });
    forget(ctx, outcome.order);
    return Object.assign(new ReceiveReturnPayload(), {
      return: returnOf(outcome.return),
      order: outcome.order ? toOrder(outcome.order) : null,
      userErrors: userErrors(outcome.userErrors),
    });
  }
}
