import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { contractOperation } from '../../scripts/contract.js';
import { SubscriptionPlanner, variablesOf } from './planner.js';

// The checked-in supergraph, planned by Apollo's own query planner: the gateway never hand-writes a join.
const planner = new SubscriptionPlanner(readFileSync(new URL('../../supergraph.graphql', import.meta.url), 'utf8'));

const fetchesOf = (node: unknown): { serviceName: string }[] => {
  if (!node || typeof node !== 'object') return [];
  const n = node as { kind?: string; serviceName?: string; nodes?: unknown[]; node?: unknown; primary?: unknown; rest?: unknown };
  if (n.kind === 'Fetch') return [n as { serviceName: string }];
  return [...(n.nodes ?? []).flatMap(fetchesOf), ...fetchesOf(n.node), ...fetchesOf(n.primary), ...fetchesOf(n.rest)];
};

describe('SubscriptionPlanner', () => {
  it('plans StoreInventory as the inventory subscription, then catalog entity fetches for the variant', () => {
    const query = contractOperation('StoreInventory');
    const plan = planner.plan(query, parse(query), 'StoreInventory');
    expect(plan.primary.serviceName).toBe('inventory');
    expect(plan.primary.operation).toMatch(/^subscription/);
    expect(plan.primary.operation).toContain('inventoryChanged');
    const rest = fetchesOf(plan.perEvent.queryPlan.node).slice(1).map((f) => f.serviceName);
    expect(rest).toContain('catalog');
    expect(variablesOf(plan.primary, { locationId: 'store-001', skus: ['A'], other: 1 })).toEqual({ locationId: 'store-001', skus: ['A'] });
  });

  it('plans OrderTracking as the orders subscription, then inventory and customers for the names', () => {
    const query = contractOperation('OrderTracking');
    const plan = planner.plan(query, parse(query), 'OrderTracking');
    expect(plan.primary.serviceName).toBe('orders');
    const rest = new Set(fetchesOf(plan.perEvent.queryPlan.node).slice(1).map((f) => f.serviceName));
    expect(rest).toEqual(new Set(['inventory', 'customers']));
  });

  it('caches plans by document and refuses a document that is not a subscription', () => {
    const query = contractOperation('PickupFeed');
    expect(planner.plan(query, parse(query), 'PickupFeed')).toBe(planner.plan(query, parse(query), 'PickupFeed'));
    const notSubscription = '{ __typename }';
    expect(() => planner.plan(notSubscription, parse(notSubscription), undefined)).toThrow(/subscription/);
  });
});
