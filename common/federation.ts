import 'reflect-metadata';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { parse, type GraphQLSchema } from 'graphql';
import { buildSchema, createResolversMap, type BuildSchemaOptions } from 'type-graphql';

/** Reference resolvers per entity type name: `{ Product: { __resolveReference(ref, ctx) {...} } }`. */
export type ReferenceResolvers = Record<string, { __resolveReference: (reference: never, context: never) => unknown }>;

const FEDERATION_LINK = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@inaccessible"])`;

/**
 * Turn a type-graphql schema into an Apollo subgraph schema. type-graphql builds the types and resolvers;
 * its SDL (with the federation directives declared through `@Directive`) is handed to `buildSubgraphSchema`
 * together with the resolver map, and the entities' `__resolveReference` functions are merged in.
 */
export async function buildFederatedSchema(options: Omit<BuildSchemaOptions, 'skipCheck'>, referenceResolvers: ReferenceResolvers = {}): Promise<GraphQLSchema> {
  // skipCheck: a subgraph may have no root query of its own (it only extends entities); buildSubgraphSchema
  // below validates the final schema anyway.
  const schema = await buildSchema({ ...options, validate: false, skipCheck: true });
  const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  for (const [typeName, reference] of Object.entries(referenceResolvers)) {
    resolvers[typeName] = { ...(resolvers[typeName] ?? {}), ...reference };
  }
  return buildSubgraphSchema({
    typeDefs: parse(`${FEDERATION_LINK}\n${printSchemaWithDirectives(schema)}`),
    resolvers: resolvers as never,
  });
}
