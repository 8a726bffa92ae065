import type { AuditSuite } from './audit-suites.js';

/*
 * Further suites of the federation gateway audit, beyond the ones @apollo/gateway fails: the same schema shapes
 * (the shape is what each case tests), with resolvers and data of our own. Expected answers follow the audit's.
 */

const fed = (version: string, imports: string[]): string =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v${version}", import: [${imports.map((i) => JSON.stringify(i)).join(', ')}])\n`;

// union-intersection: one union name, two subgraphs, overlapping members (Book in both; Song in a, Movie in b).

const novel = { __typename: 'Book', id: 'b1', title: 'Dune', aTitle: 'A: Dune', bTitle: 'B: Dune' };
const track = { __typename: 'Song', id: 's2', title: 'Song Title', aTitle: 'A: Song Title' };
const film = { __typename: 'Movie', id: 'm3', title: 'A Movie Title', bTitle: 'B Movie Title' };
const only = <T extends { id: string }>(item: T) => (ref: { id: string }) => (ref.id === item.id ? item : null);

export const unionIntersection: AuditSuite = {
  name: 'union-intersection',
  subgraphs: [
    {
      name: 'a',
      typeDefs: `${fed('2.3', ['@shareable', '@key'])}
        union Media = Book | Song
        union ViewerMedia = Book | Song
        type Book @key(fields: "id") { id: ID! title: String! @shareable aTitle: String! }
        type Song @key(fields: "id") { id: ID! title: String! @shareable aTitle: String! }
        type Query {
          media: Media @shareable
          aMedia: Media @shareable
          book: Book @shareable
          song: Media @shareable
          viewer: Viewer @shareable
        }
        type Viewer { media: ViewerMedia @shareable aMedia: ViewerMedia book: Book @shareable song: ViewerMedia @shareable }
      `,
      resolvers: {
        Query: { media: () => novel, aMedia: () => novel, book: () => novel, song: () => track, viewer: () => ({ media: novel, aMedia: novel, book: novel, song: track }) },
        Book: { __resolveReference: only(novel) },
        Song: { __resolveReference: only(track) },
      },
    },
    {
      name: 'b',
      typeDefs: `${fed('2.3', ['@shareable', '@key'])}
        type Query { media: Media @shareable bMedia: Media @shareable book: Media @shareable viewer: Viewer @shareable }
        union Media = Book | Movie
        union ViewerMedia = Book | Movie
        type Movie @key(fields: "id") { id: ID! title: String! @shareable bTitle: String! }
        type Book @key(fields: "id") { id: ID! title: String! @shareable bTitle: String! }
        type Viewer { media: ViewerMedia @shareable bMedia: ViewerMedia book: ViewerMedia @shareable }
      `,
      resolvers: {
        Query: { media: () => novel, bMedia: () => novel, book: () => novel, viewer: () => ({ media: novel, bMedia: film, book: novel }) },
        Book: { __resolveReference: only(novel) },
        Movie: { __resolveReference: only(film) },
      },
    },
  ],
  cases: (() => {
    const all = (fields: Record<string, string>) =>
      Object.entries(fields)
        .map(([type, selection]) => `... on ${type} { ${selection} }`)
        .join(' ');
    const titles = all({ Song: 'title', Movie: 'title', Book: 'title' });
    const titlesAB = all({ Song: 'title aTitle', Movie: 'title bTitle', Book: 'title aTitle bTitle' });
    const viewerTitles = {
      viewer: { media: { __typename: 'Book', title: 'Dune' }, book: { __typename: 'Book', title: 'Dune' }, song: { __typename: 'Song', title: 'Song Title' } },
    };
    return [
      { name: 'a member only one subgraph has, on a shared root field', query: '{ media { ... on Movie { title } } }', expected: { data: { media: {} } } },
      { name: 'the shared member', query: '{ media { ... on Book { title } } }', expected: { data: { media: { title: 'Dune' } } } },
      { name: 'both members', query: '{ media { ... on Book { title } ... on Movie { title } } }', expected: { data: { media: { title: 'Dune' } } } },
      {
        name: 'every member under a shared object',
        query: `{ viewer { media { __typename ${titles} } book { __typename ${titles} } song { __typename ${titles} } } }`,
        expected: { data: viewerTitles },
      },
      { name: 'nested: a member only one subgraph has', query: '{ viewer { media { ... on Movie { title } } } }', expected: { data: { viewer: { media: {} } } } },
      { name: 'nested: the shared member', query: '{ viewer { media { ... on Book { title } } } }', expected: { data: { viewer: { media: { title: 'Dune' } } } } },
      { name: 'nested: both members', query: '{ viewer { media { ... on Book { title } ... on Movie { title } } } }', expected: { data: { viewer: { media: { title: 'Dune' } } } } },
      {
        name: 'every member under a shared object, fragments in another order',
        query: `{ viewer { media { __typename ${all({ Book: 'title', Song: 'title', Movie: 'title' })} } book { __typename ${titles} } song { __typename ${titles} } } }`,
        expected: { data: viewerTitles },
      },
      { name: 'entity call: a member the root subgraph lacks', query: '{ aMedia { ... on Movie { title bTitle } } }', expected: { data: { aMedia: {} } } },
      {
        name: 'entity call: fields of both subgraphs on the shared member',
        query: '{ aMedia { ... on Book { title aTitle bTitle } } }',
        expected: { data: { aMedia: { title: 'Dune', aTitle: 'A: Dune', bTitle: 'B: Dune' } } },
      },
      {
        name: 'entity calls under a shared object',
        query: `{ viewer { media { __typename ${titlesAB} } book { __typename ${titlesAB} } song { __typename ${titlesAB} } } }`,
        expected: {
          data: {
            viewer: {
              media: { __typename: 'Book', title: 'Dune', aTitle: 'A: Dune', bTitle: 'B: Dune' },
              book: { __typename: 'Book', title: 'Dune', aTitle: 'A: Dune', bTitle: 'B: Dune' },
              song: { __typename: 'Song', title: 'Song Title', aTitle: 'A: Song Title' },
            },
          },
        },
      },
      {
        name: 'subgraph-local fields of a shared object',
        query: '{ viewer { aMedia { ... on Movie { title bTitle } } bMedia { ... on Movie { title bTitle } } } }',
        expected: { data: { viewer: { aMedia: {}, bMedia: { title: 'A Movie Title', bTitle: 'B Movie Title' } } } },
      },
    ];
  })(),
};

