import { Directive, Field, ObjectType } from 'type-graphql';

/** Owned by catalog; this subgraph only names a SKU and lets the gateway fetch the rest there. */
@Directive('@key(fields: "sku", resolvable: false)')
@ObjectType('ProductVariant')
export class ProductVariant {
  @Field(() => String)
  sku!: string;

  static ref(sku: string): ProductVariant {
    return Object.assign(new ProductVariant(), { sku });
  }
}
