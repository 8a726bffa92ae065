import { Arg, Ctx, FieldResolver, ID, Resolver, Root } from 'type-graphql';
import { Availability } from './availability.js';
import type { InventoryContext } from './context.js';
import { checkKeyList } from './input.js';
import { availabilityOf } from './inventory.service.js';
import { toAvailability } from './mapping.js';
import { ProductVariant } from './variant.js';

@Resolver(() => ProductVariant)
export class VariantResolver {
  @FieldResolver(() => Availability, {
    nullable: true,
    description: 'What can be promised over `locationIds` (at most 100; unknown ids ignored) or over every location when absent. Null when POS, WMS or ERP is unavailable.',
  })
  async availability(
    @Root() variant: ProductVariant,
    @Arg('locationIds', () => [ID], { nullable: true }) locationIds: string[] | null,
    @Ctx() ctx: InventoryContext,
  ): Promise<Availability> {
    const ids = locationIds ? checkKeyList(locationIds, 'locationIds') : null;
    return toAvailability(await availabilityOf(ctx.loaders, variant.sku, ids, ctx.lowStockThreshold));
  }
}
