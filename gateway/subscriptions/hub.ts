import { GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Principal } from '../../common/auth/principal.js';
import { correlationIdFrom, runInScope, type RequestScope } from '../../common/correlation.js';
import type { Logger } from '../../common/logger.js';
import { outcomeResult, type PlanExecutor } from '../executor/executor.js';
import { variablesOf, type SubscriptionPlan, type SubscriptionPlanner } from './planner.js';
import { PushQueue } from './push-queue.js';
import type { UpstreamSubscriber } from './upstream.js';

export interface SubscriptionHubOptions {
  planner: SubscriptionPlanner;
  upstream: UpstreamSubscriber;
  /** The gateway's executor: each event's plan runs on it, as queries do. */
  executor: PlanExecutor;
  logger: Logger;
  /** Undelivered events per client subscription before it is ended with an error. Default 1 000. */
  clientBufferSize?: number;
}

/** One client subscription as the hub receives it: a validated document and coerced variables. */
export interface ClientSubscription {
  document: DocumentNode;
  /** The document's text: with operationName and variables, what makes two subscriptions identical. */
  query: string;
  operationName?: string | undefined;
  variables: Record<string, unknown>;
  connectionParams: Record<string, unknown>;
  /** The connection's scope: its correlation id names this subscription's work in logs and subgraph calls. */
  scope: RequestScope;
  /** The subscriber, as its token says: every event's entity fetches run with its credentials. */
  principal: Principal;
}

/** Clients that sent the same document and variables (and the same credentials): one execution per event for all. */
interface Group {
  key: string;
  plan: SubscriptionPlan;
  request: ClientSubscription;
  sinks: Set<PushQueue<ExecutionResult>>;
  upstream: Upstream;
  /** Delivery of the previous event: the next one waits for it, so events leave in the order they came. */
  delivered: Promise<void>;
}

/** One subscription at a subgraph, shared by every group whose plan starts with the same fetch and variables. */
interface Upstream {
  key: string;
  groups: Set<Group>;
  unsubscribe: () => void;
}

/** Counts for health and benchmarks. */
export interface HubStats {
  upstreams: number;
  groups: number;
  subscribers: number;
  /** Events received from subgraphs and executed (once per group). */
  executions: number;
}

/** Keys of variables in a stable order, so that `{a, b}` and `{b, a}` are the same subscription. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Federated subscriptions with fan-out. For each client subscription the supergraph's plan names the subgraph
 * subscription that produces the events (`primary`) and the entity fetches that complete each event (`rest`).
 *
 * - Identical upstream subscriptions (same subgraph operation, variables and credentials) share one stream.
 * - Identical client subscriptions (same document, variables and credentials) share the per-event execution:
 *   the entity fetches run once per event and the result goes to every client of the group.
 * - The primary fetch of the per-event plan is answered with the event itself, so the gateway's executor merges
 *   the event with the entity fetches and shapes the response exactly as it does for queries.
 * - Filtering happens at the source: the subgraph's subscription only yields what its arguments select.
 */
export class SubscriptionHub {
  private readonly upstreams = new Map<string, Upstream>();
  private readonly groups = new Map<string, Group>();
  private executions = 0;
  private closed = false;

  constructor(private readonly options: SubscriptionHubOptions) {}

  /** The API schema subscriptions are validated against. */
  get apiSchema(): GraphQLSchema {
    return this.options.planner.apiSchema;
  }

  /** Start (or join) a subscription; the iterator yields one result per event until it is returned or fails. */
  subscribe(request: ClientSubscription): AsyncGenerator<ExecutionResult, void, void> | ExecutionResult {
    if (this.closed) return { errors: [new GraphQLError('the gateway is shutting down')] };
    let plan: SubscriptionPlan;
    try {
      plan = this.options.planner.plan(`${request.operationName ?? ''}\n${request.query}`, request.document, request.operationName);
    } catch (error) {
      return { errors: [error instanceof GraphQLError ? error : new GraphQLError(`cannot plan this subscription: ${(error as Error).message}`)] };
    }
    // Who is asking is what may change an answer: subscribers with the same credentials share, whatever else
    // (a correlation id of their own) their connection_init said.
    const credentials = request.scope.authorization ?? '';
    const groupKey = `${request.operationName ?? ''}\n${request.query}\n${stableJson(request.variables)}\n${credentials}`;
    let group = this.groups.get(groupKey);
    if (!group) group = this.createGroup(groupKey, plan, request, credentials);
    const joined = group;
    const queue = new PushQueue<ExecutionResult>(this.options.clientBufferSize ?? 1_000, () => this.leave(joined, queue));
    joined.sinks.add(queue);
    return queue;
  }

  stats(): HubStats {
    let subscribers = 0;
    for (const group of this.groups.values()) subscribers += group.sinks.size;
    return { upstreams: this.upstreams.size, groups: this.groups.size, subscribers, executions: this.executions };
  }

