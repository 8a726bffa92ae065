import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar, Money } from '../../common/graphql-types.js';
import type { RefundStatusCode } from './ports.js';

export const RefundStatus: { readonly [K in RefundStatusCode]: K } = { PENDING: 'PENDING', SUCCEEDED: 'SUCCEEDED', FAILED: 'FAILED' };
export type RefundStatus = RefundStatusCode;

registerEnumType(RefundStatus, { name: 'RefundStatus', description: 'Where a refund stands at the payment service provider.' });

@ObjectType('Refund', { description: 'Money paid back to the customer through the payment service provider.' })
export class Refund {
  @Field(() => ID)
  id!: string;

  @Field(() => RefundStatus)
  status!: RefundStatus;

  @Field(() => Money)
  amount!: Money;

  @Field(() => String, { description: 'Why the money was paid back, e.g. the return reason.' })
  reason!: string;

  @Field(() => DateTimeScalar)
  createdAt!: string;
}
