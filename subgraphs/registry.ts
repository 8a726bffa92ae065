import type { GraphQLSchema } from 'graphql';
import type { SubgraphName } from '../common/config.js';
import type { SubgraphService } from '../common/service.js';
import type { SubgraphEnvironment } from './environment.js';
import { buildCatalogSchema } from './catalog/index.js';
import { createCatalogFromEnvironment } from './catalog/wiring.js';
import { buildCustomersSchema } from './customers/index.js';
import { createCustomersFromEnvironment } from './customers/wiring.js';
import { buildFinanceSchema } from './finance/index.js';
import { createFinanceFromEnvironment } from './finance/wiring.js';
import { buildInventorySchema } from './inventory/index.js';
import { createInventoryFromEnvironment } from './inventory/wiring.js';
import { buildNodesSchema } from './nodes/index.js';
import { createNodesFromEnvironment } from './nodes/wiring.js';
import { buildOrdersSchema } from './orders/index.js';
import { createOrdersFromEnvironment } from './orders/wiring.js';

/**
 * The one place that knows every subgraph: used by the launcher and by composition. Subgraphs never import
 * each other; they meet in the supergraph and on the event backbone.
 */
export interface SubgraphModule {
  buildSchema(): Promise<GraphQLSchema>;
  create(env: SubgraphEnvironment): Promise<SubgraphService>;
  /**
   * For a subgraph that reads no system of record: how it starts as a lone process from these alone, without
   * systems, seed data, infrastructure or read models (which cost a lone process seconds and memory at start).
   */
  createAlone?(env: Pick<SubgraphEnvironment, 'config' | 'logger' | 'authenticate' | 'metrics'>): Promise<SubgraphService>;
}

export const SUBGRAPHS: Record<SubgraphName, SubgraphModule> = {
  catalog: { buildSchema: buildCatalogSchema, create: createCatalogFromEnvironment },
  inventory: { buildSchema: buildInventorySchema, create: createInventoryFromEnvironment },
  orders: { buildSchema: buildOrdersSchema, create: createOrdersFromEnvironment },
  customers: { buildSchema: buildCustomersSchema, create: createCustomersFromEnvironment },
  finance: { buildSchema: buildFinanceSchema, create: createFinanceFromEnvironment },
  nodes: { buildSchema: buildNodesSchema, create: createNodesFromEnvironment, createAlone: createNodesFromEnvironment },
};
