import type { MoneyValue } from '../../common/money.js';

export interface CatalogProduct {
  id: string;
  name: string;
  description: string;
  brand: string;
  category: string;
  skus: string[];
}

export interface CatalogVariant {
  sku: string;
  productId: string;
  name: string;
  color: string;
  size: string;
  price: MoneyValue;
}

export interface ProductQuery {
  /** Words that must all appear (case-insensitive) in name, brand, category or description. */
  query?: string | null | undefined;
  /** Exact category key, case-insensitive. */
  category?: string | null | undefined;
  offset: number;
  limit: number;
}

/**
 * The item master: products, their variants and list prices. System of record: the ERP.
 *
 * Contract: every batch method returns one entry per key, in key order (null or [] for an unknown key), in a
 * single call to the system; `searchProducts` orders by product id and reports the total number of matches.
 * A system failure rejects with a `SystemUnavailableError` (`ERP_UNAVAILABLE`).
 */
export interface ItemMasterPort {
  getProducts(ids: readonly string[]): Promise<(CatalogProduct | null)[]>;
  getVariants(skus: readonly string[]): Promise<(CatalogVariant | null)[]>;
  getVariantsByProduct(productIds: readonly string[]): Promise<CatalogVariant[][]>;
  searchProducts(query: ProductQuery): Promise<{ total: number; products: CatalogProduct[] }>;
}
