import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../common/federation.js';
import type { Logger } from '../../common/logger.js';
import { createSubgraphService, type SubgraphSecurity, type SubgraphService } from '../../common/service.js';
import { createCatalogLoaders, type CatalogContext } from './context.js';
import type { ItemMasterPort } from './ports.js';
import { resolveProductReference, resolveVariantReference } from './product.reference.js';
import { ProductResolver } from './product.resolver.js';
import { VariantResolver } from './variant.resolver.js';
import type { SystemStatusPort } from './status/ports.js';
import { SystemStatusResolver } from './status/system-status.resolver.js';

export interface CatalogDeps {
  itemMaster: ItemMasterPort;
  /** The systems' health and the read models' freshness (`systemStatus`, `masterDataExceptions`). */
  status: SystemStatusPort;
  logger: Logger;
  /** Token verification and production settings. @default every caller anonymous, development settings */
  security?: SubgraphSecurity | undefined;
}

export function buildCatalogSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    { resolvers: [ProductResolver, VariantResolver, SystemStatusResolver] },
    {
      Product: { __resolveReference: resolveProductReference },
      ProductVariant: { __resolveReference: resolveVariantReference },
    },
  );
}

/** The catalog subgraph (system of record: the ERP item master, served from its read model), built but not listening. */
export async function createCatalogSubgraph(deps: CatalogDeps): Promise<SubgraphService> {
  return createSubgraphService<CatalogContext>({
    name: 'catalog',
    schema: await buildCatalogSchema(),
    logger: deps.logger,
    ...deps.security,
    context: (base) => ({ ...base, itemMaster: deps.itemMaster, status: deps.status, loaders: createCatalogLoaders(deps.itemMaster) }),
  });
}
