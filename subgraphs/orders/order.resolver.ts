import { Arg, Ctx, Directive, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { fromGlobalId, toGlobalId } from '../../common/global-id.js';
import { badInput } from '../../common/pagination.js';
import { visibleOrder } from './access.js';
import type { OrdersContext } from './context.js';
import { toOrder, toReturn, toShipment } from './mapping.js';
import { Order } from './order.js';
import { OrderEvent } from './order-event.js';
import { Return } from './return.js';
import { Shipment } from './shipment.js';
import { toTimeline } from './timeline.js';
import { MarketplaceOrder, toMarketplaceOrder } from './marketplace/marketplace-order.js';

/** Longest id or number accepted; anything longer is a client bug, not an order. */
export const MAX_KEY_LENGTH = 200;

function checkKey(value: string, field: string): void {
  if (value.length > MAX_KEY_LENGTH) throw badInput(`${field} must be at most ${MAX_KEY_LENGTH} characters`, field);
}

@Resolver(() => Order)
export class OrderResolver {
  @Directive('@authenticated')
  @Query(() => Order, {
    nullable: true,
    description: 'An order by id ("ord-s…" store, "ord-w…" online); null when no system has it or it is not the caller\'s (a shopper\'s own orders, a store\'s pickups and shipments).',
  })
  async order(@Arg('id', () => ID) id: string, @Ctx() ctx: OrdersContext): Promise<Order | null> {
    checkKey(id, 'id');
    const order = visibleOrder(ctx.principal, await ctx.loaders.order.load(fromGlobalId('Order', id)));
    return order ? toOrder(order) : null;
  }

  @Directive('@authenticated')
  @Query(() => Order, { nullable: true, description: 'An order by its number ("S…" store, "W…" online); null when no system has it or it is not the caller\'s.' })
  async orderByNumber(@Arg('number', () => String) number: string, @Ctx() ctx: OrdersContext): Promise<Order | null> {
    checkKey(number, 'number');
    const order = visibleOrder(ctx.principal, await ctx.loaders.orderByNumber.load(number));
    return order ? toOrder(order) : null;
  }

  /** The object keeps its native id; only the GraphQL field answers the global one. */
  @FieldResolver(() => ID)
  id(@Root() order: Order): string {
    return toGlobalId('Order', order.id);
  }

  @FieldResolver(() => [Shipment], { nullable: true, description: 'Parcels from the WMS; null while the WMS is unavailable.' })
  async shipments(@Root() order: Order, @Ctx() ctx: OrdersContext): Promise<Shipment[]> {
    return (await ctx.loaders.shipmentsByOrder.load(order.id)).map(toShipment);
  }

  @FieldResolver(() => [Return], { nullable: true, description: 'Returns, from the system that holds the order; null while it is unavailable.' })
  async returns(@Root() order: Order, @Ctx() ctx: OrdersContext): Promise<Return[]> {
    return (await ctx.loaders.returnsByOrder.load(order.id)).map(toReturn);
  }

  @Directive('@requiresScopes(scopes: [["agent"]])')
  @FieldResolver(() => MarketplaceOrder, { nullable: true, description: 'A MARKETPLACE order\'s side at the marketplace (its id there, the acknowledgement window); null for every other order. For service agents.' })
  async marketplace(@Root() order: Order, @Ctx() ctx: OrdersContext): Promise<MarketplaceOrder | null> {
    return order.marketplaceSource ? toMarketplaceOrder(order.marketplaceSource, await ctx.loaders.eventsByOrder.load(order.id), new Date()) : null;
  }

  @FieldResolver(() => [OrderEvent], { nullable: true, description: 'What happened to the order, oldest first, from the event backbone.' })
  async timeline(@Root() order: Order, @Ctx() ctx: OrdersContext): Promise<OrderEvent[]> {
    return toTimeline(await ctx.loaders.eventsByOrder.load(order.id));
  }
}
