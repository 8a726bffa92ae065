import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { UserError } from '../../../common/graphql-types.js';
import { Channel, DeliveryMethod } from '../enums.js';
import type { ChannelCode, DeliveryMethodCode } from '../ports.js';
import { Order } from '../order.js';
import type { PaymentMethodCode } from './ports.js';

export const PaymentMethod: { readonly [K in PaymentMethodCode]: K } = { CARD: 'CARD', PAYPAL: 'PAYPAL', KLARNA: 'KLARNA', GIFT_CARD: 'GIFT_CARD', CASH: 'CASH' };
registerEnumType(PaymentMethod, { name: 'PaymentMethod', description: 'How the customer paid.' });

@InputType('OrderLineInput')
export class OrderLineInput {
  @Field(() => String)
  sku!: string;

  @Field(() => Int, { description: '1 to 999.' })
  quantity!: number;
}

@InputType('ShippingAddressInput')
export class ShippingAddressInput {
  @Field(() => String, { description: 'ISO 3166-1 alpha-2, e.g. "DE".' })
  country!: string;

  @Field(() => String, { description: '2 to 10 letters, digits, spaces or dashes; with the country it decides the tax rate.' })
  postalCode!: string;

  @Field(() => String)
  city!: string;

  @Field(() => String, { description: 'Street and number.' })
  line1!: string;
}

@InputType('PlaceOrderInput')
export class PlaceOrderInput {
  @Field(() => String, { description: '1 to 255 characters. The same key with the same input returns the first result and creates nothing; kept 24 h, per caller.' })
  idempotencyKey!: string;

  @Field(() => Channel)
  channel!: ChannelCode;

  @Field(() => DeliveryMethod)
  deliveryMethod!: DeliveryMethodCode;

  @Field(() => ID, { nullable: true, description: 'The ordering customer; absent for a guest.' })
  customerId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Required for PICKUP: a store with pickupEnabled.' })
  pickupLocationId?: string | null;

  @Field(() => [OrderLineInput], { description: '1 to 100 lines, one per SKU.' })
  lines!: OrderLineInput[];

  @Field(() => PaymentMethod, { nullable: true, defaultValue: 'CARD' })
  paymentMethod?: PaymentMethodCode | null;

  @Field(() => String, { nullable: true, description: 'The PSP token of the payment. In the sandbox, `tok_decline` is always declined.' })
  paymentToken?: string | null;

  @Field(() => ShippingAddressInput, { nullable: true, description: 'Where a shipped order goes and is taxed; left out, it is taxed at the location it ships from. Not for PICKUP (taxed at the store).' })
  shippingAddress?: ShippingAddressInput | null;
}

@ObjectType('PlaceOrderPayload')
export class PlaceOrderPayload {
  @Field(() => Order, { nullable: true, description: 'The confirmed order; null when userErrors say why not.' })
  order!: Order | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}
