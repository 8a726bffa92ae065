import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLSchema } from 'graphql';
import { NODE_TYPES, type NodeTypeName } from '../../common/global-id.js';
import type { ScopedContext } from '../../common/http.js';
import type { Logger } from '../../common/logger.js';
import { createSubgraphService, type SubgraphSecurity, type SubgraphService } from '../../common/service.js';
import { nodeOf, nodesOf, referenceResolver, skuOf } from './node.resolver.js';
import { NODES_TYPE_DEFS } from './schema.js';

export interface NodesDeps {
  logger: Logger;
  /** Token verification and production settings. @default every caller anonymous, development settings */
  security?: SubgraphSecurity | undefined;
}

export function buildNodesSchema(): Promise<GraphQLSchema> {
  const entities = Object.fromEntries((Object.keys(NODE_TYPES) as NodeTypeName[]).map((type) => [type, { __resolveReference: referenceResolver(type) }]));
  return Promise.resolve(
    buildSubgraphSchema({
      typeDefs: NODES_TYPE_DEFS,
      resolvers: {
        Query: {
          node: (_: unknown, args: { id: string }) => nodeOf(args.id),
          nodes: (_: unknown, args: { ids: string[] }) => nodesOf(args.ids),
        },
        Node: { __resolveType: (node: { __typename: string }) => node.__typename },
        ...entities,
        ProductVariant: { ...entities.ProductVariant, sku: (variant: { id: string; sku?: string }) => variant.sku ?? skuOf(variant) },
      } as never,
    }),
  );
}

/**
 * The nodes subgraph: `node(id:)` and `nodes(ids:)` over every Node type. It holds no system of record: a global id
 * names the type and key, and the gateway takes it on to the subgraph that owns the type (whose reference resolver
 * applies the same row rules as its root field). Built but not listening.
 */
export async function createNodesSubgraph(deps: NodesDeps): Promise<SubgraphService> {
  return createSubgraphService<ScopedContext>({
    name: 'nodes',
    schema: await buildNodesSchema(),
    logger: deps.logger,
    ...deps.security,
    context: (base) => ({ ...base }),
  });
}
