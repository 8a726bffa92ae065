import { buildOperationContext } from '@apollo/gateway';
import { operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import { withoutSecurityFeatures } from '../edge/security-features.js';

/**
 * How the supergraph executes one subscription document: the owning subgraph's subscription (`primary`) and,
 * for every event it yields, the plan of entity fetches that fills in the fields other subgraphs own (`rest`).
 * Both come from Apollo's own query planner, so a subscription field that a subgraph adds later is planned
 * like any query, with no change here.
 */
type OperationContext = ReturnType<typeof buildOperationContext>;

export interface SubscriptionPlan {
  primary: FetchNode;
  /** The per-event plan: the primary fetch (answered with the event) followed by `rest`. */
  perEvent: QueryPlan;
  operationContext: OperationContext;
}

/** The supergraph as the subscription engine needs it: schemas for validation, execution and planning. */
export class SubscriptionPlanner {
  /** The client-facing schema (what clients validate against). */
  readonly apiSchema: GraphQLSchema;
  /** The federation-internals form of the API schema, as `executeQueryPlan` wants it. */
  readonly apiSchemaInternal: Schema;
  /** The supergraph schema with its join directives, as `executeQueryPlan` wants it. */
  readonly supergraphSchema: GraphQLSchema;
  private readonly planner: QueryPlanner;
  /** Plans by document text and operation name; bounded, since clients choose the text. */
  private readonly cache = new Map<string, SubscriptionPlan>();

  constructor(supergraphSdl: string, private readonly cacheSize = 500) {
    // The authorization directives are the edge's to enforce; Apollo's planner refuses what it does not enforce.
    const supergraph = Supergraph.build(withoutSecurityFeatures(supergraphSdl));
    this.apiSchemaInternal = supergraph.apiSchema();
    this.apiSchema = this.apiSchemaInternal.toGraphQLJSSchema();
    this.supergraphSchema = supergraph.schema.toGraphQLJSSchema();
    this.planner = new QueryPlanner(supergraph);
  }

  /**
   * Plan a validated subscription document. Throws a GraphQLError when the planner cannot (it should not for a
   * valid document).
   */
  plan(key: string, document: DocumentNode, operationName: string | undefined): SubscriptionPlan {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const operationContext = buildOperationContext({ schema: this.apiSchema, operationDocument: document, ...(operationName ? { operationName } : {}) });
    const operation = operationFromDocument(this.apiSchemaInternal, document, operationName ? { operationName } : {});
    const queryPlan = this.planner.buildQueryPlan(operation);
    const node = queryPlan.node;
    if (!node || node.kind !== 'Subscription') throw new GraphQLError('the planner did not produce a subscription plan for this operation');
    const perEventNode: PlanNode = node.rest ? { kind: 'Sequence', nodes: [node.primary, node.rest] } : node.primary;
    const plan: SubscriptionPlan = { primary: node.primary, perEvent: { kind: 'QueryPlan', node: perEventNode }, operationContext };
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, plan);
    return plan;
  }
}

/** The variables of `fetch`, picked from the client's (what the subgraph's subscription needs). */
export function variablesOf(fetch: FetchNode, variables: Record<string, unknown>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of fetch.variableUsages ?? []) if (variables[name] !== undefined) picked[name] = variables[name];
  return picked;
}
