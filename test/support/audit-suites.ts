import { PORTED_SUITES } from './audit-ported.js';
import { PORTED_SUITES_2 } from './audit-ported-2.js';
import { PORTED_SUITES_3 } from './audit-ported-3.js';
import type { SubgraphDef } from './federation.js';

/**
 * Small federated graphs of our own that reproduce the cases of the public federation gateway audit
 * (graphql-hive/federation-gateway-audit) where @apollo/gateway's planner goes wrong, and further audit suites.
 * Each suite is the schema shape the audit exercises (that shape is the case); the resolvers and data are ours.
 * `expected` is what the audit says the gateway must answer; `errors: true` means "at least one error", as the
 * audit checks it: `data` is always compared (a case without one expects null), errors only when named.
 */
export interface AuditCase {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  expected: { data?: unknown; errors?: boolean };
  /** Apollo's executor answers this case wrongly (the case says why); it is checked with ours only. */
  apolloWrong?: boolean;
}

export interface AuditSuite {
  name: string;
  subgraphs: SubgraphDef[];
  cases: AuditCase[];
}

const fed = (version: string, imports: string[]): string =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v${version}", import: [${imports.map((i) => JSON.stringify(i)).join(', ')}])\n`;

// ---------------------------------------------------------------------------------------------------------------
// requires-with-argument: a @requires selection whose fields take arguments. The arguments written in the
// @requires are the ones the required field must be fetched with, whatever the client asked for the same field.

const items = [
  { upc: 'p1', name: 'p-name-1', price: { USD: 11, EUR: 33 }, weight: 1, averagePrice: 11 },
  { upc: 'p2', name: 'p-name-2', price: { USD: 22, EUR: 66 }, weight: 2, averagePrice: 22 },
];
const posts = ['p1', 'p2'];
/** Comment c7 repeats c3's body on the other post: it is the one "spam" comment. */
const comments = [
  { id: 'c1', post: 'p1', author: 'a2', body: 'first' },
  { id: 'c2', post: 'p1', author: 'a2', body: 'second' },
  { id: 'c3', post: 'p1', author: 'a2', body: 'buy now' },
  { id: 'c4', post: 'p2', author: 'a1', body: 'fourth' },
  { id: 'c5', post: 'p2', author: 'a1', body: 'fifth' },
  { id: 'c6', post: 'p2', author: 'a1', body: 'sixth' },
  { id: 'c7', post: 'p2', author: 'a1', body: 'buy now' },
];
const commentsOf = (post: string, limit: number) => comments.filter((c) => c.post === post).slice(0, limit);

const priced = (currency: 'USD' | 'EUR') => (upc: string) => {
  const item = items.find((i) => i.upc === upc);
  return item ? item.price[currency] : null;
};

/** The catalog subgraph of both requires-with-argument suites: it owns prices (per currency) and weights. */
const catalogSubgraph: SubgraphDef = {
  name: 'catalog',
  typeDefs: `${fed('2.3', ['@key'])}
    type Query { products: [Product] }
    type Product @key(fields: "upc") {
      upc: String!
      name: String
      price(currency: String!): Int
      weight: Int
      category: Category
    }
    type Category { averagePrice(currency: String!): Int }
  `,
  resolvers: {
    Query: { products: () => items.map((i) => ({ upc: i.upc })) },
    Product: {
      __resolveReference: (ref: { upc: string }) => (items.some((i) => i.upc === ref.upc) ? { upc: ref.upc } : null),
      name: ({ upc }: { upc: string }) => items.find((i) => i.upc === upc)?.name ?? null,
      weight: ({ upc }: { upc: string }) => items.find((i) => i.upc === upc)?.weight ?? null,
      // Only the two currencies exist: any other argument (a lost one included) is the subgraph's error.
      price: ({ upc }: { upc: string }, { currency }: { currency: string }) => {
        if (currency !== 'USD' && currency !== 'EUR') throw new Error(`unsupported currency ${currency}`);
        return priced(currency)(upc);
      },
      category: ({ upc }: { upc: string }) => ({ upc }),
    },
    Category: {
      averagePrice: ({ upc }: { upc: string }, { currency }: { currency: string }) => {
        if (currency !== 'USD') throw new Error(`unsupported currency ${currency}`);
        return items.find((i) => i.upc === upc)?.averagePrice ?? null;
      },
    },
  },
};

