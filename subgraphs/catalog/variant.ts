import { Directive, Field, ObjectType } from 'type-graphql';
import { Money } from '../../common/graphql-types.js';

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

  /** Not exposed: the resolver for `product` uses it. */
  productId!: string;
}