// union-interface-distributed: a union and interfaces whose implementations are spread over two subgraphs.

const appliances = [
  { __typename: 'Oven', id: 'oven1' },
  { __typename: 'Oven', id: 'oven2' },
  { __typename: 'Toaster', id: 'toaster1', warranty: 3 },
  { __typename: 'Toaster', id: 'toaster2', warranty: 4 },
];
const toasters = () => appliances.filter((a) => a.__typename === 'Toaster');

export const unionInterfaceDistributed: AuditSuite = {
  name: 'union-interface-distributed',
  subgraphs: [
    {
      name: 'a',
      typeDefs: `${fed('2.3', ['@shareable', '@key'])}
        type Query { products: [Product] node(id: ID!): Node nodes: [Node] toasters: [Toaster] }
        union Product = Oven | Toaster
        interface Node { id: ID! }
        interface WithWarranty { warranty: Int }
        type Oven @key(fields: "id") { id: ID! }
        type Toaster implements Node & WithWarranty @key(fields: "id") { id: ID! warranty: Int }
      `,
      resolvers: {
        Query: {
          products: () => appliances,
          node: (_: unknown, { id }: { id: string }) => appliances.find((a) => a.id === id) ?? null,
          nodes: toasters,
          toasters,
        },
        Oven: { __resolveReference: (ref: { id: string }) => appliances.find((a) => a.id === ref.id && a.__typename === 'Oven') ?? null },
        Toaster: { __resolveReference: (ref: { id: string }) => appliances.find((a) => a.id === ref.id && a.__typename === 'Toaster') ?? null },
      },
    },
    {
      name: 'b',
      typeDefs: `${fed('2.3', ['@key'])}
        interface Node { id: ID! }
        interface WithWarranty { warranty: Int }
        type Oven implements Node & WithWarranty @key(fields: "id") { id: ID! warranty: Int }
      `,
      resolvers: {
        Oven: { __resolveReference: (ref: { id: string }) => (appliances.some((a) => a.id === ref.id && a.__typename === 'Oven') ? { id: ref.id, warranty: 1 } : null) },
      },
    },
  ],
  cases: [
    {
      name: 'an interface fragment on a union, implemented in another subgraph',
      query: '{ products { ... on Node { id } } }',
      expected: { data: { products: [{ id: 'oven1' }, { id: 'oven2' }, { id: 'toaster1' }, { id: 'toaster2' }] } },
    },
    { name: 'type conditions on an interface list', query: '{ nodes { ... on Toaster { warranty } ... on Oven { id } } }', expected: { data: { nodes: [{ warranty: 3 }, { warranty: 4 }] } } },
    { name: 'an interface field', query: '{ nodes { id } }', expected: { data: { nodes: [{ id: 'toaster1' }, { id: 'toaster2' }] } } },
    { name: 'a fragment on the interface itself', query: '{ nodes { ... on Node { id } } }', expected: { data: { nodes: [{ id: 'toaster1' }, { id: 'toaster2' }] } } },
    {
      name: 'an interface fragment inside another interface fragment',
      query: '{ nodes { ... on Node { ... on WithWarranty { warranty } } } }',
      expected: { data: { nodes: [{ warranty: 3 }, { warranty: 4 }] } },
    },
    {
      name: 'nested interface fragments repeating a field',
      query: '{ nodes { ... on Node { id ... on Node { id ... on WithWarranty { warranty } } } } }',
      expected: { data: { nodes: [{ id: 'toaster1', warranty: 3 }, { id: 'toaster2', warranty: 4 }] } },
    },
    {
      name: 'named fragments on an object and an interface',
      query: '{ toasters { ...ToasterFragment ...NodeFragment } } fragment ToasterFragment on Toaster { id } fragment NodeFragment on Node { id __typename }',
      expected: { data: { toasters: [{ id: 'toaster1', __typename: 'Toaster' }, { id: 'toaster2', __typename: 'Toaster' }] } },
    },
    {
      name: 'an object the root subgraph returns as an interface it does not implement there',
      query: '{ node(id: "oven1") { ... on Oven { warranty } } }',
      expected: { data: { node: null }, errors: true },
    },
    { name: 'the same, asked as another member', query: '{ node(id: "oven1") { ... on Toaster { warranty } } }', expected: { data: { node: null }, errors: true } },
    { name: 'an object that implements the interface where it is returned', query: '{ node(id: "toaster1") { ... on Toaster { warranty } } }', expected: { data: { node: { warranty: 3 } } } },
  ],
};


// simple-requires-provides: @requires across subgraphs, @provides on a nested entity, entity chains back and forth.