interface ShippingInput { upc: string; price?: number | null; weight?: number | null; category?: { averagePrice?: number | null } }

/** Shipping: estimates computed from prices it does not own, each @required with a literal currency. */
const shippingSubgraph = (withEur: boolean): SubgraphDef => ({
  name: 'shipping',
  typeDefs: `${fed('2.3', ['@key', '@external', '@requires'])}
    type Product @key(fields: "upc") {
      upc: String!
      weight: Int @external
      price(currency: String!): Int @external
      shippingEstimate: Int @requires(fields: "price(currency: \\"USD\\") weight")
      ${withEur ? 'shippingEstimateEUR: Int @requires(fields: "price(currency: \\"EUR\\") weight")' : ''}
      category: Category @external
      isExpensiveCategory: Boolean @requires(fields: "category { averagePrice(currency: \\"USD\\") }")
    }
    type Category @external { averagePrice(currency: String!): Int }
  `,
  resolvers: {
    Product: {
      __resolveReference: (ref: ShippingInput) => ref,
      // A required value that did not arrive is an error here, never a silent wrong estimate.
      shippingEstimate: (p: ShippingInput) => {
        if (p.price == null || p.weight == null) throw new Error('price(currency: "USD") and weight were not provided');
        return p.price * p.weight * 10;
      },
      shippingEstimateEUR: (p: ShippingInput) => {
        if (p.price == null || p.weight == null) throw new Error('price(currency: "EUR") and weight were not provided');
        return p.price * p.weight * 5;
      },
      isExpensiveCategory: (p: ShippingInput) => {
        const average = p.category?.averagePrice;
        if (average == null) throw new Error('category.averagePrice was not provided');
        return average > 11;
      },
    },
  },
});

/** Posts: the feed, and whether a comment is spam (its body also appears on another post), from data it requires. */
const postsSubgraph: SubgraphDef = {
  name: 'posts',
  typeDefs: `${fed('2.3', ['@key', '@external', '@requires'])}
    type Query { feed: [Post] }
    type Post @key(fields: "id") {
      id: ID!
      comments(limit: Int!): [Comment] @external
    }
    type Comment @key(fields: "id") {
      id: ID!
      authorId: ID
      body: String!
      sameCommentOnOtherPosts: [Post] @external
      isCommentSpam: Boolean @requires(fields: "sameCommentOnOtherPosts { comments(limit: 50) { id } }")
    }
  `,
  resolvers: {
    Query: { feed: () => posts.map((id) => ({ id })) },
    Post: {
      __resolveReference: (ref: { id: string }) => (posts.includes(ref.id) ? { id: ref.id } : null),
      // Declared @external here, yet Apollo's planner reads it from this subgraph (as the audit's subgraph allows).
      comments: (post: { id: string }, { limit }: { limit: number }) => commentsOf(post.id, limit).map((c) => ({ id: c.id, authorId: c.author, body: c.body })),
    },
    Comment: {
      __resolveReference: (ref: { id: string; sameCommentOnOtherPosts?: { comments?: { id: string }[] | null }[] | null }) => {
        const comment = comments.find((c) => c.id === ref.id);
        if (!comment) return null;
        const others = ref.sameCommentOnOtherPosts;
        // Spam: the same text on another post, and every comment of that post came with its id (the full @requires).
        const spam = !!others && others.length > 0 && others.every((p) => Array.isArray(p.comments) && p.comments.length > 0 && p.comments.every((c) => !!c.id));
        return { id: comment.id, authorId: comment.author, body: comment.body, isCommentSpam: spam };
      },
    },
  },
};

