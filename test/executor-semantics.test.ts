import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHOP } from './support/executor-graph.js';
import { startFederation, type ExecutorName, type Federation } from './support/federation.js';

/*
 * The gateway's executors against graphql-js semantics, on a small graph of our own (test/support/executor-graph.ts):
 * every case runs through the compiled executor (ours, the default) and Apollo's, and both must give the response
 * graphql-js would give if the supergraph were one schema. Where Apollo gets it wrong, the compiled executor is held
 * to graphql-js and Apollo's answer is noted beside the case.
 *
 * `data` is compared with its key order (a response's fields come in the order of the selection); the `errors` list
 * has no order in the spec, so it is compared sorted by path.
 */

type Body = { data?: unknown; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[]; extensions?: unknown };
interface Outcome {
  status: number;
  body: Body;
  /** Requests each subgraph received for this operation. */
  fetches: Record<string, number>;
}

let fed: Federation;

beforeAll(async () => {
  fed = await startFederation(SHOP);
});
afterAll(async () => {
  await fed?.stop();
});

async function run(executor: ExecutorName, query: string, variables?: Record<string, unknown>, on = fed): Promise<Outcome> {
  const before = on.requests();
  const { status, body } = await on.query(executor, query, variables);
  const after = on.requests();
  const fetches = Object.fromEntries(Object.entries(after).flatMap(([name, n]) => (n > (before[name] ?? 0) ? [[name, n - (before[name] ?? 0)]] : [])));
  return { status, body: body as Body, fetches };
}

const total = (fetches: Record<string, number>) => Object.values(fetches).reduce((a, b) => a + b, 0);
const byPath = (errors: Body['errors']) => [...(errors ?? [])].sort((a, b) => JSON.stringify(a.path ?? []).localeCompare(JSON.stringify(b.path ?? [])));

/** `body` is `expected`: data with its key order, errors as a set. */
function expectBody(body: Body, expected: Body): void {
  expect(body.data).toEqual(expected.data);
  expect(JSON.stringify(body.data)).toBe(JSON.stringify(expected.data));
  expect(byPath(body.errors)).toEqual(byPath(expected.errors));
  expect(Object.keys(body).sort()).toEqual(Object.keys(expected).sort());
}

/**
 * The compiled executor answers `expected`; so does Apollo's unless told otherwise. The compiled one makes no more
 * subgraph requests than Apollo's (the plans are the same planner's).
 */
async function both(query: string, variables: Record<string, unknown> | undefined, expected: Body, apolloAgrees = true): Promise<{ compiled: Outcome; apollo: Outcome }> {
  const compiled = await run('compiled', query, variables);
  const apollo = await run('apollo', query, variables);
  expect(compiled.status).toBe(200);
  expectBody(compiled.body, expected);
  if (apolloAgrees) {
    expect(apollo.status).toBe(200);
    expectBody(apollo.body, expected);
  }
  expect(total(compiled.fetches)).toBeLessThanOrEqual(total(apollo.fetches));
  return { compiled, apollo };
}

const ratingError = (path: (string | number)[]) => ({
  message: 'rating service unavailable',
  path,
  extensions: { code: 'RATING_UNAVAILABLE', retryable: true, serviceName: 'reviews' },
});

