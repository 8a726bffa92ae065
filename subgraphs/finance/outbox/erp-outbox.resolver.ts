import { Args, ArgsType, Ctx, Directive, Field, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { fromOptionalGlobalId } from '../../../common/global-id.js';
import { UserError } from '../../../common/graphql-types.js';
import { checkFirst } from '../../../common/pagination.js';
import type { FinanceContext } from '../context.js';
import { ErpPosting, PostingStatus } from '../erp-posting.js';
import { toErpPosting } from '../mapping.js';
import { ReconciliationArgs } from '../reconciliation/reconciliation.resolver.js';
import { ErpOutboxSummary, summarizeOutbox } from './erp-outbox-summary.js';
import { ReplayPostingsPayload } from './replay-postings.js';
import { replayPostings } from './replay-postings.service.js';

/** Args classes rather than separate `@Arg`s: type-graphql prints separate `@Arg`s in reverse order. */
@ArgsType()
export class ErpOutboxArgs {
  @Field(() => [PostingStatus], { nullable: true, description: 'Only these statuses; all when absent or empty.' })
  statuses!: PostingStatus[] | null;

  @Field(() => ID, { nullable: true, description: "Only this order's postings." })
  orderId!: string | null;

  @Field(() => Int, { nullable: true, defaultValue: 20, description: '0 to 100.' })
  first!: number | null;
}

@ArgsType()
export class ReplayPostingsArgs {
  @Field(() => [ID], { description: '1 to 100 posting ids.' })
  ids!: string[];

  @Field(() => String, { nullable: true, description: '1 to 255 characters: the same key and ids answer the first result and re-queue nothing; kept 24 h, per caller.' })
  idempotencyKey!: string | null;
}

@Resolver()
export class ErpOutboxResolver {
  @Directive('@requiresScopes(scopes: [["finance"], ["ops"]])')
  @Query(() => [ErpPosting], {
    nullable: true,
    description:
      "The ERP outbox's postings, newest first: what finance has queued, is retrying, booked or dead-lettered. Answers from the outbox alone, so it works while the ERP is down.",
  })
  async erpOutbox(@Args(() => ErpOutboxArgs) args: ErpOutboxArgs, @Ctx() ctx: FinanceContext): Promise<ErpPosting[]> {
    const limit = checkFirst(args.first, 20);
    return (await ctx.outbox.list({ statuses: args.statuses ?? undefined, orderId: fromOptionalGlobalId('Order', args.orderId) ?? undefined }, limit)).map(toErpPosting);
  }

  @Directive('@requiresScopes(scopes: [["finance"], ["ops"]])')
  @Query(() => ErpOutboxSummary, {
    nullable: true,
    description: 'The ERP outbox by status for the source events of [from, to) (at most 92 days): the backlog and how it drains. From the outbox alone, so it answers while the ERP is down.',
  })
  async erpOutboxSummary(@Args(() => ReconciliationArgs) args: ReconciliationArgs, @Ctx() ctx: FinanceContext): Promise<ErpOutboxSummary> {
    return summarizeOutbox(ctx.outbox, args.from, args.to);
  }

  @Directive('@requiresScopes(scopes: [["finance"], ["ops"]])')
  @Mutation(() => ReplayPostingsPayload, { nullable: true, description: 'Re-queue DEAD_LETTER postings for the outbox to book; any other state is an INVALID_STATE user error.' })
  async replayPostings(@Args(() => ReplayPostingsArgs) args: ReplayPostingsArgs, @Ctx() ctx: FinanceContext): Promise<ReplayPostingsPayload> {
    const outcome = await replayPostings({ outbox: ctx.outbox, ledger: ctx.ledger, backbone: ctx.backbone, idempotency: ctx.idempotency }, ctx.scope, args);
    return Object.assign(new ReplayPostingsPayload(), {
      postings: outcome.postings.map(toErpPosting),
      userErrors: outcome.userErrors.map((e) => Object.assign(new UserError(), e)),
    });
  }
}
