import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { fromGlobalId, toGlobalId } from '../../common/global-id.js';
import { badInput, checkFirst, decodeCursor, toPage } from '../../common/pagination.js';
import type { CatalogContext } from './context.js';
import { Product, ProductConnection } from './product.js';
import { toProduct, toVariant } from './mapping.js';
import { ProductVariant } from './variant.js';

/** Longest free-text query accepted; longer input is a client bug, not a search. */
export const MAX_QUERY_LENGTH = 200;

/** An args class rather than four `@Arg`s: type-graphql prints separate `@Arg`s in reverse order. */
@ArgsType()
export class ProductsArgs {
  @Field(() => String, { nullable: true, description: 'Words that must all appear in name, brand, category or description.' })
  query!: string | null;

  @Field(() => String, { nullable: true, description: 'A category key, e.g. "shoes".' })
  category!: string | null;

  @Field(() => Int, { nullable: true, defaultValue: 20 })
  first!: number | null;

  @Field(() => String, { nullable: true })
  after!: string | null;
}

@Resolver(() => Product)
export class ProductResolver {
  @Query(() => Product, { nullable: true, description: 'A product by id; null when the item master has no such product.' })
  async product(@Arg('id', () => ID, { description: 'Its global id, or (as before global ids) its native id.' }) id: string, @Ctx() ctx: CatalogContext): Promise<Product | null> {
    const product = await ctx.loaders.product.load(fromGlobalId('Product', id));
    return product ? toProduct(product) : null;
  }

  @Query(() => ProductConnection, { description: `Products matching every word of \`query\` and the category, by id. \`first\` is 0 to 100 (default 20).` })
  async products(@Args(() => ProductsArgs) { query, category, first, after }: ProductsArgs, @Ctx() ctx: CatalogContext): Promise<ProductConnection> {
    if (query && query.length > MAX_QUERY_LENGTH) throw badInput(`query must be at most ${MAX_QUERY_LENGTH} characters`, 'query');
    if (category && category.length > MAX_QUERY_LENGTH) throw badInput(`category must be at most ${MAX_QUERY_LENGTH} characters`, 'category');
    const limit = checkFirst(first, 20);
    const offset = decodeCursor(after);
    const result = await ctx.itemMaster.searchProducts({ query, category, offset, limit });
    // Prime the loader so a product referenced again in this request costs no second call.
    for (const p of result.products) ctx.loaders.product.prime(p.id, p);
    return toPage(result.products.map(toProduct), offset, result.total);
  }

  /** The object keeps its native id; only the GraphQL field answers the global one. */
  @FieldResolver(() => ID)
  id(@Root() product: Product): string {
    return toGlobalId('Product', product.id);
  }

  @FieldResolver(() => [ProductVariant])
  async variants(@Root() product: Product, @Ctx() ctx: CatalogContext): Promise<ProductVariant[]> {
    return (await ctx.loaders.variantsByProduct.load(product.id)).map(toVariant);
  }
}
