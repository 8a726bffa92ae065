import { ArgsType, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { UserError } from '../../../common/graphql-types.js';
import { Order } from '../order.js';
import { Return } from '../return.js';
import type { ReturnConditionCode } from './ports.js';

export const ReturnCondition: { readonly [K in ReturnConditionCode]: K } = { RESTOCK: 'RESTOCK', DAMAGED: 'DAMAGED' };
export type ReturnCondition = ReturnConditionCode;
registerEnumType(ReturnCondition, {
  name: 'ReturnCondition',
  description: 'The state returned goods arrive in.',
  valuesConfig: {
    RESTOCK: { description: 'Sellable: back on hand and available.' },
    DAMAGED: { description: 'On hand but damaged, not sellable.' },
  },
});

const KEY = 'The same key with the same input returns the first result and changes nothing; kept 24 h, per caller.';

@ObjectType('OrderStatusPayload', { description: 'The answer of a mutation that moves an order: the order as it is now, or userErrors.' })
export class OrderStatusPayload {
  @Field(() => Order, { nullable: true, description: 'The order after the move; null when userErrors say why not.' })
  order!: Order | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

/** `(orderId: ID!, idempotencyKey: String)`: the contract's ReadyForPickup and HandOver send no key. */
@ArgsType()
export class OrderMoveArgs {
  @Field(() => ID)
  orderId!: string;

  @Field(() => String, { nullable: true, description: 'Optional: with it, a repeat replays the first answer; without it, a repeat answers INVALID_STATE naming the current status.' })
  idempotencyKey?: string | null;
}

/** `(orderId: ID!, idempotencyKey: String!)`. */
@ArgsType()
export class KeyedOrderMoveArgs {
  @Field(() => ID)
  orderId!: string;

  @Field(() => String, { description: `1 to 255 characters. ${KEY}` })
  idempotencyKey!: string;
}

@InputType('ShipOrderInput')
export class ShipOrderInput {
  @Field(() => String, { description: `1 to 255 characters. ${KEY}` })
  idempotencyKey!: string;

  @Field(() => ID)
  orderId!: string;

  @Field(() => String, { description: 'The carrier that took the parcel, e.g. "DHL".' })
  carrier!: string;

  @Field(() => String, { nullable: true, description: "The carrier's tracking number, when it has assigned one." })
  trackingNumber?: string | null;
}

@InputType('CancelOrderInput')
export class CancelOrderInput {
  @Field(() => String, { description: `1 to 255 characters. ${KEY}` })
  idempotencyKey!: string;

  @Field(() => ID)
  orderId!: string;

  @Field(() => String, { description: 'Why the order is cancelled, 1 to 500 characters (shown in the timeline).' })
  reason!: string;
}

@InputType('ChangePickupLocationInput')
export class ChangePickupLocationInput {
  @Field(() => String, { description: `1 to 255 characters. ${KEY}` })
  idempotencyKey!: string;

  @Field(() => ID)
  orderId!: string;

  @Field(() => ID, { description: 'The store to collect the order at instead: one that hands over pickup orders, with every line available.' })
  pickupLocationId!: string;
}

@InputType('PickShortageLineInput')
export class PickShortageLineInput {
  @Field(() => String, { description: 'A SKU on the order.' })
  sku!: string;

  @Field(() => Int, { description: 'Units the shelf lacked: at least 1, at most what was ordered.' })
  quantity!: number;
}

@InputType('ReportPickShortageInput')
export class ReportPickShortageInput {
  @Field(() => String, { description: `1 to 255 characters. ${KEY}` })
  idempotencyKey!: string;

  @Field(() => ID)
  orderId!: string;

  @Field(() => [PickShortageLineInput], { description: 'What the shelf lacked, one line per SKU.' })
  lines!: PickShortageLineInput[];
}

@InputType('ReturnLineInput')
export class ReturnLineInput {
  @Field(() => String, { description: 'A SKU on the order.' })
  sku!: string;

  @Field(() => Int, { description: 'At least 1, at most what was bought less what earlier returns take back.' })
  quantity!: number;
}

@InputType('CreateReturnInput')
export class CreateReturnInput {
  @Field(() => String, { description: `1 to 255 characters. ${KEY}` })
  idempotencyKey!: string;

  @Field(() => ID, { description: 'A PICKED_UP, DELIVERED or PARTIALLY_RETURNED order.' })
  orderId!: string;

  @Field(() => String, { description: 'Why the goods come back, 1 to 500 characters.' })
  reason!: string;

  @Field(() => [ReturnLineInput], { description: '1 to 100 lines, one per SKU.' })
  lines!: ReturnLineInput[];
}

@ObjectType('CreateReturnPayload')
export class CreateReturnPayload {
  @Field(() => Return, { nullable: true, description: 'The REQUESTED return; null when userErrors say why not.' })
  return!: Return | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@InputType('ReceiveReturnInput')
export class ReceiveReturnInput {
  @Field(() => String, { description: `1 to 255 characters. ${KEY}` })
  idempotencyKey!: string;

  @Field(() => ID)
  returnId!: string;

  @Field(() => ReturnCondition)
  condition!: ReturnConditionCode;
}

@ObjectType('ReceiveReturnPayload')
export class ReceiveReturnPayload {
  @Field(() => Return, { nullable: true, description: 'The return, REFUNDED; null when userErrors say why not.' })
  return!: Return | null;

  @Field(() => Order, { nullable: true, description: 'The order, PARTIALLY_RETURNED or RETURNED.' })
  order!: Order | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}
