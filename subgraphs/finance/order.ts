import { Directive, Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import type { FinancialStatusCode } from './financial-status.js';

export const FinancialStatus: { readonly [K in FinancialStatusCode]: K } = {
  PENDING: 'PENDING',
  AUTHORIZED: 'AUTHORIZED',
  PAID: 'PAID',
  PARTIALLY_REFUNDED: 'PARTIALLY_REFUNDED',
  REFUNDED: 'REFUNDED',
  VOIDED: 'VOIDED',
};
export type FinancialStatus = FinancialStatusCode;

registerEnumType(FinancialStatus, {
  name: 'FinancialStatus',
  description: "The order's money position, derived from its PSP payments and refunds.",
  valuesConfig: {
    PENDING: { description: 'No payment yet.' },
    AUTHORIZED: { description: 'Funds reserved, nothing captured.' },
    PAID: { description: 'Captured, nothing refunded.' },
    PARTIALLY_REFUNDED: { description: 'Part of the captured amount refunded.' },
    REFUNDED: { description: 'Everything captured has been refunded.' },
    VOIDED: { description: 'Every payment voided or declined.' },
  },
});

/**
 * The orders subgraph owns Order and decides whether one exists; finance only adds the money fields, so its
 * Order is the key alone. No description: composition would otherwise pick one of two, and the owner's is right.
 */
@Directive('@key(fields: "id")')
@ObjectType('Order')
export class Order {
  @Field(() => ID)
  id!: string;
}
