import type { OrdersContext } from './context.js';
import { toOrder } from './mapping.js';

/** Order references from other subgraphs, resolved through the same per-request (routed) loader as `order(id:)`. */
export async function resolveOrderReference(reference: { id: string }, ctx: OrdersContext) {
  const order = await ctx.loaders.order.load(reference.id);
  return order ? toOrder(order) : null;
}
