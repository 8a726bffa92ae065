import type { FetchNode, PlanNode } from '@apollo/query-planner';
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import { GatewayPlanner, type PlannedOperation } from '../executor/planner.js';

/**
 * How the supergraph executes one subscription document: the owning subgraph's subscription (`primary`) and,
 * for every event it yields, the plan of entity fetches that fills in the fields other subgraphs own (`rest`).
 * Both come from Apollo's own query planner (the gateway's one planner), so a subscription field that a subgraph
 * adds later is planned like any query, with no change here.
 */
export interface SubscriptionPlan {
  primary: FetchNode;
  /** The per-event plan: the primary fetch (answered with the event) followed by `rest`, run on the gateway's executor. */
  perEvent: PlannedOperation;
}

/** Subscription plans, from the gateway's planner (shared with queries), cached with it. */
export class SubscriptionPlanner {
  readonly planner: GatewayPlanner;
  private readonly perEvent = new WeakMap<PlannedOperation, SubscriptionPlan>();

  constructor(supergraphSdlOrPlanner: string | GatewayPlanner) {
    this.planner = typeof supergraphSdlOrPlanner === 'string' ? new GatewayPlanner(supergraphSdlOrPlanner) : supergraphSdlOrPlanner;
  }

  /** The client-facing schema (what clients validate against). */
  get apiSchema(): GraphQLSchema {
    return this.planner.apiSchema;
  }

  /**
   * Plan a validated subscription document. Throws a GraphQLError when the planner cannot (it should not for a
   * valid document).
   */
  plan(key: string, document: DocumentNode, operationName: string | undefined): SubscriptionPlan {
    const planned = this.planner.plan(key, document, operationName);
    const known = this.perEvent.get(planned);
    if (known) return known;
    const node = planned.queryPlan.node;
    if (!node || node.kind !== 'Subscription') throw new GraphQLError('the planner did not produce a subscription plan for this operation');
    const perEventNode: PlanNode = node.rest ? { kind: 'Sequence', nodes: [node.primary, node.rest] } : node.primary;
    const plan: SubscriptionPlan = {
      primary: node.primary,
      perEvent: { ...planned, key: `${planned.key}\nper event`, queryPlan: { kind: 'QueryPlan', node: perEventNode }, operationContext: planned.operationContext, compiled: new Map() },
    };
    this.perEvent.set(planned, plan);
    return plan;
  }
}

/** The variables of `fetch`, picked from the client's (what the subgraph's subscription needs). */
export function variablesOf(fetch: FetchNode, variables: Record<string, unknown>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of fetch.variableUsages ?? []) if (variables[name] !== undefined) picked[name] = variables[name];
  return picked;
}
