import 'reflect-metadata';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { parse, type GraphQLSchema } from 'graphql';
import { buildSchema, createResolversMap, type BuildSchemaOptions } from 'type-graphql';

/** Reference resolvers per entity type name: `{ Product: { __resolveReference(ref, ctx) {...} } }`. */
export type ReferenceResolvers = Record<string, { __resolveReference: (reference: never, context: never) => unknown }>;

/**
 * type-graphql wants a PubSub as soon as one resolver has a `@Subscription`, even when every subscription brings
 * its own `subscribe` function. Ours all do (a feed over the event backbone that filters at the source), so a
 * topic-based subscription is a programming error, refused when it is first used.
 */
const NO_TOPICS: NonNullable<BuildSchemaOptions['pubSub']> = {
  publish() {
    throw new Error('topic-based subscriptions are not supported here: give @Subscription a `subscribe` function');
  },
  subscribe() {
    throw new Error('topic-based subscriptions are not supported here: give @Subscription a `subscribe` function');
  },
};

const FEDERATION_LINK = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@inaccessible", "@authenticated", "@requiresScopes", "@policy"])`;

/**
 * Turn a type-graphql schema into an Apollo subgraph schema. type-graphql builds the types and resolvers;
 * its SDL (with the federation directives declared through `@Directive`) is handed to `buildSubgraphSchema`
 * together with the resolver map, and the entities' `__resolveReference` functions are merged in. Subscription
 * fields keep their `subscribe` functions (type-graphql's map gives `{ subscribe, resolve }` for them, and
 * `buildSubgraphSchema` sets both).
 */
export async function buildFederatedSchema(options: Omit<BuildSchemaOptions, 'skipCheck'>, referenceResolvers: ReferenceResolvers = {}): Promise<GraphQLSchema> {
  // skipCheck: a subgraph may have no root query of its own (it only extends entities); buildSubgraphSchema
  // below validates the final schema anyway.
  const schema = await buildSchema({ pubSub: NO_TOPICS, ...options, validate: false, skipCheck: true });
  const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  for (const [typeName, reference] of Object.entries(referenceResolvers)) {
    resolvers[typeName] = { ...(resolvers[typeName] ?? {}), ...reference };
  }
  return buildSubgraphSchema({
    typeDefs: parse(`${FEDERATION_LINK}\n${printSchemaWithDirectives(schema)}`),
    resolvers: resolvers as never,
  });
}