const shopUsers = [{ id: 'u1', name: 'u-name-1', username: 'u-username-1' }];
const goods = [
  { upc: 'p1', name: 'p-name-1', price: 11, weight: 1 },
  { upc: 'p2', name: 'p-name-2', price: 22, weight: 2 },
];
const inStockUpcs = new Set(['p1']);
const opinions = [
  { id: 'r1', body: 'r-body-1', author: 'u1', upc: 'p1' },
  { id: 'r2', body: 'r-body-2', author: 'u1', upc: 'p2' },
];
interface Estimable { upc: string; price?: number; weight?: number }
const estimate = (p: Estimable): number => {
  if (p.price === undefined || p.weight === undefined) throw new Error('price and weight were not provided');
  return p.price * p.weight * 10;
};

export const simpleRequiresProvides: AuditSuite = {
  name: 'simple-requires-provides',
  subgraphs: [
    {
      name: 'accounts',
      typeDefs: `${fed('2.3', ['@key', '@shareable'])}
        type Query { me: User }
        type User @key(fields: "id") { id: ID! name: String username: String @shareable }
      `,
      resolvers: {
        Query: { me: () => shopUsers[0] },
        User: { __resolveReference: (ref: { id: string }) => shopUsers.find((u) => u.id === ref.id) ?? null },
      },
    },
    {
      name: 'inventory',
      typeDefs: `${fed('2.3', ['@key', '@external', '@requires'])}
        type Product @key(fields: "upc") {
          upc: String!
          weight: Int @external
          price: Int @external
          inStock: Boolean
          shippingEstimate: Int @requires(fields: "price weight")
          shippingEstimateTag: String @requires(fields: "price weight")
        }
      `,
      resolvers: {
        Product: {
          __resolveReference: (ref: Estimable) => (goods.some((g) => g.upc === ref.upc) ? ref : null),
          inStock: ({ upc }: Estimable) => inStockUpcs.has(upc),
          shippingEstimate: estimate,
          shippingEstimateTag: (p: Estimable) => `#${p.upc}#${estimate(p)}#`,
        },
      },
    },
    {
      name: 'products',
      typeDefs: `${fed('2.3', ['@key'])}
        type Query { products: [Product] }
        type Product @key(fields: "upc") { upc: String! name: String price: Int weight: Int }
      `,
      resolvers: {
        Query: { products: () => goods },
        Product: { __resolveReference: (ref: { upc: string }) => goods.find((g) => g.upc === ref.upc) ?? null },
      },
    },
    {
      name: 'reviews',
      typeDefs: `${fed('2.3', ['@key', '@external', '@provides'])}
        type Review @key(fields: "id") { id: ID! body: String author: User @provides(fields: "username") product: Product }
        type User @key(fields: "id") { id: ID! username: String @external reviews: [Review] }
        type Product @key(fields: "upc") { upc: String! reviews: [Review] }
      `,
      resolvers: {
        Review: {
          __resolveReference: (ref: { id: string }) => opinions.find((o) => o.id === ref.id) ?? null,
          author: (review: { author: string }) => shopUsers.find((u) => u.id === review.author) ?? null,
          product: (review: { upc: string }) => ({ upc: review.upc }),
        },
        User: {
          __resolveReference: (ref: { id: string }) => shopUsers.find((u) => u.id === ref.id) ?? null,
          reviews: (user: { id: string }) => opinions.filter((o) => o.author === user.id),
        },
        Product: {
          __resolveReference: (ref: { upc: string }) => ({ upc: ref.upc }),
          reviews: (product: { upc: string }) => opinions.filter((o) => o.upc === product.upc),
        },
      },
    },
  ],
  cases: [
    { name: 'a root field', query: '{ me { id } }', expected: { data: { me: { id: 'u1' } } } },
    { name: 'an entity call', query: '{ me { id reviews { id } } }', expected: { data: { me: { id: 'u1', reviews: [{ id: 'r1' }, { id: 'r2' }] } } } },
    {
      name: '@provides, and a third subgraph below it',
      query: '{ me { reviews { id author { id username } product { inStock } } } }',
      expected: {
        data: {
          me: {
            reviews: [
              { id: 'r1', author: { id: 'u1', username: 'u-username-1' }, product: { inStock: true } },
              { id: 'r2', author: { id: 'u1', username: 'u-username-1' }, product: { inStock: false } },
            ],
          },
        },
      },
    },
    { name: 'a list root field', query: '{ products { name } }', expected: { data: { products: [{ name: 'p-name-1' }, { name: 'p-name-2' }] } } },
    { name: 'a field @required elsewhere, asked directly', query: '{ products { price } }', expected: { data: { products: [{ price: 11 }, { price: 22 }] } } },
    { name: '@requires', query: '{ products { shippingEstimate } }', expected: { data: { products: [{ shippingEstimate: 110 }, { shippingEstimate: 440 }] } } },
    {
      name: '@requires beside the required fields',
      query: '{ products { shippingEstimate weight price } }',
      expected: { data: { products: [{ shippingEstimate: 110, weight: 1, price: 11 }, { shippingEstimate: 440, weight: 2, price: 22 }] } },
    },
    {
      name: '@requires at the end of an entity chain',
      query: '{ products { reviews { id author { username } product { name shippingEstimate } } } }',
      expected: {
        data: {
          products: [
            { reviews: [{ id: 'r1', author: { username: 'u-username-1' }, product: { name: 'p-name-1', shippingEstimate: 110 } }] },
            { reviews: [{ id: 'r2', author: { username: 'u-username-1' }, product: { name: 'p-name-2', shippingEstimate: 440 } }] },
          ],
        },
      },
    },
    {
      name: 'back into the same subgraph',
      query: '{ me { reviews { product { reviews { id } } } } }',
      expected: { data: { me: { reviews: [{ product: { reviews: [{ id: 'r1' }] } }, { product: { reviews: [{ id: 'r2' }] } }] } } },
    },
    { name: 'nested entity call', query: '{ me { reviews { product { inStock } } } }', expected: { data: { me: { reviews: [{ product: { inStock: true } }, { product: { inStock: false } }] } } } },
    {
      name: 'nested @requires',
      query: '{ me { reviews { product { shippingEstimate } } } }',
      expected: { data: { me: { reviews: [{ product: { shippingEstimate: 110 } }, { product: { shippingEstimate: 440 } }] } } },
    },
    {
      name: 'two fields with the same @requires',
      query: '{ me { reviews { product { shippingEstimate shippingEstimateTag } } } }',
      expected: {
        data: {
          me: {
            reviews: [{ product: { shippingEstimate: 110, shippingEstimateTag: '#p1#110#' } }, { product: { shippingEstimate: 440, shippingEstimateTag: '#p2#440#' } }],
          },
        },
      },
    },
  ],
};

