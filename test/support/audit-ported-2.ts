import type { AuditCase, AuditSuite } from './audit-suites.js';

/*
 * Further audit suites, ported as our own subgraphs (see audit-ported.ts for the conventions): the audit's schema
 * shapes where its sources are stored, shapes of our own that exercise what its test.ts asks where they are not,
 * with resolvers and data of our own. Expected answers follow the audit's test.ts.
 */

const fed = (version: string, imports: string[]): string =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v${version}", import: [${imports.map((i) => JSON.stringify(i)).join(', ')}])\n`;

// ---------------------------------------------------------------------------------------------------------------
// abstract-types (of the audit's subgraphs only agency's is stored: the rest of the shape is ours, built to what
// its test.ts asks). Product is an entity interface (Book, Magazine) owned by `products`; `inventory` and
// `reviews` see it as an @interfaceObject (inventory's delivery @requires its dimensions); Review.product comes
// back as the interface object, so every type condition under it needs the concrete type from `products`. The
// PublisherType union is split: Self in `products`, Agency and Group in `agency`.

interface Catalogued {
  __typename: 'Book' | 'Magazine';
  id: string;
  sku: string;
  title: string;
  createdBy: string;
  dimensions: { size: string; weight: number };
  publisher: { __typename: 'Self'; email: string } | { __typename: 'Agency'; id: string };
}
const shelfItems: Catalogued[] = [
  { __typename: 'Book', id: 'p1', sku: 'sku-1', title: 'Book 1', createdBy: 'u1@example.com', dimensions: { size: 'small', weight: 0.5 }, publisher: { __typename: 'Self', email: 'u1@example.com' } },
  { __typename: 'Book', id: 'p3', sku: 'sku-3', title: 'Book 2', createdBy: 'u2@example.com', dimensions: { size: 'small', weight: 0.6 }, publisher: { __typename: 'Agency', id: 'a1' } },
  { __typename: 'Magazine', id: 'p2', sku: 'sku-2', title: 'Magazine 1', createdBy: 'u1@example.com', dimensions: { size: 'small', weight: 0.2 }, publisher: { __typename: 'Agency', id: 'a1' } },
  { __typename: 'Magazine', id: 'p4', sku: 'sku-4', title: 'Magazine 2', createdBy: 'u2@example.com', dimensions: { size: 'small', weight: 0.3 }, publisher: { __typename: 'Self', email: 'u2@example.com' } },
];
const shelfItem = (id: string) => shelfItems.find((p) => p.id === id) ?? null;
const shelfReviews = [
  { id: 1, product: 'p1' },
  { id: 2, product: 'p1' },
  { id: 3, product: 'p2' },
];
const agencyList = [{ id: 'a1', companyName: 'Agency 1', email: { address: 'a1@example.com' } }];

const productShape = 'id: ID! sku: String title: String dimensions: ProductDimension createdBy: User publisherType: PublisherType similar: [Product]';

