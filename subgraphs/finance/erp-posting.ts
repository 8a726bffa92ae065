import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar, Money } from '../../common/graphql-types.js';
import type { PostingStatusCode, PostingTypeCode } from './ports.js';

export const PostingType: { readonly [K in PostingTypeCode]: K } = { SALE: 'SALE', REFUND: 'REFUND', RETURN: 'RETURN' };
export type PostingType = PostingTypeCode;

export const PostingStatus: { readonly [K in PostingStatusCode]: K } = { PENDING: 'PENDING', POSTED: 'POSTED', FAILED: 'FAILED', DEAD_LETTER: 'DEAD_LETTER' };
export type PostingStatus = PostingStatusCode;

registerEnumType(PostingType, { name: 'PostingType', description: 'The business event a journal posting records.' });
registerEnumType(PostingStatus, {
  name: 'PostingStatus',
  description: 'Where a journal posting stands in the ERP.',
  valuesConfig: {
    PENDING: { description: 'Not yet accepted by the ERP.' },
    POSTED: { description: 'Booked; `erpDocumentNumber` is set.' },
    FAILED: { description: 'The last attempt failed; it will be retried.' },
    DEAD_LETTER: { description: 'Retries exhausted; needs someone to look at `lastError`.' },
  },
});

@ObjectType('ErpPosting', { description: 'A journal posting of an order to the ERP general ledger.' })
export class ErpPosting {
  @Field(() => ID, { description: 'Stable: derived from the source event, so the ERP books each posting once.' })
  id!: string;

  @Field(() => ID)
  orderId!: string;

  @Field(() => PostingType)
  type!: PostingType;

  @Field(() => PostingStatus)
  status!: PostingStatus;

  @Field(() => Int, { description: 'Attempts so far, including the successful one.' })
  attempts!: number;

  @Field(() => Money)
  amount!: Money;

  @Field(() => Money, { nullable: true, description: 'The tax included in amount, booked to tax payable (the rest is revenue); null on postings from before tax.' })
  tax!: Money | null;

  @Field(() => String, { nullable: true, description: "The ERP's journal document number; null until posted." })
  erpDocumentNumber!: string | null;

  @Field(() => String, { nullable: true, description: 'Why the last attempt failed; null when none has.' })
  lastError!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the ERP booked it; null until posted.' })
  postedAt!: string | null;

  @Field(() => DateTimeScalar)
  createdAt!: string;

  @Field(() => ID, { nullable: true, description: 'The canonical event it books; null for postings of the history.' })
  sourceEventId!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the next attempt is due; null unless PENDING or FAILED.' })
  nextAttemptAt!: string | null;
}
