import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../common/federation.js';
import type { Logger } from '../../common/logger.js';
import { createSubgraphService, type SubgraphService } from '../../common/service.js';
import { createOrdersLoaders, type OrdersContext } from './context.js';
import { Customer } from './customer.js';
import { resolveCustomerReference } from './customer.reference.js';
import { CustomerResolver } from './customer.resolver.js';
import { Location } from './location.js';
import { resolveLocationReference } from './location.reference.js';
import { LocationResolver } from './location.resolver.js';
import { resolveOrderReference } from './order.reference.js';
import { OrderResolver } from './order.resolver.js';
import type { CheckoutDeps } from './checkout/checkout.service.js';
import { PlaceOrderResolver } from './checkout/place-order.resolver.js';
import type { LifecyclePorts } from './lifecycle/lifecycle.service.js';
import { OrderLifecycleResolver } from './lifecycle/order-lifecycle.resolver.js';
import type { OrdersPorts } from './ports.js';
import { ProductVariant } from './variant.js';

export interface OrdersDeps extends OrdersPorts {
  checkout: Omit<CheckoutDeps, 'loadOrder'>;
  lifecycle: LifecyclePorts;
  logger: Logger;
}

export function buildOrdersSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    {
      resolvers: [OrderResolver, LocationResolver, CustomerResolver, PlaceOrderResolver, OrderLifecycleResolver],
      // The stubs of other subgraphs' entities: the gateway reaches them through `_entities`.
      orphanedTypes: [Location, Customer, ProductVariant],
    },
    {
      Order: { __resolveReference: resolveOrderReference },
      Location: { __resolveReference: resolveLocationReference },
      Customer: { __resolveReference: resolveCustomerReference },
    },
  );
}

/** The orders subgraph (systems of record: POS and e-commerce for orders, WMS for shipments), built but not listening. */
export async function createOrdersSubgraph(deps: OrdersDeps): Promise<SubgraphService> {
  const { logger, checkout, lifecycle: lifecyclePorts, ...ports } = deps;
  const lifecycle: LifecyclePorts = { logger, ...lifecyclePorts };
  return createSubgraphService<OrdersContext>({
    name: 'orders',
    schema: await buildOrdersSchema(),
    logger,
    context: (base) => ({ ...base, ports, checkout, lifecycle, loaders: createOrdersLoaders(ports) }),
  });
}
