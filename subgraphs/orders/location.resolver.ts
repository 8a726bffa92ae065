import { Ctx, Directive, FieldResolver, ID, Resolver, Root } from 'type-graphql';
import { toGlobalId } from '../../common/global-id.js';
import { checkPickupQueue } from './access.js';
import type { OrdersContext } from './context.js';
import { Location } from './location.js';
import { toOrder } from './mapping.js';
import { Order } from './order.js';

@Resolver(() => Location)
export class LocationResolver {
  /** The object keeps its native id; only the GraphQL field answers the global one. */
  @FieldResolver(() => ID)
  id(@Root() location: Location): string {
    return toGlobalId('Location', location.id);
  }

  @Directive('@requiresScopes(scopes: [["store"], ["agent"]])')
  @FieldResolver(() => [Order], {
    nullable: true,
    description: "Pickup orders to hand over here (CONFIRMED or READY_FOR_PICKUP), oldest first; null while e-commerce is unavailable. For the location's own associates and service agents (FORBIDDEN otherwise).",
  })
  async pickupQueue(@Root() location: Location, @Ctx() ctx: OrdersContext): Promise<Order[]> {
    checkPickupQueue(ctx.principal, location.id);
    return (await ctx.loaders.pickupQueue.load(location.id)).map(toOrder);
  }
}
