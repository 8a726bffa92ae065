import { Args, ArgsType, Ctx, Directive, Field, FieldResolver, ID, Int, Resolver, Root, Subscription } from 'type-graphql';
import { forbiddenError } from '../../../common/auth/authorization.js';
import { fromGlobalId, type NodeTypeName } from '../../../common/global-id.js';
import { visibleOrder } from '../access.js';
import { badInput } from '../../../common/pagination.js';
import type { OrdersContext } from '../context.js';
import { toOrder } from '../mapping.js';
import { Order } from '../order.js';
import { MAX_KEY_LENGTH } from '../order.resolver.js';
import { OrderStatusChange } from './order-status-change.js';
import type { OrderStatusChangeValue, OrderStatusFilter } from './order-status-feed.js';

/** An args class rather than three `@Arg`s: type-graphql prints separate `@Arg`s in reverse order. */
@ArgsType()
export class OrderStatusChangedArgs {
  @Field(() => ID, { nullable: true, description: 'Moves of this order.' })
  orderId!: string | null;

  @Field(() => ID, { nullable: true, description: "Moves of this customer's orders." })
  customerId!: string | null;

  @Field(() => ID, { nullable: true, description: 'Moves of the orders picked up at or fulfilled from this store or warehouse.' })
  locationId!: string | null;

  @Field(() => Int, {
    nullable: true,
    description:
      "Resume (with `orderId` only): the last `sequence` the client saw of this order. Every retained move after it comes first, in order, then live ones, with no gap and no repeat. Beyond the order's retention: RESUME_TOO_OLD.",
  })
  after!: number | null;
}

type KeyArgs = Exclude<keyof OrderStatusChangedArgs, 'after'>;
type RawArgs = { [K in KeyArgs]?: string | null | undefined } & { after?: number | null | undefined };

/** At least one key, each 1 to MAX_KEY_LENGTH characters; BAD_USER_INPUT otherwise. */
export function orderStatusFilterOf(args: RawArgs): OrderStatusFilter {
  const key = (field: KeyArgs, type: NodeTypeName): string | null => {
    const value = args[field] ?? null;
    if (value !== null && (value.length < 1 || value.length > MAX_KEY_LENGTH)) throw badInput(`${field} must be 1 to ${MAX_KEY_LENGTH} characters`, field);
    // The feed filters on native ids (events carry them); a global id is decoded here.
    return value === null ? null : fromGlobalId(type, value);
  };
  const filter = { orderId: key('orderId', 'Order'), customerId: key('customerId', 'Customer'), locationId: key('locationId', 'Location') };
  if (filter.orderId === null && filter.customerId === null && filter.locationId === null) {
    throw badInput('orderStatusChanged needs at least one of orderId, customerId and locationId');
  }
  const after = args.after ?? null;
  if (after !== null) {
    // A sequence is one order's: the moves of a customer's or a location's orders have no one sequence to resume from.
    if (filter.orderId === null) throw badInput('after resumes the moves of one order: give orderId with it', 'after');
    if (!Number.isInteger(after) || after < 0) throw badInput('after must be a sequence this order delivered (0 or more)', 'after');
  }
  return { ...filter, after };
}

export function toOrderStatusChange(change: OrderStatusChangeValue): OrderStatusChange {
  const { eventId, orderId, previousStatus, status, occurredAt, correlationId, sequence } = change;
  return Object.assign(new OrderStatusChange(), { eventId, orderId, previousStatus, status, occurredAt, correlationId, sequence });
}

/**
 * Start listening for `orderStatusChanged`. A shopper who names an order must own it: the listener is registered
 * first (so that no move is missed meanwhile), then the order is looked up, and an order that is not theirs, or
 * that no system knows, fails the subscription with FORBIDDEN (the same answer either way, so that existence
 * does not leak). Who may filter by what is the field's policy (`own_order_feed`).
 */
export async function subscribeToOrderStatus(args: RawArgs, ctx: OrdersContext): Promise<AsyncIterable<OrderStatusChangeValue>> {
  const filter = orderStatusFilterOf(args);
  const changes = ctx.statusChanges.subscribe(filter);
  try {
    if (ctx.principal.kind === 'shopper' && filter.orderId !== null) {
      const mine = visibleOrder(ctx.principal, await ctx.loaders.order.load(filter.orderId)) !== null;
      if (!mine) throw forbiddenError('a shopper follows their own orders only');
    }
    // A resume the order's stream cannot serve is refused now, as a bad argument is (after the ownership check,
    // so that it says nothing about another's order).
    await ctx.statusChanges.started(changes);
  } catch (error) {
    await changes.return?.();
    throw error;
  }
  return changes;
}

@Resolver(() => OrderStatusChange)
export class OrderStatusChangeResolver {
  @Directive('@requiresScopes(scopes: [["shopper"], ["store"], ["agent"]])')
  @Directive('@policy(policies: [["own_order_feed"]])')
  @Subscription(() => OrderStatusChange, {
    description:
      "Status moves of one order, of a customer's orders, or of the orders to be picked up at / fulfilled from a location (at least one argument), from the moment of subscribing (or, with `orderId` and `after`, from the move after that sequence), in order per order. " +
      'Every argument given must match. No argument, or an id over 200 characters, is a BAD_USER_INPUT error; an id no system knows simply never fires. ' +
      'A subscriber that falls too far behind (10,000 undelivered moves by default) is ended with a SUBSCRIPTION_OVERFLOW error.',
    subscribe: ({ args, context }) => subscribeToOrderStatus(args as RawArgs, context as OrdersContext),
  })
  orderStatusChanged(@Root() change: OrderStatusChangeValue, @Args(() => OrderStatusChangedArgs) _args: OrderStatusChangedArgs): OrderStatusChange {
    return toOrderStatusChange(change);
  }

  @FieldResolver(() => Order, {
    nullable: true,
    description: 'The order as its system holds it when the move is delivered (it may have moved on since). Null when no system has it, or (with an error) while its system is unavailable.',
  })
  async order(@Root() change: OrderStatusChange, @Ctx() ctx: OrdersContext): Promise<Order | null> {
    // ctx is this event's own (see SubgraphServiceOptions.context): the order is read fresh for every move, with
    // the subscriber's credentials.
    const order = visibleOrder(ctx.principal, await ctx.loaders.order.load(change.orderId));
    return order ? toOrder(order) : null;
  }
}
