import { Directive, Field, ObjectType } from 'type-graphql';

/** The catalog's entity, extended here with stock; the item master's fields are resolved in catalog. */
@Directive('@key(fields: "sku")')
@ObjectType('ProductVariant')
export class ProductVariant {
  @Field(() => String)
  sku!: string;
}
