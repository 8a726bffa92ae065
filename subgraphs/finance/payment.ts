import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar, Money } from '../../common/graphql-types.js';
import type { PaymentMethodCode, PaymentStatusCode } from './ports.js';

// The graph's enums are the port's code sets; the mapped types make the compiler flag a code added on either side.
export const PaymentStatus: { readonly [K in PaymentStatusCode]: K } = { AUTHORIZED: 'AUTHORIZED', CAPTURED: 'CAPTURED', VOIDED: 'VOIDED', DECLINED: 'DECLINED' };
export type PaymentStatus = PaymentStatusCode;

export const PaymentMethod: { readonly [K in PaymentMethodCode]: K } = { CARD: 'CARD', PAYPAL: 'PAYPAL', KLARNA: 'KLARNA', GIFT_CARD: 'GIFT_CARD', CASH: 'CASH' };
export type PaymentMethod = PaymentMethodCode;

registerEnumType(PaymentStatus, {
  name: 'PaymentStatus',
  description: 'Where a payment stands at the payment service provider.',
  valuesConfig: {
    AUTHORIZED: { description: 'Funds reserved, not yet taken.' },
    CAPTURED: { description: 'Funds taken.' },
    VOIDED: { description: 'Authorization released without capture.' },
    DECLINED: { description: 'Refused by the provider or the issuer.' },
  },
});
registerEnumType(PaymentMethod, { name: 'PaymentMethod', description: 'How the customer paid.' });

@ObjectType('Payment', { description: 'A payment of an order at the payment service provider.' })
export class Payment {
  @Field(() => ID)
  id!: string;

  @Field(() => PaymentStatus)
  status!: PaymentStatus;

  @Field(() => PaymentMethod)
  method!: PaymentMethod;

  @Field(() => Money, { description: 'Authorized amount; also the captured amount once CAPTURED.' })
  amount!: Money;

  @Field(() => DateTimeScalar)
  createdAt!: string;
}