// requires-requires: a @requires of a field that is itself @required, through an @inaccessible field.

const gadget = { id: 'p1', price: 699.99, hasDiscount: true };
const known = (ref: { id: string }) => ref.id === gadget.id;

export const requiresRequires: AuditSuite = {
  name: 'requires-requires',
  subgraphs: [
    {
      name: 'a',
      typeDefs: `${fed('2.3', ['@key', '@inaccessible'])}
        type Product @key(fields: "id") { id: ID! price: Float! @inaccessible }
      `,
      resolvers: { Product: { __resolveReference: (ref: { id: string }) => (known(ref) ? { id: gadget.id, price: gadget.price } : null) } },
    },
    {
      name: 'b',
      typeDefs: `${fed('2.3', ['@key'])}
        type Query { product: Product }
        type Product @key(fields: "id") { id: ID! hasDiscount: Boolean! }
      `,
      resolvers: {
        Query: { product: () => ({ id: gadget.id }) },
        Product: { __resolveReference: (ref: { id: string }) => (known(ref) ? { id: gadget.id } : null), hasDiscount: () => gadget.hasDiscount },
      },
    },
    {
      name: 'c',
      typeDefs: `${fed('2.3', ['@key', '@external', '@requires'])}
        type Product @key(fields: "id") {
          id: ID!
          price: Float! @external
          isExpensive: Boolean! @requires(fields: "price")
          hasDiscount: Boolean! @external
          isExpensiveWithDiscount: Boolean! @requires(fields: "hasDiscount")
        }
      `,
      resolvers: {
        Product: {
          __resolveReference: (ref: { id: string; price?: number; hasDiscount?: boolean }) => (known(ref) ? ref : null),
          isExpensive: (p: { price?: number }) => {
            if (p.price === undefined) throw new Error('price was not provided');
            return p.price > 500;
          },
          isExpensiveWithDiscount: (p: { hasDiscount?: boolean }) => {
            if (p.hasDiscount === undefined) throw new Error('hasDiscount was not provided');
            return !p.hasDiscount;
          },
        },
      },
    },
    {
      name: 'd',
      typeDefs: `${fed('2.3', ['@key', '@external', '@requires'])}
        type Product @key(fields: "id") {
          id: ID!
          isExpensive: Boolean! @external
          canAfford: Boolean! @requires(fields: "isExpensive")
          isExpensiveWithDiscount: Boolean! @external
          canAffordWithDiscount: Boolean! @requires(fields: "isExpensiveWithDiscount")
        }
      `,
      resolvers: {
        Product: {
          __resolveReference: (ref: { id: string; isExpensive?: boolean; isExpensiveWithDiscount?: boolean }) => (known(ref) ? ref : null),
          canAfford: (p: { isExpensive?: boolean }) => {
            if (p.isExpensive === undefined) throw new Error('isExpensive was not provided');
            return !p.isExpensive;
          },
          canAffordWithDiscount: (p: { isExpensiveWithDiscount?: boolean }) => {
            if (p.isExpensiveWithDiscount === undefined) throw new Error('isExpensiveWithDiscount was not provided');
            return !p.isExpensiveWithDiscount;
          },
        },
      },
    },
  ],
  cases: [
    { name: 'a @requires of a @required field', query: '{ product { canAfford } }', expected: { data: { product: { canAfford: false } } } },
    { name: 'a @requires of an @inaccessible field', query: '{ product { isExpensive } }', expected: { data: { product: { isExpensive: true } } } },
    { name: 'both levels at once', query: '{ product { isExpensive canAfford } }', expected: { data: { product: { isExpensive: true, canAfford: false } } } },
    { name: 'the other chain', query: '{ product { canAffordWithDiscount } }', expected: { data: { product: { canAffordWithDiscount: true } } } },
    { name: 'both chains', query: '{ product { canAfford canAffordWithDiscount } }', expected: { data: { product: { canAfford: false, canAffordWithDiscount: true } } } },
  ],
};

// mutations: root mutation fields of three subgraphs run in the order written, entity calls after a mutation.

