import { composeServices } from '@apollo/composition';
import type { FetchNode, PlanNode } from '@apollo/query-planner';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { BENCH_SUBGRAPHS } from '../../bench/gateways/subgraphs/index.js';
import { BENCH_WORKLOADS } from '../../bench/gateways/workloads.js';
import { levelPlan } from './batch-plan.js';
import { flattenAtPath } from './fetch-plan.js';
import { GatewayPlanner } from './planner.js';

const composed = composeServices(BENCH_SUBGRAPHS.map((s) => ({ name: s.name, url: `http://127.0.0.1/${s.name}`, typeDefs: parse(s.typeDefs) })));
if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
const planner = new GatewayPlanner(composed.supergraphSdl);

const planOf = (query: string, operationName?: string): PlanNode => {
  const node = planner.plan(`${operationName ?? ''}\n${query}`, parse(query), operationName).queryPlan.node;
  if (!node || node.kind === 'Subscription') throw new Error('no query plan');
  return node;
};

const fetchesIn = (node: PlanNode): FetchNode[] => {
  switch (node.kind) {
    case 'Fetch':
      return [node];
    case 'Flatten':
      return fetchesIn(node.node);
    case 'Sequence':
    case 'Parallel':
      return node.nodes.flatMap(fetchesIn);
    default:
      return [];
  }
};

describe('levelPlan', () => {
  it('puts the heavy query in waves: every fetch once, 6 requests where Apollo makes 16, no more waves than the plan is deep', () => {
    const heavy = BENCH_WORKLOADS.find((w) => w.name === 'heavy');
    if (!heavy) throw new Error('no heavy workload');
    const node = planOf(heavy.query, heavy.operationName);
    const fetches = fetchesIn(node);
    expect(fetches).toHaveLength(16);
    const levelled = levelPlan(node);
    if (!levelled) throw new Error('not levelled');
    const { waves } = levelled;
    const requests = waves.flatMap((wave) => wave);
    expect(requests).toHaveLength(6);
    expect(new Set(requests.flat())).toEqual(new Set(fetches));
    expect(requests.flat()).toHaveLength(16);
    // One group per subgraph per wave, and only entity fetches share one.
    for (const wave of waves) {
      expect(new Set(wave.map((group) => group[0]?.serviceName)).size).toBe(wave.length);
      for (const group of wave) if (group.length > 1) expect(group.every((f) => f.requires)).toBe(true);
    }
    expect(waves.length).toBeLessThanOrEqual(5);
  });

  it('leaves alone a plan it cannot shorten (one root fetch and one entity fetch)', () => {
    expect(levelPlan(planOf('{ topProducts(first: 5) { upc name price inStock } }'))).toBeUndefined();
  });
});

describe('flattenAtPath', () => {
  it('flat-maps lists at `@`, keeps nulls where Apollo does, and walks plain fields', () => {
    const data = { a: [{ b: [{ c: 1 }, null] }, { b: [{ c: 2 }] }, null], x: { y: { z: 3 } } };
    expect(flattenAtPath(data, ['a', '@', 'b', '@'])).toEqual([{ c: 1 }, null, { c: 2 }, null]);
    expect(flattenAtPath(data, ['x', 'y'])).toEqual({ z: 3 });
    expect(flattenAtPath(data, ['missing', '@'])).toBeUndefined();
    expect(flattenAtPath({ constructor: undefined }, ['constructor'])).toBeUndefined();
  });
});
