import { PRODUCTS, productByUpc } from '../data.js';
import type { BenchSubgraph } from './serve.js';

export const products: BenchSubgraph = {
  name: 'products',
  typeDefs: /* GraphQL */ `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

    type Query {
      topProducts(first: Int = 5): [Product]
    }

    type Product @key(fields: "upc") {
      upc: String!
      name: String
      price: Int
      weight: Int
    }
  `,
  resolvers: {
    Query: {
      topProducts: (_: unknown, args: { first?: number | null }) => PRODUCTS.slice(0, Math.max(0, args.first ?? 5)),
    },
    Product: {
      __resolveReference: (ref: { upc: string }) => productByUpc(ref.upc) ?? null,
    },
  },
};