function mutationsSuite(): AuditSuite {
  const catalog = new Map<string, { id: string; name: string; price: number }>([['p1', { id: 'p1', name: 'p1-name', price: 9.99 }]]);
  const tallies = new Map<string, number>();
  let added = 0;
  return {
    name: 'mutations',
    subgraphs: [
      {
        name: 'a',
        typeDefs: `${fed('2.3', ['@key'])}
          type Mutation { addProduct(input: AddProductInput!): Product! multiply(by: Int!, requestId: String!): Int! }
          type Query { product(id: ID!): Product! products: [Product!]! }
          input AddProductInput { name: String! price: Float! }
          type Product @key(fields: "id") { id: ID! name: String! price: Float! }
        `,
        resolvers: {
          Query: { product: (_: unknown, { id }: { id: string }) => catalog.get(id) ?? null, products: () => [...catalog.values()] },
          Mutation: {
            addProduct: (_: unknown, { input }: { input: { name: string; price: number } }) => {
              const product = { id: `added-${++added}`, name: input.name, price: input.price };
              catalog.set(product.id, product);
              return product;
            },
            // Answers only after a pause: a gateway that ran mutation fields at once would see the tallies out of order.
            multiply: async (_: unknown, { by, requestId }: { by: number; requestId: string }) => {
              await new Promise((resolve) => setImmediate(resolve));
              const value = (tallies.get(requestId) ?? 0) * by;
              tallies.set(requestId, value);
              return value;
            },
          },
          Product: { __resolveReference: (ref: { id: string }) => catalog.get(ref.id) ?? null },
        },
      },
      {
        name: 'b',
        typeDefs: `${fed('2.3', ['@key', '@external', '@requires'])}
          type Product @key(fields: "id") { id: ID! price: Float! @external isExpensive: Boolean! @requires(fields: "price") isAvailable: Boolean! }
          type Mutation { delete(requestId: String!): Int! }
        `,
        resolvers: {
          Mutation: {
            delete: (_: unknown, { requestId }: { requestId: string }) => {
              const value = tallies.get(requestId) ?? 0;
              tallies.delete(requestId);
              return value;
            },
          },
          Product: {
            __resolveReference: (ref: { id: string; price?: number }) => (catalog.has(ref.id) ? ref : null),
            isAvailable: (product: { id: string }) => catalog.has(product.id),
            isExpensive: (product: { price?: number }) => {
              if (typeof product.price !== 'number') throw new Error('price was not provided');
              return product.price > 100;
            },
          },
        },
      },
      {
        name: 'c',
        typeDefs: `${fed('2.3', ['@key'])}
          type Mutation { add(num: Int!, requestId: String!): Int! }
        `,
        resolvers: {
          Mutation: {
            add: async (_: unknown, { num, requestId }: { num: number; requestId: string }) => {
              await new Promise((resolve) => setImmediate(resolve));
              const value = (tallies.get(requestId) ?? 0) + num;
              tallies.set(requestId, value);
              return value;
            },
          },
        },
      },
    ],
    cases: [
      {
        name: 'a mutation, then entity calls with @requires',
        query: 'mutation { addProduct(input: { name: "new", price: 599.99 }) { name price isExpensive isAvailable } }',
        expected: { data: { addProduct: { name: 'new', price: 599.99, isExpensive: true, isAvailable: true } } },
      },
      {
        name: 'a query across the same subgraphs',
        query: '{ product(id: "p1") { id name price isExpensive isAvailable } }',
        expected: { data: { product: { id: 'p1', name: 'p1-name', price: 9.99, isExpensive: false, isAvailable: true } } },
      },
      {
        name: 'mutation fields of three subgraphs, one after the other',
        query: 'mutation { five: add(num: 5, requestId: "seq") ten: multiply(by: 2, requestId: "seq") twelve: add(num: 2, requestId: "seq") final: delete(requestId: "seq") }',
        expected: { data: { five: 5, ten: 10, twelve: 12, final: 12 } },
      },
    ],
  };
}

export const mutations: AuditSuite = mutationsSuite();

// corrupted-supergraph-node-id: a shared `node` root field whose subgraphs each know only one implementation's `id`.

const members = [{ id: 'a1', username: 'a1-username' }];
const threads = [{ id: 'c1', text: 'c1-text', accountId: 'a1' }];