/** Authors: who wrote a post, computed from the author of its third comment (it requires exactly three). */
const authorsSubgraph: SubgraphDef = {
  name: 'authors',
  typeDefs: `${fed('2.3', ['@key', '@external', '@requires'])}
    type Post @key(fields: "id") {
      id: ID!
      author: Author @requires(fields: "comments(limit: 3) { authorId }")
      comments(limit: Int!): [Comment]
    }
    type Comment @key(fields: "id") {
      id: ID!
      date: String
      authorId: ID @external
      sameCommentOnOtherPosts: [Post]
    }
    type Author { id: ID! name: String }
  `,
  resolvers: {
    Post: {
      __resolveReference: (ref: { id: string; comments?: { authorId: string }[] }) => {
        if (!posts.includes(ref.id)) return null;
        // The @requires asks for exactly three comments: any other count means the argument was lost on the way.
        if (ref.comments && ref.comments.length !== 3) throw new Error(`expected 3 comments, got ${ref.comments.length}`);
        return { id: ref.id, authorId: ref.comments?.[2]?.authorId };
      },
      author: (post: { authorId?: string }) => (post.authorId ? { id: post.authorId, name: `${post.authorId}-name` } : null),
      comments: (post: { id: string }, { limit }: { limit: number }) => commentsOf(post.id, limit).map((c) => ({ id: c.id })),
    },
    Comment: {
      __resolveReference: (ref: { id: string }) => (comments.some((c) => c.id === ref.id) ? { id: ref.id } : null),
      sameCommentOnOtherPosts: ({ id }: { id: string }) => {
        const comment = comments.find((c) => c.id === id);
        if (!comment) return [];
        return [...new Set(comments.filter((c) => c.body === comment.body && c.post !== comment.post).map((c) => c.post))].map((post) => ({ id: post }));
      },
    },
  },
};

const feedAuthors = [{ author: { id: 'a2' } }, { author: { id: 'a1' } }];

export const requiresWithArgument: AuditSuite = {
  name: 'requires-with-argument',
  subgraphs: [shippingSubgraph(false), catalogSubgraph, postsSubgraph, authorsSubgraph],
  cases: [
    {
      name: 'literal argument in @requires',
      query: '{ products { upc name shippingEstimate } }',
      expected: { data: { products: [{ upc: 'p1', name: 'p-name-1', shippingEstimate: 110 }, { upc: 'p2', name: 'p-name-2', shippingEstimate: 440 }] } },
    },
    { name: '@requires with an argument, nested', query: '{ feed { author { id } } }', expected: { data: { feed: feedAuthors } } },
    {
      name: 'the client asks the required field with another argument',
      query: '{ feed { author { id } comments(limit: 1) { id } } }',
      expected: { data: { feed: [{ author: { id: 'a2' }, comments: [{ id: 'c1' }] }, { author: { id: 'a1' }, comments: [{ id: 'c4' }] }] } },
    },
    {
      name: 'the required field appears at two depths with two arguments',
      query: '{ feed { comments(limit: 3) { isCommentSpam } } }',
      expected: {
        data: {
          feed: [
            { comments: [{ isCommentSpam: false }, { isCommentSpam: false }, { isCommentSpam: true }] },
            { comments: [{ isCommentSpam: false }, { isCommentSpam: false }, { isCommentSpam: false }] },
          ],
        },
      },
    },
    {
      name: 'the client argument is a variable with a default',
      query: 'query ($limit: Int = 1) { feed { author { id } comments(limit: $limit) { id } } }',
      expected: { data: { feed: [{ author: { id: 'a2' }, comments: [{ id: 'c1' }] }, { author: { id: 'a1' }, comments: [{ id: 'c4' }] }] } },
    },
    {
      name: 'the client argument comes through two fragments',
      query: `query ($limit: Int = 1) { feed { author { id } ...Foo ...Bar } }
        fragment Foo on Post { comments(limit: $limit) { id } }
        fragment Bar on Post { comments(limit: $limit) { id } }`,
      expected: { data: { feed: [{ author: { id: 'a2' }, comments: [{ id: 'c1' }] }, { author: { id: 'a1' }, comments: [{ id: 'c4' }] }] } },
    },
    // Beyond the audit: the client's variant and the required one come from the same subgraph, in one fetch.
    {
      name: 'the client asks the required scalar with another argument (ours)',
      query: '{ products { upc price(currency: "EUR") shippingEstimate } }',
      expected: { data: { products: [{ upc: 'p1', price: 33, shippingEstimate: 110 }, { upc: 'p2', price: 66, shippingEstimate: 440 }] } },
    },
  ],
};

