import type { ItemMasterReadModel, StockPolicyReadModel } from '../../../common/master-data/store.js';
import type { PriceListPort, SafetyStockPort } from './ports.js';

/*
 * Checkout's reads of ERP master data, from the read models synchronized from the ERP's change feed: an order is
 * accepted with the ERP down, slow or rate-limited, at the price a shopper was shown.
 */

export class ReadModelPriceList implements PriceListPort {
  constructor(private readonly store: ItemMasterReadModel) {}
  async getPrices(skus: readonly string[]) {
    return this.store.getVariants(skus).map((v) => (v ? { sku: v.sku, price: v.price, status: v.status } : null));
  }
}

export class ReadModelSafetyStock implements SafetyStockPort {
  constructor(private readonly store: StockPolicyReadModel) {}
  async safetyStock(locationId: string, skus: readonly string[]) {
    return this.store.getStockPolicies(skus.map((sku) => ({ sku, locationId }))).map((p) => p?.safetyStock ?? 0);
  }
}
