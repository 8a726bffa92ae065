import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar, Money } from '../../common/graphql-types.js';
import type { InvoiceStatusCode } from './ports.js';

export const InvoiceStatus: { readonly [K in InvoiceStatusCode]: K } = { ISSUED: 'ISSUED', PAID: 'PAID', CREDITED: 'CREDITED' };
export type InvoiceStatus = InvoiceStatusCode;

registerEnumType(InvoiceStatus, {
  name: 'InvoiceStatus',
  description: 'Where an invoice stands in the ERP.',
  valuesConfig: { CREDITED: { description: 'Cancelled by a credit note, e.g. after a full return.' } },
});

@ObjectType('Invoice', { description: 'An invoice the ERP issued for an order.' })
export class Invoice {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'The invoice number printed on the document, e.g. "INV-2026-000123".' })
  number!: string;

  @Field(() => InvoiceStatus)
  status!: InvoiceStatus;

  @Field(() => Money)
  total!: Money;

  @Field(() => Money, { nullable: true, description: 'The tax included in total, as printed on the invoice; null on invoices issued before tax.' })
  tax!: Money | null;

  @Field(() => DateTimeScalar)
  issuedAt!: string;
}
