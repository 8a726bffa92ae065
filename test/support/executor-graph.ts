import { GraphQLError } from 'graphql';
import type { SubgraphDef } from './federation.js';

/*
 * A small shop graph for the executor's semantics tests: every federation feature the executor must honour, with
 * data small enough to write the expected responses by hand.
 */

const link = (...imports: string[]) => `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: [${imports.map((i) => `"${i}"`).join(', ')}])`;

const PRODUCTS: Record<string, { name: string; cents: number }> = { p1: { name: 'Chair', cents: 4900 }, p2: { name: 'Table', cents: 19900 }, p3: { name: 'Lamp', cents: 2500 } };
const REVIEWS: Record<string, { body: string; product: string; author: string }> = {
  r1: { body: 'sturdy', product: 'p1', author: 'u1' },
  r2: { body: 'wobbly', product: 'p1', author: 'u2' },
  r3: { body: 'huge', product: 'p2', author: 'u1' },
};
const USERS: Record<string, { name: string; email: string | null }> = { u1: { name: 'Ann', email: 'ann@example.com' }, u2: { name: 'Bob', email: null } };
const MEDIA: Record<string, { __typename: 'Book' | 'Movie'; title: string; pages?: number; minutes?: number }> = {
  m1: { __typename: 'Book', title: 'Dune', pages: 412 },
  m2: { __typename: 'Movie', title: 'Alien', minutes: 117 },
  m3: { __typename: 'Book', title: 'Emma', pages: 320 },
};
const ARTICLES: Record<string, { title: string }> = { a1: { title: 'Choosing a chair' } };

const price = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;

export const products: SubgraphDef = {
  name: 'products',
  typeDefs: `${link('@key', '@shareable')}
    type Query {
      product(id: ID!): Product
      "nullable list, non-null items: one bad item nulls the list"
      products: [Product!]
      "nullable items: one bad item nulls only itself"
      maybeProducts: [Product]
      "non-null all the way: one bad item nulls data"
      allProducts: [Product!]!
    }
    type Product @key(fields: "id") {
      id: ID!
      name: String!
      price(currency: String! = "EUR"): String!
      "moved to inventory (@override there): this resolver must never run"
      stockLabel: String
    }`,
  resolvers: {
    Query: {
      product: (_: unknown, { id }: { id: string }) => {
        if (id === 'boom') throw new GraphQLError('no such catalogue', { extensions: { code: 'CATALOGUE_CLOSED' } });
        return PRODUCTS[id] ? { id } : null;
      },
      products: () => Object.keys(PRODUCTS).map((id) => ({ id })),
      maybeProducts: () => Object.keys(PRODUCTS).map((id) => ({ id })),
      allProducts: () => Object.keys(PRODUCTS).map((id) => ({ id })),
    },
    Product: {
      __resolveReference: ({ id }: { id: string }) => (PRODUCTS[id] ? { id } : null),
      name: ({ id }: { id: string }) => PRODUCTS[id]!.name,
      price: ({ id }: { id: string }, { currency }: { currency: string }) => price(PRODUCTS[id]!.cents, currency),
      stockLabel: () => 'products (overridden: wrong)',
    },
  },
};