export const abstractTypes: AuditSuite = {
  name: 'abstract-types',
  subgraphs: [
    {
      name: 'products',
      typeDefs: `${fed('2.3', ['@key', '@shareable'])}
        type Query { products: [Product] similar(id: ID!): [Product] }
        interface Product @key(fields: "id") { id: ID! sku: String dimensions: ProductDimension createdBy: User }
        interface Similar { similar: [Product] }
        type Book implements Product & Similar @key(fields: "id") { ${productShape} }
        type Magazine implements Product & Similar @key(fields: "id") { ${productShape} }
        type ProductDimension @shareable { size: String weight: Float }
        type User @key(fields: "email") { email: ID! }
        union PublisherType = Agency | Self
        type Agency @key(fields: "id") { id: ID! }
        type Self { email: String }
      `,
      resolvers: {
        Query: {
          products: () => shelfItems,
          // Similar: the other products of the same kind.
          similar: (_: unknown, { id }: { id: string }) => {
            const item = shelfItem(id);
            return item ? shelfItems.filter((p) => p.__typename === item.__typename && p.id !== id) : null;
          },
        },
        Product: { __resolveReference: (ref: { id: string }) => shelfItem(ref.id), __resolveType: (p: Catalogued) => p.__typename },
        Similar: { __resolveType: (p: Catalogued) => p.__typename },
        ...Object.fromEntries(
          ['Book', 'Magazine'].map((type) => [
            type,
            {
              __resolveReference: (ref: { id: string }) => shelfItem(ref.id),
              createdBy: (p: Catalogued) => ({ email: p.createdBy }),
              publisherType: (p: Catalogued) => p.publisher,
              similar: (p: Catalogued) => shelfItems.filter((o) => o.__typename === p.__typename && o.id !== p.id),
            },
          ]),
        ),
        PublisherType: { __resolveType: (p: { __typename: string }) => p.__typename },
        User: { __resolveReference: (ref: { email: string }) => ref },
        Agency: { __resolveReference: (ref: { id: string }) => ref },
      },
    },
    {
      name: 'inventory',
      typeDefs: `${fed('2.3', ['@key', '@shareable', '@interfaceObject', '@external', '@requires'])}
        type Product @key(fields: "id") @interfaceObject {
          id: ID!
          dimensions: ProductDimension @external
          delivery(zip: String): DeliveryEstimates @requires(fields: "dimensions { size weight }")
        }
        type ProductDimension @shareable { size: String weight: Float }
        type DeliveryEstimates { estimatedDelivery: String fastestDelivery: String }
      `,
      resolvers: {
        Product: {
          __resolveReference: (ref: { id: string }) => (shelfItem(ref.id) ? ref : null),
          delivery: (p: { id: string; dimensions?: { size?: string; weight?: number } }) => {
            if (p.dimensions?.size == null || p.dimensions.weight == null) throw new Error(`dimensions of ${p.id} were not provided`);
            const light = p.dimensions.size === 'small' && p.dimensions.weight < 1;
            return light ? { fastestDelivery: 'same day', estimatedDelivery: '1 day' } : { fastestDelivery: '1 day', estimatedDelivery: '3 days' };
          },
        },
      },
    },
    {
      name: 'reviews',
      typeDefs: `${fed('2.3', ['@key', '@interfaceObject'])}
        type Product @key(fields: "id") @interfaceObject { id: ID! reviews: [Review] reviewsCount: Int }
        type Review { id: Int! product: Product }
      `,
      resolvers: {
        Product: {
          __resolveReference: (ref: { id: string }) => (shelfItem(ref.id) ? { id: ref.id } : null),
          reviews: (p: { id: string }) => shelfReviews.filter((r) => r.product === p.id),
          reviewsCount: (p: { id: string }) => shelfReviews.filter((r) => r.product === p.id).length,
        },
        Review: { product: (r: { product: string }) => ({ id: r.product }) },
      },
    },
    {
      name: 'users',
      typeDefs: `${fed('2.3', ['@key'])}
        type User @key(fields: "email") { email: ID! totalProductsCreated: Int }
      `,
      resolvers: {
        User: {
          __resolveReference: (ref: { email: string }) => ref,
          totalProductsCreated: (u: { email: string }) => shelfItems.filter((p) => p.createdBy === u.email).length,
        },
      },
    },
    {
      name: 'agency',
      typeDefs: `${fed('2.3', ['@key'])}
        type Agency @key(fields: "id") { id: ID! companyName: String email: Email }
        type Email { address: String }
        type Group @key(fields: "id") { id: ID! name: String email: String }
        union PublisherType = Agency | Group
      `,
      resolvers: {
        Agency: { __resolveReference: (ref: { id: string }) => agencyList.find((a) => a.id === ref.id) ?? null },
        Group: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: `Group ${ref.id}`, email: `group-${ref.id}@example.com` }) },
        PublisherType: { __resolveType: (p: { __typename?: string }) => p.__typename ?? 'Agency' },
      },
    },
  ],
  cases: ((): AuditCase[] => {
    /** Each product with its reviews, each review's product shaped by `shape` (from the product's data). */
    const reviewed = (shape: (p: Catalogued) => Record<string, unknown>) => ({
      data: {
        products: shelfItems.map((p) => ({
          id: p.id,
          reviews: shelfReviews.filter((r) => r.product === p.id).map(() => ({ product: shape(p) })),
        })),
      },
    });
    const reviewedQuery = (selection: string, variables = '', fragments = '') =>
      `query ${variables} { products { id reviews { product { id ${selection} } } } } ${fragments}`;
    const idTitle = (p: Catalogued) => (p.__typename === 'Book' ? { id: p.id, title: p.title } : { id: p.id, sku: p.sku });
    const idOnly = (p: Catalogued) => (p.__typename === 'Book' ? { id: p.id } : { id: p.id, sku: p.sku });
    const idSku = (p: Catalogued) => ({ id: p.id, sku: p.sku });
    const idTitleSku = (p: Catalogued) => (p.__typename === 'Book' ? { id: p.id, title: p.title, sku: p.sku } : { id: p.id, sku: p.sku });
    const publisher = (p: Catalogued, agency: (a: (typeof agencyList)[number]) => Record<string, unknown>, self: (email: string) => Record<string, unknown>) => {
      const found = p.publisher.__typename === 'Agency' ? agencyList.find((a) => a.id === (p.publisher as { id: string }).id) : undefined;
      return { id: p.id, publisherType: found ? agency(found) : self((p.publisher as { email: string }).email) };
    };
    const publisherQuery = (fragment: string) =>
      reviewedQuery('... on Magazine { publisherType { ...Publisher } } ... on Book { publisherType { ...Publisher } }', '', `fragment Publisher on PublisherType { ${fragment} }`);
    const delivery = { fastestDelivery: 'same day', estimatedDelivery: '1 day' };
    return [
      {
        name: 'an interface field of a shareable value type',
        query: '{ products { id dimensions { size weight } } }',
        expected: { data: { products: shelfItems.map((p) => ({ id: p.id, dimensions: p.dimensions })) } },
      },
      { name: 'interface fields from a root field', query: '{ similar(id: "p1") { id sku } }', expected: { data: { similar: [{ id: 'p3', sku: 'sku-3' }] } } },
      {
        name: 'a field of an interface object that @requires interface fields',
        query: `{
          book: similar(id: "p1") { id sku delivery(zip: "1234") { fastestDelivery estimatedDelivery } }
          magazine: similar(id: "p2") { id sku delivery(zip: "1234") { fastestDelivery estimatedDelivery } }
        }`,
        expected: { data: { book: [{ id: 'p3', sku: 'sku-3', delivery }], magazine: [{ id: 'p4', sku: 'sku-4', delivery }] } },
      },
      {
        name: 'one field through the interface, both objects and another interface',
        query: '{ products { sku ... on Product { sku } ... on Book { sku } ... on Magazine { sku } ... on Similar { __typename type: __typename } } }',
        expected: { data: { products: shelfItems.map((p) => ({ sku: p.sku, __typename: p.__typename, type: p.__typename })) } },
      },
      {
        name: 'an aliased entity field of the interface and a field of one object',
        query: '{ products { author: createdBy { email totalProductsCreated } ... on Magazine { title } } }',
        expected: {
          data: { products: shelfItems.map((p) => ({ author: { email: p.createdBy, totalProductsCreated: 2 }, ...(p.__typename === 'Magazine' ? { title: p.title } : {}) })) },
        },
      },
      {
        name: 'type conditions on an interface object another subgraph returns',
        query: '{ products { id reviews { product { sku ... on Magazine { title } ... on Book { reviewsCount } } } } }',
        expected: {
          data: {
            products: shelfItems.map((p) => ({
              id: p.id,
              reviews: shelfReviews
                .filter((r) => r.product === p.id)
                .map(() => ({ product: p.__typename === 'Magazine' ? { sku: p.sku, title: p.title } : { sku: p.sku, reviewsCount: shelfReviews.filter((r) => r.product === p.id).length } })),
            })),
          },
        },
      },
      {
        name: 'a field of the interface object',
        query: '{ products { id reviews { id } } }',
        expected: { data: { products: shelfItems.map((p) => ({ id: p.id, reviews: shelfReviews.filter((r) => r.product === p.id).map((r) => ({ id: r.id })) })) } },
      },
      {
        name: '@include(if: true) on a type condition under an interface object',
        query: reviewedQuery('... on Book @include(if: $title) { title } ... on Magazine { sku }', '($title: Boolean = true)'),
        expected: reviewed(idTitle),
      },
      {
        name: '@include(if: false) on a type condition under an interface object',
        query: reviewedQuery('... on Book @include(if: $title) { title } ... on Magazine { sku }', '($title: Boolean = false)'),
        expected: reviewed(idOnly),
      },
      {
        name: '@skip(if: false) on a type condition under an interface object',
        query: reviewedQuery('... on Book @skip(if: $title) { title } ... on Magazine { sku }', '($title: Boolean = false)'),
        expected: reviewed(idTitle),
      },
      {
        name: '@skip(if: true) on a type condition under an interface object',
        query: reviewedQuery('... on Book @skip(if: $title) { title } ... on Magazine { sku }', '($title: Boolean = true)'),
        expected: reviewed(idOnly),
      },
      {
        name: 'a skipped and a kept condition on the same type',
        query: reviewedQuery('... on Book @skip(if: $title) { title } ... on Book { sku } ... on Magazine { sku }', '($title: Boolean = true)'),
        expected: reviewed(idSku),
      },
      {
        name: 'a kept skippable and a plain condition on the same type',
        query: reviewedQuery('... on Book @skip(if: $title) { title } ... on Book { sku } ... on Magazine { sku }', '($title: Boolean = false)'),
        expected: reviewed(idTitleSku),
      },
      {
        name: 'a condition nested in an included one',
        query: reviewedQuery('... on Book @include(if: $title) { title ... on Book { sku } } ... on Magazine { sku }', '($title: Boolean = true)'),
        expected: reviewed(idTitleSku),
      },
      {
        name: 'a skipped condition nested in an included one',
        query: reviewedQuery('... on Book @include(if: $title) { title ... on Book @skip(if: $title) { sku } } ... on Magazine { sku }', '($title: Boolean = true)'),
        expected: reviewed(idTitle),
        // The last fetch goes to reviews, where Product is an @interfaceObject: it answers __typename "Product", which
        // Apollo's executor lets overwrite "Book" (the title is then dropped); ours keeps the concrete type.
        apolloWrong: true,
      },
      {
        name: 'a union split over two subgraphs, under each object type',
        query: publisherQuery('... on Agency { id companyName } ... on Self { email }'),
        expected: reviewed((p) => publisher(p, (a) => ({ id: a.id, companyName: a.companyName }), (email) => ({ email }))),
      },
      {
        name: 'the same with a member no subgraph returns',
        query: publisherQuery('... on Agency { id companyName } ... on Self { email } ... on Group { name }'),
        expected: reviewed((p) => publisher(p, (a) => ({ id: a.id, companyName: a.companyName }), (email) => ({ email }))),
      },
      {
        name: 'one field name with different types in union members, aliased',
        query: publisherQuery('... on Agency { emailObj: email { address } } ... on Self { emailStr: email } ... on Group { emailStr: email }'),
        expected: reviewed((p) => publisher(p, (a) => ({ emailObj: a.email }), (email) => ({ emailStr: email }))),
      },
    ];
  })(),
};

