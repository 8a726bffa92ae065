import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeScalar, Money, PageInfo } from '../../common/graphql-types.js';
import { Customer } from './customer.js';
import { Channel, DeliveryMethod, OrderStatus } from './enums.js';
import { Location } from './location.js';
import { ProductVariant } from './variant.js';

@ObjectType('OrderLine')
export class OrderLine {
  @Field(() => String)
  sku!: string;

  @Field(() => Int)
  quantity!: number;

  @Field(() => Money, { description: 'Price of one unit when the order was placed.' })
  unitPrice!: Money;

  @Field(() => Money, { description: 'quantity × unitPrice.' })
  lineTotal!: Money;

  @Field(() => ProductVariant, { nullable: true })
  variant!: ProductVariant | null;
}

/**
 * An order from either order system: the POS (till sales, ids `ord-s…`, numbers `S…`) or e-commerce (every
 * other channel, ids `ord-w…`, numbers `W…`). Shipments, returns and the timeline are resolved by
 * OrderResolver from other calls and may be null while their system is down.
 */
@Directive('@key(fields: "id")')
@ObjectType('Order', { description: 'A customer order, from the POS (store sales) or the e-commerce order system.' })
export class Order {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'The number printed on receipts and emails, e.g. "W1000001".' })
  number!: string;

  @Field(() => OrderStatus)
  status!: OrderStatus;

  @Field(() => Channel)
  channel!: Channel;

  @Field(() => DeliveryMethod)
  deliveryMethod!: DeliveryMethod;

  @Field(() => Location, { nullable: true, description: 'The store the customer collects at; null unless PICKUP.' })
  pickupLocation!: Location | null;

  @Field(() => Location, { nullable: true, description: 'The warehouse or store the goods leave from.' })
  fulfillmentLocation!: Location | null;

  @Field(() => Customer, { nullable: true, description: 'Null for anonymous till sales.' })
  customer!: Customer | null;

  @Field(() => [OrderLine])
  lines!: OrderLine[];

  @Field(() => Money, { description: 'Sum of the line totals.' })
  total!: Money;

  @Field(() => DateTimeScalar)
  placedAt!: string;

  @Field(() => String, { description: 'Correlation id of the request that placed the order; its events carry it too.' })
  correlationId!: string;
}

@ObjectType('OrderEdge')
export class OrderEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Order)
  node!: Order;
}

@ObjectType('OrderConnection')
export class OrderConnection {
  @Field(() => Int)
  totalCount!: number;

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => [OrderEdge])
  edges!: OrderEdge[];
}
