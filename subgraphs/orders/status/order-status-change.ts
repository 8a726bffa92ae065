import { Field, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../../../common/graphql-types.js';
import { OrderStatus } from '../enums.js';

@ObjectType('OrderStatusChange', { description: 'One status move of one order.' })
export class OrderStatusChange {
  @Field(() => ID, { description: 'The canonical event of the move.' })
  eventId!: string;

  @Field(() => ID)
  orderId!: string;

  @Field(() => OrderStatus, { nullable: true, description: 'Null for a new order (PLACED), or where the event does not say.' })
  previousStatus!: OrderStatus | null;

  @Field(() => OrderStatus)
  status!: OrderStatus;

  @Field(() => DateTimeScalar)
  occurredAt!: string;

  @Field(() => String, { description: "The order's correlation id, as its events carry it." })
  correlationId!: string;

  @Field(() => Int, {
    description: "The move's place in its order's stream: 1, 2, 3… per order, never repeated, across restarts. Pass the last one seen as `after` (with `orderId`) to resume.",
  })
  sequence!: number;
}
