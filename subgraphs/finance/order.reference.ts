import { fromGlobalId } from '../../common/global-id.js';
import type { FinanceContext } from './context.js';
import { Order } from './order.js';

/**
 * The orders subgraph owns whether an order exists, so any id it sends is taken as given: no system call here,
 * and the finance fields of an order the PSP or ERP never heard of are simply empty. A shopper, though, reaches
 * only their own orders: for them the order systems are asked whose it is, and another customer's order resolves
 * as an unknown one (null), as `order(id:)` does.
 */
export async function resolveOrderReference(reference: { id: string }, ctx: FinanceContext): Promise<Order | null> {
  const id = fromGlobalId('Order', reference.id);
  if (ctx.principal.kind === 'shopper' && (await ctx.loaders.orderOwner.load(id)) !== ctx.principal.customerId) return null;
  return Object.assign(new Order(), { id });
}
