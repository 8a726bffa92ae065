import { Money } from '../../common/graphql-types.js';
import type { CatalogProduct, CatalogVariant } from './ports.js';
import { Product } from './product.js';
import { ProductVariant } from './variant.js';

export function toProduct(p: CatalogProduct): Product {
  return Object.assign(new Product(), { id: p.id, name: p.name, description: p.description, brand: p.brand, category: p.category });
}

export function toVariant(v: CatalogVariant): ProductVariant {
  return Object.assign(new ProductVariant(), { sku: v.sku, name: v.name, color: v.color, size: v.size, price: Money.of(v.price), status: v.status, productId: v.productId });
}
