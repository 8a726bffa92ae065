import { IN_STOCK, shippingEstimate } from '../data.js';
import type { BenchSubgraph } from './serve.js';

interface InventoryProduct {
  upc: string;
  price?: number | null;
  weight?: number | null;
}

export const inventory: BenchSubgraph = {
  name: 'inventory',
  typeDefs: /* GraphQL */ `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@requires"])

    type Product @key(fields: "upc") {
      upc: String!
      weight: Int @external
      price: Int @external
      inStock: Boolean
      shippingEstimate: Int @requires(fields: "price weight")
    }
  `,
  resolvers: {
    Product: {
      // The representation carries the required price and weight when the plan asked for shippingEstimate.
      __resolveReference: (ref: InventoryProduct) => (IN_STOCK.has(ref.upc) ? ref : null),
      inStock: (product: InventoryProduct) => IN_STOCK.get(product.upc) ?? null,
      shippingEstimate: (product: InventoryProduct) => shippingEstimate(product.price, product.weight),
    },
  },
};
