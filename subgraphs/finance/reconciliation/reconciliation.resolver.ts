import { Args, ArgsType, Ctx, Directive, Field, Query, Resolver } from 'type-graphql';
import { DateTimeScalar } from '../../../common/graphql-types.js';
import type { FinanceContext } from '../context.js';
import { toReconciliation } from '../mapping.js';
import { Reconciliation } from './reconciliation.js';
import { reconciliation } from './reconciliation.service.js';

/** An args class rather than two `@Arg`s: type-graphql prints separate `@Arg`s in reverse order. */
@ArgsType()
export class ReconciliationArgs {
  @Field(() => DateTimeScalar, { description: 'Start of the window, inclusive.' })
  from!: Date;

  @Field(() => DateTimeScalar, { description: 'End of the window, exclusive: at most 92 days after `from`.' })
  to!: Date;
}

@Resolver()
export class ReconciliationResolver {
  @Directive('@requiresScopes(scopes: [["finance"], ["ops"]])')
  @Query(() => Reconciliation, {
    nullable: true,
    description: 'Source events against ERP postings over [from, to) (at most 92 days; from before to, else BAD_USER_INPUT); null when the ERP is unavailable.',
  })
  async reconciliation(@Args(() => ReconciliationArgs) args: ReconciliationArgs, @Ctx() ctx: FinanceContext): Promise<Reconciliation> {
    return toReconciliation(await reconciliation({ ledger: ctx.ledger, outbox: ctx.outbox, backbone: ctx.backbone, metrics: ctx.metrics }, args.from, args.to));
  }
}
