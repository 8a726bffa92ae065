import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../common/federation.js';
import type { Logger } from '../../common/logger.js';
import { createSubgraphService, type SubgraphService } from '../../common/service.js';
import { AvailabilityResolver } from './availability.resolver.js';
import { createInventoryLoaders, type InventoryContext } from './context.js';
import { InventoryLevelResolver } from './inventory-level.resolver.js';
import { resolveLocationReference } from './location.reference.js';
import { LocationResolver } from './location.resolver.js';
import type { InventoryPorts } from './ports.js';
import { ProductVariant } from './variant.js';
import { resolveVariantReference } from './variant.reference.js';
import { VariantResolver } from './variant.resolver.js';

export interface InventoryDeps extends InventoryPorts {
  /** `available` at or under this is LOW_STOCK. */
  lowStockThreshold: number;
  logger: Logger;
}

export function buildInventorySchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    // ProductVariant is mostly reached through `_entities`, so it must not depend on being referenced.
    { resolvers: [LocationResolver, InventoryLevelResolver, VariantResolver, AvailabilityResolver], orphanedTypes: [ProductVariant] },
    {
      Location: { __resolveReference: resolveLocationReference },
      ProductVariant: { __resolveReference: resolveVariantReference },
    },
  );
}

/** The inventory subgraph (systems of record: POS and WMS for sites and stock, ERP for stock policy), built but not listening. */
export async function createInventorySubgraph(deps: InventoryDeps): Promise<SubgraphService> {
  const ports: InventoryPorts = { locations: deps.locations, stock: deps.stock, policies: deps.policies };
  return createSubgraphService<InventoryContext>({
    name: 'inventory',
    schema: await buildInventorySchema(),
    logger: deps.logger,
    context: (base) => ({ ...base, loaders: createInventoryLoaders(ports), lowStockThreshold: deps.lowStockThreshold }),
  });
}
