import type { SubgraphService } from '../../common/service.js';
import type { SubgraphEnvironment } from '../environment.js';
import { SandboxErpStockPolicies } from './adapters/sandbox-erp-stock-policies.js';
import { SandboxPosStores } from './adapters/sandbox-pos-stores.js';
import { SandboxWmsWarehouses } from './adapters/sandbox-wms-warehouses.js';
import { createInventorySubgraph } from './index.js';
import type { InventoryPorts } from './ports.js';

/** The ports over the environment's systems: stores from the POS, warehouses from the WMS, policy from the ERP. */
export function inventoryPortsFrom(env: Pick<SubgraphEnvironment, 'systems' | 'resilience'>): InventoryPorts {
  const stores = new SandboxPosStores(env.systems.pos, env.resilience);
  const warehouses = new SandboxWmsWarehouses(env.systems.wms, env.resilience);
  return {
    locations: { STORE: stores, WAREHOUSE: warehouses },
    stock: { STORE: stores, WAREHOUSE: warehouses },
    policies: new SandboxErpStockPolicies(env.systems.erp, env.resilience),
  };
}

export function createInventoryFromEnvironment(env: SubgraphEnvironment): Promise<SubgraphService> {
  return createInventorySubgraph({
    ...inventoryPortsFrom(env),
    lowStockThreshold: env.config.lowStockThreshold,
    logger: env.logger.child({ service: 'inventory' }),
  });
}
