import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../../common/graphql-types.js';
import { StockStatus } from './stock-status.js';

// An entity so that `node(id:)` reaches it (its global id is made of SKU and location).
@Directive('@key(fields: "id")')
@ObjectType('InventoryLevel', { description: 'Stock of one SKU at one location: the system counts, the ERP policy, and what can be promised.' })
export class InventoryLevel {
  @Field(() => String)
  sku!: string;

  @Field(() => ID)
  locationId!: string;

  @Field(() => Int, { description: 'Physically at the location (POS or WMS count).' })
  onHand!: number;

  @Field(() => Int, { description: 'Promised to orders not yet picked.' })
  committed!: number;

  @Field(() => Int, { description: 'Held for carts and pickups.' })
  reserved!: number;

  @Field(() => Int, { description: 'Kept back by ERP policy; 0 without a policy.' })
  safetyStock!: number;

  @Field(() => Int, { description: 'On hand but not sellable.' })
  damaged!: number;

  @Field(() => Int, { description: 'On its way in by ERP transfer; not part of `available`.' })
  incoming!: number;

  @Field(() => Int, { description: 'max(0, onHand - committed - reserved - safetyStock - damaged).' })
  available!: number;

  @Field(() => StockStatus)
  status!: StockStatus;

  @Field(() => DateTimeScalar, { description: 'When the POS or WMS count was read: the level is as of then (the stock policy is the read model\'s, see systemStatus).' })
  readAt!: string;
}