export const corruptedSupergraphNodeId: AuditSuite = {
  name: 'corrupted-supergraph-node-id',
  subgraphs: [
    {
      name: 'a',
      typeDefs: `${fed('2.3', ['@key', '@shareable', '@external'])}
        type Query { node(id: ID!): Node @shareable account(id: String!): Account }
        interface Node { id: ID! }
        type Account implements Node @key(fields: "id") { id: ID! username: String! }
        type Chat implements Node @key(fields: "id") { id: ID! @external account: Account! }
      `,
      resolvers: {
        Query: {
          node: (_: unknown, { id }: { id: string }) => {
            const member = members.find((m) => m.id === id);
            if (member) return { __typename: 'Account', ...member };
            const thread = threads.find((t) => t.id === id);
            // This subgraph cannot know a chat's id (it is @external here): a wrong one shows if it is ever used.
            return thread ? { __typename: 'Chat', id: 'not-known-here', accountId: thread.accountId } : null;
          },
          account: (_: unknown, { id }: { id: string }) => members.find((m) => m.id === id) ?? null,
        },
        Account: { __resolveReference: (ref: { id: string }) => members.find((m) => m.id === ref.id) ?? null },
        Chat: {
          __resolveReference: (ref: { id: string }) => threads.find((t) => t.id === ref.id) ?? null,
          account: (chat: { accountId: string }) => members.find((m) => m.id === chat.accountId) ?? null,
        },
      },
    },
    {
      name: 'b',
      typeDefs: `${fed('2.3', ['@key', '@shareable', '@external'])}
        type Query { node(id: ID!): Node @shareable chat(id: String!): Chat }
        interface Node { id: ID! }
        type Account implements Node @key(fields: "id") { id: ID! @external chats: [Chat!]! }
        type Chat implements Node @key(fields: "id") { id: ID! text: String! }
      `,
      resolvers: {
        Query: {
          node: (_: unknown, { id }: { id: string }) => {
            if (members.some((m) => m.id === id)) return { __typename: 'Account', id: 'not-known-here', owner: id };
            const thread = threads.find((t) => t.id === id);
            return thread ? { __typename: 'Chat', ...thread } : null;
          },
          chat: (_: unknown, { id }: { id: string }) => threads.find((t) => t.id === id) ?? null,
        },
        Account: {
          __resolveReference: (ref: { id: string }) => (members.some((m) => m.id === ref.id) ? { owner: ref.id } : null),
          chats: (account: { owner: string }) => threads.filter((t) => t.accountId === account.owner),
        },
        Chat: { __resolveReference: (ref: { id: string }) => threads.find((t) => t.id === ref.id) ?? null },
      },
    },
  ],
  cases: [
    { name: 'an interface field no subgraph can resolve for every implementation', query: '{ node(id: "a1") { id } }', expected: { data: null, errors: true } },
    {
      name: '__typename only',
      query: '{ account: node(id: "a1") { __typename } chat: node(id: "c1") { __typename } }',
      expected: { data: { account: { __typename: 'Account' }, chat: { __typename: 'Chat' } } },
    },
    {
      name: 'each implementation from the subgraph that resolves it',
      query: '{ account: node(id: "a1") { ... on Account { id username } } chat: node(id: "c1") { ... on Chat { id text } } }',
      expected: { data: { account: { id: 'a1', username: 'a1-username' }, chat: { id: 'c1', text: 'c1-text' } } },
    },
    {
      name: 'type conditions that do not match',
      query: '{ account: node(id: "a1") { ... on Chat { id } } chat: node(id: "c1") { ... on Account { id } } }',
      expected: { data: { account: {}, chat: {} } },
    },
    {
      name: 'type conditions that do not match, with __typename',
      query: '{ account: node(id: "a1") { __typename ... on Chat { id } } chat: node(id: "c1") { __typename ... on Account { id } } }',
      expected: { data: { account: { __typename: 'Account' }, chat: { __typename: 'Chat' } } },
    },
    {
      name: 'an unresolvable interface field beside a fragment',
      query: '{ account: node(id: "a1") { id ... on Chat { id } } chat: node(id: "c1") { __typename ... on Account { id } } }',
      expected: { data: null, errors: true },
    },
    { name: 'a root field of one subgraph', query: '{ chat(id: "c1") { id } }', expected: { data: { chat: { id: 'c1' } } } },
    { name: 'a root field of the other', query: '{ account(id: "a1") { id } }', expected: { data: { account: { id: 'a1' } } } },
    {
      name: 'an entity call from one to the other',
      query: '{ chat(id: "c1") { id text account { id } } }',
      expected: { data: { chat: { id: 'c1', text: 'c1-text', account: { id: 'a1' } } } },
    },
    {
      name: 'an entity call back',
      query: '{ account(id: "a1") { id username chats { id } } }',
      expected: { data: { account: { id: 'a1', username: 'a1-username', chats: [{ id: 'c1' }] } } },
    },
  ],
};

// requires-with-fragments: a @requires selection with fragments on interfaces, one member type @inaccessible.

interface Payload { __typename: 'Baz' | 'Qux'; foo: string; bar: string; baz?: string; qux?: string }
const payloads: Record<string, Payload> = {
  b1: { __typename: 'Baz', foo: 'b1-foo', bar: 'b1-bar', baz: 'b1-baz' },
  q1: { __typename: 'Qux', foo: 'q1-foo', bar: 'q1-bar', qux: 'q1-qux' },
};
const holdings: Record<string, string> = { e1: 'b1', e2: 'q1' };
const holding = (ref: { id: string }) => (holdings[ref.id] ? { id: ref.id } : null);
const payloadOf = ({ id }: { id: string }) => payloads[holdings[id] ?? ''] ?? null;
const interfaces = `
  interface Foo { foo: String! }
  interface Bar implements Foo { foo: String! bar: String! }
`;

export const requiresWithFragments: AuditSuite = {
  name: 'requires-with-fragments',
  subgraphs: [
    {
      name: 'a',
      typeDefs: `${fed('2.5', ['@key', '@shareable'])}
        type Query @shareable { a: Entity }
        type Entity @key(fields: "id") { id: ID! data: Foo }
        ${interfaces}
        type Baz implements Foo & Bar @shareable { foo: String! bar: String! baz: String! }
        type Qux implements Foo & Bar @shareable { foo: String! bar: String! qux: String! }
      `,
      resolvers: { Query: { a: () => ({ id: 'e2' }) }, Entity: { __resolveReference: holding, data: payloadOf } },
    },
    {
      name: 'b',
      typeDefs: `${fed('2.5', ['@key', '@shareable', '@inaccessible', '@external', '@requires'])}
        type Query @shareable { b: Entity bb: Entity }
        type Entity @key(fields: "id") {
          id: ID!
          data: Foo @external
          requirer: String! @requires(fields: "data { foo ... on Bar { bar ... on Baz { baz } ... on Qux { qux } } }")
          requirer2: String! @requires(fields: "data { ... on Foo { foo } }")
        }
        ${interfaces}
        type Baz implements Foo & Bar @shareable @inaccessible { foo: String! bar: String! baz: String! }
        type Qux implements Foo & Bar @shareable { foo: String! bar: String! qux: String! }
      `,
      resolvers: {
        Query: { b: () => ({ id: 'e1' }), bb: () => ({ id: 'e2' }) },
        Entity: {
          __resolveReference: (ref: { id: string; data?: Partial<Payload> }) => (holdings[ref.id] ? ref : null),
          requirer: (entity: { data?: Partial<Payload> }) => {
            // The whole @requires must arrive: foo, bar and the member's own field.
            const data = entity.data;
            if (!data?.foo || !data.bar || !(data.baz ?? data.qux)) throw new Error('data was not provided in full');
            return `${data.foo}_requirer`;
          },
          requirer2: (entity: { data?: Partial<Payload> }) => {
            if (!entity.data?.foo) throw new Error('data.foo was not provided');
            return `${entity.data.foo}_requirer2`;
          },
        },
      },
    },
  ],
  cases: [
    {
      name: 'an @inaccessible member is null in the answer',
      query: '{ b { id data { __typename } } bb { id data { __typename } } }',
      expected: { data: { b: { id: 'e1', data: null }, bb: { id: 'e2', data: { __typename: 'Qux' } } } },
    },
    { name: '@requires with nested interface fragments', query: '{ a { requirer } }', expected: { data: { a: { requirer: 'q1-foo_requirer' } } } },
    {
      name: '@requires beside the required field',
      query: '{ a { data { __typename } requirer } }',
      expected: { data: { a: { data: { __typename: 'Qux' }, requirer: 'q1-foo_requirer' } } },
    },
    {
      name: '@requires through a third fetch',
      query: '{ bb { data { __typename } requirer } }',
      expected: { data: { bb: { data: { __typename: 'Qux' }, requirer: 'q1-foo_requirer' } } },
    },
    {
      name: '@requires of an @inaccessible member',
      query: '{ b { data { __typename } requirer } }',
      expected: { data: { b: { data: null, requirer: 'b1-foo_requirer' } } },
    },
    {
      name: '@requires with a fragment on the interface itself',
      query: '{ bb { data { __typename } requirer2 } }',
      expected: { data: { bb: { data: { __typename: 'Qux' }, requirer2: 'q1-foo_requirer2' } } },
    },
  ],
};