// ---------------------------------------------------------------------------------------------------------------
// complex-entity-call (the audit's subgraph sources are not stored: the shape is ours). Product is reached through
// ever larger keys: `id`, then `id pid`, then `id pid category { id tag }` (a nested key whose parts come from two
// other subgraphs), and Category points back at a Product.

const catalogue = [
  { id: '1', pid: 'p1', category: { id: 'c1', tag: 't1' }, price: 100 },
  { id: '2', pid: 'p2', category: { id: 'c2', tag: 't2' }, price: 200 },
];
const byId = (id: string) => catalogue.find((p) => p.id === id);

interface FullProductKey { id: string; pid?: string; category?: { id?: string; tag?: string } }

export const complexEntityCall: AuditSuite = {
  name: 'complex-entity-call',
  subgraphs: [
    {
      name: 'list',
      typeDefs: `${fed('2.3', ['@key'])}
        type Query { topProducts: ProductList }
        type ProductList { products: [Product!]! selected: Product first: Product }
        type Product @key(fields: "id") { id: ID! }
      `,
      resolvers: {
        Query: { topProducts: () => ({ products: catalogue.map((p) => ({ id: p.id })), selected: { id: '2' }, first: { id: '1' } }) },
        Product: { __resolveReference: (ref: { id: string }) => (byId(ref.id) ? { id: ref.id } : null) },
      },
    },
    {
      name: 'pid',
      typeDefs: `${fed('2.3', ['@key', '@shareable'])}
        type Product @key(fields: "id") { id: ID! pid: String! @shareable }
      `,
      resolvers: {
        Product: {
          __resolveReference: (ref: { id: string }) => {
            const product = byId(ref.id);
            return product ? { id: product.id, pid: product.pid } : null;
          },
        },
      },
    },
    {
      name: 'category',
      typeDefs: `${fed('2.3', ['@key', '@shareable'])}
        type Product @key(fields: "id pid") { id: ID! pid: String! @shareable category: Category @shareable }
        type Category @key(fields: "id tag") { id: ID! tag: String! }
      `,
      resolvers: {
        Product: {
          // Both key parts must match: a key that lost its pid is a miss here, not a guess.
          __resolveReference: (ref: { id: string; pid: string }) => {
            const product = byId(ref.id);
            return product && product.pid === ref.pid ? { id: product.id, pid: product.pid, category: product.category } : null;
          },
        },
        Category: { __resolveReference: (ref: { id: string; tag: string }) => ref },
      },
    },
    {
      name: 'price',
      typeDefs: `${fed('2.3', ['@key', '@shareable'])}
        type Product @key(fields: "id pid category { id tag }") {
          id: ID!
          pid: String! @shareable
          category: Category @shareable
          price: Price
        }
        type Price { price: Float }
        type Category @key(fields: "id tag") { id: ID! tag: String! mainProduct: Product }
      `,
      resolvers: {
        Product: {
          __resolveReference: (ref: FullProductKey) => {
            const product = byId(ref.id);
            if (!product) return null;
            if (ref.pid !== product.pid || ref.category?.id !== product.category.id || ref.category?.tag !== product.category.tag) {
              throw new Error(`incomplete key for product ${ref.id}`);
            }
            return product;
          },
          price: (product: { price: number }) => ({ price: product.price }),
        },
        Category: {
          __resolveReference: (ref: { id: string; tag: string }) => ref,
          mainProduct: (category: { id: string }) => catalogue.find((p) => p.category.id === category.id) ?? null,
        },
      },
    },
  ],
  cases: [
    {
      name: 'nested composite keys, a circular reference and several paths to one entity',
      query: '{ topProducts { products { id pid price { price } category { mainProduct { id } id tag } } selected { id } first { id } } }',
      expected: {
        data: {
          topProducts: {
            products: [
              { id: '1', pid: 'p1', price: { price: 100 }, category: { mainProduct: { id: '1' }, id: 'c1', tag: 't1' } },
              { id: '2', pid: 'p2', price: { price: 200 }, category: { mainProduct: { id: '2' }, id: 'c2', tag: 't2' } },
            ],
            selected: { id: '2' },
            first: { id: '1' },
          },
        },
      },
    },
  ],
};