describe('nullability through entity fetches', () => {
  it('a non-null field nulled by a subgraph error nulls its nullable parent', async () => {
    await both('{ product(id: "p2") { id name rating } }', undefined, { errors: [ratingError(['product', 'rating'])], data: { product: null } });
  });

  it('the same fields without the error come back whole', async () => {
    await both('{ product(id: "p1") { id name rating } }', undefined, { data: { product: { id: 'p1', name: 'Chair', rating: 4.5 } } });
  });

  it('[Product]: only the bad item is null', async () => {
    await both('{ maybeProducts { id rating } }', undefined, {
      errors: [ratingError(['maybeProducts', 1, 'rating'])],
      data: { maybeProducts: [{ id: 'p1', rating: 4.5 }, null, { id: 'p3', rating: 3 }] },
    });
  });

  it('[Product!]: the bad item nulls the whole (nullable) list', async () => {
    await both('{ products { id rating } }', undefined, { errors: [ratingError(['products', 1, 'rating'])], data: { products: null } });
  });

  it('[Product!]!: the null reaches the root and data is null', async () => {
    await both('{ allProducts { id rating } }', undefined, { errors: [ratingError(['allProducts', 1, 'rating'])], data: null });
  });

  it('a null for a non-null field inside a nested entity fetch nulls the nearest nullable parent, with the subgraph error relocated', async () => {
    // users answers `_entities.1: null` with "Cannot return null…" at `_entities.1.email`: it lands on latestReviews.1.author.
    await both('{ latestReviews { id author { name email } } }', undefined, {
      errors: [
        {
          message: 'Cannot return null for non-nullable field User.email.',
          path: ['latestReviews', 1, 'author', 'email'],
          // The subgraph's error had no code: the gateway marks it as a downstream one.
          extensions: { serviceName: 'users', code: 'DOWNSTREAM_SERVICE_ERROR' },
        },
      ],
      data: {
        latestReviews: [
          { id: 'r1', author: { name: 'Ann', email: 'ann@example.com' } },
          { id: 'r2', author: null },
          { id: 'r3', author: { name: 'Ann', email: 'ann@example.com' } },
        ],
      },
    });
  });

  it('an entity the owning subgraph does not find (null without an error) fails the non-null field asked of it', async () => {
    // search lists Product p9, which products' reference resolver answers null for. Product.name is String!, so
    // the null bubbles through [SearchResult!]! to data, as graphql-js would. The completion error goes to
    // `extensions.valueCompletion` (Apollo's and the router's place for it), not `errors`: an entity a subgraph
    // resolves to null is how a caller is kept from what it may not see, and that must read as a plain null.
    const query = '{ search(term: "ghost") { __typename ... on Product { id name } ... on Article { title } } }';
    const compiled = await run('compiled', query);
    expect(compiled.status).toBe(200);
    expect(compiled.body.data).toBeNull();
    expect(compiled.body.errors).toBeUndefined();
    expect((compiled.body.extensions as { valueCompletion?: unknown } | undefined)?.valueCompletion).toEqual([{ message: 'Cannot return null for non-nullable field Product.name.', path: ['search', 1, 'name'], extensions: { code: 'INVALID_GRAPHQL' } }]);
    const apollo = await run('apollo', query);
    expect(apollo.body).toEqual(compiled.body);
  });

  it('fields of an entity not found that other subgraphs still answer are kept', async () => {
    // Only inventory's field is asked for; products is never asked about p9, and __typename comes from search.
    await both('{ search(term: "ghost") { __typename ... on Product { id stockLabel } } }', undefined, {
      data: { search: [{ __typename: 'Article' }, { __typename: 'Product', id: 'p9', stockLabel: 'inventory: in stock' }] },
    });
  });
});

describe('errors at the right path, with the subgraph extensions', () => {
  it('an error deep in an entity fetch (_entities.0.reviews.1.translation) lands at the response path', async () => {
    await both('{ product(id: "p1") { id reviews { id translation } } }', undefined, {
      errors: [{ message: 'no translation', path: ['product', 'reviews', 1, 'translation'], extensions: { code: 'NOT_TRANSLATED', language: 'de', serviceName: 'reviews' } }],
      data: { product: { id: 'p1', reviews: [{ id: 'r1', translation: 'de: sturdy' }, { id: 'r2', translation: null }] } },
    });
  });

  it('an error of a root field nulls only that field; its sibling (aliased, same subgraph fetch) stands', async () => {
    await both('{ product(id: "boom") { id name } other: product(id: "p1") { id } }', undefined, {
      errors: [{ message: 'no such catalogue', path: ['product'], extensions: { code: 'CATALOGUE_CLOSED', serviceName: 'products' } }],
      data: { product: null, other: { id: 'p1' } },
    });
  });

  it('a root field the subgraph answers null for (no error) is null', async () => {
    await both('{ product(id: "p9") { id } }', undefined, { data: { product: null } });
  });
});

