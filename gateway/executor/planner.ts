import { buildOperationContext } from '@apollo/gateway';

type OperationContext = ReturnType<typeof buildOperationContext>;
import { operationFromDocument, Supergraph, type Operation, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type QueryPlan } from '@apollo/query-planner';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { withoutSecurityFeatures } from '../edge/security-features.js';
import { fixQueryPlan } from './plan-fixes.js';

/**
 * One operation as planned: Apollo's query plan (after our fixes) and what each executor needs beside it. The
 * executors hang what they compile for it on `compiled`, so a plan is compiled once, however often it runs.
 */
export interface PlannedOperation {
  readonly key: string;
  readonly document: DocumentNode;
  readonly operationName: string | undefined;
  readonly queryPlan: QueryPlan;
  /** The federation-internals form of the operation (what the planner planned). */
  readonly operation: Operation;
  /** What `executeQueryPlan` wants: built on first use, since only the Apollo executor asks for it. */
  operationContext(): OperationContext;
  /** Per executor, what it compiled for this plan. */
  readonly compiled: Map<string, unknown>;
}

/**
 * The supergraph as the gateway plans it: schemas for validation and execution, Apollo's query planner, and a
 * bounded cache of plans by operation (clients choose the text, so the bound keeps one from growing it forever).
 * Queries, mutations and subscriptions are planned here alike.
 */
export class GatewayPlanner {
  /** The client-facing schema (what clients validate against). */
  readonly apiSchema: GraphQLSchema;
  /** The federation-internals form of the API schema. */
  readonly apiSchemaInternal: Schema;
  /** The supergraph schema with its join directives (`requires` selections may name inaccessible elements). */
  readonly supergraphSchema: GraphQLSchema;
  readonly supergraph: Supergraph;
  private readonly planner: QueryPlanner;
  private readonly cache = new Map<string, PlannedOperation>();

  /**
   * @param supergraphSdl the composed supergraph (its security features are the edge's; they are removed here)
   * @param cacheSize plans kept. @default 1000
   */
  constructor(supergraphSdl: string, private readonly cacheSize = 1000) {
    this.supergraph = Supergraph.build(withoutSecurityFeatures(supergraphSdl));
    this.apiSchemaInternal = this.supergraph.apiSchema();
    this.apiSchema = this.apiSchemaInternal.toGraphQLJSSchema();
    this.supergraphSchema = this.supergraph.schema.toGraphQLJSSchema();
    this.planner = new QueryPlanner(this.supergraph);
  }

  /** Plan a validated document (throws a GraphQLError when the planner cannot). */
  plan(key: string, document: DocumentNode, operationName: string | undefined): PlannedOperation {
    const cached = this.cache.get(key);
    if (cached) {
      // Most recently used last: the first key is the one to evict.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const options = operationName ? { operationName } : {};
    const operation = operationFromDocument(this.apiSchemaInternal, document, options);
    const queryPlan = fixQueryPlan(this.planner.buildQueryPlan(operation), { supergraph: this.supergraph, operation, document, operationName });
    let operationContext: OperationContext | undefined;
    const planned: PlannedOperation = {
      key,
      document,
      operationName,
      queryPlan,
      operation,
      operationContext: () => (operationContext ??= buildOperationContext({ schema: this.apiSchema, operationDocument: document, ...options })),
      compiled: new Map(),
    };
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, planned);
    return planned;
  }
}