// ---------------------------------------------------------------------------------------------------------------
// executable-directive-definition-default-arguments: a composed executable directive whose argument is required
// in one subgraph and has a default in the other. The client may omit it: the supergraph keeps the default.

const accessDirective = (definition: string): string => `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.1", import: ["@key", "@composeDirective"])
    @link(url: "https://myspecs.dev/access/v1.0", import: ["@access"])
    @composeDirective(name: "@access")
  ${definition}
  enum Scope { PUBLIC PRIVATE }
`;

export const executableDirectiveDefaultArguments: AuditSuite = {
  name: 'executable-directive-definition-default-arguments',
  subgraphs: [
    { name: 'a', typeDefs: `${accessDirective('directive @access(scope: Scope!) on FIELD')} type Query { a: String }`, resolvers: { Query: { a: () => 'a' } } },
    { name: 'b', typeDefs: `${accessDirective('directive @access(scope: Scope! = PUBLIC) on FIELD')} type Query { b: String }`, resolvers: { Query: { b: () => 'b' } } },
  ],
  cases: [
    {
      name: 'the directive without its defaulted argument',
      query: '{ a @access b @access }',
      // Apollo's API schema drops the composed directive; planner.ts keeps it (the client may use it).
      expected: { data: { a: 'a', b: 'b' } },
    },
  ],
};

// ---------------------------------------------------------------------------------------------------------------
// fed1-external-extends / fed2-external-extends (sources not stored: shapes ours). A subgraph that only extends
// User (its key @external) returns users, adds a field of its own (rid), and @provides the owner's name on one
// root field. The same graph in federation 1 syntax (`extend type`, no @link) and in federation 2 (@extends).

const people = [
  { id: 'u1', name: 'u1-name', nickname: 'u1-nickname' },
  { id: 'u2', name: 'u2-name', nickname: 'u2-nickname' },
];
const person = (id: string) => people.find((u) => u.id === id) ?? null;

const usersOwner = (typeDefs: string) => ({
  name: 'owner',
  typeDefs,
  resolvers: {
    Query: { userById: (_: unknown, { id }: { id: string }) => person(id) },
    User: { __resolveReference: (ref: { id: string }) => person(ref.id) },
  },
});

const usersExtender = (typeDefs: string) => ({
  name: 'extender',
  typeDefs,
  resolvers: {
    Query: {
      randomUser: () => ({ id: 'u1' }),
      // The provided name is this subgraph's copy: the gateway must not fetch it from the owner.
      providedRandomUser: () => ({ id: 'u1', name: 'u1-name' }),
    },
    User: {
      __resolveReference: (ref: { id: string }) => (person(ref.id) ? { id: ref.id } : null),
      rid: (user: { id: string }) => `${user.id}-rid`,
    },
  },
});

