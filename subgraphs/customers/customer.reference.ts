import type { CustomersContext } from './context.js';
import { toCustomer } from './mapping.js';

/** Entity references from other subgraphs, resolved through the same per-request loader as queries. */
export async function resolveCustomerReference(reference: { id: string }, ctx: CustomersContext) {
  const customer = await ctx.loaders.customer.load(reference.id);
  return customer ? toCustomer(customer) : null;
}
