import { Arg, Ctx, Directive, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { toGlobalId } from '../../common/global-id.js';
import type { CatalogContext } from './context.js';
import { toProduct, toVariant } from './mapping.js';
import { Product } from './product.js';
import { ProductVariant } from './variant.js';

@Resolver(() => ProductVariant)
export class VariantResolver {
  @Query(() => ProductVariant, { nullable: true, description: 'A variant by SKU; null when unknown.' })
  async variant(@Arg('sku', () => String) sku: string, @Ctx() ctx: CatalogContext): Promise<ProductVariant | null> {
    const variant = await ctx.loaders.variant.load(sku);
    return variant ? toVariant(variant) : null;
  }

  /** Derived from the SKU, so catalog and inventory answer the same id without asking each other. */
  @Directive('@shareable')
  @FieldResolver(() => ID, { description: 'Its global id (Node); the SKU stays in `sku`.' })
  id(@Root() variant: ProductVariant): string {
    return toGlobalId('ProductVariant', variant.sku);
  }

  @FieldResolver(() => Product, { nullable: true })
  async product(@Root() variant: ProductVariant, @Ctx() ctx: CatalogContext): Promise<Product | null> {
    const product = await ctx.loaders.product.load(variant.productId);
    return product ? toProduct(product) : null;
  }
}
