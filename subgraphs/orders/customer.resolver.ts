import { Args, ArgsType, Ctx, Directive, Field, FieldResolver, ID, Int, Resolver, Root } from 'type-graphql';
import { toGlobalId } from '../../common/global-id.js';
import { checkCustomerOrders } from './access.js';
import type { OrdersContext } from './context.js';
import { Customer } from './customer.js';
import { DEFAULT_CUSTOMER_ORDERS, pageOrders, pageWindow } from './customer-orders.js';
import { toOrder } from './mapping.js';
import { OrderConnection } from './order.js';

/** An args class rather than two `@Arg`s: type-graphql prints separate `@Arg`s in reverse, this keeps `first, after`. */
@ArgsType()
export class CustomerOrdersArgs {
  @Field(() => Int, { nullable: true, defaultValue: DEFAULT_CUSTOMER_ORDERS })
  first!: number | null;

  @Field(() => String, { nullable: true })
  after!: string | null;
}

@Resolver(() => Customer)
export class CustomerResolver {
  /** The object keeps its native id; only the GraphQL field answers the global one. */
  @FieldResolver(() => ID)
  id(@Root() customer: Customer): string {
    return toGlobalId('Customer', customer.id);
  }

  @Directive('@requiresScopes(scopes: [["shopper"], ["agent"]])')
  @FieldResolver(() => OrderConnection, {
    nullable: true,
    description: `The customer's orders from the store and online systems, newest first. \`first\` is 0 to 100 (default ${DEFAULT_CUSTOMER_ORDERS}). Null while either order system is unavailable. For the customer themselves and service agents (FORBIDDEN otherwise).`,
  })
  async orders(@Root() customer: Customer, @Args(() => CustomerOrdersArgs) args: CustomerOrdersArgs, @Ctx() ctx: OrdersContext): Promise<OrderConnection> {
    checkCustomerOrders(ctx.principal, customer.id);
    const window = pageWindow(args.first, args.after);
    return pageOrders(await ctx.loaders.ordersByCustomer.load(customer.id), window, toOrder);
  }
}
