import type { SubgraphService } from '../../common/service.js';
import { outboxOf, securityOf, type SubgraphEnvironment } from '../environment.js';
import { SandboxCustomerMaster } from './adapters/sandbox-customer-master.js';
import { SandboxLoyaltyLedger } from './adapters/sandbox-loyalty-ledger.js';
import { SandboxLoyaltyOrders } from './adapters/sandbox-loyalty-orders.js';
import { SandboxServedLocations } from './adapters/sandbox-served-locations.js';
import { createCustomersSubgraph } from './index.js';

export function createCustomersFromEnvironment(env: SubgraphEnvironment): Promise<SubgraphService> {
  return createCustomersSubgraph({
    customerMaster: new SandboxCustomerMaster(env.systems.crm, env.resilience),
    servedLocations: new SandboxServedLocations(env.systems, env.resilience),
    loyaltyLedger: new SandboxLoyaltyLedger(env.systems.crm, env.resilience),
    loyaltyOrders: new SandboxLoyaltyOrders(env.systems, env.resilience),
    backbone: env.backbone,
    events: outboxOf(env),
    logger: env.logger.child({ service: 'customers' }),
    security: securityOf(env),
  });
}