// requires-with-argument-conflict: one entity fetch must carry the same required field twice, with two arguments.
export const requiresWithArgumentConflict: AuditSuite = {
  name: 'requires-with-argument-conflict',
  subgraphs: [shippingSubgraph(true), catalogSubgraph],
  cases: [
    {
      name: 'two @requires of one field with different arguments',
      query: '{ products { upc name shippingEstimate shippingEstimateEUR isExpensiveCategory } }',
      expected: {
        data: {
          products: [
            { upc: 'p1', name: 'p-name-1', shippingEstimate: 110, shippingEstimateEUR: 165, isExpensiveCategory: false },
            { upc: 'p2', name: 'p-name-2', shippingEstimate: 440, shippingEstimateEUR: 660, isExpensiveCategory: true },
          ],
        },
      },
    },
  ],
};

// ---------------------------------------------------------------------------------------------------------------
// keys-mashup: an entity with four keys, resolvable in each subgraph by a different one, reached through @requires.

const things: Record<string, { id: string; pId: string; name: string; compositeId: { one: string; two: string; three: string } }> = {
  '1': { id: '1', pId: 'a.1.pId', name: 'a.1', compositeId: { one: 'a.1.one', two: 'a.1.two', three: 'a.1.three' } },
  '2': { id: '2', pId: 'a.2.pId', name: 'a.2', compositeId: { one: 'a.2.one', two: 'a.2.two', three: 'a.2.three' } },
};
const holders: Record<string, string[]> = { '100': ['1'], '200': ['1', '2'] };

export const keysMashup: AuditSuite = {
  name: 'keys-mashup',
  subgraphs: [
    {
      name: 'a',
      typeDefs: `${fed('2.5', ['@key'])}
        type A
          @key(fields: "id", resolvable: true)
          @key(fields: "pId", resolvable: false)
          @key(fields: "compositeId { one two }", resolvable: false)
          @key(fields: "id compositeId { two three }", resolvable: false) {
          id: ID!
          pId: ID!
          compositeId: CompositeID!
          name: String!
        }
        type CompositeID { one: ID! two: ID! three: ID! }
      `,
      resolvers: {
        A: {
          // Only `id` is resolvable here: a representation without it is not one this subgraph can answer.
          __resolveReference: (ref: { id?: string }) => (ref.id !== undefined ? (things[ref.id] ?? null) : null),
        },
      },
    },
    {
      name: 'b',
      typeDefs: `${fed('2.5', ['@key', '@requires', '@external'])}
        type Query { b: B }
        type B @key(fields: "id") { id: ID! a: [A!]! }
        type A
          @key(fields: "compositeId { one two }", resolvable: false)
          @key(fields: "id compositeId { two three }", resolvable: true)
          @key(fields: "pId", resolvable: false)
          @key(fields: "id", resolvable: false) {
          id: ID!
          pId: ID!
          compositeId: CompositeID!
          name: String! @external
          nameInB: String! @requires(fields: "name")
        }
        type CompositeID { one: ID! two: ID! three: ID! }
      `,
      resolvers: {
        Query: { b: () => ({ id: '100' }) },
        B: {
          __resolveReference: (ref: { id: string }) => (holders[ref.id] ? { id: ref.id } : null),
          a: ({ id }: { id: string }) => (holders[id] ?? []).map((thing) => {
            const { name: _name, ...withoutName } = things[thing]!;
            return withoutName;
          }),
        },
        A: {
          __resolveReference: (ref: { id: string; name?: string }) => {
            const thing = things[ref.id];
            if (!thing) return null;
            const { name: _name, ...withoutName } = thing;
            return ref.name !== undefined ? { ...withoutName, name: ref.name } : withoutName;
          },
          nameInB: ({ name }: { name?: string }) => {
            if (name === undefined) throw new Error('A.name was not provided');
            return `b.a.nameInB ${name}`;
          },
        },
      },
    },
  ],
  cases: [
    {
      name: 'a @requires across subgraphs that resolve A by different keys',
      query: '{ b { id a { id name nameInB } } }',
      expected: { data: { b: { id: '100', a: [{ id: '1', name: 'a.1', nameInB: 'b.a.nameInB a.1' }] } } },
    },
  ],
};

