import { getOperationAST, type GraphQLSchema } from 'graphql';
import type { ExecutionOutcome, PlanExecutor } from './executor.js';
import { PlanCompiler, type RunContext } from './fetch-plan.js';
import type { PlannedOperation } from './planner.js';
import { compileSerializer, conditionVariables, type Serializer, type ShapeContext } from './shape.js';
import type { SubgraphClient } from './subgraph-client.js';

export interface CompiledExecutorOptions {
  /** The API schema: what responses are shaped by. */
  apiSchema: GraphQLSchema;
  /** The supergraph schema: what `requires` selections and rewrites are matched against. */
  supergraphSchema: GraphQLSchema;
  client: SubgraphClient;
}

/** What the compiled executor keeps per plan. */
interface CompiledPlan {
  run: ((context: RunContext) => Promise<number>) | undefined;
  /** The @skip/@include variables, whose values select a serializer. */
  conditions: string[];
  serializers: Map<string, Serializer>;
}

const KEY = 'compiled';

/**
 * Our executor for Apollo's query plans: each plan compiled once (fetch tree: fetch-plan.ts; response serializer:
 * shape.ts), then run per request with no graphql-js execution and no re-serialisation.
 */
export function createCompiledExecutor(options: CompiledExecutorOptions): PlanExecutor {
  const compiler = new PlanCompiler(options.supergraphSchema);

  const compiledOf = (planned: PlannedOperation): CompiledPlan => {
    let compiled = planned.compiled.get(KEY) as CompiledPlan | undefined;
    if (!compiled) {
      const node = planned.queryPlan.node;
      if (node?.kind === 'Subscription') throw new Error('a subscription plan runs per event (the hub answers its primary fetch)');
      const runner = node ? compiler.compilePlan(node) : undefined;
      compiled = {
        run: runner ? (context) => runner({ path: [], data: context.root }, context) : undefined,
        conditions: conditionVariables(planned.document),
        serializers: new Map(),
      };
      planned.compiled.set(KEY, compiled);
    }
    return compiled;
  };

  const serializerOf = (planned: PlannedOperation, compiled: CompiledPlan, variables: Record<string, unknown>): Serializer => {
    const key = compiled.conditions.map((name) => (variables[name] === true ? '1' : '0')).join('');
    let serializer = compiled.serializers.get(key);
    if (!serializer) {
      const operation = getOperationAST(planned.document, planned.operationName);
      if (!operation) throw new Error('the planned document has no such operation');
      serializer = compileSerializer(options.apiSchema, planned.document, operation, variables);
      compiled.serializers.set(key, serializer);
    }
    return serializer;
  };

  return {
    kind: 'compiled',
    async execute({ planned, variables, scope, answers }): Promise<ExecutionOutcome> {
      const compiled = compiledOf(planned);
      const context: RunContext = { variables, scope, client: options.client, errors: [], root: Object.create(null) as Record<string, unknown>, answers };
      const subgraphMs = compiled.run ? await compiled.run(context) : 0;
      const shape: ShapeContext = { errors: [], invalid: [], p: [], variables };
      const data = serializerOf(planned, compiled, variables)(context.root, shape) ?? 'null';
      // As Apollo (and the router) report them: completion errors that follow from failed fetches would repeat
      // them, so they are dropped then; alone they go to `extensions.valueCompletion`, not `errors`. That is what
      // keeps an entity the caller may not see (a subgraph resolving it to null) a plain null, as the
      // authorization rules require ("another customer's order reads as null"), rather than an error telling it exists.
      const errors = shape.invalid.length > 0 ? [...context.errors, ...shape.invalid] : context.errors;
      if (context.errors.length === 0 && shape.errors.length > 0) return { data, errors, extensions: { valueCompletion: shape.errors }, subgraphMs };
      return { data, errors, subgraphMs };
    },
  };
}
