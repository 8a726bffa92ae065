import { Arg, Ctx, Directive, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { forbiddenError } from '../../../common/auth/authorization.js';
import { toGlobalId } from '../../../common/global-id.js';
import { checkFirst } from '../../../common/pagination.js';
import type { CustomersContext } from '../context.js';
import { Loyalty } from '../customer.js';
import type { LoyaltyEntry as LedgerEntry } from '../ports.js';
import { LoyaltyEntry, OrderRef } from './loyalty-entry.js';

/** Entries `history` answers unless asked. */
export const DEFAULT_HISTORY = 10;

const toLoyaltyEntry = (e: LedgerEntry): LoyaltyEntry =>
  Object.assign(new LoyaltyEntry(), {
    reference: e.reference,
    kind: e.kind,
    points: e.points,
    balance: e.balance,
    order: Object.assign(new OrderRef(), { id: toGlobalId('Order', e.orderId) }),
    returnId: e.returnId,
    occurredAt: e.postedAt,
  });

@Resolver(() => Loyalty)
export class LoyaltyResolver {
  @Directive('@requiresScopes(scopes: [["shopper"], ["agent"]])')
  @FieldResolver(() => [LoyaltyEntry], {
    nullable: true,
    description: `The customer's loyalty ledger, newest first: points earned on orders picked up or delivered, points reversed for received returns. \`first\` is 0 to 100 (default ${DEFAULT_HISTORY}). Null while the CRM is unavailable. For the customer themselves and service agents (FORBIDDEN otherwise).`,
  })
  async history(@Root() loyalty: Loyalty, @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_HISTORY }) first: number | null, @Ctx() ctx: CustomersContext): Promise<LoyaltyEntry[]> {
    // The row rule again, here where the ledger is read: whoever reached this loyalty record, only its owner and agents read its ledger.
    const { principal } = ctx;
    const allowed = principal.kind === 'agent' || (principal.kind === 'shopper' && principal.customerId === loyalty.customerId);
    if (!allowed) throw forbiddenError("a customer's loyalty history is for the customer themselves and service agents");
    const limit = checkFirst(first, DEFAULT_HISTORY);
    if (limit === 0) return [];
    const entries = await ctx.loaders.loyaltyLedger.load(loyalty.customerId);
    return entries.slice(-limit).reverse().map(toLoyaltyEntry);
  }
}
