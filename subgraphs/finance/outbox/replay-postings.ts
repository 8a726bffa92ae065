import { Field, ObjectType } from 'type-graphql';
import { UserError } from '../../../common/graphql-types.js';
import { ErpPosting } from '../erp-posting.js';

@ObjectType('ReplayPostingsPayload')
export class ReplayPostingsPayload {
  @Field(() => [ErpPosting], { description: 'The named postings that exist, in the order named, as they are now: a re-queued one is PENDING.' })
  postings!: ErpPosting[];

  @Field(() => [UserError], { description: 'Per id (field `ids.<i>`): INVALID_STATE (not DEAD_LETTER), UNKNOWN_POSTING; and the idempotency codes.' })
  userErrors!: UserError[];
}
