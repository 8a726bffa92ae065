import { fromGlobalId } from '../../common/global-id.js';
import type { CatalogContext } from './context.js';
import { toProduct, toVariant } from './mapping.js';

/** Entity references from other subgraphs, resolved through the same per-request loaders as queries. */
export async function resolveProductReference(reference: { id: string }, ctx: CatalogContext) {
  const product = await ctx.loaders.product.load(fromGlobalId('Product', reference.id));
  return product ? toProduct(product) : null;
}

export async function resolveVariantReference(reference: { sku: string }, ctx: CatalogContext) {
  const variant = await ctx.loaders.variant.load(reference.sku);
  return variant ? toVariant(variant) : null;
}