// override-type-interface: a field @override'n on an object type that implements different interfaces per subgraph.

const pictures = [
  { __typename: 'ImagePost', id: 'i1', createdAt: 'i1-createdAt' },
  { __typename: 'ImagePost', id: 'i2', createdAt: 'i2-createdAt' },
];
const texts = [
  { __typename: 'TextPost', id: 't1', createdAt: 't1-createdAt', body: 't1-body' },
  { __typename: 'TextPost', id: 't2', createdAt: 't2-createdAt', body: 't2-body' },
];

export const overrideTypeInterface: AuditSuite = {
  name: 'override-type-interface',
  subgraphs: [
    {
      name: 'a',
      typeDefs: `${fed('2.3', ['@key'])}
        interface Post { id: ID! createdAt: String! }
        type ImagePost implements Post @key(fields: "id") { id: ID! createdAt: String! }
        type Query { feed: [Post] }
      `,
      resolvers: {
        Query: { feed: () => pictures.map(({ __typename, id }) => ({ __typename, id })) },
        ImagePost: {
          __resolveReference: (ref: { id: string }) => pictures.find((p) => p.id === ref.id) ?? null,
          // Overridden by b: a gateway that still asks this subgraph gets this marker back.
          createdAt: () => 'overridden-must-not-be-used',
        },
      },
    },
    {
      name: 'b',
      typeDefs: `${fed('2.3', ['@key', '@shareable', '@override'])}
        interface Post { id: ID! createdAt: String! }
        type TextPost implements Post @key(fields: "id") { id: ID! createdAt: String! body: String! }
        interface AnotherPost { id: ID! createdAt: String! }
        type ImagePost implements AnotherPost @key(fields: "id") { id: ID! createdAt: String! @override(from: "a") }
        type Query { anotherFeed: [AnotherPost] }
      `,
      resolvers: {
        Query: { anotherFeed: () => pictures },
        TextPost: { __resolveReference: (ref: { id: string }) => texts.find((t) => t.id === ref.id) ?? null },
        ImagePost: { __resolveReference: (ref: { id: string }) => pictures.find((p) => p.id === ref.id) ?? null },
      },
    },
  ],
  cases: [
    {
      name: 'the overridden field comes from the overriding subgraph',
      query: '{ feed { id createdAt } }',
      expected: { data: { feed: [{ id: 'i1', createdAt: 'i1-createdAt' }, { id: 'i2', createdAt: 'i2-createdAt' }] } },
    },
    { name: 'a member the root subgraph never returns', query: '{ feed { ... on TextPost { id body } } }', expected: { data: { feed: [{}, {}] } } },
    { name: 'the overriding subgraph\'s own interface', query: '{ anotherFeed { createdAt } }', expected: { data: { anotherFeed: [{ createdAt: 'i1-createdAt' }, { createdAt: 'i2-createdAt' }] } } },
    {
      name: 'the same fields through the interface and the object',
      query: '{ anotherFeed { createdAt id ... on ImagePost { createdAt id } } }',
      expected: { data: { anotherFeed: [{ createdAt: 'i1-createdAt', id: 'i1' }, { createdAt: 'i2-createdAt', id: 'i2' }] } },
    },
  ],
};

// shared-root: one root field @shareable in three subgraphs, each contributing a field of a value type.

const rootProduct = { id: '1', name: 'Product 1', category: 'Category 1', price: 100 };
const sharedRootSubgraph = (name: 'name' | 'category' | 'price', type: string): AuditSuite['subgraphs'][number] => ({
  name,
  typeDefs: `${fed('2.3', ['@key', '@shareable'])}
    type Query { product: Product! @shareable products: [Product!]! @shareable }
    type Product { id: ID! @shareable ${name}: ${type}! }
  `,
  resolvers: { Query: { product: () => ({ id: rootProduct.id, [name]: rootProduct[name] }), products: () => [{ id: rootProduct.id, [name]: rootProduct[name] }] } },
});

export const sharedRoot: AuditSuite = {
  name: 'shared-root',
  subgraphs: [sharedRootSubgraph('category', 'String'), sharedRootSubgraph('name', 'String'), sharedRootSubgraph('price', 'Int')],
  cases: [
    { name: 'one object from three subgraphs', query: '{ product { id name category price } }', expected: { data: { product: rootProduct } } },
    { name: 'a list from three subgraphs', query: '{ products { id name category price } }', expected: { data: { products: [rootProduct] } } },
  ],
};

