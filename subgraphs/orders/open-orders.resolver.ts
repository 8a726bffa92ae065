import { Arg, Ctx, Directive, Int, Query, Resolver } from 'type-graphql';
import { checkFirst } from '../../common/pagination.js';
import type { OrdersContext } from './context.js';
import { toOpenOrders } from './mapping.js';
import { OpenOrders } from './open-orders.js';

@Resolver()
export class OpenOrdersResolver {
  @Directive('@requiresScopes(scopes: [["agent"], ["finance"], ["ops"]])')
  @Query(() => OpenOrders, {
    nullable: true,
    description: 'How many orders wait in each open status and since when, and the oldest of them (`first` 0 to 100, default 10); null while the POS or e-commerce is unavailable. For agents, finance and operations.',
  })
  async openOrders(@Arg('first', () => Int, { nullable: true, defaultValue: 10 }) first: number, @Ctx() ctx: OrdersContext): Promise<OpenOrders> {
    return toOpenOrders(await ctx.ports.aging.openOrders(checkFirst(first, 10)));
  }
}