export const reviews: SubgraphDef = {
  name: 'reviews',
  typeDefs: `${link('@key', '@provides', '@external', '@interfaceObject')}
    type Query { latestReviews: [Review!]! }
    type Product @key(fields: "id") {
      id: ID!
      "p2's rating fails (code RATING_UNAVAILABLE): a non-null field nulled by a subgraph error"
      rating: Float!
      reviews(first: Int): [Review!]!
    }
    type Review @key(fields: "id") {
      id: ID!
      body: String!
      author: User @provides(fields: "name")
      "r2's fails (code NOT_TRANSLATED): an error deep inside an entity fetch's list"
      translation: String
    }
    type User @key(fields: "id") {
      id: ID!
      name: String! @external
    }
    type Media @key(fields: "id") @interfaceObject {
      id: ID!
      stars: Int
    }`,
  resolvers: {
    Query: { latestReviews: () => Object.keys(REVIEWS).map((id) => ({ id })) },
    Product: {
      __resolveReference: ({ id }: { id: string }) => ({ id }),
      rating: ({ id }: { id: string }) => {
        if (id === 'p2') throw new GraphQLError('rating service unavailable', { extensions: { code: 'RATING_UNAVAILABLE', retryable: true } });
        return id === 'p1' ? 4.5 : 3;
      },
      reviews: ({ id }: { id: string }, { first }: { first?: number | null }) => {
        const all = Object.keys(REVIEWS).filter((r) => REVIEWS[r]!.product === id).map((r) => ({ id: r }));
        return first == null ? all : all.slice(0, first);
      },
    },
    Review: {
      __resolveReference: ({ id }: { id: string }) => ({ id }),
      body: ({ id }: { id: string }) => REVIEWS[id]!.body,
      // Provided: the reviews system keeps the author's name with the review, so no users fetch is needed for it.
      author: ({ id }: { id: string }) => ({ id: REVIEWS[id]!.author, name: USERS[REVIEWS[id]!.author]!.name }),
      translation: ({ id }: { id: string }) => {
        if (id === 'r2') throw new GraphQLError('no translation', { extensions: { code: 'NOT_TRANSLATED', language: 'de' } });
        return `de: ${REVIEWS[id]!.body}`;
      },
    },
    Media: {
      __resolveReference: ({ id }: { id: string }) => ({ id }),
      stars: ({ id }: { id: string }) => ({ m1: 5, m2: 4, m3: null })[id] ?? null,
    },
  },
};

export const users: SubgraphDef = {
  name: 'users',
  typeDefs: `${link('@key', '@shareable')}
    type User @key(fields: "id") {
      id: ID!
      name: String! @shareable
      "u2 has none: null for a non-null field, an error from the subgraph"
      email: String!
    }`,
  resolvers: {
    User: {
      __resolveReference: ({ id }: { id: string }) => ({ id }),
      name: ({ id }: { id: string }) => USERS[id]!.name,
      email: ({ id }: { id: string }) => USERS[id]!.email,
    },
  },
};

export const inventory: SubgraphDef = {
  name: 'inventory',
  typeDefs: `${link('@key', '@override')}
    type Product @key(fields: "id") {
      id: ID!
      stockLabel: String @override(from: "products")
    }`,
  resolvers: {
    Product: {
      __resolveReference: ({ id }: { id: string }) => ({ id }),
      stockLabel: ({ id }: { id: string }) => `inventory: ${id === 'p3' ? 'sold out' : 'in stock'}`,
    },
  },
};

export const content: SubgraphDef = {
  name: 'content',
  typeDefs: `${link('@key')}
    type Query { media: [Media!]! }
    interface Media @key(fields: "id") { id: ID! title: String! }
    type Book implements Media @key(fields: "id") { id: ID! title: String! pages: Int! }
    type Movie implements Media @key(fields: "id") { id: ID! title: String! minutes: Int! }
    type Article @key(fields: "id") { id: ID! title: String! }`,
  resolvers: {
    Query: { media: () => Object.keys(MEDIA).map((id) => ({ id, ...MEDIA[id]! })) },
    Media: {
      __resolveReference: ({ id }: { id: string }) => (MEDIA[id] ? { id, ...MEDIA[id] } : null),
      __resolveType: (m: { __typename: string }) => m.__typename,
    },
    Book: { __resolveReference: ({ id }: { id: string }) => ({ id, ...MEDIA[id]! }) },
    Movie: { __resolveReference: ({ id }: { id: string }) => ({ id, ...MEDIA[id]! }) },
    Article: { __resolveReference: ({ id }: { id: string }) => ({ id, ...ARTICLES[id]! }) },
  },
};

export const search: SubgraphDef = {
  name: 'search',
  typeDefs: `${link('@key')}
    type Query { search(term: String!): [SearchResult!]! }
    union SearchResult = Product | Article
    type Product @key(fields: "id", resolvable: false) { id: ID! }
    type Article @key(fields: "id", resolvable: false) { id: ID! }`,
  resolvers: {
    Query: {
      search: (_: unknown, { term }: { term: string }) =>
        term === 'chair'
          ? [
              { __typename: 'Product', id: 'p1' },
              { __typename: 'Article', id: 'a1' },
              { __typename: 'Product', id: 'p3' },
            ]
          : term === 'ghost'
            ? [
                { __typename: 'Article', id: 'a1' },
                // Not in the catalogue: products' reference resolver answers null for it.
                { __typename: 'Product', id: 'p9' },
              ]
            : [],
    },
  },
};

export const SHOP: SubgraphDef[] = [products, reviews, users, inventory, content, search];