  /** End every subscription (clients get `complete`) and every upstream stream. */
  async close(): Promise<void> {
    this.closed = true;
    for (const group of [...this.groups.values()]) for (const sink of [...group.sinks]) sink.end();
    for (const upstream of [...this.upstreams.values()]) upstream.unsubscribe();
    this.upstreams.clear();
    this.groups.clear();
    await this.options.upstream.close();
  }

  private createGroup(key: string, plan: SubscriptionPlan, request: ClientSubscription, credentials: string): Group {
    const primaryVariables = variablesOf(plan.primary, request.variables);
    const upstreamKey = `${plan.primary.serviceName}\n${plan.primary.operation}\n${stableJson(primaryVariables)}\n${credentials}`;
    let upstream = this.upstreams.get(upstreamKey);
    if (!upstream) upstream = this.openUpstream(upstreamKey, plan, primaryVariables, request);
    const group: Group = { key, plan, request, sinks: new Set(), upstream, delivered: Promise.resolve() };
    upstream.groups.add(group);
    this.groups.set(key, group);
    this.options.logger.debug({ correlationId: request.scope.correlationId, operationName: request.operationName, service: plan.primary.serviceName }, 'subscription group opened');
    return group;
  }

  private openUpstream(key: string, plan: SubscriptionPlan, variables: Record<string, unknown>, request: ClientSubscription): Upstream {
    const upstream: Upstream = { key, groups: new Set(), unsubscribe: () => undefined };
    this.upstreams.set(key, upstream);
    const primary = plan.primary;
    upstream.unsubscribe = this.options.upstream.subscribe(
      primary.serviceName,
      {
        query: primary.operation,
        variables,
        operationName: primary.operationName,
        // The payload of the subscriber that opened the stream, with the credentials however they came.
        connectionParams: { ...request.connectionParams, ...(request.scope.authorization !== undefined ? { authorization: request.scope.authorization } : {}) },
      },
      {
        next: (event) => {
          for (const group of upstream.groups) this.onEvent(group, event);
        },
        error: (errors) => {
          this.options.logger.warn({ service: primary.serviceName, errors: errors.map((e) => e.message) }, 'subgraph subscription failed');
          this.dropUpstream(upstream);
          for (const group of [...upstream.groups]) for (const sink of [...group.sinks]) sink.fail(errors[0] ?? new GraphQLError('subgraph subscription failed'));
        },
        complete: () => {
          this.dropUpstream(upstream);
          for (const group of [...upstream.groups]) for (const sink of [...group.sinks]) sink.end();
        },
      },
    );
    return upstream;
  }

  private onEvent(group: Group, event: ExecutionResult): void {
    this.executions++;
    // Executions of successive events overlap; deliveries do not overtake each other.
    const result = this.execute(group, event);
    group.delivered = Promise.all([group.delivered, result]).then(([, value]) => {
      for (const sink of group.sinks) sink.push(value);
    });
  }

  /** The per-event plan with the primary fetch answered by the event. */
  private async execute(group: Group, event: ExecutionResult): Promise<ExecutionResult> {
    const { plan, request } = group;
    // The subgraph names the change's correlation id (see subscribeEventScoped): the entity fetches about it
    // carry that id, as every call about a change does; the subscriber's own id otherwise.
    const eventCorrelationId = event.extensions?.correlationId;
    const scope: RequestScope = {
      correlationId: typeof eventCorrelationId === 'string' ? correlationIdFrom(eventCorrelationId) : request.scope.correlationId,
      authorization: request.scope.authorization,
    };
    try {
      const outcome = await runInScope(scope, () =>
        this.options.executor.execute({
          planned: plan.perEvent,
          variables: request.variables,
          scope,
          answers: new Map([[plan.primary, { data: (event.data ?? null) as Record<string, unknown> | null, errors: event.errors?.map((e) => (typeof (e as GraphQLError).toJSON === 'function' ? (e as GraphQLError).toJSON() : e)) }]]),
        }),
      );
      return outcomeResult(outcome);
    } catch (error) {
      this.options.logger.error({ err: error, correlationId: scope.correlationId }, 'subscription event execution failed');
      return { data: null, errors: [new GraphQLError('this event could not be resolved', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })] };
    }
  }

  private leave(group: Group, sink: PushQueue<ExecutionResult>): void {
    if (!group.sinks.delete(sink) || group.sinks.size > 0) return;
    if (this.groups.get(group.key) === group) this.groups.delete(group.key);
    const upstream = group.upstream;
    upstream.groups.delete(group);
    if (upstream.groups.size === 0) this.dropUpstream(upstream, true);
  }

  private dropUpstream(upstream: Upstream, unsubscribe = false): void {
    if (this.upstreams.get(upstream.key) === upstream) this.upstreams.delete(upstream.key);
    if (unsubscribe) upstream.unsubscribe();
    // Groups of a failed or completed upstream cannot hear again: new subscribers must open a new stream.
    for (const group of upstream.groups) if (this.groups.get(group.key) === group) this.groups.delete(group.key);
  }
}
