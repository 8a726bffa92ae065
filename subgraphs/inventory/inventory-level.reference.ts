import { forbiddenError, unauthenticatedError } from '../../common/auth/authorization.js';
import { keyPartsOf } from '../../common/global-id.js';
import type { InventoryContext } from './context.js';
import { toInventoryLevel } from './mapping.js';

/**
 * A stock level by its global id (SKU and location), for `node(id:)`. The same rule as `Location.inventoryLevels`,
 * the only other way to a level: the location's own associates and service agents (FORBIDDEN otherwise). The
 * location is looked up first, as there: an unknown one, or a SKU it holds no record of, reads as null.
 */
export async function resolveInventoryLevelReference(reference: { id: string }, ctx: InventoryContext) {
  const parts = keyPartsOf('InventoryLevel', reference.id);
  const [sku, locationId] = parts ?? [];
  if (sku === undefined || locationId === undefined) return null;
  const principal = ctx.principal;
  if (principal.kind === 'anonymous') throw unauthenticatedError();
  if (principal.kind !== 'agent' && !(principal.kind === 'store' && principal.locationId === locationId)) {
    throw forbiddenError("a location's stock is for its own associates and service agents");
  }
  if (!(await ctx.loaders.location.load(locationId))) return null;
  const level = await ctx.loaders.stockLevel.load({ sku, locationId });
  return level ? toInventoryLevel(level, ctx.lowStockThreshold) : null;
}
