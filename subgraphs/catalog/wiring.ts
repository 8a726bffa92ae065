import type { SubgraphService } from '../../common/service.js';
import { securityOf, type SubgraphEnvironment } from '../environment.js';
import { SandboxItemMaster } from './adapters/sandbox-item-master.js';
import { createCatalogSubgraph } from './index.js';

export function createCatalogFromEnvironment(env: SubgraphEnvironment): Promise<SubgraphService> {
  return createCatalogSubgraph({
    itemMaster: new SandboxItemMaster(env.systems.erp, env.resilience),
    logger: env.logger.child({ service: 'catalog' }),
    security: securityOf(env),
  });
}