const externalExtendsCases: AuditSuite['cases'] = [
  {
    name: 'fields of the owner, by a root field of each subgraph',
    query: '{ randomUser { id name } userById(id: "u2") { id name nickname } }',
    expected: { data: { randomUser: { id: 'u1', name: 'u1-name' }, userById: { id: 'u2', name: 'u2-name', nickname: 'u2-nickname' } } },
  },
  { name: 'a field of the extending subgraph', query: '{ randomUser { id rid } }', expected: { data: { randomUser: { id: 'u1', rid: 'u1-rid' } } } },
  {
    name: 'fields of both subgraphs',
    query: '{ randomUser { id rid name } }',
    expected: { data: { randomUser: { id: 'u1', rid: 'u1-rid', name: 'u1-name' } } },
  },
  {
    name: 'a provided external field',
    query: '{ providedRandomUser { id rid name } }',
    expected: { data: { providedRandomUser: { id: 'u1', rid: 'u1-rid', name: 'u1-name' } } },
  },
];

export const fed1ExternalExtends: AuditSuite = {
  name: 'fed1-external-extends',
  subgraphs: [
    usersOwner(`
      type Query { userById(id: ID!): User }
      type User @key(fields: "id") { id: ID! name: String nickname: String }
    `),
    usersExtender(`
      type Query { randomUser: User providedRandomUser: User @provides(fields: "name") }
      extend type User @key(fields: "id") { id: ID! @external name: String @external rid: String }
    `),
  ],
  cases: externalExtendsCases,
};

// fed1-external-extends-resolvable (sources not stored: shape ours): federation 1 @extends types that resolve
// their own references, a second key (upc) reached through the first.

const goods = [{ id: 'p1', pid: 'p1-pid', upc: 'upc1', name: 'p1-name', price: 12.3 }];
const good = (match: (g: (typeof goods)[number]) => boolean) => goods.find(match) ?? null;

export const fed1ExternalExtendsResolvable: AuditSuite = {
  name: 'fed1-external-extends-resolvable',
  subgraphs: [
    {
      name: 'a',
      typeDefs: `
        type Query { productInA: Product }
        type Product @extends @key(fields: "id") { id: ID! @external pid: ID }
      `,
      resolvers: {
        Query: { productInA: () => ({ id: 'p1' }) },
        Product: {
          __resolveReference: (ref: { id: string }) => good((g) => g.id === ref.id),
          pid: (product: { id: string }) => good((g) => g.id === product.id)?.pid ?? null,
        },
      },
    },
    {
      name: 'b',
      typeDefs: `
        type Product @extends @key(fields: "id") @key(fields: "upc") { id: ID! @external upc: String! @external price: Float }
      `,
      resolvers: {
        Product: {
          __resolveReference: (ref: { id?: string; upc?: string }) => good((g) => (ref.id ? g.id === ref.id : g.upc === ref.upc)),
        },
      },
    },
    {
      name: 'c',
      typeDefs: `
        type Product @key(fields: "id") @key(fields: "upc") { id: ID! upc: String! name: String }
      `,
      resolvers: {
        Product: {
          __resolveReference: (ref: { id?: string; upc?: string }) => good((g) => (ref.id ? g.id === ref.id : g.upc === ref.upc)),
        },
      },
    },
  ],
  cases: [
    {
      name: 'fields of three subgraphs from an @extends root type',
      query: '{ productInA { id pid price upc name } }',
      expected: { data: { productInA: { id: 'p1', pid: 'p1-pid', price: 12.3, upc: 'upc1', name: 'p1-name' } } },
    },
  ],
};

export const fed2ExternalExtends: AuditSuite = {
  name: 'fed2-external-extends',
  subgraphs: [
    usersOwner(`${fed('2.3', ['@key', '@shareable'])}
      type Query { userById(id: ID!): User }
      type User @key(fields: "id") { id: ID! name: String @shareable nickname: String }
    `),
    usersExtender(`${fed('2.3', ['@key', '@external', '@extends', '@provides'])}
      type Query { randomUser: User providedRandomUser: User @provides(fields: "name") }
      type User @extends @key(fields: "id") { id: ID! @external name: String @external rid: String }
    `),
  ],
  cases: externalExtendsCases,
};

// ---------------------------------------------------------------------------------------------------------------
// include-skip (sources not stored: shape ours): @include/@skip on fields another subgraph resolves. The fields
// the directives leave out throw in their subgraph, so asking for them at all shows in the answer.

export const includeSkip: AuditSuite = {
  name: 'include-skip',
  subgraphs: [
    {
      name: 'a',
      typeDefs: `${fed('2.3', ['@key'])}
        type Query { product: Product }
        type Product @key(fields: "id") { id: ID! price: Float! }
      `,
      resolvers: {
        Query: { product: () => ({ id: 'p1', price: 699.99 }) },
        Product: { __resolveReference: (ref: { id: string }) => (ref.id === 'p1' ? { id: 'p1', price: 699.99 } : null) },
      },
    },
    {
      name: 'b',
      typeDefs: `${fed('2.3', ['@key'])}
        type Product @key(fields: "id") { id: ID! include: Boolean! skip: Boolean! neverCalledInclude: Boolean neverCalledSkip: Boolean }
      `,
      resolvers: {
        Product: {
          __resolveReference: (ref: { id: string }) => (ref.id === 'p1' ? { id: 'p1' } : null),
          include: () => true,
          skip: () => true,
          neverCalledInclude: () => {
            throw new Error('neverCalledInclude was asked for despite @include(if: false)');
          },
          neverCalledSkip: () => {
            throw new Error('neverCalledSkip was asked for despite @skip(if: true)');
          },
        },
      },
    },
  ],
  cases: [
    {
      name: '@include(if: false) on a field of another subgraph',
      query: 'query ($bool: Boolean = false) { product { price neverCalledInclude @include(if: $bool) } }',
      expected: { data: { product: { price: 699.99 } } },
    },
    {
      name: '@skip(if: true) on a field of another subgraph',
      query: 'query ($bool: Boolean = true) { product { price neverCalledSkip @skip(if: $bool) } }',
      expected: { data: { product: { price: 699.99 } } },
    },
    {
      name: '@include(if: true) on a field of another subgraph',
      query: 'query ($bool: Boolean = true) { product { price include @include(if: $bool) } }',
      expected: { data: { product: { price: 699.99, include: true } } },
    },
    {
      name: '@skip(if: false) on a field of another subgraph',
      query: 'query ($bool: Boolean = false) { product { price skip @skip(if: $bool) } }',
      expected: { data: { product: { price: 699.99, skip: true } } },
    },
  ],
};

