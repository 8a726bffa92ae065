import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { keysMashup, nonResolvableInterfaceObject, requiresWithArgument, requiresWithArgumentConflict, type AuditSuite } from '../../test/support/audit-suites.js';
import { composeSupergraph } from '../../test/support/federation.js';
import { fixQueryPlan, unsatisfiableErrors } from './plan-fixes.js';

/** Apollo's plan for `query` over a suite's graph, and the plan after our fixes. */
function plans(suite: AuditSuite, query: string): { apollo: QueryPlan; fixed: QueryPlan; apolloJson: string } {
  const sdl = composeSupergraph(suite.subgraphs.map((s) => ({ name: s.name, url: `http://${s.name}.invalid/graphql`, typeDefs: s.typeDefs })));
  const supergraph = Supergraph.build(sdl);
  const document = parse(query);
  const operation = operationFromDocument(supergraph.apiSchema(), document, {});
  const apollo = new QueryPlanner(supergraph).buildQueryPlan(operation);
  const apolloJson = json(apollo);
  return { apollo, fixed: fixQueryPlan(apollo, { supergraph, operation, document }), apolloJson };
}

function json(plan: QueryPlan): string {
  return JSON.stringify(plan, (key, value: unknown) => (key === 'operationDocumentNode' ? undefined : value));
}

function fetches(node: PlanNode | QueryPlan['node']): FetchNode[] {
  if (!node) return [];
  switch (node.kind) {
    case 'Fetch':
      return [node];
    case 'Flatten':
      return fetches(node.node);
    case 'Sequence':
    case 'Parallel':
      return node.nodes.flatMap(fetches);
    default:
      return [];
  }
}

const squash = (operation: string) => operation.replace(/\s+/g, ' ');

