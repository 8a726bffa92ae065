import { Field, ID, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../../common/graphql-types.js';
import { EventSource, EventType } from './enums.js';

@ObjectType('OrderEvent', { description: 'A canonical event of an order, as the event backbone logged it.' })
export class OrderEvent {
  @Field(() => ID)
  id!: string;

  @Field(() => EventType)
  type!: EventType;

  @Field(() => EventSource)
  source!: EventSource;

  @Field(() => DateTimeScalar)
  occurredAt!: string;

  @Field(() => String)
  correlationId!: string;

  @Field(() => String, { description: 'One human sentence, e.g. "Payment of 584.95 EUR authorized (GIFT_CARD)".' })
  summary!: string;

  @Field(() => String, { nullable: true, description: 'The SKU the event is about, for stock events.' })
  sku!: string | null;

  @Field(() => ID, { nullable: true, description: 'The location the event happened at, for stock and store events.' })
  locationId!: string | null;
}