// ---------------------------------------------------------------------------------------------------------------
// i-will-name-you-later: a @requires chain that goes back and forth. a's Post.author requires authorId, which b
// computes from a requirement of its own (comments { authorId }), and Comment.authorId is a's again: a, b, a, b, a.
// (The audit's stored b declares `comments: Comment`; its resolver returns a list, so ours is `[Comment]`.)

const feedPosts = ['p1', 'p2'];
const feedComments = [
  { id: 'c1', post: 'p1', author: 'a1' },
  { id: 'c2', post: 'p1', author: 'a2' },
  { id: 'c3', post: 'p1', author: 'a2' },
  { id: 'c4', post: 'p2', author: 'a2' },
  { id: 'c5', post: 'p2', author: 'a1' },
  { id: 'c6', post: 'p2', author: 'a1' },
];
const knownPost = (ref: { id: string }) => (feedPosts.includes(ref.id) ? { id: ref.id } : null);

export const iWillNameYouLater: AuditSuite = {
  name: 'i-will-name-you-later',
  subgraphs: [
    {
      name: 'a',
      typeDefs: `${fed('2.3', ['@key', '@external', '@requires'])}
        type Query { feed: [Post] }
        type Post @key(fields: "id") { id: ID! authorId: ID @external author: Author @requires(fields: "authorId") }
        type Comment @key(fields: "id") { id: ID! authorId: ID }
        type Author { id: ID! name: String }
      `,
      resolvers: {
        Query: { feed: () => feedPosts.map((id) => ({ id })) },
        Post: {
          __resolveReference: (ref: { id: string; authorId?: string | null }) => (feedPosts.includes(ref.id) ? ref : null),
          author: (post: { authorId?: string | null }) => {
            if (post.authorId == null) throw new Error('authorId was not provided');
            return { id: post.authorId, name: `${post.authorId}-name` };
          },
        },
        Comment: {
          __resolveReference: (ref: { id: string }) => {
            const comment = feedComments.find((c) => c.id === ref.id);
            return comment ? { id: comment.id, authorId: comment.author } : null;
          },
        },
      },
    },
    {
      name: 'b',
      typeDefs: `${fed('2.3', ['@key', '@external', '@requires'])}
        type Post @key(fields: "id") { id: ID! authorId: ID @requires(fields: "comments { authorId }") comments: [Comment] }
        type Comment @key(fields: "id") { id: ID! authorId: ID @external }
      `,
      resolvers: {
        Post: {
          __resolveReference: (ref: { id: string; comments?: { authorId?: string | null }[] }) => (knownPost(ref) ? ref : null),
          // The post's author is whoever wrote most of its comments: every comment's authorId must have arrived.
          authorId: (post: { id: string; comments?: { authorId?: string | null }[] }) => {
            const authors = post.comments?.map((c) => c.authorId);
            if (!authors || authors.length === 0 || authors.some((a) => a == null)) throw new Error(`comments { authorId } of ${post.id} were not provided`);
            const count = (a: string | null | undefined) => authors.filter((x) => x === a).length;
            return [...authors].sort((x, y) => count(y) - count(x))[0];
          },
          comments: (post: { id: string }) => feedComments.filter((c) => c.post === post.id).map((c) => ({ id: c.id })),
        },
        Comment: { __resolveReference: (ref: { id: string }) => (feedComments.some((c) => c.id === ref.id) ? { id: ref.id } : null) },
      },
    },
  ],
  cases: [
    { name: 'a requirement whose value is itself required, across two subgraphs', query: '{ feed { author { id } } }', expected: { data: { feed: [{ author: { id: 'a2' } }, { author: { id: 'a1' } }] } } },
  ],
};

// ---------------------------------------------------------------------------------------------------------------
// interface-object-indirect-extension: an entity interface (Media) that a third subgraph sees as an
// @interfaceObject, while a second one extends one implementation (Video) directly. The concrete type behind the
// interface object comes from the interface's owner.

const library = [
  { __typename: 'Video', id: '1', title: 'Intro', duration: 100, authorName: 'Jane Roe' },
  { __typename: 'Article', id: '2', title: 'Notes', wordCount: 900 },
];
const medium = (id: string) => library.find((m) => m.id === id) ?? null;
const writers = [{ id: 'w1', name: 'Writer One' }];
const lists = [{ id: 'l1', name: 'Favourites', media: '1' }];

