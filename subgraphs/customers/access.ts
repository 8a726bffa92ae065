import { forbiddenError } from '../../common/auth/authorization.js';
import { assertNever, type Principal } from '../../common/auth/principal.js';
import type { CustomersContext } from './context.js';
import type { CustomerProfile } from './ports.js';

/*
 * The customers subgraph's row rule: which customer records a caller may see at all (the fields' directives say
 * which parts). A shopper sees only themselves; another customer reads as unknown (null), so existence does not
 * leak. A store associate sees the customers whose orders their store hands over or ships, and no one else
 * (FORBIDDEN). Agents and finance see any (finance only the name, by the field directives).
 */
export async function visibleCustomer(ctx: CustomersContext, customer: CustomerProfile | null): Promise<CustomerProfile | null> {
  if (!customer) return null;
  const principal: Principal = ctx.principal;
  switch (principal.kind) {
    case 'anonymous':
      return null;
    case 'shopper':
      return customer.id === principal.customerId ? customer : null;
    case 'store': {
      const served = await ctx.loaders.servedLocations.load(customer.id);
      if (served.has(principal.locationId)) return customer;
      throw forbiddenError(`a store associate sees only the customers of orders picked up at or shipped from ${principal.locationId}`);
    }
    case 'agent':
    case 'finance':
      return customer;
    // Operations see orders and systems, not the people behind them.
    case 'ops':
      throw forbiddenError('an operations user sees no customer records');
    default:
      return assertNever(principal);
  }
}
