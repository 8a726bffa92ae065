import type { FetchNode } from '@apollo/query-planner';
import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { RequestScope } from '../../common/correlation.js';
import type { PlannedOperation } from './planner.js';
import { SubgraphUnavailable, type SubgraphResponse } from './subgraph-client.js';

/** One planned operation to run. */
export interface ExecutionRequest {
  planned: PlannedOperation;
  /** Coerced variable values (defaults applied). */
  variables: Record<string, unknown>;
  /** The request's correlation id and the caller's Authorization: they go with every subgraph fetch. */
  scope: RequestScope;
  /** Fetches answered without asking their subgraph: a subscription's event answers its primary fetch. */
  answers?: ReadonlyMap<FetchNode, SubgraphResponse> | undefined;
}

/** What an execution produced, ready to be written: `data` is JSON text already. */
export interface ExecutionOutcome {
  /** The response's `data` as JSON (`null` included); undefined when the response carries no data. */
  data: string | undefined;
  errors: GraphQLFormattedError[];
  extensions?: Record<string, unknown> | undefined;
  /** Milliseconds on the critical path of subgraph fetches (sequences add up, parallel branches take the longest); NaN when unknown. */
  subgraphMs: number;
}

/** Runs query plans: ours (`compiled`) or Apollo's `executeQueryPlan` (`apollo`), chosen by GATEWAY_EXECUTOR. */
export interface PlanExecutor {
  readonly kind: ExecutorKind;
  execute(request: ExecutionRequest): Promise<ExecutionOutcome>;
}

export const EXECUTOR_KINDS = ['compiled', 'apollo'] as const;
export type ExecutorKind = (typeof EXECUTOR_KINDS)[number];

/** The response body as JSON text (errors first, as Apollo Server writes them). */
export function outcomeJson(outcome: ExecutionOutcome): string {
  let text = '{';
  if (outcome.errors.length) text += `"errors":${JSON.stringify(outcome.errors)}`;
  if (outcome.data !== undefined) text += `${text.length > 1 ? ',' : ''}"data":${outcome.data}`;
  if (outcome.extensions) text += `${text.length > 1 ? ',' : ''}"extensions":${JSON.stringify(outcome.extensions)}`;
  return `${text}}`;
}

/** The outcome as an ExecutionResult object (for WebSocket delivery and authorization patches). */
export function outcomeResult(outcome: ExecutionOutcome): ExecutionResult {
  return JSON.parse(outcomeJson(outcome)) as ExecutionResult;
}

/**
 * An error as the response carries it: message, path, extensions with a `code` (INTERNAL_SERVER_ERROR when it had
 * none, as Apollo Server does), never a stack.
 */
export function formatError(error: unknown): GraphQLFormattedError {
  if (error instanceof SubgraphUnavailable) return { message: error.message, extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: error.serviceName } };
  if (error instanceof GraphQLError) {
    const formatted = error.toJSON();
    return { ...formatted, extensions: { ...formatted.extensions, code: formatted.extensions?.code ?? 'INTERNAL_SERVER_ERROR' } };
  }
  if (error && typeof error === 'object' && 'message' in error && !(error instanceof Error)) {
    const formatted = error as GraphQLFormattedError;
    return { ...formatted, extensions: { ...formatted.extensions, code: formatted.extensions?.code ?? 'INTERNAL_SERVER_ERROR' } };
  }
  return { message: error instanceof Error ? error.message : String(error), extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
