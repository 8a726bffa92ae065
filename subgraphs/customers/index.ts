import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../common/federation.js';
import type { Logger } from '../../common/logger.js';
import { createSubgraphService, type SubgraphSecurity, type SubgraphService } from '../../common/service.js';
import { createCustomerLoaders, type CustomersContext } from './context.js';
import { resolveCustomerReference } from './customer.reference.js';
import { CustomerResolver } from './customer.resolver.js';
import type { CustomerMasterPort, ServedLocationsPort } from './ports.js';

export interface CustomersDeps {
  customerMaster: CustomerMasterPort;
  servedLocations: ServedLocationsPort;
  logger: Logger;
  /** Token verification and production settings. @default every caller anonymous, development settings */
  security?: SubgraphSecurity | undefined;
}

export function buildCustomersSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema({ resolvers: [CustomerResolver] }, { Customer: { __resolveReference: resolveCustomerReference } });
}

/** The customers subgraph (system of record: CRM customer master), built but not listening. */
export async function createCustomersSubgraph(deps: CustomersDeps): Promise<SubgraphService> {
  return createSubgraphService<CustomersContext>({
    name: 'customers',
    schema: await buildCustomersSchema(),
    logger: deps.logger,
    ...deps.security,
    context: (base) => ({ ...base, customerMaster: deps.customerMaster, loaders: createCustomerLoaders(deps.customerMaster, deps.servedLocations) }),
  });
}
