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
  /** DISCONTINUED: still shown (past orders name it), no longer sold. */
  status: 'ACTIVE' | 'DISCONTINUED';
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
 * The item master: products, their variants, list prices and status. System of record: the ERP; the graph reads
 * its operational read model (common/master-data), synchronized from the ERP's change feed, never the ERP itself.
 *
 * Contract: every batch method returns one entry per key, in key order (null or [] for an unknown key);
 * `searchProducts` orders by product id and reports the total number of matches. Answers are as fresh as the read
 * model's position (`systemStatus` shows it); they do not fail while the ERP is down.
 */
export interface ItemMasterPort {
  getProducts(ids: readonly string[]): Promise<(CatalogProduct | null)[]>;
  getVariants(skus: readonly string[]): Promise<(CatalogVariant | null)[]>;
  getVariantsByProduct(productIds: readonly string[]): Promise<CatalogVariant[][]>;
  searchProducts(query: ProductQuery): Promise<{ total: number; products: CatalogProduct[] }>;
}
