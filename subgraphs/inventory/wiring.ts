import type { SubgraphService } from '../../common/service.js';
import { outboxOf, securityOf, type SubgraphEnvironment } from '../environment.js';
import { ReadModelStockPolicies } from './adapters/read-model-stock-policies.js';
import { SandboxPosStores } from './adapters/sandbox-pos-stores.js';
import { SandboxWmsWarehouses } from './adapters/sandbox-wms-warehouses.js';
import { DefaultChannelAllocationRule } from '../../common/channels/default-channel-allocation-rule.js';
import { createInventorySubgraph, type InventoryWriteDeps } from './index.js';
import type { InventoryPorts } from './ports.js';
import { ReadModelItemMaster } from './writes/read-model-item-master.js';
import { SandboxStockWriter } from './writes/sandbox-adapters.js';
import { SandboxCommittedOrders, SandboxExceptionRegister } from './offline/sandbox-adapters.js';
import { SandboxMarketplaceListings } from './marketplace/sandbox-marketplace-listings.js';

/** The ports over the environment's systems: stores from the POS, warehouses from the WMS, policy from the ERP's read model. */
export function inventoryPortsFrom(env: Pick<SubgraphEnvironment, 'systems' | 'resilience' | 'masterData'>): InventoryPorts {
  const stores = new SandboxPosStores(env.systems.pos, env.resilience);
  const warehouses = new SandboxWmsWarehouses(env.systems.wms, env.resilience);
  return {
    locations: { STORE: stores, WAREHOUSE: warehouses },
    stock: { STORE: stores, WAREHOUSE: warehouses },
    policies: new ReadModelStockPolicies(env.masterData.store),
  };
}

/** The write side over the same systems: stock moves and reservations at the POS (stores) or WMS (warehouses). */
export function inventoryWritesFrom(env: Pick<SubgraphEnvironment, 'systems' | 'resilience' | 'idempotency' | 'backbone' | 'outbox' | 'masterData'>): InventoryWriteDeps {
  return {
    items: new ReadModelItemMaster(env.masterData.store),
    writers: { STORE: new SandboxStockWriter('pos', env.systems.pos, env.resilience), WAREHOUSE: new SandboxStockWriter('wms', env.systems.wms, env.resilience) },
    committedOrders: new SandboxCommittedOrders(env.systems.ecom, env.resilience),
    exceptions: new SandboxExceptionRegister(env.systems.ecom, env.resilience),
    idempotency: env.idempotency,
    backbone: env.backbone,
    events: outboxOf(env),
  };
}

export function createInventoryFromEnvironment(env: SubgraphEnvironment): Promise<SubgraphService> {
  return createInventorySubgraph({
    ...inventoryPortsFrom(env),
    lowStockThreshold: env.config.lowStockThreshold,
    writes: inventoryWritesFrom(env),
    logger: env.logger.child({ service: 'inventory' }),
    security: securityOf(env),
    marketplaceListings: new SandboxMarketplaceListings(env.systems.marketplace, env.resilience),
    channelRule: new DefaultChannelAllocationRule(env.config.channels),
  });
}
