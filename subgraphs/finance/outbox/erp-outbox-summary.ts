import { Field, Int, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../../../common/graphql-types.js';
import { checkWindow } from '../reconciliation/reconciliation.service.js';
import type { ErpOutbox } from './outbox.js';

@ObjectType('ErpOutboxSummary', { description: "What the ERP outbox holds for a window of source events, by status: the backlog finance watches drain. Answered from the outbox alone, so it works while the ERP is down." })
export class ErpOutboxSummary {
  @Field(() => DateTimeScalar)
  from!: Date;

  @Field(() => DateTimeScalar)
  to!: Date;

  @Field(() => Int, { description: 'Queued, not tried yet or waiting for its next try.' })
  pending!: number;

  @Field(() => Int, { description: 'Failed at least once; being retried.' })
  failed!: number;

  @Field(() => Int, { description: 'Retries exhausted (see replayPostings).' })
  deadLettered!: number;

  @Field(() => Int, { description: 'Booked by the ERP.' })
  posted!: number;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the oldest posting still waiting (PENDING or FAILED) happened; null when none waits.' })
  oldestWaitingSince!: string | null;
}

/** Count the window's postings by status (at most 92 days; from before to, else BAD_USER_INPUT). */
export async function summarizeOutbox(outbox: Pick<ErpOutbox, 'bySourceTime'>, from: Date, to: Date): Promise<ErpOutboxSummary> {
  checkWindow(from, to);
  const postings = await outbox.bySourceTime(from.toISOString(), to.toISOString());
  const count = (status: string) => postings.filter((p) => p.status === status).length;
  const waiting = postings.filter((p) => p.status === 'PENDING' || p.status === 'FAILED').map((p) => p.sourceOccurredAt).sort();
  return Object.assign(new ErpOutboxSummary(), { from, to, pending: count('PENDING'), failed: count('FAILED'), deadLettered: count('DEAD_LETTER'), posted: count('POSTED'), oldestWaitingSince: waiting[0] ?? null });
}