describe('abstract types', () => {
  it('a union list whose members are resolved by different subgraphs', async () => {
    await both('{ search(term: "chair") { __typename ... on Product { id name rating } ... on Article { id title } } }', undefined, {
      data: {
        search: [
          { __typename: 'Product', id: 'p1', name: 'Chair', rating: 4.5 },
          { __typename: 'Article', id: 'a1', title: 'Choosing a chair' },
          { __typename: 'Product', id: 'p3', name: 'Lamp', rating: 3 },
        ],
      },
    });
  });

  it('an entity interface with a field from an @interfaceObject in another subgraph', async () => {
    await both('{ media { __typename id title stars ... on Book { pages } ... on Movie { minutes } } }', undefined, {
      data: {
        media: [
          { __typename: 'Book', id: 'm1', title: 'Dune', stars: 5, pages: 412 },
          { __typename: 'Movie', id: 'm2', title: 'Alien', stars: 4, minutes: 117 },
          { __typename: 'Book', id: 'm3', title: 'Emma', stars: null, pages: 320 },
        ],
      },
    });
  });

  it('__typename beside @interfaceObject fields is the concrete type, not the interface', async () => {
    await both('{ media { __typename stars } }', undefined, {
      data: { media: [{ __typename: 'Book', stars: 5 }, { __typename: 'Movie', stars: 4 }, { __typename: 'Book', stars: null }] },
    });
  });

  it('a type condition on one implementation beside one on the interface', async () => {
    await both('{ media { ... on Book { title stars } ... on Media { id } } }', undefined, {
      data: { media: [{ title: 'Dune', stars: 5, id: 'm1' }, { id: 'm2' }, { title: 'Emma', stars: null, id: 'm3' }] },
    });
  });

  it('one alias for a different field in each member of a union', async () => {
    await both('{ search(term: "chair") { ... on Product { label: name } ... on Article { label: title } } }', undefined, {
      data: { search: [{ label: 'Chair' }, { label: 'Choosing a chair' }, { label: 'Lamp' }] },
    });
  });
});

describe('@provides and @override', () => {
  it('a provided field is read from the providing subgraph, without a fetch from its owner', async () => {
    const { compiled } = await both('{ latestReviews { id body author { id name } } }', undefined, {
      data: {
        latestReviews: [
          { id: 'r1', body: 'sturdy', author: { id: 'u1', name: 'Ann' } },
          { id: 'r2', body: 'wobbly', author: { id: 'u2', name: 'Bob' } },
          { id: 'r3', body: 'huge', author: { id: 'u1', name: 'Ann' } },
        ],
      },
    });
    expect(compiled.fetches).toEqual({ reviews: 1 });
  });

  it('an overridden field comes from the overriding subgraph only', async () => {
    const { compiled } = await both('{ products { id stockLabel } }', undefined, {
      data: {
        products: [
          { id: 'p1', stockLabel: 'inventory: in stock' },
          { id: 'p2', stockLabel: 'inventory: in stock' },
          { id: 'p3', stockLabel: 'inventory: sold out' },
        ],
      },
    });
    expect(compiled.fetches).toEqual({ products: 1, inventory: 1 });
  });
});

describe('variables in nested fetches', () => {
  it('a variable used only in an entity fetch reaches that subgraph', async () => {
    const query = 'query ($first: Int, $cur: String!) { product(id: "p1") { price(currency: $cur) reviews(first: $first) { id } } }';
    const variables = { first: 1, cur: 'USD' };
    const expected = { data: { product: { price: '49.00 USD', reviews: [{ id: 'r1' }] } } };
    const compiled = await run('compiled', query, variables);
    expectBody(compiled.body, expected);
    const entityFetch = fed.received().reviews!.at(-1)!;
    expect(entityFetch.variables).toMatchObject({ first: 1 });
    expectBody((await run('apollo', query, variables)).body, expected);
  });

  it("a variable's default value applies in the entity fetch", async () => {
    await both('query ($first: Int = 1) { product(id: "p1") { reviews(first: $first) { id body } } }', undefined, {
      data: { product: { reviews: [{ id: 'r1', body: 'sturdy' }] } },
    });
  });

  it('an explicit null for a variable reaches the argument as null', async () => {
    await both('query ($first: Int) { product(id: "p1") { reviews(first: $first) { id } } }', { first: null }, {
      data: { product: { reviews: [{ id: 'r1' }, { id: 'r2' }] } },
    });
  });
});

