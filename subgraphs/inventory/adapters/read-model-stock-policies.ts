import type { StockPolicyReadModel } from '../../../common/master-data/store.js';
import type { StockKey, StockPolicyPort } from '../ports.js';

/**
 * Stock policy (safety stock) and incoming transfers from their read model (synchronized from the ERP's change
 * feed): stock screens and availability never wait on the ERP.
 */
export class ReadModelStockPolicies implements StockPolicyPort {
  constructor(private readonly store: StockPolicyReadModel) {}

  async getStockPolicies(keys: readonly StockKey[]) {
    return this.store.getStockPolicies(keys).map((p) => (p ? { sku: p.sku, locationId: p.locationId, safetyStock: p.safetyStock, incoming: p.incoming } : null));
  }
}
