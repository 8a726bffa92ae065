import { Arg, Ctx, Directive, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { fromGlobalId, toGlobalId } from '../../common/global-id.js';
import { badInput, checkFirst } from '../../common/pagination.js';
import { visibleCustomer } from './access.js';
import type { CustomersContext } from './context.js';
import { Customer } from './customer.js';
import { toCustomer } from './mapping.js';

/** Longest free-text query accepted; longer input is a client bug, not a search. */
export const MAX_QUERY_LENGTH = 200;

@Resolver(() => Customer)
export class CustomerResolver {
  /** The object keeps its native id; only the GraphQL field answers the global one. */
  @FieldResolver(() => ID)
  id(@Root() customer: Customer): string {
    return toGlobalId('Customer', customer.id);
  }

  @Directive('@requiresScopes(scopes: [["shopper"], ["agent"]])')
  @Query(() => Customer, {
    nullable: true,
    description: "A customer by id; null when the CRM has no such customer, or (for a shopper) when it is not the caller. For shoppers (themselves) and service agents.",
  })
  async customer(@Arg('id', () => ID) id: string, @Ctx() ctx: CustomersContext): Promise<Customer | null> {
    const customer = await visibleCustomer(ctx, await ctx.loaders.customer.load(fromGlobalId('Customer', id)));
    return customer ? toCustomer(customer) : null;
  }

  @Directive('@authenticated')
  @Query(() => Customer, { nullable: true, description: 'The signed-in shopper; null for store associates, agents and finance (whose tokens name no customer).' })
  async me(@Ctx() ctx: CustomersContext): Promise<Customer | null> {
    if (ctx.principal.kind !== 'shopper') return null;
    const customer = await ctx.loaders.customer.load(ctx.principal.customerId);
    return customer ? toCustomer(customer) : null;
  }

  @Directive('@requiresScopes(scopes: [["agent"]])')
  @Query(() => [Customer], {
    nullable: true,
    description: 'Customers whose name, email or phone contains `query` (case-insensitive), by last name, first name. `query` must not be blank; `first` is 0 to 100 (default 10). For service agents.',
  })
  async searchCustomers(
    @Arg('query', () => String) query: string,
    @Arg('first', () => Int, { nullable: true, defaultValue: 10 }) first: number,
    @Ctx() ctx: CustomersContext,
  ): Promise<Customer[]> {
    if (query.length > MAX_QUERY_LENGTH) throw badInput(`query must be at most ${MAX_QUERY_LENGTH} characters`, 'query');
    // A blank query would match everyone; refusing it keeps the customer list from being paged out by search.
    if (!query.trim()) throw badInput('query must not be blank', 'query');
    const limit = checkFirst(first, 10);
    if (limit === 0) return [];
    const customers = await ctx.customerMaster.searchCustomers(query, limit);
    // Prime the loader so a customer referenced again in this request costs no second call.
    for (const c of customers) ctx.loaders.customer.prime(c.id, c);
    return customers.map(toCustomer);
  }
}
