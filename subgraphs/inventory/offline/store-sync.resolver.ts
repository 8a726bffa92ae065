import { Arg, Ctx, Directive, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { forbiddenError } from '../../../common/auth/authorization.js';
import { fromGlobalId, fromOptionalGlobalId, toGlobalId } from '../../../common/global-id.js';
import { UserError } from '../../../common/graphql-types.js';
import { checkFirst } from '../../../common/pagination.js';
import type { ExceptionKind as ExceptionKindName, ExceptionRecord, ExceptionStatus as ExceptionStatusName } from '../../../common/systems/exceptions.js';
import type { InventoryContext } from '../context.js';
import { Location } from '../location.js';
import { toLocation, toVariantReference } from '../mapping.js';
import { ProductVariant } from '../variant.js';
import { syncStoreTransactions } from './store-sync.service.js';
import { CompensationProposal, ExceptionKind, ExceptionStatus, OperationalException, OrderRef, OversoldLine, StoreTransactionResult, SyncStoreTransactionsInput, SyncStoreTransactionsPayload } from './store-sync.types.js';

const toException = (e: ExceptionRecord): OperationalException =>
  Object.assign(new OperationalException(), {
    ...e,
    order: e.orderId ? Object.assign(new OrderRef(), { id: toGlobalId('Order', e.orderId) }) : null,
    detail: e.detail ?? null,
    proposal: e.proposal.map((p) => Object.assign(new CompensationProposal(), { order: Object.assign(new OrderRef(), { id: toGlobalId('Order', p.orderId) }), orderNumber: p.orderNumber, quantity: p.quantity, action: p.action, rerouteLocationId: p.rerouteLocationId })),
  });

async function locationOf(ctx: InventoryContext, id: string): Promise<Location> {
  const location = await ctx.loaders.location.load(id);
  if (!location) throw new Error(`location ${id} is not in its system's site master`);
  return toLocation(location);
}

@Resolver()
export class StoreSyncResolver {
  @Directive('@requiresScopes(scopes: [["store"]])')
  @Directive('@policy(policies: [["own_location"]])')
  @Mutation(() => SyncStoreTransactionsPayload, {
    nullable: true,
    description: "A store's transactions recorded while its till was offline, sent later: applied once each by their ids, in the order they happened. A sale of units promised meanwhile is applied (the goods are gone) and raises an OVERSOLD exception.",
  })
  async syncStoreTransactions(@Arg('input', () => SyncStoreTransactionsInput) input: SyncStoreTransactionsInput, @Ctx() ctx: InventoryContext): Promise<SyncStoreTransactionsPayload> {
    const outcome = await syncStoreTransactions(ctx.storeSync, ctx.scope, {
      locationId: fromGlobalId('Location', input.locationId),
      transactions: input.transactions.map((t) => ({ id: t.id, occurredAt: t.occurredAt instanceof Date ? t.occurredAt.toISOString() : t.occurredAt, kind: t.kind, lines: t.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) })),
    });
    return Object.assign(new SyncStoreTransactionsPayload(), {
      results: outcome.results.map((r) => Object.assign(new StoreTransactionResult(), { ...r, oversold: r.oversold.map((o) => Object.assign(new OversoldLine(), o)) })),
      userErrors: outcome.userErrors.map((e) => Object.assign(new UserError(), e)),
    });
  }

  @Directive('@requiresScopes(scopes: [["agent"], ["ops"]])')
  @Query(() => [OperationalException], {
    nullable: true,
    description: 'Operational exceptions (OVERSOLD, ...), newest raised first (`first` 0 to 100, default 20), by kind, status (default OPEN) and location. For agents and operations.',
  })
  async exceptions(
    @Arg('kind', () => ExceptionKind, { nullable: true }) kind: ExceptionKindName | null,
    @Arg('status', () => ExceptionStatus, { nullable: true, defaultValue: 'OPEN' }) status: ExceptionStatusName | null,
    @Arg('locationId', () => ID, { nullable: true }) locationId: string | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Ctx() ctx: InventoryContext,
  ): Promise<OperationalException[]> {
    const kindOf = ctx.scope.principal?.kind;
    if (kindOf !== 'agent' && kindOf !== 'ops') throw forbiddenError('exceptions are for agents and operations');
    const found = await ctx.storeSync.exceptions.list({ kind, status, locationId: fromOptionalGlobalId('Location', locationId) ?? null, limit: checkFirst(first, 20) });
    return found.map(toException);
  }
}

@Resolver(() => OperationalException)
export class OperationalExceptionResolver {
  @FieldResolver(() => Location)
  location(@Root() exception: OperationalException, @Ctx() ctx: InventoryContext): Promise<Location> {
    return locationOf(ctx, exception.locationId);
  }

  @FieldResolver(() => ProductVariant, { nullable: true })
  variant(@Root() exception: OperationalException): ProductVariant | null {
    return exception.sku ? toVariantReference(exception.sku) : null;
  }
}

@Resolver(() => CompensationProposal)
export class CompensationProposalResolver {
  @FieldResolver(() => Location, { nullable: true, description: 'REROUTE: where the units are sellable now.' })
  async rerouteLocation(@Root() proposal: CompensationProposal, @Ctx() ctx: InventoryContext): Promise<Location | null> {
    return proposal.rerouteLocationId ? locationOf(ctx, proposal.rerouteLocationId) : null;
  }
}
