import { fromGlobalId } from '../../common/global-id.js';
import type { InventoryContext } from './context.js';
import { toLocation } from './mapping.js';

/** Location references from other subgraphs (a pickup location, say), through the same loader as queries. */
export async function resolveLocationReference(reference: { id: string }, ctx: InventoryContext) {
  const location = await ctx.loaders.location.load(fromGlobalId('Location', reference.id));
  return location ? toLocation(location) : null;
}
