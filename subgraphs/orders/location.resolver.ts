import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { OrdersContext } from './context.js';
import { Location } from './location.js';
import { toOrder } from './mapping.js';
import { Order } from './order.js';

@Resolver(() => Location)
export class LocationResolver {
  @FieldResolver(() => [Order], {
    nullable: true,
    description: 'Pickup orders to hand over here (CONFIRMED or READY_FOR_PICKUP), oldest first; null while e-commerce is unavailable.',
  })
  async pickupQueue(@Root() location: Location, @Ctx() ctx: OrdersContext): Promise<Order[]> {
    return (await ctx.loaders.pickupQueue.load(location.id)).map(toOrder);
  }
}
