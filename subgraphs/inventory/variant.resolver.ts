import { Arg, Ctx, Directive, FieldResolver, ID, Resolver, Root } from 'type-graphql';
import { fromGlobalId, toGlobalId } from '../../common/global-id.js';
import { Availability } from './availability.js';
import type { InventoryContext } from './context.js';
import { checkKeyList } from './input.js';
import { availabilityOf } from './inventory.service.js';
import { Channel } from './channel.js';
import { toAvailability } from './mapping.js';
import { ProductVariant } from './variant.js';

@Resolver(() => ProductVariant)
export class VariantResolver {
  /** Derived from the SKU, so catalog and inventory answer the same id without asking each other. */
  @Directive('@shareable')
  @FieldResolver(() => ID, { description: 'Its global id (Node); the SKU stays in `sku`.' })
  id(@Root() variant: ProductVariant): string {
    return toGlobalId('ProductVariant', variant.sku);
  }

  @FieldResolver(() => Availability, {
    nullable: true,
    description:
      "What can be promised over `locationIds` (at most 100; unknown ids ignored) or over every location when absent. With `channel`, what that channel may sell by its allocation rule: locations it does not sell from are left out, and the units held back from it are not counted. Null when POS, WMS or ERP is unavailable.",
  })
  async availability(
    @Root() variant: ProductVariant,
    @Arg('locationIds', () => [ID], { nullable: true }) locationIds: string[] | null,
    @Arg('channel', () => Channel, { nullable: true }) channel: Channel | null,
    @Ctx() ctx: InventoryContext,
  ): Promise<Availability> {
    const ids = locationIds ? checkKeyList(locationIds, 'locationIds').map((id) => fromGlobalId('Location', id)) : null;
    return toAvailability(await availabilityOf(ctx.loaders, variant.sku, ids, ctx.lowStockThreshold, channel ? { channel, rule: ctx.channels } : null));
  }
}
