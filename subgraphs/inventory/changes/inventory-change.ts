import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../../../common/graphql-types.js';
import type { InventoryLocation } from '../ports.js';
import { StockMovementReason } from '../writes/adjust-inventory.js';
import type { InventoryChangeReasonCode } from './stock-change-feed.js';

/** The POS/WMS movement reasons, and what holds and orders do to stock. */
export const InventoryChangeReason: { readonly [K in InventoryChangeReasonCode]: K } = {
  ...StockMovementReason,
  RESERVED: 'RESERVED',
  ORDER_COMMITTED: 'ORDER_COMMITTED',
  RELEASED: 'RELEASED',
  FULFILLED: 'FULFILLED',
  RETURN_RECEIVED: 'RETURN_RECEIVED',
};
registerEnumType(InventoryChangeReason, {
  name: 'InventoryChangeReason',
  description: 'Why a stock level changed, and so which quantity `delta` moved.',
  valuesConfig: {
    SALE: { description: 'Sold at the till: onHand += delta (delta < 0).' },
    RETURN: { description: 'A customer return put back to stock at the POS: onHand += delta (delta > 0).' },
    RECEIPT: { description: 'Goods received: onHand += delta (delta > 0).' },
    DAMAGE: { description: 'Units found damaged: damaged += delta (delta > 0); onHand unchanged.' },
    CYCLE_COUNT: { description: 'A count set onHand: delta is counted minus previous onHand (any sign, 0 when the count agreed).' },
    TRANSFER_IN: { description: 'Arrived from another location: onHand += delta (delta > 0).' },
    TRANSFER_OUT: { description: 'Sent to another location: onHand += delta (delta < 0).' },
    RESERVED: { description: 'A cart or transfer hold: reserved += delta (delta > 0).' },
    ORDER_COMMITTED: { description: 'Promised to a placed order: committed += delta (delta > 0).' },
    RELEASED: {
      description: 'Held units given back: a hold released or expired (reserved += delta), or a cancelled order (committed += delta); delta < 0.',
    },
    FULFILLED: { description: 'An order line left the location (handed over or shipped): onHand and committed both += delta (delta < 0).' },
    RETURN_RECEIVED: { description: 'Returned goods of an order received: onHand += delta (delta > 0); damaged += delta too when they came back damaged.' },
  },
});

@ObjectType('InventoryChange', { description: 'One change to the stock level of one SKU at one location.' })
export class InventoryChange {
  @Field(() => ID, { description: 'The canonical event the change came from; an event with several lines gives one change per SKU, so (eventId, sku) is unique.' })
  eventId!: string;

  @Field(() => String)
  sku!: string;

  @Field(() => ID)
  locationId!: string;

  @Field(() => InventoryChangeReason)
  reason!: InventoryChangeReasonCode;

  @Field(() => Int, { description: 'Signed units moved, in the quantity `reason` names (see InventoryChangeReason).' })
  delta!: number;

  @Field(() => DateTimeScalar)
  occurredAt!: string;

  @Field(() => String, { description: 'Correlation id of the request (or order) that caused the change.' })
  correlationId!: string;

  @Field(() => Int, {
    description:
      "The change's place in its location's stream: 1, 2, 3… per location, never repeated, across restarts. Each change has its own (the SKUs of one hand-over take consecutive ones). Pass the last one seen as `after` to resume, even in the middle of one hand-over's changes.",
  })
  sequence!: number;

  /** The site as last read at subscribe time: `location` falls back to it while the site master is down. */
  site?: InventoryLocation | undefined;
}
