import { parse } from 'graphql';

/*
 * Written as SDL rather than type-graphql classes: the whole subgraph is one federation entity interface and its
 * implementations, each no more than its key, and that is clearest said in the schema language itself.
 */
export const NODES_TYPE_DEFS = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  """
  An object with a global id (Relay's Node): \`node(id:)\` finds it again from the id alone. The id is opaque; it
  stays the same for the same object.
  """
  interface Node @key(fields: "id") {
    id: ID!
  }

  type Product implements Node @key(fields: "id") {
    id: ID!
  }

  # Also keyed by SKU (derived from the id), so the gateway can go on to catalog and inventory, which key it so.
  type ProductVariant implements Node @key(fields: "id") @key(fields: "sku") {
    id: ID!
    sku: String!
  }

  type Location implements Node @key(fields: "id") {
    id: ID!
  }

  type Customer implements Node @key(fields: "id") {
    id: ID!
  }

  type Order implements Node @key(fields: "id") {
    id: ID!
  }

  type InventoryLevel implements Node @key(fields: "id") {
    id: ID!
  }

  type Query {
    """
    The object with this global id; null for an id that is not one (native ids are not: they name no type). Whether the
    object exists, and what of it the caller may see, is answered by the subgraph that owns it, as for its own root
    field (\`product\`, \`order\`, \`customer\`, \`location\`): an object the caller may not see reads as null.
    """
    node(id: ID!): Node

    """\`node\` for each of \`ids\` (at most 100), in \`ids\` order: one entry per id, null where \`node\` would be."""
    nodes(ids: [ID!]!): [Node]!
  }
`);