// ---------------------------------------------------------------------------------------------------------------
// non-resolvable-interface-object: @interfaceObject types whose keys are `resolvable: false`.

export const nonResolvableInterfaceObject: AuditSuite = {
  name: 'non-resolvable-interface-object',
  subgraphs: [
    {
      name: 'a',
      typeDefs: `${fed('2.3', ['@key', '@interfaceObject'])}
        type Query { a: Node product: Product! }
        interface Node @key(fields: "id") { id: ID! }
        type Product @interfaceObject @key(fields: "id", resolvable: false) { id: ID! }
      `,
      resolvers: {
        // No object type of this subgraph implements Node: `a` can only ever be an object another subgraph knows.
        Query: { a: () => ({ __typename: 'Node', id: 'n1' }), product: () => ({ id: 'p1' }) },
        Node: {
          __resolveReference: () => {
            throw new Error('Node is not resolvable here');
          },
        },
      },
    },
    {
      name: 'b',
      typeDefs: `${fed('2.3', ['@key', '@interfaceObject'])}
        type Query { b: Node }
        type Node @interfaceObject @key(fields: "id", resolvable: false) { id: ID! field: String! }
        interface Product @key(fields: "id") { id: ID! name: String! }
        type Bread implements Product @key(fields: "id") { id: ID! name: String! }
      `,
      resolvers: {
        Query: { b: () => ({ id: 'n1', field: 'foo' }) },
        Product: { __resolveReference: (ref: { id: string }) => (ref.id === 'p1' ? { __typename: 'Bread', id: 'p1' } : null) },
        Bread: {
          __resolveReference: (ref: { id: string }) => (ref.id === 'p1' ? { id: 'p1' } : null),
          // The bakery does not name its bread: asking for it is an error, whoever asks.
          name: () => {
            throw new Error('Bread.name is not available');
          },
        },
      },
    },
  ],
  cases: [
    { name: 'the interface object answers its own fields', query: '{ b { id field } }', expected: { data: { b: { id: 'n1', field: 'foo' } } } },
    { name: 'a field only the non-resolvable interface object declares', query: '{ a { field } }', expected: { data: null, errors: true } },
    { name: 'the interface object answers its key', query: '{ b { id } }', expected: { data: { b: { id: 'n1' } } } },
    { name: 'an interface no object type of its subgraph implements', query: '{ a { id } }', expected: { data: { a: null }, errors: true } },
    { name: 'a non-resolvable interface object answers its key', query: '{ product { id } }', expected: { data: { product: { id: 'p1' } } } },
    { name: 'a field of the interface the interface object cannot reach', query: '{ product { id name } }', expected: { data: null, errors: true } },
    { name: 'a type condition resolved through the interface', query: '{ product { ... on Bread { id } } }', expected: { data: { product: { id: 'p1' } } } },
  ],
};

/** The suites where @apollo/gateway 2.14's planner fails the audit. */
export const APOLLO_FAILING_SUITES: AuditSuite[] = [requiresWithArgument, requiresWithArgumentConflict, keysMashup, nonResolvableInterfaceObject];

/** Every suite we reproduce: the four Apollo fails first, then the further ported ones. */
export const AUDIT_SUITES: AuditSuite[] = [...APOLLO_FAILING_SUITES, ...PORTED_SUITES, ...PORTED_SUITES_2, ...PORTED_SUITES_3];
