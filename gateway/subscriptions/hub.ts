import { GraphQLError, Kind, parse, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Metrics } from '../../common/telemetry/metrics.js';
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
  /** Deliveries, slow subscribers dropped, and the time from an event's arrival to its delivery. @default none */
  metrics?: Pick<Metrics, 'subscriptionDeliveries' | 'subscriptionDrops' | 'subscriptionLatency'> | undefined;
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
 * Whether the subscription resumes from a sequence: a root field with a non-null `after` argument (see the
 * subgraphs' `inventoryChanged` and `orderStatusChanged`).
 */
export function resumesFromSequence(document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown>): boolean {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation !== 'subscription') continue;
    if (operationName !== undefined && definition.name?.value !== operationName) continue;
    for (const selection of definition.selectionSet.selections) {
      if (selection.kind !== Kind.FIELD) continue;
      for (const argument of selection.arguments ?? []) {
        if (argument.name.value !== 'after') continue;
        const value = argument.value;
        if (value.kind === Kind.VARIABLE ? variables[value.name.value] != null : value.kind !== Kind.NULL) return true;
      }
    }
  }
  return false;
}

/** Where a resuming subgraph subscription says how far it got: its root field's response key, `after`'s variable. */
export interface ResumePoint {
  responseKey: string;
  sequenceKey: string;
  variable: string;
}

/**
 * The resume point of a subgraph subscription operation: its root field binds `after` to a variable and selects
 * `sequence`. Undefined otherwise (an `after` written as a literal cannot be moved on).
 */
export function resumePointOf(operation: string): ResumePoint | undefined {
  for (const definition of parse(operation).definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation !== 'subscription') continue;
    for (const selection of definition.selectionSet.selections) {
      if (selection.kind !== Kind.FIELD) continue;
      const after = selection.arguments?.find((argument) => argument.name.value === 'after');
      if (after?.value.kind !== Kind.VARIABLE) return undefined;
      const sequence = selection.selectionSet?.selections.find((field) => field.kind === Kind.FIELD && field.name.value === 'sequence');
      if (sequence?.kind !== Kind.FIELD) return undefined;
      return { responseKey: selection.alias?.value ?? selection.name.value, sequenceKey: sequence.alias?.value ?? sequence.name.value, variable: after.value.name.value };
    }
  }
  return undefined;
}

/**
 * Moves a resuming upstream's `after` on as its changes arrive, so that the upstream adapter's own re-subscription
 * after a dropped connection (which sends these same variables again) resumes from there; and drops what that
 * replays anyway (a change at or below the last sequence delivered). Every change has a sequence of its own (the
 * lines of one event take consecutive ones), so `after` is the last sequence delivered and a repeat is known by its
 * number alone: not by its value, which a replay resolves afresh (an order's status has moved on meanwhile).
 */
export class ResumeTracker {
  private last = -1;
  /**
   * @param dropRepeats whether a change at or below the last one is a replay to drop: for a subscription that
   * resumes (the subgraph accepted `after`, so it is one stream). One that started without `after` (from now on)
   * only has `after` moved on, so that its re-subscription resumes; the subgraph replays nothing at or below it.
   * @default true
   */
  constructor(
    private readonly point: ResumePoint,
    private readonly variables: Record<string, unknown>,
    private readonly dropRepeats = true,
  ) {}

  /** Whether a result is news (and moves `after` on), or a replay to drop. */
  accept(result: ExecutionResult): boolean {
    const value = (result.data as Record<string, Record<string, unknown> | null> | null | undefined)?.[this.point.responseKey];
    const sequence = value?.[this.point.sequenceKey];
    // Unsequenced (history loaded without publishing): nothing to order it by.
    if (typeof sequence !== 'number' || sequence <= 0) return true;
    if (sequence <= this.last) return !this.dropRepeats;
    this.last = sequence;
    // The very object the upstream adapter re-sends on reconnect.
    this.variables[this.point.variable] = sequence;
    return true;
  }
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
 * - A subscription that resumes (`after`) shares nothing: its history is its own, and a subscriber joining a stream
 *   already past that history would miss it. When its upstream connection drops and comes back, it resumes from
 *   the last sequence delivered (see {@link ResumeTracker}); one whose `after` is a literal, or that does not select
 *   `sequence`, fails instead (rather than replaying from the same `after` again), and its client resumes.
 */
export class SubscriptionHub {
  private readonly upstreams = new Map<string, Upstream>();
  private readonly groups = new Map<string, Group>();
  private executions = 0;
  /** Makes the keys of resuming subscriptions unique (they share nothing). */
  private resumes = 0;
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
    const resume = resumesFromSequence(request.document, request.operationName, request.variables) ? `\nresume-${++this.resumes}` : '';
    const groupKey = `${request.operationName ?? ''}\n${request.query}\n${stableJson(request.variables)}\n${credentials}${resume}`;
    let group = this.groups.get(groupKey);
    if (!group) group = this.createGroup(groupKey, plan, request, credentials, resume);
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

  private createGroup(key: string, plan: SubscriptionPlan, request: ClientSubscription, credentials: string, resume: string): Group {
    const primaryVariables = variablesOf(plan.primary, request.variables);
    const upstreamKey = `${plan.primary.serviceName}\n${plan.primary.operation}\n${stableJson(primaryVariables)}\n${credentials}${resume}`;
    let upstream = this.upstreams.get(upstreamKey);
    if (!upstream) upstream = this.openUpstream(upstreamKey, plan, primaryVariables, request, resume !== '');
    const group: Group = { key, plan, request, sinks: new Set(), upstream, delivered: Promise.resolve() };
    upstream.groups.add(group);
    this.groups.set(key, group);
    this.options.logger.debug({ correlationId: request.scope.correlationId, operationName: request.operationName, service: plan.primary.serviceName }, 'subscription group opened');
    return group;
  }

  private openUpstream(key: string, plan: SubscriptionPlan, variables: Record<string, unknown>, request: ClientSubscription, resuming: boolean): Upstream {
    const upstream: Upstream = { key, groups: new Set(), unsubscribe: () => undefined };
    this.upstreams.set(key, upstream);
    const primary = plan.primary;
    // Also a subscription that started from now on but binds `after` to a variable (left null) and selects
    // `sequence`: once it has had a change, a dropped connection re-subscribes from there, not from now on (the
    // changes made while a subgraph restarted would be lost otherwise).
    const point = resumePointOf(primary.operation);
    const tracker = point ? new ResumeTracker(point, variables, resuming) : undefined;
    upstream.unsubscribe = this.options.upstream.subscribe(
      primary.serviceName,
      {
        query: primary.operation,
        variables,
        operationName: primary.operationName,
        failOnDrop: resuming && !tracker,
        // The payload of the subscriber that opened the stream, with the credentials however they came.
        connectionParams: { ...request.connectionParams, ...(request.scope.authorization !== undefined ? { authorization: request.scope.authorization } : {}) },
      },
      {
        next: (event) => {
          if (tracker && !tracker.accept(event)) return;
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
    const arrived = performance.now();
    const result = this.execute(group, event);
    const metrics = this.options.metrics;
    group.delivered = Promise.all([group.delivered, result]).then(([, value]) => {
      let delivered = 0;
      for (const sink of group.sinks) {
        const pushed = sink.push(value);
        if (pushed === 'delivered') delivered++;
        else if (pushed === 'dropped') metrics?.subscriptionDrops.inc({ reason: 'slow' });
      }
      if (metrics && delivered > 0) {
        metrics.subscriptionDeliveries.inc(delivered);
        metrics.subscriptionLatency.observe((performance.now() - arrived) / 1000);
      }
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
