import type { SubgraphService } from '../../common/service.js';
import type { SubgraphEnvironment } from '../environment.js';
import { SandboxCustomerMaster } from './adapters/sandbox-customer-master.js';
import { createCustomersSubgraph } from './index.js';

export function createCustomersFromEnvironment(env: SubgraphEnvironment): Promise<SubgraphService> {
  return createCustomersSubgraph({
    customerMaster: new SandboxCustomerMaster(env.systems.crm, env.resilience),
    logger: env.logger.child({ service: 'customers' }),
  });
}