describe('@skip and @include', () => {
  const query = `query ($c: Boolean!) {
    product(id: "p1") {
      id
      name @include(if: $c)
      rating @skip(if: $c)
      ... on Product @include(if: $c) { reviews { id } }
      ...F @skip(if: $c)
    }
  }
  fragment F on Product { stockLabel }`;

  it('on fields, inline fragments and fragment spreads, with the variable true', async () => {
    const { compiled } = await both(query, { c: true }, { data: { product: { id: 'p1', name: 'Chair', reviews: [{ id: 'r1' }, { id: 'r2' }] } } });
    // Nothing of inventory's is asked for: it is not called.
    expect(compiled.fetches.inventory).toBeUndefined();
  });

  it('… and false', async () => {
    const { compiled } = await both(query, { c: false }, { data: { product: { id: 'p1', rating: 4.5, stockLabel: 'inventory: in stock' } } });
    expect(compiled.fetches.inventory).toBe(1);
  });

  it('with literals', async () => {
    await both('{ product(id: "p1") { id name @skip(if: true) rating @include(if: false) stockLabel @include(if: true) } }', undefined, {
      data: { product: { id: 'p1', stockLabel: 'inventory: in stock' } },
    });
  });

  it('a skipped field whose only fetch needs a variable makes no fetch', async () => {
    const { compiled } = await both('query ($c: Boolean!, $first: Int) { product(id: "p1") { id reviews(first: $first) @include(if: $c) { id } } }', { c: false, first: 1 }, { data: { product: { id: 'p1' } } });
    expect(compiled.fetches).toEqual({ products: 1 });
  });
});

describe('introspection', () => {
  it('__typename at the root, on entities, nested entities and interface members', async () => {
    await both('{ __typename product(id: "p1") { __typename reviews { __typename author { __typename } } } media { __typename } }', undefined, {
      data: {
        __typename: 'Query',
        product: { __typename: 'Product', reviews: [{ __typename: 'Review', author: { __typename: 'User' } }, { __typename: 'Review', author: { __typename: 'User' } }] },
        media: [{ __typename: 'Book' }, { __typename: 'Movie' }, { __typename: 'Book' }],
      },
    });
  });

  it('__schema and __type at the root, over the API schema (no federation internals)', async () => {
    const { compiled } = await both('{ __schema { queryType { name } mutationType { name } } __type(name: "Product") { name kind fields { name } } entity: __type(name: "_Entity") { name } }', undefined, {
      data: {
        __schema: { queryType: { name: 'Query' }, mutationType: null },
        __type: { name: 'Product', kind: 'OBJECT', fields: [{ name: 'id' }, { name: 'stockLabel' }, { name: 'name' }, { name: 'price' }, { name: 'rating' }, { name: 'reviews' }] },
        entity: null,
      },
    });
    expect(compiled.fetches).toEqual({});
  });

  it('an interface with an @interfaceObject field, and a union', async () => {
    await both('{ __type(name: "Media") { kind possibleTypes { name } fields { name } } }', undefined, {
      data: { __type: { kind: 'INTERFACE', possibleTypes: [{ name: 'Book' }, { name: 'Movie' }], fields: [{ name: 'id' }, { name: 'title' }, { name: 'stars' }] } },
    });
  });

  it('introspection beside ordinary fields, with an aliased __typename', async () => {
    await both('{ t: __typename __type(name: "SearchResult") { kind possibleTypes { name } } product(id: "p1") { name } }', undefined, {
      data: { t: 'Query', __type: { kind: 'UNION', possibleTypes: [{ name: 'Product' }, { name: 'Article' }] }, product: { name: 'Chair' } },
    });
  });
});

