import { Arg, Ctx, Directive, Mutation, Resolver } from 'type-graphql';
import { fromGlobalId } from '../../../common/global-id.js';
import { UserError } from '../../../common/graphql-types.js';
import type { InventoryContext } from '../context.js';
import { toInventoryLevel, toStockReservation } from '../mapping.js';
import { AdjustInventoryInput, AdjustInventoryPayload } from './adjust-inventory.js';
import { ReleaseReservationInput, ReleaseReservationPayload, ReserveInventoryInput, ReserveInventoryPayload } from './reservation.js';
import { adjustInventory, releaseReservation, reserveInventory, type StockWriteDeps } from './stock-writes.service.js';
import type { UserErrorValue } from '../../../common/idempotent-mutation.js';

const toUserErrors = (errors: readonly UserErrorValue[]) => errors.map((e) => Object.assign(new UserError(), e));

/** The request's deps: location lookups go through its loader, so the payload's `location` is a cache hit. */
const depsOf = (ctx: InventoryContext): StockWriteDeps => ({ ...ctx.writes, findLocation: (id) => ctx.loaders.location.load(id) });

@Resolver()
export class StockWritesResolver {
  @Directive('@requiresScopes(scopes: [["store"]])')
  @Directive('@policy(policies: [["own_location"]])')
  @Mutation(() => AdjustInventoryPayload, { nullable: true, description: 'A POS or WMS stock movement (sale, return, receipt, damage, cycle count, transfer), optionally compare-and-swap on on hand.' })
  async adjustInventory(@Arg('input', () => AdjustInventoryInput) input: AdjustInventoryInput, @Ctx() ctx: InventoryContext): Promise<AdjustInventoryPayload> {
    const outcome = await adjustInventory(depsOf(ctx), ctx.scope, { ...input, locationId: fromGlobalId('Location', input.locationId) });
    return Object.assign(new AdjustInventoryPayload(), {
      level: outcome.level ? toInventoryLevel(outcome.level, ctx.lowStockThreshold) : null,
      userErrors: toUserErrors(outcome.userErrors),
    });
  }

  @Directive('@requiresScopes(scopes: [["shopper"], ["store"], ["agent"]])')
  @Directive('@policy(policies: [["own_location"]])')
  @Mutation(() => ReserveInventoryPayload, { nullable: true, description: 'Hold units of every line at one location (all or nothing) until released or expired.' })
  async reserveInventory(@Arg('input', () => ReserveInventoryInput) input: ReserveInventoryInput, @Ctx() ctx: InventoryContext): Promise<ReserveInventoryPayload> {
    const outcome = await reserveInventory(depsOf(ctx), ctx.scope, { ...input, locationId: fromGlobalId('Location', input.locationId), lines: input.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) });
    return Object.assign(new ReserveInventoryPayload(), {
      reservation: outcome.reservation ? toStockReservation(outcome.reservation) : null,
      userErrors: toUserErrors(outcome.userErrors),
    });
  }

  @Directive('@requiresScopes(scopes: [["shopper"], ["store"], ["agent"]])')
  @Mutation(() => ReleaseReservationPayload, { nullable: true, description: 'End a live reservation now and give its units back.' })
  async releaseReservation(@Arg('input', () => ReleaseReservationInput) input: ReleaseReservationInput, @Ctx() ctx: InventoryContext): Promise<ReleaseReservationPayload> {
    const outcome = await releaseReservation(depsOf(ctx), ctx.scope, { ...input });
    return Object.assign(new ReleaseReservationPayload(), {
      reservation: outcome.reservation ? toStockReservation(outcome.reservation) : null,
      userErrors: toUserErrors(outcome.userErrors),
    });
  }
}