// null-keys: the key an entity call needs is null for one entity (its subgraph has no such record).

const volumes = [
  { id: '1', upc: 'b1', author: { id: 'a1', name: 'Alice' } },
  { id: '2', upc: 'b2', author: { id: 'a2', name: 'Bob' } },
  { id: '3', upc: 'b3', author: { id: 'a3', name: 'Jack' } },
];

export const nullKeys: AuditSuite = {
  name: 'null-keys',
  subgraphs: [
    {
      name: 'a',
      typeDefs: `${fed('2.3', ['@key'])}
        type Query { bookContainers: [BookContainer] }
        type BookContainer { book: Book }
        type Book @key(fields: "upc") { upc: ID! }
      `,
      resolvers: {
        Query: { bookContainers: () => volumes.map((v) => ({ book: { upc: v.upc } })) },
        Book: { __resolveReference: (ref: { upc: string }) => (volumes.some((v) => v.upc === ref.upc) ? { upc: ref.upc } : null) },
      },
    },
    {
      name: 'b',
      typeDefs: `${fed('2.3', ['@key'])}
        type Book @key(fields: "id") @key(fields: "upc") { id: ID! upc: ID! }
      `,
      resolvers: {
        Book: {
          // The only way from a's upc to c's id; this subgraph has no record of b3.
          __resolveReference: (ref: { id?: string; upc?: string }) => {
            const volume = volumes.find((v) => (ref.id !== undefined ? v.id === ref.id : v.upc === ref.upc));
            return volume && volume.id !== '3' ? { id: volume.id, upc: volume.upc } : null;
          },
        },
      },
    },
    {
      name: 'c',
      typeDefs: `${fed('2.3', ['@key'])}
        type Book @key(fields: "id") { id: ID! author: Author }
        type Author { id: ID! name: String }
      `,
      resolvers: {
        Book: {
          __resolveReference: (ref: { id?: string | null }) => {
            if (ref.id == null) throw new Error('a representation without its key');
            return volumes.find((v) => v.id === ref.id) ?? null;
          },
        },
      },
    },
  ],
  cases: [
    {
      name: 'an entity whose key the middle subgraph cannot give',
      query: '{ bookContainers { book { upc author { name } } } }',
      expected: {
        data: {
          bookContainers: [{ book: { upc: 'b1', author: { name: 'Alice' } } }, { book: { upc: 'b2', author: { name: 'Bob' } } }, { book: { upc: 'b3', author: null } }],
        },
      },
    },
  ],
};

// parent-entity-call: a field of a value type only reachable through its parent entity's other key.

const wares = [
  { id: 'p1', pid: 'p1-pid', categoryId: 'c1' },
  { id: 'p2', pid: 'p2-pid', categoryId: 'c2' },
  { id: 'p3', pid: 'p3-pid', categoryId: 'c1' },
];
const shelves = ['c1', 'c2'].map((id) => ({ id, name: `${id}-name`, details: { products: wares.filter((w) => w.categoryId === id).length } }));
const ware = (ref: { id: string; pid?: string }) => wares.find((w) => w.id === ref.id && (ref.pid === undefined || w.pid === ref.pid)) ?? null;
const shelfOf = (w: { categoryId: string }) => shelves.find((c) => c.id === w.categoryId) ?? null;
const shelf = (ref: { id: string }) => shelves.find((c) => c.id === ref.id) ?? null;

export const parentEntityCall: AuditSuite = {
  name: 'parent-entity-call',
  subgraphs: [
    {
      name: 'a',
      typeDefs: `${fed('2.3', ['@key', '@external', '@shareable'])}
        type Query { products: [Product!]! }
        type Product @key(fields: "id") @key(fields: "id pid") { id: ID! pid: ID! category: Category @shareable }
        type Category @key(fields: "id") { id: ID! name: String! @shareable }
      `,
      resolvers: { Query: { products: () => wares }, Product: { __resolveReference: ware, category: shelfOf }, Category: { __resolveReference: shelf } },
    },
    {
      name: 'b',
      typeDefs: `${fed('2.3', ['@key', '@shareable'])}
        type Product @key(fields: "id pid") { id: ID! pid: ID! category: Category @shareable }
        type Category @key(fields: "id") { id: ID! name: String! @shareable }
      `,
      resolvers: { Product: { __resolveReference: ware, category: shelfOf }, Category: { __resolveReference: shelf } },
    },
    {
      name: 'c',
      typeDefs: `${fed('2.3', ['@key', '@shareable'])}
        type Category { details: CategoryDetails }
        type Product @key(fields: "id pid") { id: ID! pid: ID! category: Category @shareable }
        type CategoryDetails { products: Int }
      `,
      resolvers: { Product: { __resolveReference: ware, category: (w: { categoryId: string }) => (shelfOf(w) ? { details: shelfOf(w)!.details } : null) } },
    },
  ],
  cases: [
    {
      name: 'a value-type field through the parent entity',
      query: '{ products { id category { id details { products } } } }',
      expected: {
        data: {
          products: [
            { id: 'p1', category: { id: 'c1', details: { products: 2 } } },
            { id: 'p2', category: { id: 'c2', details: { products: 1 } } },
            { id: 'p3', category: { id: 'c1', details: { products: 2 } } },
          ],
        },
      },
    },
  ],
};

/** In the audit's order of suite names. */
export const PORTED_SUITES: AuditSuite[] = [
  corruptedSupergraphNodeId,
  mutations,
  nullKeys,
  overrideTypeInterface,
  parentEntityCall,
  requiresRequires,
  requiresWithFragments,
  sharedRoot,
  simpleRequiresProvides,
  unionInterfaceDistributed,
  unionIntersection,
];
