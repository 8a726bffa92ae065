import { Args, ArgsType, Ctx, Directive, Field, FieldResolver, ID, Int, Resolver, Root, Subscription } from 'type-graphql';
import { fromGlobalId } from '../../../common/global-id.js';
import { badInput } from '../../../common/pagination.js';
import type { InventoryContext } from '../context.js';
import { checkKey, checkKeyList } from '../input.js';
import { InventoryLevel } from '../inventory-level.js';
import { Location } from '../location.js';
import { toInventoryLevel, toLocation, toVariantReference } from '../mapping.js';
import type { InventoryLocation } from '../ports.js';
import { ProductVariant } from '../variant.js';
import { InventoryChange } from './inventory-change.js';
import type { StockChange } from './stock-change-feed.js';

/** An args class rather than two `@Arg`s: type-graphql prints separate `@Arg`s in reverse order. */
@ArgsType()
export class InventoryChangedArgs {
  @Field(() => ID)
  locationId!: string;

  @Field(() => [String], { nullable: true })
  skus!: string[] | null;

  @Field(() => Int, {
    nullable: true,
    description:
      "Resume: the last `sequence` the client saw at this location. Every retained change after it comes first, in order, then live ones, with no gap and no repeat. Beyond the location's retention: RESUME_TOO_OLD.",
  })
  after!: number | null;
}

export function toInventoryChange(change: StockChange): InventoryChange {
  const { eventId, sku, locationId, reason, delta, occurredAt, correlationId, sequence, site } = change;
  return Object.assign(new InventoryChange(), { eventId, sku, locationId, reason, delta, occurredAt, correlationId, sequence, site });
}

/**
 * Start listening for `inventoryChanged`. The listener is registered before the location is looked up, so that
 * a change published meanwhile is not missed; an unknown location (or a bad argument) removes it again and fails
 * the subscription with BAD_USER_INPUT. A site master that is down fails it with its `*_UNAVAILABLE` code.
 */
export async function subscribeToInventoryChanges(args: { locationId: string; skus?: string[] | null | undefined; after?: number | null | undefined }, ctx: InventoryContext): Promise<AsyncIterable<StockChange>> {
  const locationId = fromGlobalId('Location', checkKey(args.locationId, 'locationId'));
  let skus: string[] | null = null;
  if (args.skus !== null && args.skus !== undefined) {
    skus = checkKeyList(args.skus, 'skus');
    // An empty list would listen to nothing, which is never what a client means.
    if (skus.length === 0) throw badInput('skus must name at least one SKU; leave it out for every SKU', 'skus');
  }
  const after = args.after ?? null;
  if (after !== null && (!Number.isInteger(after) || after < 0)) throw badInput('after must be a sequence this location delivered (0 or more)', 'after');
  const changes = ctx.changes.subscribe({ locationId, skus, after });
  let site: InventoryLocation | null;
  try {
    site = await ctx.loaders.location.load(locationId);
  } catch (error) {
    await changes.return();
    throw error;
  }
  if (!site) {
    await changes.return();
    throw badInput(`no store or warehouse ${locationId}`, 'locationId');
  }
  ctx.changes.noteSite(site);
  try {
    // A resume the location's stream cannot serve is refused now, as a bad argument is.
    await ctx.changes.started(changes);
  } catch (error) {
    await changes.return();
    throw error;
  }
  return changes;
}

@Resolver(() => InventoryChange)
export class InventoryChangeResolver {
  // Live stock is the store's own (and service agents'): a store associate follows their own location only.
  @Directive('@requiresScopes(scopes: [["store"], ["agent"]])')
  @Directive('@policy(policies: [["own_location"]])')
  @Subscription(() => InventoryChange, {
    description:
      'Every change to a stock level at `locationId` (only `skus` when given, at most 100), from the moment of subscribing (or, with `after`, from the change after that sequence), in the order it happened. ' +
      'An unknown location, an empty or too long `skus` or an over-long id is a BAD_USER_INPUT error; a subscriber that falls too far behind (10,000 undelivered changes by default) is ended with a SUBSCRIPTION_OVERFLOW error.',
    subscribe: ({ args, context }) => subscribeToInventoryChanges(args as InventoryChangedArgs, context as InventoryContext),
  })
  inventoryChanged(@Root() change: StockChange, @Args(() => InventoryChangedArgs) _args: InventoryChangedArgs): InventoryChange {
    return toInventoryChange(change);
  }

  @FieldResolver(() => InventoryLevel, {
    nullable: true,
    description:
      'The level as the systems report it when the change is delivered (it may include later changes). Null when the location holds no record of the SKU, or (with an error) when POS, WMS or ERP is unavailable.',
  })
  async level(@Root() change: InventoryChange, @Ctx() ctx: InventoryContext): Promise<InventoryLevel | null> {
    // ctx is this event's own (see SubgraphServiceOptions.context): the level is read fresh for every change.
    const level = await ctx.loaders.stockLevel.load({ sku: change.sku, locationId: change.locationId });
    return level ? toInventoryLevel(level, ctx.lowStockThreshold) : null;
  }

  @FieldResolver(() => Location)
  async location(@Root() change: InventoryChange, @Ctx() ctx: InventoryContext): Promise<Location> {
    let site: InventoryLocation | null;
    try {
      site = await ctx.loaders.location.load(change.locationId);
    } catch (error) {
      // A non-null field: failing it would fail the whole change, when the site was known a moment ago.
      if (!change.site) throw error;
      site = change.site;
    }
    site ??= change.site ?? null;
    if (!site) throw new Error(`location ${change.locationId} changed stock but is not in its system's site master`);
    return toLocation(site);
  }

  @FieldResolver(() => ProductVariant, { description: 'A reference: name, price and product come from catalog through the gateway.' })
  variant(@Root() change: InventoryChange): ProductVariant {
    return toVariantReference(change.sku);
  }
}