describe('fragments and aliases', () => {
  it('fragments of fragments, inline fragments on abstract types, one field through two fragments with different subselections', async () => {
    const query = `query {
      product(id: "p1") { ...A ...B }
      search(term: "chair") { ...S }
    }
    fragment A on Product { id reviews { id } }
    fragment B on Product { reviews { body author { ...U } } }
    fragment U on User { name }
    fragment S on SearchResult { __typename ... on Product { ...A } ... on Article { title } }`;
    await both(query, undefined, {
      data: {
        product: {
          id: 'p1',
          reviews: [
            { id: 'r1', body: 'sturdy', author: { name: 'Ann' } },
            { id: 'r2', body: 'wobbly', author: { name: 'Bob' } },
          ],
        },
        search: [
          { __typename: 'Product', id: 'p1', reviews: [{ id: 'r1' }, { id: 'r2' }] },
          { __typename: 'Article', title: 'Choosing a chair' },
          { __typename: 'Product', id: 'p3', reviews: [] },
        ],
      },
    });
  });

  it('inline fragments nested in inline fragments on a union', async () => {
    await both('{ search(term: "chair") { ... on SearchResult { ... on Product { ... on Product { name } } } } }', undefined, {
      data: { search: [{ name: 'Chair' }, {}, { name: 'Lamp' }] },
    });
  });

  it('the same field twice with different arguments under two aliases, at the root subgraph and in an entity fetch', async () => {
    await both('{ product(id: "p1") { eur: price(currency: "EUR") usd: price(currency: "USD") one: reviews(first: 1) { id } all: reviews { id body } } }', undefined, {
      data: {
        product: {
          eur: '49.00 EUR',
          usd: '49.00 USD',
          one: [{ id: 'r1' }],
          all: [
            { id: 'r1', body: 'sturdy' },
            { id: 'r2', body: 'wobbly' },
          ],
        },
      },
    });
  });
});

describe('a subgraph that is down (connection refused)', () => {
  let down: Federation;
  beforeAll(async () => {
    down = await startFederation(SHOP);
    // Both gateways up before inventory goes away, so that only the fetches fail.
    await down.both('{ __typename }');
    await down.stopSubgraph('inventory');
  });
  afterAll(async () => {
    await down?.stop();
  });

  it("costs only its own fields: partial data, and an error located at the field it would have answered", async () => {
    const query = '{ product(id: "p1") { id name stockLabel } }';
    const data = { product: { id: 'p1', name: 'Chair', stockLabel: null } };
    const compiled = await run('compiled', query, undefined, down);
    expect(compiled.status).toBe(200);
    expectBody({ data: compiled.body.data }, { data });
    expect(compiled.body.errors).toEqual([expect.objectContaining({ message: expect.any(String), path: ['product', 'stockLabel'], extensions: expect.objectContaining({ code: expect.any(String) }) })]);
    // Apollo: the same data, but its error has no path: [{ message: 'fetch failed', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]
    const apollo = await run('apollo', query, undefined, down);
    expectBody({ data: apollo.body.data }, { data });
    expect(apollo.body.errors).toHaveLength(1);
  });

  it('in a list, every error points at one of the fields the subgraph would have answered', async () => {
    const compiled = await run('compiled', '{ products { id stockLabel } }', undefined, down);
    expectBody({ data: compiled.body.data }, { data: { products: [{ id: 'p1', stockLabel: null }, { id: 'p2', stockLabel: null }, { id: 'p3', stockLabel: null }] } });
    expect(compiled.body.errors?.length).toBeGreaterThan(0);
    for (const error of compiled.body.errors ?? []) expect([['products', 0, 'stockLabel'], ['products', 1, 'stockLabel'], ['products', 2, 'stockLabel']]).toContainEqual(error.path);
  });
});
