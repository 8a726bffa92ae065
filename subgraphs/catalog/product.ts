import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';
import { PageInfo } from '../../common/graphql-types.js';

@Directive('@key(fields: "id")')
@ObjectType('Product', { description: 'A product of the item master; its variants are the sellable SKUs.' })
export class Product {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  description!: string;

  @Field(() => String)
  brand!: string;

  @Field(() => String, { description: 'Category key, e.g. "shoes".' })
  category!: string;
}

@ObjectType('ProductEdge')
export class ProductEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Product)
  node!: Product;
}

@ObjectType('ProductConnection')
export class ProductConnection {
  @Field(() => Int)
  totalCount!: number;

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => [ProductEdge])
  edges!: ProductEdge[];
}
