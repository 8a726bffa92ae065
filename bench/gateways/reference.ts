import { buildSchema, execute, parse, type ExecutionResult } from 'graphql';
import { IN_STOCK, PRODUCTS, USERS, productByUpc, reviewsOfProduct, reviewsOfUser, shippingEstimate, userById, type BenchProduct, type BenchReview, type BenchUser } from './data.js';

/**
 * The benchmark graph as one plain graphql-js schema over the same data, no federation: the "direct execution"
 * each gateway's response is compared with. Same API schema as the composed supergraph's.
 */
const schema = buildSchema(/* GraphQL */ `
  type Query {
    me: User
    user(id: ID!): User
    users: [User]
    topProducts(first: Int = 5): [Product]
  }
  type User {
    id: ID!
    name: String
    username: String
    birthday: Int
    reviews: [Review]
  }
  type Product {
    upc: String!
    weight: Int
    price: Int
    inStock: Boolean
    shippingEstimate: Int
    name: String
    reviews: [Review]
  }
  type Review {
    id: ID!
    body: String
    product: Product
    author: User
  }
`);

// graphql-js's default resolver calls a function-valued property with the field's arguments.
const user = (u: BenchUser) => ({ ...u, reviews: () => reviewsOfUser(u.id).map(review) });
const product = (p: BenchProduct) => ({
  ...p,
  inStock: IN_STOCK.get(p.upc) ?? null,
  shippingEstimate: shippingEstimate(p.price, p.weight),
  reviews: () => reviewsOfProduct(p.upc).map(review),
});
function review(r: BenchReview): Record<string, unknown> {
  return {
    id: r.id,
    body: r.body,
    product: () => {
      const p = productByUpc(r.productUpc);
      return p ? product(p) : null;
    },
    author: () => {
      const u = userById(r.authorId);
      return u ? user(u) : null;
    },
  };
}
const root = {
  me: () => (USERS[0] ? user(USERS[0]) : null),
  user: ({ id }: { id: string }) => {
    const u = userById(id);
    return u ? user(u) : null;
  },
  users: () => USERS.map(user),
  topProducts: ({ first }: { first?: number | null }) => PRODUCTS.slice(0, Math.max(0, first ?? 5)).map(product),
};

/** The response body a gateway should send for `query`: graphql-js's result, serialised with JSON.stringify. */
export async function directExecution(query: string, operationName?: string): Promise<string> {
  const result = (await execute({ schema, document: parse(query), rootValue: root, operationName })) as ExecutionResult;
  return JSON.stringify(result);
}