export const interfaceObjectIndirectExtension: AuditSuite = {
  name: 'interface-object-indirect-extension',
  subgraphs: [
    {
      name: 'media',
      typeDefs: `${fed('2.3', ['@key'])}
        type Query { media: Media }
        interface Media @key(fields: "id") { id: ID! title: String }
        type Video implements Media @key(fields: "id") { id: ID! title: String duration: Int }
        type Article implements Media @key(fields: "id") { id: ID! title: String wordCount: Int }
      `,
      resolvers: {
        Query: { media: () => medium('1') },
        Media: { __resolveReference: (ref: { id: string }) => medium(ref.id), __resolveType: (m: { __typename: string }) => m.__typename },
        Video: { __resolveReference: (ref: { id: string }) => medium(ref.id) },
        Article: { __resolveReference: (ref: { id: string }) => medium(ref.id) },
      },
    },
    {
      name: 'author',
      typeDefs: `${fed('2.3', ['@key'])}
        type Query { author: Author }
        type Author @key(fields: "id") { id: ID! name: String }
        extend type Video @key(fields: "id") { id: ID! authorName: String }
      `,
      resolvers: {
        Query: { author: () => writers[0] },
        Author: { __resolveReference: (ref: { id: string }) => writers.find((w) => w.id === ref.id) ?? null },
        Video: {
          __resolveReference: (ref: { id: string }) => {
            const video = medium(ref.id);
            return video?.__typename === 'Video' ? { id: video.id, authorName: video.authorName } : null;
          },
        },
      },
    },
    {
      name: 'playlist',
      typeDefs: `${fed('2.3', ['@key', '@interfaceObject'])}
        type Query { playlist: Playlist }
        type Playlist @key(fields: "id") { id: ID! name: String media: Media }
        type Media @key(fields: "id") @interfaceObject { id: ID! }
      `,
      resolvers: {
        Query: { playlist: () => lists[0] },
        Playlist: {
          __resolveReference: (ref: { id: string }) => lists.find((l) => l.id === ref.id) ?? null,
          media: (list: { media: string }) => ({ id: list.media }),
        },
        Media: { __resolveReference: (ref: { id: string }) => (medium(ref.id) ? { id: ref.id } : null) },
      },
    },
  ],
  cases: [
    {
      name: 'an implementation extended elsewhere, and the interface as an interface object',
      query: `{
        media { id title ... on Video { duration authorName } ... on Article { wordCount } }
        author { id name }
        playlist { id name media { id ... on Video { duration } } }
      }`,
      expected: {
        data: {
          media: { id: '1', title: 'Intro', duration: 100, authorName: 'Jane Roe' },
          author: { id: 'w1', name: 'Writer One' },
          playlist: { id: 'l1', name: 'Favourites', media: { id: '1', duration: 100 } },
        },
      },
    },
  ],
};

// ---------------------------------------------------------------------------------------------------------------
// interface-object-with-requires (sources not stored: shape from its README). a owns the entity interface
// NodeWithName and its one implementation User; b sees NodeWithName as an @interfaceObject whose username
// @requires a's name, and returns it from a root field of its own.

const members = [
  { id: 'u1', name: 'u1-name', age: 11 },
  { id: 'u2', name: 'u2-name', age: 22 },
];
const member = (id: string) => members.find((m) => m.id === id) ?? null;

export const interfaceObjectWithRequires: AuditSuite = {
  name: 'interface-object-with-requires',
  subgraphs: [
    {
      name: 'a',
      typeDefs: `${fed('2.3', ['@key'])}
        type Query { users: [User] }
        interface NodeWithName @key(fields: "id") { id: ID! name: String }
        type User implements NodeWithName @key(fields: "id") { id: ID! name: String age: Int }
      `,
      resolvers: {
        Query: { users: () => members },
        NodeWithName: { __resolveReference: (ref: { id: string }) => member(ref.id), __resolveType: () => 'User' },
        User: { __resolveReference: (ref: { id: string }) => member(ref.id) },
      },
    },
    {
      name: 'b',
      typeDefs: `${fed('2.3', ['@key', '@interfaceObject', '@external', '@requires'])}
        type Query { anotherUsers: [NodeWithName] }
        type NodeWithName @key(fields: "id") @interfaceObject {
          id: ID!
          name: String @external
          username: String @requires(fields: "name")
        }
      `,
      resolvers: {
        Query: { anotherUsers: () => members.map((m) => ({ id: m.id })) },
        NodeWithName: {
          __resolveReference: (ref: { id: string; name?: string | null }) => (member(ref.id) ? ref : null),
          username: (node: { id: string; name?: string | null }) => {
            if (node.name == null) throw new Error(`name of ${node.id} was not provided`);
            return node.name.replace(/-name$/, '-username');
          },
        },
      },
    },
  ],
  cases: (() => {
    const full = [
      { id: 'u1', name: 'u1-name', username: 'u1-username' },
      { id: 'u2', name: 'u2-name', username: 'u2-username' },
    ];
    const ages = [{ age: 11 }, { age: 22 }];
    const everything = [
      { age: 11, id: 'u1', name: 'u1-name', username: 'u1-username' },
      { age: 22, id: 'u2', name: 'u2-name', username: 'u2-username' },
    ];
    const mixed = '{ ... on User { age id name username } id name }';
    return [
      { name: 'a required field on interface objects from their root field', query: '{ anotherUsers { id name username } }', expected: { data: { anotherUsers: full } } },
      { name: 'the same field on the concrete type', query: '{ users { id name username } }', expected: { data: { users: full } } },
      { name: 'a field of the implementation through interface objects', query: '{ anotherUsers { ... on User { age } } }', expected: { data: { anotherUsers: ages } } },
      { name: 'a fragment on the concrete type itself', query: '{ users { ... on User { age } } }', expected: { data: { users: ages } } },
      { name: 'interface objects: implementation and interface fields together', query: `{ anotherUsers ${mixed} }`, expected: { data: { anotherUsers: everything } } },
      { name: 'the concrete type: implementation and interface fields together', query: `{ users ${mixed} }`, expected: { data: { users: everything } } },
      // The audit states this one twice over (its last two cases are the same query).
    ];
  })(),
};

// ---------------------------------------------------------------------------------------------------------------
// nested-provides (the audit's subgraphs are stored, its test.ts and data are not: the cases and data are ours,
// their answers what the schema promises). Query.products @provides categories two levels deep; the providing
// subgraph knows a category's name only on that path, so a plan that leaves it gets no names. Every other
// subgraph reachable for Product refuses to be used for it.

