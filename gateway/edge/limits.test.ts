import { readFileSync } from 'node:fs';
import { GraphQLError, Lexer, Source, TokenKind, buildSchema, getIntrospectionQuery, parse, validate, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { contractOperations } from '../../scripts/contract.js';
import { SubscriptionPlanner } from '../subscriptions/planner.js';
import { checkLimits, DEFAULT_DOCUMENT_LIMITS, MAX_NESTING, measureOperation, parseWithinLimits, type DocumentLimits } from './limits.js';

const schema = buildSchema(`
  type Query {
    node: Node
    nodes(first: Int = 5): [Node!]!
    products(first: Int = 20, after: String): ProductConnection!
    thing: Thing
    version: String
  }
  type Mutation { touch(id: ID!): Node ping: Boolean }
  type Node { id: ID! name: String child: Node children(first: Int): [Node!]! tags: [String!]! }
  type ProductConnection { totalCount: Int! pageInfo: PageInfo! edges: [ProductEdge!]! nodes: [Product!]! }
  type PageInfo { hasNextPage: Boolean! }
  type ProductEdge { cursor: String! node: Product! }
  type Product { id: ID! name: String related: [Product!]! }
  union Thing = Node | Product
`);

const limits = (overrides: Partial<DocumentLimits> = {}): DocumentLimits => ({ ...DEFAULT_DOCUMENT_LIMITS, ...overrides });
const measure = (query: string, variables?: Record<string, unknown>, operationName?: string) =>
  measureOperation(schema, parse(query), operationName, variables, DEFAULT_DOCUMENT_LIMITS);
const codes = (errors: GraphQLError[]) => errors.map((e) => e.extensions.code);

const tokens = (text: string): number => {
  const lexer = new Lexer(new Source(text));
  let count = 0;
  while (lexer.advance().kind !== TokenKind.EOF) count++;
  return count;
};

/** `node { child { child … { id } } }`: `depth` levels. */
const nested = (depth: number): string => `{ ${'node { '}${'child { '.repeat(depth - 2)}id${' }'.repeat(depth - 1)} }`;
const aliased = (count: number): string => `{ ${Array.from({ length: count }, (_, i) => `v${i}: version`).join(' ')} }`;

describe('parseWithinLimits', () => {
  it('parses a document of exactly maxTokens tokens and refuses one token more with TOO_MANY_TOKENS', () => {
    const query = aliased(10); // 2 + 10 × 3 tokens
    expect(tokens(query)).toBe(32);
    expect(parseWithinLimits(query, { maxTokens: 32 })).not.toBeInstanceOf(GraphQLError);
    const refused = parseWithinLimits(query, { maxTokens: 31 });
    expect(refused).toBeInstanceOf(GraphQLError);
    expect((refused as GraphQLError).extensions).toEqual({ code: 'TOO_MANY_TOKENS', limit: 31 });
    expect((refused as GraphQLError).message).toBe('the document has more than 31 tokens; at most 31 are allowed');
  });

  it('refuses nesting deeper than MAX_NESTING before the parser recurses into it (found by the fuzz suite)', () => {
    // 1,900 nested list brackets are under the token limit, and overflowed the parser's stack (a 500).
    for (const query of [`{ node(id: ${'['.repeat(1900)}"x"${']'.repeat(1900)}) { id } }`, `{ ${'a { '.repeat(999)}b${' }'.repeat(999)} }`]) {
      const refused = parseWithinLimits(query, DEFAULT_DOCUMENT_LIMITS);
      expect(refused).toBeInstanceOf(GraphQLError);
      expect((refused as GraphQLError).extensions).toEqual({ code: 'QUERY_TOO_DEEP', limit: MAX_NESTING });
    }
    const at = `{ f(a: ${'['.repeat(MAX_NESTING - 2)}1${']'.repeat(MAX_NESTING - 2)}) }`;
    expect(parseWithinLimits(at, DEFAULT_DOCUMENT_LIMITS)).not.toBeInstanceOf(GraphQLError);
    const over = `{ f(a: ${'['.repeat(MAX_NESTING - 1)}1${']'.repeat(MAX_NESTING - 1)}) }`;
    expect((parseWithinLimits(over, DEFAULT_DOCUMENT_LIMITS) as GraphQLError).extensions.code).toBe('QUERY_TOO_DEEP');
    // Brackets inside strings and comments are not nesting; a lexical error is still the parser's to report.
    expect(parseWithinLimits(`{ f(a: "${'['.repeat(500)}") } # ${'{'.repeat(500)}`, DEFAULT_DOCUMENT_LIMITS)).not.toBeInstanceOf(GraphQLError);
    expect((parseWithinLimits('{ f(a: "unterminated) }', DEFAULT_DOCUMENT_LIMITS) as GraphQLError).extensions.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('counts neither comments nor whitespace nor commas as tokens', () => {
    expect(parseWithinLimits('# a comment\n{ a, b,,, c }\n# another', { maxTokens: 5 })).not.toBeInstanceOf(GraphQLError);
  });

  it('holds the default token limit', () => {
    // `{` + n × `vN: version` (3 tokens) + `}`, topped up with single fields to the exact count.
    const max = DEFAULT_DOCUMENT_LIMITS.maxTokens;
    const fill = (n: number) => `{ ${Array.from({ length: Math.floor((n - 2) / 3) }, (_, i) => `v${i}: version`).join(' ')} ${'version '.repeat((n - 2) % 3)}}`;
    expect(tokens(fill(max))).toBe(max);
    expect(parseWithinLimits(fill(max), DEFAULT_DOCUMENT_LIMITS)).not.toBeInstanceOf(GraphQLError);
    expect((parseWithinLimits(fill(max + 1), DEFAULT_DOCUMENT_LIMITS) as GraphQLError).extensions.code).toBe('TOO_MANY_TOKENS');
  });

  it("keeps graphql's message and location for a syntax error, with code GRAPHQL_PARSE_FAILED", () => {
    const error = parseWithinLimits('{ products { id }', DEFAULT_DOCUMENT_LIMITS);
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).message).toBe('Syntax Error: Expected Name, found <EOF>.');
    expect((error as GraphQLError).extensions).toEqual({ code: 'GRAPHQL_PARSE_FAILED' });
    expect((error as GraphQLError).locations).toEqual([{ line: 1, column: 18 }]);
  });
});

describe('measureOperation and checkLimits', () => {
  it('measures depth by field nesting, not counting __typename', () => {
    expect(measure(nested(5)).depth).toBe(5);
    expect(measure('{ version }').depth).toBe(1);
    expect(measure('{ __typename }').depth).toBe(0);
    expect(measure('{ node { __typename child { __typename } } }').depth).toBe(2);
  });

  it('accepts depth at the limit and refuses one level more with QUERY_TOO_DEEP', () => {
    expect(checkLimits(schema, parse(nested(5)), undefined, undefined, limits({ maxDepth: 5 }))).toEqual([]);
    const [error, ...rest] = checkLimits(schema, parse(nested(6)), undefined, undefined, limits({ maxDepth: 5 }));
    expect(rest).toEqual([]);
    expect(error?.message).toBe('the query is 6 levels deep; at most 5 are allowed');
    expect(error?.extensions).toEqual({ code: 'QUERY_TOO_DEEP', limit: 5, actual: 6 });
    const max = DEFAULT_DOCUMENT_LIMITS.maxDepth;
    expect(checkLimits(schema, parse(nested(max)), undefined, undefined, DEFAULT_DOCUMENT_LIMITS)).toEqual([]);
    expect(codes(checkLimits(schema, parse(nested(max + 1)), undefined, undefined, DEFAULT_DOCUMENT_LIMITS))).toEqual(['QUERY_TOO_DEEP']);
  });

  it('accepts aliases at the limit and refuses one more with TOO_MANY_ALIASES', () => {
    const max = DEFAULT_DOCUMENT_LIMITS.maxAliases;
    expect(measure(aliased(max)).aliases).toBe(max);
    expect(checkLimits(schema, parse(aliased(max)), undefined, undefined, DEFAULT_DOCUMENT_LIMITS)).toEqual([]);
    const errors = checkLimits(schema, parse(aliased(max + 1)), undefined, undefined, DEFAULT_DOCUMENT_LIMITS);
    expect(errors.map((e) => e.extensions)).toEqual([{ code: 'TOO_MANY_ALIASES', limit: max, actual: max + 1 }]);
    expect(errors[0]?.message).toBe(`the query has ${max + 1} aliases; at most ${max} are allowed`);
  });

  it('costs object fields by the page sizes above them, leaves nothing', () => {
    expect(measure('{ version }').cost).toBe(0);
    expect(measure('{ node { id tags } }').cost).toBe(1);
    // nodes 1, then 3 × children 1, whose leaves cost nothing
    expect(measure('{ nodes(first: 3) { children(first: 4) { id } } }').cost).toBe(4);
    // nodes 1 + 3 × (children 1 + 4 × child 1)
    expect(measure('{ nodes(first: 3) { children(first: 4) { child { id } } } }').cost).toBe(1 + 3 * (1 + 4));
    // the argument's schema default (5); a list without `first` or a default takes defaultListSize (10)
    expect(measure('{ nodes { child { id } } }').cost).toBe(1 + 5);
    expect(measure('{ node { children { child { id } } } }').cost).toBe(1 + 1 + 10);
  });

  it("takes `first` from the variables, else the variable's default, else the argument's; never below 0", () => {
    const query = 'query Q($n: Int) { nodes(first: $n) { child { id } } }';
    expect(measure(query, { n: 7 }).cost).toBe(1 + 7);
    expect(measure(query, {}).cost).toBe(1 + 5);
    expect(measure(query, { n: null }).cost).toBe(1 + 5);
    expect(measure(query, { n: -4 }).cost).toBe(1);
    expect(measure('query Q($n: Int = 2) { nodes(first: $n) { child { id } } }').cost).toBe(1 + 2);
    expect(measure('query Q($n: Int = 2) { nodes(first: $n) { child { id } } }', { n: 9 }).cost).toBe(1 + 9);
  });

  it("counts a connection's page once: its edges and nodes are the page, its pageInfo is not", () => {
    // products 1 + 20 × (edges 1 + node 1 + related 1 + 10 × 0) + 20 × nodes 1
    expect(measure('{ products(first: 20) { totalCount edges { cursor node { related { id } } } nodes { id } } }').cost).toBe(1 + 20 * 3 + 20);
    expect(measure('{ products { edges { node { id } } } }').cost).toBe(1 + 20 * 2);
    expect(measure('{ products(first: 5) { pageInfo { hasNextPage } edges { node { id } } } }').cost).toBe(1 + 1 + 5 * 2);
    expect(measure('{ products(first: 5) { ...Page } } fragment Page on ProductConnection { pageInfo { hasNextPage } nodes { related { id } } }').cost).toBe(1 + 1 + 5 * 2);
  });

  it('adds 10 for each root field of a mutation', () => {
    expect(measure('mutation { touch(id: "1") { id } ping }').cost).toBe(1 + 2 * 10);
    expect(measure('mutation { a: ping b: ping __typename }').cost).toBe(20);
    expect(measure('mutation M { ...Both } fragment Both on Mutation { ping touch(id: "1") { child { id } } }').cost).toBe(2 + 2 * 10);
  });

  it('accepts cost at the limit and refuses one more with QUERY_TOO_COMPLEX', () => {
    const query = parse('{ nodes(first: 3) { children(first: 4) { child { id } } } }'); // 16
    expect(checkLimits(schema, query, undefined, undefined, limits({ maxCost: 16 }))).toEqual([]);
    const errors = checkLimits(schema, query, undefined, undefined, limits({ maxCost: 15 }));
    expect(errors.map((e) => e.extensions)).toEqual([{ code: 'QUERY_TOO_COMPLEX', limit: 15, actual: 16 }]);
    expect(errors[0]?.message).toBe('the query costs 16; at most 15 is allowed');
  });

  it('follows named and inline fragments, counting a fragment at each of its spreads', () => {
    const query = `
      query Q {
        a: node { ...Deep }
        b: node { ...Deep }
        c: node { ... on Node { ...Deep } }
        thing { ... on Product { r: related { id } } ...NodeBits }
      }
      fragment Deep on Node { x: child { ...Deeper } }
      fragment Deeper on Node { y: child { id } }
      fragment NodeBits on Node { z: children(first: 2) { child { id } } }
    `;
    const m = measure(query);
    expect(m.depth).toBe(4); // a / x / y / id
    expect(m.aliases).toBe(3 + 3 * 2 + 2);
    // 3 × (node 1 + child 1 + child 1) + thing 1 + related 1 + children 1 + 2 × child 1
    expect(m.cost).toBe(3 * 3 + 1 + 1 + 1 + 2);
  });

  it('measures a fragment spread many times over in linear time, every spread counted', () => {
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`);
    const query = `{ ...F0 } ${fragments.join(' ')} fragment F${levels} on Query { v: version }`;
    const m = measure(query);
    // 2^40 spreads of the last fragment: counted, not walked (a walk would not end in this test's lifetime).
    expect(m.aliases).toBe(2 ** levels);
    expect(m.fields).toBe(2 ** levels);
    expect(codes(checkLimits(schema, parse(query), undefined, undefined, DEFAULT_DOCUMENT_LIMITS))).toEqual(['TOO_MANY_ALIASES', 'TOO_MANY_FIELDS']);
  });

  it('refuses a fragment bomb of leaves, which costs nothing, for its fields (found by the fuzz suite)', () => {
    // Each fragment spreads the next twice: 2^n `id`s from a few hundred bytes. Leaves cost nothing and there are
    // no aliases, so only the field count sees it; the planner spent 12 s on n = 18, doubling with each level.
    const bomb = (n: number) => {
      const fragments = Array.from({ length: n }, (_, i) => `fragment F${i} on Node { ${i === n - 1 ? 'id' : `...F${i + 1} ...F${i + 1}`} }`);
      return `{ node { ...F0 } } ${fragments.join(' ')}`;
    };
    expect(measure(bomb(10))).toEqual({ depth: 2, aliases: 0, cost: 1, fields: 1 + 2 ** 9 });
    expect(checkLimits(schema, parse(bomb(10)), undefined, undefined, DEFAULT_DOCUMENT_LIMITS)).toEqual([]);
    const refused = checkLimits(schema, parse(bomb(40)), undefined, undefined, DEFAULT_DOCUMENT_LIMITS);
    expect(codes(refused)).toEqual(['TOO_MANY_FIELDS']);
    expect(refused[0]?.extensions).toEqual({ code: 'TOO_MANY_FIELDS', limit: DEFAULT_DOCUMENT_LIMITS.maxFields, actual: 1 + 2 ** 39 });
    expect(codes(checkLimits(schema, parse(bomb(12)), undefined, undefined, limits({ maxFields: 2048 })))).toEqual(['TOO_MANY_FIELDS']);
    expect(checkLimits(schema, parse(bomb(12)), undefined, undefined, limits({ maxFields: 2049 }))).toEqual([]);
  });

  it('counts every field selection once expanded: leaves, __typename, inline fragments', () => {
    expect(measure('{ version __typename node { id name ... on Node { tags } } }').fields).toBe(6);
    expect(measure('{ node { ...N } n2: node { ...N } } fragment N on Node { id name }').fields).toBe(6);
  });

  it('does not loop on cyclic fragments (which validation would refuse)', () => {
    const query = 'query Q { node { ...A } } fragment A on Node { a: child { ...B } } fragment B on Node { b: child { ...A } } ';
    const document = parse(query);
    expect(validate(schema, document).length).toBeGreaterThan(0);
    const m = measureOperation(schema, document, 'Q', undefined, DEFAULT_DOCUMENT_LIMITS);
    expect(Number.isFinite(m.cost) && Number.isFinite(m.depth) && Number.isFinite(m.aliases)).toBe(true);
    expect(m.depth).toBeGreaterThanOrEqual(3);
    expect(measure('{ ...Self } fragment Self on Query { node { id } ...Self }').cost).toBe(1);
  });

  it('never throws on odd input: unknown fields, types, fragments and operations', () => {
    expect(measure('{ nope { deeper { x } } }')).toEqual({ depth: 3, aliases: 0, cost: 0, fields: 3 });
    expect(measure('{ node { ... on Nope { id } ...Missing } }')).toEqual({ depth: 2, aliases: 0, cost: 1, fields: 2 });
    expect(measure('{ nodes(first: "lots") { child { id } } }').cost).toBe(1 + 5);
    // A page is at most the graph's largest (100): a larger `first` is the subgraph's to refuse by name.
    expect(measure('query Q($n: Int) { nodes(first: $n) { child { id } } }', { n: 1e300 }).cost).toBe(1 + 100);
    expect(measure('query A { version } query B { node { id } }')).toEqual({ depth: 0, aliases: 0, cost: 0, fields: 0 });
    expect(measure('query A { version } query B { node { id } }', undefined, 'B')).toEqual({ depth: 2, aliases: 0, cost: 1, fields: 2 });
    expect(measure('{ version }', undefined, 'Nope')).toEqual({ depth: 0, aliases: 0, cost: 0, fields: 0 });
    expect(measureOperation(schema, parse('subscription { x }'), undefined, undefined, DEFAULT_DOCUMENT_LIMITS)).toEqual({ depth: 1, aliases: 0, cost: 0, fields: 1 });
  });
});

describe('the API schema and the client contract', () => {
  // Read at test time: the supergraph gains fields while the contract and the subgraphs move together.
  const apiSchema = new SubscriptionPlanner(readFileSync(new URL('../../supergraph.graphql', import.meta.url), 'utf8')).apiSchema;

  it('admits every contract operation within the defaults, with room to spare', () => {
    const rows = contractOperations().map((op) => {
      const document = parse(op.document);
      const m = measureOperation(apiSchema, document, op.name, undefined, DEFAULT_DOCUMENT_LIMITS);
      return { name: op.name, kind: op.kind, ...m, tokens: tokens(op.document), valid: validate(apiSchema, document).length === 0 };
    });
    expect(rows.length).toBeGreaterThan(0);
    if (process.env.BENCH_VERBOSE) {
      const line = (cells: (string | number | boolean)[]) => `| ${cells.join(' | ')} |\n`;
      process.stdout.write(line(['operation', 'kind', 'depth', 'aliases', 'cost', 'fields', 'tokens', 'validates']));
      process.stdout.write(line(['---', '---', '---', '---', '---', '---', '---', '---']));
      for (const r of rows) process.stdout.write(line([r.name, r.kind, r.depth, r.aliases, r.cost, r.fields, r.tokens, r.valid]));
      const max = (key: 'depth' | 'aliases' | 'cost' | 'fields' | 'tokens') => Math.max(...rows.map((r) => r[key]));
      process.stdout.write(line(['max', '', max('depth'), max('aliases'), max('cost'), max('fields'), max('tokens'), '']));
      const d = DEFAULT_DOCUMENT_LIMITS;
      process.stdout.write(line(['defaults', '', d.maxDepth, d.maxAliases, d.maxCost, d.maxFields, d.maxTokens, '']));
    }
    for (const r of rows) {
      // At most half of each limit: an operation that grows a little must not start failing in production.
      expect(r.depth, r.name).toBeLessThanOrEqual(DEFAULT_DOCUMENT_LIMITS.maxDepth / 2);
      expect(r.cost, r.name).toBeLessThanOrEqual(DEFAULT_DOCUMENT_LIMITS.maxCost / 2);
      expect(r.tokens, r.name).toBeLessThanOrEqual(DEFAULT_DOCUMENT_LIMITS.maxTokens / 2);
      expect(r.aliases, r.name).toBeLessThanOrEqual(DEFAULT_DOCUMENT_LIMITS.maxAliases / 2);
      expect(r.fields, r.name).toBeLessThanOrEqual(DEFAULT_DOCUMENT_LIMITS.maxFields / 2);
      const document = parseWithinLimits(contractOperations().find((o) => o.name === r.name)?.document ?? '', DEFAULT_DOCUMENT_LIMITS);
      expect(document).not.toBeInstanceOf(GraphQLError);
      expect(checkLimits(apiSchema, document as DocumentNode, r.name, undefined, DEFAULT_DOCUMENT_LIMITS), r.name).toEqual([]);
    }
  });

  it('admits the standard introspection query (GraphiQL, Apollo Sandbox, codegen), which costs nothing', () => {
    const document = parseWithinLimits(getIntrospectionQuery(), DEFAULT_DOCUMENT_LIMITS);
    expect(document).not.toBeInstanceOf(GraphQLError);
    const m = measureOperation(apiSchema, document as DocumentNode, undefined, undefined, DEFAULT_DOCUMENT_LIMITS);
    expect(m.cost).toBe(0);
    expect(m.depth).toBeLessThanOrEqual(DEFAULT_DOCUMENT_LIMITS.maxDepth);
    expect(m.fields).toBeLessThanOrEqual(DEFAULT_DOCUMENT_LIMITS.maxFields / 2);
    expect(checkLimits(apiSchema, document as DocumentNode, undefined, undefined, DEFAULT_DOCUMENT_LIMITS)).toEqual([]);
  });

  it("admits ProductListing at the schema's largest page (first: 100)", () => {
    const listing = contractOperations().find((o) => o.name === 'ProductListing')?.document ?? '';
    expect(checkLimits(apiSchema, parse(listing), 'ProductListing', { first: 100 }, DEFAULT_DOCUMENT_LIMITS)).toEqual([]);
  });

  it('refuses ProductListing asked 300 times over by aliases, for its aliases and for its cost', () => {
    const listing = contractOperations().find((o) => o.name === 'ProductListing')?.document ?? '';
    const selection = /products\([^)]*\) (\{[\s\S]*\})\s*\}\s*$/.exec(listing)?.[1];
    expect(selection).toBeDefined();
    const fields = Array.from({ length: 300 }, (_, i) => `p${i}: products(first: 20) { ...Listing }`).join('\n');
    const query = `query ProductListing {\n${fields}\n}\nfragment Listing on ProductConnection ${selection}`;
    // At the edge the parser gives up on it first; measured anyway, it is over two limits.
    expect((parseWithinLimits(query, DEFAULT_DOCUMENT_LIMITS) as GraphQLError).extensions.code).toBe('TOO_MANY_TOKENS');
    const document = parse(query);
    expect(validate(apiSchema, document)).toEqual([]);
    const errors = checkLimits(apiSchema, document, 'ProductListing', undefined, DEFAULT_DOCUMENT_LIMITS);
    expect(codes(errors)).toEqual(['TOO_MANY_ALIASES', 'QUERY_TOO_COMPLEX', 'TOO_MANY_FIELDS']);
    expect(errors[0]?.extensions.actual).toBe(300);
    const one = measureOperation(apiSchema, parse(listing), 'ProductListing', undefined, DEFAULT_DOCUMENT_LIMITS).cost;
    expect(errors[1]?.extensions.actual).toBe(300 * one);
  });
});
