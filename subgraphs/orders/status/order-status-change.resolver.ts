import { Args, ArgsType, Ctx, Field, FieldResolver, ID, Resolver, Root, Subscription } from 'type-graphql';
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
}

type RawArgs = { [K in keyof OrderStatusChangedArgs]?: string | null | undefined };

/** At least one key, each 1 to MAX_KEY_LENGTH characters; BAD_USER_INPUT otherwise. */
export function orderStatusFilterOf(args: RawArgs): OrderStatusFilter {
  const key = (field: keyof OrderStatusChangedArgs): string | null => {
    const value = args[field] ?? null;
    if (value !== null && (value.length < 1 || value.length > MAX_KEY_LENGTH)) throw badInput(`${field} must be 1 to ${MAX_KEY_LENGTH} characters`, field);
    return value;
  };
  const filter = { orderId: key('orderId'), customerId: key('customerId'), locationId: key('locationId') };
  if (filter.orderId === null && filter.customerId === null && filter.locationId === null) {
    throw badInput('orderStatusChanged needs at least one of orderId, customerId and locationId');
  }
  return filter;
}

export function toOrderStatusChange(change: OrderStatusChangeValue): OrderStatusChange {
  const { eventId, orderId, previousStatus, status, occurredAt, correlationId } = change;
  return Object.assign(new OrderStatusChange(), { eventId, orderId, previousStatus, status, occurredAt, correlationId });
}

@Resolver(() => OrderStatusChange)
export class OrderStatusChangeResolver {
  @Subscription(() => OrderStatusChange, {
    description:
      "Status moves of one order, of a customer's orders, or of the orders to be picked up at / fulfilled from a location (at least one argument), from the moment of subscribing, in order per order. " +
      'Every argument given must match. No argument, or an id over 200 characters, is a BAD_USER_INPUT error; an id no system knows simply never fires. ' +
      'A subscriber that falls too far behind (10,000 undelivered moves by default) is ended with a SUBSCRIPTION_OVERFLOW error.',
    subscribe: ({ args, context }) => (context as OrdersContext).statusChanges.subscribe(orderStatusFilterOf(args as RawArgs)),
  })
  orderStatusChanged(@Root() change: OrderStatusChangeValue, @Args(() => OrderStatusChangedArgs) _args: OrderStatusChangedArgs): OrderStatusChange {
    return toOrderStatusChange(change);
  }

  @FieldResolver(() => Order, {
    nullable: true,
    description: 'The order as its system holds it when the move is delivered (it may have moved on since). Null when no system has it, or (with an error) while its system is unavailable.',
  })
  async order(@Root() change: OrderStatusChange, @Ctx() ctx: OrdersContext): Promise<Order | null> {
    // ctx is this event's own (see SubgraphServiceOptions.context): the order is read fresh for every move.
    const order = await ctx.loaders.order.load(change.orderId);
    return order ? toOrder(order) : null;
  }
}
