import { REVIEWS, reviewsOfProduct, reviewsOfUser, userById, type BenchReview } from '../data.js';
import type { BenchSubgraph } from './serve.js';

export const reviews: BenchSubgraph = {
  name: 'reviews',
  typeDefs: /* GraphQL */ `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@provides"])

    type Review @key(fields: "id") {
      id: ID!
      body: String
      product: Product
      author: User @provides(fields: "username")
    }

    type User @key(fields: "id") {
      id: ID!
      username: String @external
      reviews: [Review]
    }

    type Product @key(fields: "upc") {
      upc: String!
      reviews: [Review]
    }
  `,
  resolvers: {
    Review: {
      __resolveReference: (ref: { id: string }) => REVIEWS.find((r) => r.id === ref.id) ?? null,
      product: (review: BenchReview) => ({ upc: review.productUpc }),
      // Provided: the reviews system keeps the author's username beside the review.
      author: (review: BenchReview) => {
        const user = userById(review.authorId);
        return user ? { id: user.id, username: user.username } : null;
      },
    },
    User: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      reviews: (user: { id: string }) => reviewsOfUser(user.id),
    },
    Product: {
      __resolveReference: (ref: { upc: string }) => ({ upc: ref.upc }),
      reviews: (product: { upc: string }) => reviewsOfProduct(product.upc),
    },
  },
};
