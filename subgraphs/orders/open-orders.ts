import { Field, Int, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../../common/graphql-types.js';
import { OrderStatus } from './enums.js';
import { Order } from './order.js';

@ObjectType('OpenOrderStatus', { description: 'The orders waiting in one open status.' })
export class OpenOrderStatus {
  @Field(() => OrderStatus)
  status!: OrderStatus;

  @Field(() => Int)
  count!: number;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the oldest of them was placed; null when there are none.' })
  oldestPlacedAt!: string | null;
}

@ObjectType('OpenOrders', { description: 'Orders not yet completed or cancelled (PLACED, CONFIRMED, READY_FOR_PICKUP, SHIPPED), from every order system.' })
export class OpenOrders {
  @Field(() => [OpenOrderStatus])
  statuses!: OpenOrderStatus[];

  @Field(() => [Order], { description: 'The oldest open orders, oldest first.' })
  oldest!: Order[];
}
