import type { MasterVariant } from '../../../common/master-data/model.js';
import type { ItemMasterReadModel } from '../../../common/master-data/store.js';
import type { CatalogVariant, ItemMasterPort, ProductQuery } from '../ports.js';

const toVariant = (v: MasterVariant): CatalogVariant => ({ sku: v.sku, productId: v.productId, name: v.name, color: v.color, size: v.size, price: v.price, status: v.status });

/**
 * The item master from its read model (synchronized from the ERP's change feed): every catalog read is answered from
 * this process's memory, so an ERP that is down, slow or rate-limited costs the storefront nothing.
 */
export class ReadModelItemMaster implements ItemMasterPort {
  constructor(private readonly store: ItemMasterReadModel) {}

  async getProducts(ids: readonly string[]) {
    return this.store.getProducts(ids);
  }

  async getVariants(skus: readonly string[]) {
    return this.store.getVariants(skus).map((v) => (v ? toVariant(v) : null));
  }

  async getVariantsByProduct(productIds: readonly string[]) {
    return this.store.getVariantsByProduct(productIds).map((list) => list.map(toVariant));
  }

  async searchProducts(query: ProductQuery) {
    return this.store.searchProducts(query);
  }
}
