import { fromGlobalId } from '../../common/global-id.js';
import { visibleOrder } from './access.js';
import type { OrdersContext } from './context.js';
import { toOrder } from './mapping.js';

/**
 * Order references from other subgraphs, resolved through the same per-request (routed) loader as `order(id:)`,
 * with the same row rule: an order the caller may not see resolves as an unknown one.
 */
export async function resolveOrderReference(reference: { id: string }, ctx: OrdersContext) {
  const order = visibleOrder(ctx.principal, await ctx.loaders.order.load(fromGlobalId('Order', reference.id)));
  return order ? toOrder(order) : null;
}
