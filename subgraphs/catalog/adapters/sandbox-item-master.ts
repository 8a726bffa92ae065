import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { ErpVariant } from '../../../sandbox/model.js';
import type { SandboxErp } from '../../../sandbox/systems.js';
import type { CatalogVariant, ItemMasterPort, ProductQuery } from '../ports.js';

const toVariant = (v: ErpVariant): CatalogVariant => ({
  sku: v.sku,
  productId: v.productId,
  name: v.name,
  color: v.color,
  size: v.size,
  price: { minor: v.priceMinor, currency: v.currency },
});

/** The item master over the sandbox ERP (in process or over HTTP): one ERP call per port call. */
export class SandboxItemMaster implements ItemMasterPort {
  private readonly erp: SandboxErp;
  constructor(erp: SandboxErp, resilience: ResilienceRegistry) {
    this.erp = resilience.wrap('erp', erp);
  }

  getProducts(ids: readonly string[]) {
    return this.erp.getProducts(ids);
  }

  async getVariants(skus: readonly string[]) {
    return (await this.erp.getVariants(skus)).map((v) => (v ? toVariant(v) : null));
  }

  async getVariantsByProduct(productIds: readonly string[]) {
    return (await this.erp.getVariantsByProduct(productIds)).map((list) => list.map(toVariant));
  }

  searchProducts(query: ProductQuery) {
    return this.erp.searchProducts(query);
  }
}
