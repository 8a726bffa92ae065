import { fromGlobalId } from '../../common/global-id.js';
import { visibleCustomer } from './access.js';
import type { CustomersContext } from './context.js';
import { toCustomer } from './mapping.js';

/** Entity references from other subgraphs, resolved through the same per-request loader as queries, with the same row rule. */
export async function resolveCustomerReference(reference: { id: string }, ctx: CustomersContext) {
  const customer = await visibleCustomer(ctx, await ctx.loaders.customer.load(fromGlobalId('Customer', reference.id)));
  return customer ? toCustomer(customer) : null;
}
