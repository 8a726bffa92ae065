import { buildOperationContext } from '@apollo/gateway';

type OperationContext = ReturnType<typeof buildOperationContext>;
import { executableDirectiveLocations, ListType, NonNullType, operationFromDocument, Supergraph, type InputType, type Operation, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type QueryPlan } from '@apollo/query-planner';
import { astFromValue, Kind, visit, type ArgumentNode, type DocumentNode, type GraphQLSchema } from 'graphql';
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
  /** Executable directives of the subgraphs' own specs, kept in the API schema (see keepExecutableDirectives). */
  private readonly keptDirectives: Set<string>;
  private readonly cache = new Map<string, PlannedOperation>();

  /**
   * @param supergraphSdl the composed supergraph (its security features are the edge's; they are removed here)
   * @param cacheSize plans kept. @default 1000
   */
  constructor(supergraphSdl: string, private readonly cacheSize = 1000) {
    this.supergraph = Supergraph.build(withoutSecurityFeatures(supergraphSdl));
    this.apiSchemaInternal = this.supergraph.apiSchema();
    this.keptDirectives = keepExecutableDirectives(this.supergraph.schema, this.apiSchemaInternal);
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
    if (this.keptDirectives.size > 0) document = this.withDirectiveDefaults(document);
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

  /**
   * The document with the defaults of kept directives' arguments written out: the subgraphs are sent the
   * directive as the client wrote it, and one of them may declare the argument required where the supergraph
   * composed a default (the client was allowed to leave it out).
   */
  private withDirectiveDefaults(document: DocumentNode): DocumentNode {
    return visit(document, {
      Directive: (node) => {
        if (!this.keptDirectives.has(node.name.value)) return undefined;
        const definition = this.apiSchema.getDirective(node.name.value);
        const missing: ArgumentNode[] = [];
        for (const argument of definition?.args ?? []) {
          if (argument.defaultValue === undefined || node.arguments?.some((a) => a.name.value === argument.name)) continue;
          const value = astFromValue(argument.defaultValue, argument.type);
          if (value) missing.push({ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: argument.name }, value });
        }
        return missing.length > 0 ? { ...node, arguments: [...(node.arguments ?? []), ...missing] } : undefined;
      },
    });
  }
}

/**
 * Executable directives that subgraphs share through `@composeDirective` are in the supergraph, and clients may use
 * them, but Apollo's API schema drops every element of a linked spec, so the gateway would refuse
 * `{ a @access }` as an unknown directive (federation audit: executable-directive-definition-default-arguments).
 * Those of specs other than Apollo's own are put back, with the arguments and defaults the supergraph composed.
 */
function keepExecutableDirectives(supergraph: Schema, api: Schema): Set<string> {
  const kept = new Set<string>();
  const copyType = (type: InputType): InputType => {
    if (type instanceof NonNullType) return new NonNullType(copyType(type.ofType) as never);
    if (type instanceof ListType) return new ListType(copyType(type.ofType as InputType));
    const named = api.type(type.name);
    if (!named) throw new Error(`type ${type.name} is not in the API schema`);
    return named as InputType;
  };
  for (const directive of supergraph.directives()) {
    if (directive.isBuiltIn || api.directive(directive.name)) continue;
    if (directive.locations.length === 0 || !directive.locations.every((l) => executableDirectiveLocations.includes(l))) continue;
    const source = supergraph.coreFeatures?.sourceFeature(directive);
    if (!source || source.feature.url.identity.startsWith('https://specs.apollo.dev/')) continue;
    try {
      const types = directive.arguments().map((argument) => ({ argument, type: copyType(argument.type as InputType) }));
      const copy = api.addDirectiveDefinition(directive.name).addLocations(...directive.locations);
      copy.repeatable = directive.repeatable;
      for (const { argument, type } of types) copy.addArgument(argument.name, type, argument.defaultValue);
      kept.add(directive.name);
    } catch {
      // An argument of a type the API schema hides: the directive stays out, as Apollo leaves it.
    }
  }
  return kept;
}
