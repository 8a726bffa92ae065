import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeScalar, UserError } from '../../../common/graphql-types.js';

@ObjectType('StockReservationLine')
export class StockReservationLine {
  @Field(() => String)
  sku!: string;

  @Field(() => Int)
  quantity!: number;
}

@ObjectType('StockReservation', { description: 'Units held at one location (a cart, a transfer) until released or expired; they count as `reserved`.' })
export class StockReservation {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  locationId!: string;

  @Field(() => DateTimeScalar, { description: 'When the units are given back if the reservation is not released before.' })
  expiresAt!: string;

  @Field(() => [StockReservationLine])
  lines!: StockReservationLine[];
}

@InputType('StockReservationLineInput')
export class StockReservationLineInput {
  @Field(() => String)
  sku!: string;

  @Field(() => Int, { description: '1 to 999.' })
  quantity!: number;
}

@InputType('ReserveInventoryInput')
export class ReserveInventoryInput {
  @Field(() => String, { description: '1 to 255 characters. The same key with the same input returns the first result and changes nothing; kept 24 h, per caller.' })
  idempotencyKey!: string;

  @Field(() => ID)
  locationId!: string;

  @Field(() => [StockReservationLineInput], { description: '1 to 100 lines, one per SKU: all are reserved or none.' })
  lines!: StockReservationLineInput[];

  @Field(() => Int, { nullable: true, defaultValue: 900, description: 'Seconds until the reservation expires by itself, 1 to 86400.' })
  ttlSeconds?: number | null;
}

@ObjectType('ReserveInventoryPayload')
export class ReserveInventoryPayload {
  @Field(() => StockReservation, { nullable: true, description: 'Null when userErrors say why nothing was reserved.' })
  reservation!: StockReservation | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@InputType('ReleaseReservationInput')
export class ReleaseReservationInput {
  @Field(() => String, { description: '1 to 255 characters, as for every mutation.' })
  idempotencyKey!: string;

  @Field(() => ID)
  reservationId!: string;
}

@ObjectType('ReleaseReservationPayload')
export class ReleaseReservationPayload {
  @Field(() => StockReservation, { nullable: true, description: 'The reservation that ended, its units given back; null when userErrors say why not.' })
  reservation!: StockReservation | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}
