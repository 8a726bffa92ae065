import { Field, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../../common/graphql-types.js';
import { ReturnStatus } from './enums.js';

@ObjectType('ReturnLine')
export class ReturnLine {
  @Field(() => String)
  sku!: string;

  @Field(() => Int)
  quantity!: number;
}

@ObjectType('Return', { description: 'Goods sent back on an order, as the system that holds the order records them.' })
export class Return {
  @Field(() => ID)
  id!: string;

  @Field(() => ReturnStatus)
  status!: ReturnStatus;

  @Field(() => String)
  reason!: string;

  @Field(() => [ReturnLine])
  lines!: ReturnLine[];

  @Field(() => DateTimeScalar)
  requestedAt!: string;

  @Field(() => DateTimeScalar, { nullable: true })
  receivedAt!: string | null;
}
