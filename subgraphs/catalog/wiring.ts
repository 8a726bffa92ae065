import type { SubgraphService } from '../../common/service.js';
import { securityOf, type SubgraphEnvironment } from '../environment.js';
import { EnvironmentSystemStatus } from './adapters/environment-status.js';
import { ReadModelItemMaster } from './adapters/read-model-item-master.js';
import { createCatalogSubgraph } from './index.js';

export function createCatalogFromEnvironment(env: SubgraphEnvironment): Promise<SubgraphService> {
  return createCatalogSubgraph({
    itemMaster: new ReadModelItemMaster(env.masterData.store),
    status: new EnvironmentSystemStatus(env.resilience, env.masterData),
    logger: env.logger.child({ service: 'catalog' }),
    security: securityOf(env),
  });
}
