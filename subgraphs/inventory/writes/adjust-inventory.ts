import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { UserError } from '../../../common/graphql-types.js';
import { InventoryLevel } from '../inventory-level.js';
import type { StockMovementReasonCode } from './validation.js';

export const StockMovementReason: { readonly [K in StockMovementReasonCode]: K } = {
  SALE: 'SALE',
  RETURN: 'RETURN',
  RECEIPT: 'RECEIPT',
  DAMAGE: 'DAMAGE',
  CYCLE_COUNT: 'CYCLE_COUNT',
  TRANSFER_IN: 'TRANSFER_IN',
  TRANSFER_OUT: 'TRANSFER_OUT',
};
registerEnumType(StockMovementReason, {
  name: 'StockMovementReason',
  description: 'Why stock moved at a POS or WMS.',
  valuesConfig: {
    SALE: { description: 'Sold at the till: delta < 0.' },
    RETURN: { description: 'A customer return put back to stock: delta > 0.' },
    RECEIPT: { description: 'Goods received: delta > 0.' },
    DAMAGE: { description: 'delta > 0 units found damaged: on hand unchanged, damaged += delta (no longer available).' },
    CYCLE_COUNT: { description: 'A count: on hand is set to the counted `onHand`; no delta.' },
    TRANSFER_IN: { description: 'Arrived from another location: delta > 0.' },
    TRANSFER_OUT: { description: 'Sent to another location: delta < 0.' },
  },
});

@InputType('AdjustInventoryInput')
export class AdjustInventoryInput {
  @Field(() => String, { description: '1 to 255 characters. The same key with the same input returns the first result and changes nothing; kept 24 h, per caller.' })
  idempotencyKey!: string;

  @Field(() => ID)
  locationId!: string;

  @Field(() => String)
  sku!: string;

  @Field(() => StockMovementReason)
  reason!: StockMovementReasonCode;

  @Field(() => Int, { nullable: true, description: 'Units moved, 1 to 100000 either way, signed as the reason says (see StockMovementReason). Not for CYCLE_COUNT.' })
  delta?: number | null;

  @Field(() => Int, { nullable: true, description: 'CYCLE_COUNT only: the counted on hand, 0 to 1000000.' })
  onHand?: number | null;

  @Field(() => Int, { nullable: true, description: 'Compare-and-swap: when given and on hand is not this, nothing changes and the answer is a STALE_QUANTITY user error.' })
  expectedOnHand?: number | null;
}

@ObjectType('AdjustInventoryPayload')
export class AdjustInventoryPayload {
  @Field(() => InventoryLevel, { nullable: true, description: 'The level after the movement; null when userErrors say why nothing changed.' })
  level!: InventoryLevel | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}
