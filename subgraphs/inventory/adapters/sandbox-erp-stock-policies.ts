import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { SandboxErp } from '../../../sandbox/systems.js';
import type { StockKey, StockPolicyPort } from '../ports.js';

/** Stock policy and incoming transfers over the sandbox ERP (in process or over HTTP): one ERP call per port call. */
export class SandboxErpStockPolicies implements StockPolicyPort {
  private readonly erp: SandboxErp;
  constructor(erp: SandboxErp, resilience: ResilienceRegistry) {
    this.erp = resilience.wrap('erp', erp);
  }

  async getStockPolicies(keys: readonly StockKey[]) {
    return (await this.erp.getStockPolicies(keys)).map((p) =>
      p ? { sku: p.sku, locationId: p.locationId, safetyStock: p.safetyStock, incoming: p.incoming } : null,
    );
  }
}