const shelves = [
  { id: 'c1', name: 'Books', sub: ['c3'] },
  { id: 'c2', name: 'Music', sub: [] as string[] },
  { id: 'c3', name: 'Novels', sub: [] as string[] },
];
const shelf = (id: string) => shelves.find((c) => c.id === id);
const shelfProducts = [
  { id: 'p1', categories: ['c1', 'c2'] },
  { id: 'p2', categories: ['c3'] },
];
const poorPlan = (): never => {
  throw new Error('this subgraph is not needed: Query.products provides the categories');
};

export const nestedProvides: AuditSuite = {
  name: 'nested-provides',
  subgraphs: [
    {
      name: 'all-products',
      typeDefs: `${fed('2.3', ['@key', '@shareable'])}
        type Product @key(fields: "id") { id: ID! }
      `,
      resolvers: { Product: { __resolveReference: poorPlan } },
    },
    {
      name: 'category',
      typeDefs: `${fed('2.3', ['@key', '@shareable', '@external', '@provides'])}
        type Query { products: [Product] @shareable @provides(fields: "categories { id name subCategories { id name } }") }
        type Product @key(fields: "id") { id: ID! categories: [Category] @external }
        type Category @key(fields: "id") { id: ID! name: String subCategories: [Category] @external }
      `,
      resolvers: {
        Query: {
          products: () =>
            shelfProducts.map((p) => ({
              id: p.id,
              categories: p.categories.map((id) => ({ id, name: shelf(id)?.name, subCategories: (shelf(id)?.sub ?? []).map((s) => ({ id: s, name: shelf(s)?.name })) })),
            })),
        },
        Product: { __resolveReference: poorPlan },
        // No name here: it is only known on the provided path.
        Category: { __resolveReference: (ref: { id: string }) => (shelf(ref.id) ? { id: ref.id } : null) },
      },
    },
    {
      name: 'subcategories',
      typeDefs: `${fed('2.3', ['@key', '@shareable'])}
        type Product @key(fields: "id") { id: ID! categories: [Category] @shareable }
        type Category @key(fields: "id") { id: ID! subCategories: [Category] @shareable }
      `,
      resolvers: {
        Product: {
          __resolveReference: (ref: { id: string }) => shelfProducts.find((p) => p.id === ref.id) ?? null,
          categories: poorPlan,
        },
        Category: {
          __resolveReference: (ref: { id: string }) => (shelf(ref.id) ? { id: ref.id } : null),
          subCategories: (c: { id: string }) => (shelf(c.id)?.sub ?? []).map((id) => ({ id })),
        },
      },
    },
  ],
  cases: [
    {
      name: 'nested provided fields, from the providing subgraph alone (ours)',
      query: '{ products { id categories { id name subCategories { id name } } } }',
      expected: {
        data: {
          products: [
            { id: 'p1', categories: [{ id: 'c1', name: 'Books', subCategories: [{ id: 'c3', name: 'Novels' }] }, { id: 'c2', name: 'Music', subCategories: [] }] },
            { id: 'p2', categories: [{ id: 'c3', name: 'Novels', subCategories: [] }] },
          ],
        },
      },
    },
    {
      name: 'a level below the provided ones comes from the other subgraph (ours)',
      query: '{ products { categories { subCategories { id subCategories { id } } } } }',
      expected: {
        data: {
          products: [
            { categories: [{ subCategories: [{ id: 'c3', subCategories: [] }] }, { subCategories: [] }] },
            { categories: [{ subCategories: [] }] },
          ],
        },
      },
    },
  ],
};

// ---------------------------------------------------------------------------------------------------------------
// node (sources not stored: shape ours): a root field typed as the Node interface, whose implementation is an
// entity another subgraph adds a field to; the client selects through a fragment on the concrete type.

const nodeProduct = { id: 'p-1', name: 'Product 1', price: 10 };

export const node: AuditSuite = {
  name: 'node',
  subgraphs: [
    {
      name: 'nodes',
      typeDefs: `${fed('2.3', ['@key'])}
        type Query { productNode: Node }
        interface Node { id: ID! }
        type Product implements Node @key(fields: "id") { id: ID! name: String }
      `,
      resolvers: {
        Query: { productNode: () => ({ __typename: 'Product', id: nodeProduct.id, name: nodeProduct.name }) },
        Node: { __resolveType: (n: { __typename: string }) => n.__typename },
        Product: { __resolveReference: (ref: { id: string }) => (ref.id === nodeProduct.id ? { id: ref.id, name: nodeProduct.name } : null) },
      },
    },
    {
      name: 'prices',
      typeDefs: `${fed('2.3', ['@key'])}
        interface Node { id: ID! }
        type Product implements Node @key(fields: "id") { id: ID! price: Float }
      `,
      resolvers: {
        Product: { __resolveReference: (ref: { id: string }) => (ref.id === nodeProduct.id ? { id: ref.id, price: nodeProduct.price } : null) },
      },
    },
  ],
  cases: [
    {
      name: 'an implementation of Node, with a field of another subgraph',
      query: '{ productNode { ... on Product { id name __typename price } } }',
      expected: { data: { productNode: { id: 'p-1', name: 'Product 1', __typename: 'Product', price: 10 } } },
    },
  ],
};

/** In the audit's order of suite names. */
export const PORTED_SUITES_2: AuditSuite[] = [
  abstractTypes,
  complexEntityCall,
  executableDirectiveDefaultArguments,
  fed1ExternalExtends,
  fed1ExternalExtendsResolvable,
  fed2ExternalExtends,
  iWillNameYouLater,
  includeSkip,
  interfaceObjectIndirectExtension,
  interfaceObjectWithRequires,
  nestedProvides,
  node,
];
