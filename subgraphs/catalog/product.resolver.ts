import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { badInput, checkFirst, decodeCursor, toPage } from '../../common/pagination.js';
import type { CatalogContext } from './context.js';
import { Product, ProductConnection } from './product.js';
import { toProduct, toVariant } from './mapping.js';
import { ProductVariant } from './variant.js';

/** Longest free-text query accepted; longer input is a client bug, not a search. */
export const MAX_QUERY_LENGTH = 200;

@Resolver(() => Product)
export class ProductResolver {
  @Query(() => Product, { nullable: true, description: 'A product by id; null when the item master has no such product.' })
  async product(@Arg('id', () => ID) id: string, @Ctx() ctx: CatalogContext): Promise<Product | null> {
    const product = await ctx.loaders.product.load(id);
    return product ? toProduct(product) : null;
  }

  @Query(() => ProductConnection, { description: `Products matching every word of \`query\` and the category, by id. \`first\` is 0 to 100 (default 20).` })
  async products(
    @Arg('query', () => String, { nullable: true }) query: string | null,
    @Arg('category', () => String, { nullable: true }) category: string | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: CatalogContext,
  ): Promise<ProductConnection> {
    if (query && query.length > MAX_QUERY_LENGTH) throw badInput(`query must be at most ${MAX_QUERY_LENGTH} characters`, 'query');
    if (category && category.length > MAX_QUERY_LENGTH) throw badInput(`category must be at most ${MAX_QUERY_LENGTH} characters`, 'category');
    const limit = checkFirst(first, 20);
    const offset = decodeCursor(after);
    const result = await ctx.itemMaster.searchProducts({ query, category, offset, limit });
    // Prime the loader so a product referenced again in this request costs no second call.
    for (const p of result.products) ctx.loaders.product.prime(p.id, p);
    return toPage(result.products.map(toProduct), offset, result.total);
  }

  @FieldResolver(() => [ProductVariant])
  async variants(@Root() product: Product, @Ctx() ctx: CatalogContext): Promise<ProductVariant[]> {
    return (await ctx.loaders.variantsByProduct.load(product.id)).map(toVariant);
  }
}
