import type { SubgraphService } from '../../common/service.js';
import { securityOf, type SubgraphEnvironment } from '../environment.js';
import { SandboxCustomerMaster } from './adapters/sandbox-customer-master.js';
import { SandboxServedLocations } from './adapters/sandbox-served-locations.js';
import { createCustomersSubgraph } from './index.js';

export function createCustomersFromEnvironment(env: SubgraphEnvironment): Promise<SubgraphService> {
  return createCustomersSubgraph({
    customerMaster: new SandboxCustomerMaster(env.systems.crm, env.resilience),
    servedLocations: new SandboxServedLocations(env.systems, env.resilience),
    logger: env.logger.child({ service: 'customers' }),
    security: securityOf(env),
  });
}
