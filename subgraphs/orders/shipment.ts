import { Field, ID, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../../common/graphql-types.js';
import { ShipmentStatus } from './enums.js';

@ObjectType('Shipment', { description: 'A parcel the WMS sends for an order.' })
export class Shipment {
  @Field(() => ID)
  id!: string;

  @Field(() => ShipmentStatus)
  status!: ShipmentStatus;

  @Field(() => String)
  carrier!: string;

  @Field(() => String, { nullable: true, description: 'Null until the carrier has assigned one.' })
  trackingNumber!: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  shippedAt!: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  deliveredAt!: string | null;
}
