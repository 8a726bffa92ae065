import type { OrderMarketplaceRecord } from '../../common/systems/records.js';
import { Directive, Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar, Money, PageInfo } from '../../common/graphql-types.js';
import { Customer } from './customer.js';
import { Channel, DeliveryMethod, OrderStatus } from './enums.js';
import { Location } from './location.js';
import { ProductVariant } from './variant.js';

export const TaxStatus = { CALCULATED: 'CALCULATED', ESTIMATED: 'ESTIMATED' } as const;
export type TaxStatus = (typeof TaxStatus)[keyof typeof TaxStatus];
registerEnumType(TaxStatus, { name: 'TaxStatus', description: 'CALCULATED: quoted by the tax engine; ESTIMATED: the engine did not answer and the outage policy estimated it.' });

export const TaxBasis = { ENGINE: 'ENGINE', LAST_RATE: 'LAST_RATE', DEFAULT_RATE: 'DEFAULT_RATE' } as const;
export type TaxBasis = (typeof TaxBasis)[keyof typeof TaxBasis];
registerEnumType(TaxBasis, { name: 'TaxBasis', description: 'Where the rate came from: the engine, the last rate quoted for the place, or the configured default of the country.' });

@ObjectType('LineTax', { description: 'The tax included in a line (prices are tax-inclusive), rounded per line.' })
export class LineTax {
  @Field(() => Float, { description: 'Percent, e.g. 19 or 7.25.' })
  ratePercent!: number;

  @Field(() => Money, { description: 'The tax included in lineTotal.' })
  amount!: Money;
}

@ObjectType('OrderTax', { description: 'How the order was taxed.' })
export class OrderTax {
  @Field(() => TaxStatus)
  status!: TaxStatus;

  @Field(() => TaxBasis)
  basis!: TaxBasis;

  @Field(() => Boolean, { description: 'An estimate is flagged for a person to check.' })
  reviewRequired!: boolean;

  @Field(() => String, { description: 'ISO 3166-1 alpha-2 country of the tax address.' })
  country!: string;

  @Field(() => String)
  postalCode!: string;

  @Field(() => String, { description: 'The tax jurisdiction, e.g. "DE" or "US-CA".' })
  jurisdiction!: string;
}

export type FulfillmentStatusCode = 'OPEN' | 'SHIPPED' | 'CANCELLED';
export const FulfillmentStatus: { readonly [K in FulfillmentStatusCode]: K } = { OPEN: 'OPEN', SHIPPED: 'SHIPPED', CANCELLED: 'CANCELLED' };
registerEnumType(FulfillmentStatus, { name: 'FulfillmentStatus', description: 'OPEN: still to leave its location; SHIPPED: left (or handed over); CANCELLED: the order was cancelled.' });

@ObjectType('FulfillmentLine')
export class FulfillmentLine {
  @Field(() => String)
  sku!: string;

  @Field(() => Int)
  quantity!: number;
}

@ObjectType('Fulfillment', { description: 'One shipment of an order: what leaves one location. An order no single location could take ships in several.' })
export class Fulfillment {
  @Field(() => ID, { description: '"f1", "f2", … in routing order (nearest first); unique within the order.' })
  id!: string;

  @Field(() => Location, { nullable: true })
  location!: Location | null;

  @Field(() => [FulfillmentLine])
  lines!: FulfillmentLine[];

  @Field(() => FulfillmentStatus)
  status!: FulfillmentStatusCode;
}

@ObjectType('ShippingAddress')
export class ShippingAddress {
  @Field(() => String)
  country!: string;

  @Field(() => String)
  postalCode!: string;

  @Field(() => String)
  city!: string;

  @Field(() => String)
  line1!: string;
}

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

  @Field(() => LineTax, { nullable: true, description: 'Null on orders placed before tax was quoted.' })
  tax!: LineTax | null;

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

  @Field(() => Money, { description: 'Sum of the line totals (tax included).' })
  total!: Money;

  @Field(() => Money, { nullable: true, description: 'total − taxTotal: the net amount. Null on orders placed before tax was quoted.' })
  subtotal!: Money | null;

  @Field(() => Money, { nullable: true, description: 'Sum of the lines\' tax (included in total).' })
  taxTotal!: Money | null;

  @Field(() => OrderTax, { nullable: true })
  tax!: OrderTax | null;

  @Field(() => ShippingAddress, { nullable: true, description: 'Where a shipped order goes, when the checkout was given one.' })
  shippingAddress!: ShippingAddress | null;

  @Field(() => [Fulfillment], { description: 'Its shipments: one for an order that leaves from one location (or is picked up), several for a split order, each with its own lines and status.' })
  fulfillments!: Fulfillment[];

  @Field(() => DateTimeScalar)
  placedAt!: string;

  @Field(() => String, { description: 'Correlation id of the request that placed the order; its events carry it too.' })
  correlationId!: string;

  /** Not a field: what `marketplace` is resolved from (OrderResolver). */
  marketplaceSource!: OrderMarketplaceRecord | null;
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
