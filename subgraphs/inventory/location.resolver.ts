import { Arg, Args, ArgsType, Ctx, Directive, Field, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { forbiddenError } from '../../common/auth/authorization.js';
import { fromGlobalId, toGlobalId } from '../../common/global-id.js';
import type { InventoryContext } from './context.js';
import { checkKey, checkKeyList } from './input.js';
import { InventoryLevel } from './inventory-level.js';
import { findLocations, stockLevelsAt } from './inventory.service.js';
import { Location, LocationType } from './location.js';
import { toInventoryLevel, toLocation } from './mapping.js';

/** An args class rather than two `@Arg`s: type-graphql prints separate `@Arg`s in reverse order. */
@ArgsType()
export class LocationsArgs {
  @Field(() => LocationType, { nullable: true })
  type!: LocationType | null;

  @Field(() => Boolean, { nullable: true })
  pickupEnabled!: boolean | null;
}

@Resolver(() => Location)
export class LocationResolver {
  @Query(() => Location, { nullable: true, description: 'A store or warehouse by id; null when no system knows it.' })
  async location(@Arg('id', () => ID) id: string, @Ctx() ctx: InventoryContext): Promise<Location | null> {
    const location = await ctx.loaders.location.load(fromGlobalId('Location', checkKey(id, 'id')));
    return location ? toLocation(location) : null;
  }

  /** The object keeps its native id; only the GraphQL field answers the global one. */
  @FieldResolver(() => ID)
  id(@Root() location: Location): string {
    return toGlobalId('Location', location.id);
  }

  @Query(() => [Location], { description: 'Stores, then warehouses, by id; optionally only one type, or only those with(out) pickup.' })
  async locations(@Args(() => LocationsArgs) { type, pickupEnabled }: LocationsArgs, @Ctx() ctx: InventoryContext): Promise<Location[]> {
    return (await findLocations(ctx.loaders, type ?? null, pickupEnabled ?? null)).map(toLocation);
  }

  @Directive('@requiresScopes(scopes: [["store"], ["agent"]])')
  @FieldResolver(() => [InventoryLevel], {
    nullable: true,
    description:
      "Stock of each of `skus` (at most 100) held here, in `skus` order; SKUs without a record are left out. Null when POS, WMS or ERP is unavailable. For the location's own associates and service agents (FORBIDDEN otherwise).",
  })
  async inventoryLevels(@Root() location: Location, @Arg('skus', () => [String]) skus: string[], @Ctx() ctx: InventoryContext): Promise<InventoryLevel[]> {
    if (ctx.principal.kind === 'store' && ctx.principal.locationId !== location.id) throw forbiddenError(`the stock of ${location.id} is for its own associates`);
    const levels = await stockLevelsAt(ctx.loaders, location.id, checkKeyList(skus, 'skus'));
    return levels.map((level) => toInventoryLevel(level, ctx.lowStockThreshold));
  }
}
