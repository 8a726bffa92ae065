import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar, Money } from '../../../common/graphql-types.js';
import { PostingStatus, PostingType } from '../erp-posting.js';
import { Order } from '../order.js';
import type { MismatchReason as MismatchReasonCode } from './reconcile.js';

export const MismatchReason: { readonly [K in MismatchReasonCode]: K } = { AMOUNT_DIFFERS: 'AMOUNT_DIFFERS', NOT_POSTED: 'NOT_POSTED', NO_SOURCE: 'NO_SOURCE' };
export type MismatchReason = MismatchReasonCode;

registerEnumType(MismatchReason, {
  name: 'MismatchReason',
  description: 'Why a source item and the ERP disagree.',
  valuesConfig: {
    AMOUNT_DIFFERS: { description: 'Booked with another amount than the source events say.' },
    NOT_POSTED: { description: 'Not booked and not being retried: dead-lettered, or never queued.' },
    NO_SOURCE: { description: 'Booked in the window, but no source event accounts for it.' },
  },
});

@ObjectType('ReconciliationMismatch', { description: 'A source item and what the ERP booked for it, where they differ.' })
export class ReconciliationMismatch {
  @Field(() => ID)
  orderId!: string;

  @Field(() => Order)
  order!: Order;

  @Field(() => PostingType)
  type!: PostingType;

  @Field(() => MismatchReason)
  reason!: MismatchReason;

  @Field(() => Money, { nullable: true, description: 'What the source events say; null for a booking with no source.' })
  expected!: Money | null;

  @Field(() => Money, { nullable: true, description: 'What the ERP booked; null when nothing is booked.' })
  posted!: Money | null;

  @Field(() => ID, { nullable: true, description: 'The posting matched to the item; null when there is none.' })
  postingId!: string | null;

  @Field(() => PostingStatus, { nullable: true })
  postingStatus!: PostingStatus | null;

  @Field(() => ID, { nullable: true, description: 'The canonical event the item comes from.' })
  sourceEventId!: string | null;

  @Field(() => DateTimeScalar, { description: 'When the source event happened (with no source: when the posting was created).' })
  occurredAt!: string;
}

@ObjectType('ReconciliationCurrencyTotals', { description: 'The totals of one currency.' })
export class ReconciliationCurrencyTotals {
  @Field(() => String, { description: 'ISO 4217 currency code.' })
  currencyCode!: string;

  @Field(() => Money)
  sourceTotal!: Money;

  @Field(() => Money)
  erpTotal!: Money;
}

@ObjectType('Reconciliation', {
  description:
    'Source events against ERP postings over a window [from, to). sourceTotal − erpTotal is the signed sum of the mismatches (expected − posted) and of the postings still pending.',
})
export class Reconciliation {
  @Field(() => DateTimeScalar)
  from!: string;

  @Field(() => DateTimeScalar)
  to!: string;

  @Field(() => Money, { description: "Sales minus refunds, from the window's source events (hand-over or shipment, REFUND_ISSUED), in the window's main currency." })
  sourceTotal!: Money;

  @Field(() => Money, { description: 'What the ERP booked (POSTED) for those same items, plus bookings of the window with no source.' })
  erpTotal!: Money;

  @Field(() => [ReconciliationCurrencyTotals], { description: 'The totals of every currency in the window, by code; sourceTotal and erpTotal are those of the main one (most items).' })
  byCurrency!: ReconciliationCurrencyTotals[];

  @Field(() => Int, { description: 'Source items in the window (sales, refunds, returns with an amount).' })
  sourceItems!: number;

  @Field(() => Int, { description: "The window's postings not yet booked and still being retried (PENDING, FAILED)." })
  pendingPostings!: number;

  @Field(() => Int, { description: "The window's postings whose retries are exhausted (DEAD_LETTER)." })
  failedPostings!: number;

  @Field(() => [ReconciliationMismatch], { description: 'Items whose booking differs from the source or is missing, by time.' })
  mismatches!: ReconciliationMismatch[];
}
