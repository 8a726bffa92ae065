import { Directive, Field, ObjectType, registerEnumType } from 'type-graphql';
import { Money } from '../../common/graphql-types.js';
import type { CatalogVariant } from './ports.js';

type VariantStatusCode = CatalogVariant['status'];
export const VariantStatus: { readonly [K in VariantStatusCode]: K } = { ACTIVE: 'ACTIVE', DISCONTINUED: 'DISCONTINUED' };
registerEnumType(VariantStatus, { name: 'VariantStatus', description: 'Whether a variant is sold: DISCONTINUED ones are shown (past orders name them) but cannot be ordered.' });

@Directive('@key(fields: "sku")')
@ObjectType('ProductVariant', { description: 'A sellable SKU of a product (a colour and size), with its list price.' })
export class ProductVariant {
  @Field(() => String)
  sku!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  color!: string;

  @Field(() => String)
  size!: string;

  @Field(() => Money)
  price!: Money;

  @Field(() => VariantStatus)
  status!: VariantStatusCode;

  /** Not exposed: the resolver for `product` uses it. */
  productId!: string;
}