describe('fixQueryPlan', () => {
  it('leaves plans without the audit patterns as Apollo built them (the same object)', () => {
    for (const [suite, query] of [
      [requiresWithArgument, '{ products { upc name shippingEstimate } }'],
      [requiresWithArgument, '{ feed { comments(limit: 3) { isCommentSpam } } }'],
      [nonResolvableInterfaceObject, '{ b { id field } }'],
      [nonResolvableInterfaceObject, '{ __typename }'],
    ] as const) {
      const { apollo, fixed } = plans(suite, query);
      expect(fixed).toBe(apollo);
    }
  });

  it('never changes the plan it is given (the planner may hand out the same plan again)', () => {
    for (const [suite, query] of [
      [requiresWithArgumentConflict, '{ products { upc name shippingEstimate shippingEstimateEUR isExpensiveCategory } }'],
      [keysMashup, '{ b { id a { id name nameInB } } }'],
      [requiresWithArgument, '{ feed { author { id } comments(limit: 1) { id } } }'],
    ] as const) {
      const { apollo, fixed, apolloJson } = plans(suite, query);
      expect(fixed).not.toBe(apollo);
      expect(json(apollo)).toBe(apolloJson);
    }
  });

  it('two @requires of one field with different arguments: both variants fetched, one consumer fetch per variant', () => {
    const { apollo, fixed } = plans(requiresWithArgumentConflict, '{ products { upc name shippingEstimate shippingEstimateEUR isExpensiveCategory } }');
    // Apollo asks for one price only (EUR) and feeds it to both estimates.
    expect(squash(fetches(apollo.node)[0]!.operation)).not.toContain('"USD") weight');
    const [catalog, ...shipping] = fetches(fixed.node);
    expect(squash(catalog!.operation)).toContain('price(currency: "EUR")');
    expect(squash(catalog!.operation)).toMatch(/price__required\d+: price\(currency: "USD"\)/);
    expect(shipping).toHaveLength(2);
    const usd = shipping.find((f) => f.operation.includes('shippingEstimate\n') || / shippingEstimate /.test(squash(f.operation)))!;
    const eur = shipping.find((f) => f.operation.includes('shippingEstimateEUR'))!;
    expect(usd.operation).not.toContain('shippingEstimateEUR');
    expect(usd.inputRewrites).toEqual([{ kind: 'KeyRenamer', path: ['... on Product', expect.stringMatching(/^price__required\d+$/)], renameKeyTo: 'price' }]);
    expect(eur.inputRewrites ?? []).toEqual([]);
    expect(JSON.stringify(eur.requires)).not.toContain('price__required');
  });

  it('the client asks the required field with another argument: the required variant gets an alias of its own', () => {
    const { fixed } = plans(requiresWithArgument, '{ feed { author { id } comments(limit: 1) { id } } }');
    const [posts, authors] = fetches(fixed.node);
    expect(squash(posts!.operation)).toMatch(/comments__required\d+: comments\(limit: 3\)/);
    expect(squash(authors!.operation)).toContain('comments(limit: 1)');
    expect(authors!.inputRewrites).toEqual([{ kind: 'KeyRenamer', path: ['... on Post', expect.stringMatching(/^comments__required\d+$/)], renameKeyTo: 'comments' }]);
  });

  it('the same with a variable and through fragments: split fetches keep only the variables they use', () => {
    const { fixed } = plans(
      requiresWithArgument,
      `query ($limit: Int = 1) { feed { author { id } ...Foo } }
       fragment Foo on Post { comments(limit: $limit) { id } }`,
    );
    const [posts, authors] = fetches(fixed.node);
    expect(squash(posts!.operation)).toMatch(/comments__required\d+: comments\(limit: 3\)/);
    expect(squash(authors!.operation)).toContain('comments(limit: $limit)');
    expect(authors!.variableUsages).toEqual(['limit']);
  });

  it('the client variant and the required one from the same subgraph: Apollo drops one, the fix asks for both', () => {
    const { apollo, fixed } = plans(requiresWithArgument, '{ products { upc price(currency: "EUR") shippingEstimate } }');
    expect(squash(fetches(apollo.node)[0]!.operation)).not.toContain('"USD"');
    const [catalog, shipping] = fetches(fixed.node);
    expect(squash(catalog!.operation)).toMatch(/price\(currency: "EUR"\).*price__required\d+: price\(currency: "USD"\)/);
    expect(shipping!.inputRewrites?.[0]).toMatchObject({ kind: 'KeyRenamer', renameKeyTo: 'price' });
  });

  it('keys-mashup: a representation with only non-resolvable keys gets a resolvable key of the target subgraph', () => {
    const { apollo, fixed } = plans(keysMashup, '{ b { id a { id name nameInB } } }');
    const last = (plan: QueryPlan) => fetches(plan.node).at(-1)!;
    // Apollo sends `compositeId { one two }`, which b declared `resolvable: false`.
    expect(JSON.stringify(last(apollo).requires)).not.toContain('"three"');
    const requires = JSON.stringify(last(fixed).requires);
    expect(requires).toContain('{"kind":"Field","name":"id"}');
    expect(requires).toContain('"three"');
    // An earlier fetch at that path now asks for the key's fields.
    expect(fetches(fixed.node).slice(0, -1).some((f) => squash(f.operation).includes('three'))).toBe(true);
  });

  it('a root field that no fetch asks for marks the plan unsatisfiable (data: null with an error)', () => {
    const { fixed } = plans(nonResolvableInterfaceObject, '{ a { field } }');
    expect(unsatisfiableErrors(fixed)).toEqual([expect.objectContaining({ path: ['a'], extensions: { code: 'UNSATISFIABLE_SELECTION' } })]);
    for (const query of ['{ a { id } }', '{ __typename }', '{ product { id } }', '{ b { id } a @skip(if: true) { field } }']) {
      expect(unsatisfiableErrors(plans(nonResolvableInterfaceObject, query).fixed), query).toBeUndefined();
    }
  });
});
