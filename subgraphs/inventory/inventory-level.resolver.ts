import { Ctx, FieldResolver, ID, Resolver, Root } from 'type-graphql';
import { toGlobalId } from '../../common/global-id.js';
import type { InventoryContext } from './context.js';
import { InventoryLevel } from './inventory-level.js';
import { Location } from './location.js';
import { toLocation, toVariantReference } from './mapping.js';
import { ProductVariant } from './variant.js';

@Resolver(() => InventoryLevel)
export class InventoryLevelResolver {
  @FieldResolver(() => ID, { description: 'Its global id (Node), made of the SKU and the location.' })
  id(@Root() level: InventoryLevel): string {
    return toGlobalId('InventoryLevel', level.sku, level.locationId);
  }

  // Levels are only read at locations already loaded in this request, so this is a cache hit, not a call.
  @FieldResolver(() => Location)
  async location(@Root() level: InventoryLevel, @Ctx() ctx: InventoryContext): Promise<Location> {
    const location = await ctx.loaders.location.load(level.locationId);
    if (!location) throw new Error(`location ${level.locationId} holds stock but is not in its system's site master`);
    return toLocation(location);
  }

  @FieldResolver(() => ProductVariant, { nullable: true })
  variant(@Root() level: InventoryLevel): ProductVariant {
    return toVariantReference(level.sku);
  }
}
