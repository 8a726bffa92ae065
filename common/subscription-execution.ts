import { createSourceEventStream, execute, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { correlationIdFrom, runInScope, type RequestScope } from './correlation.js';

/*
 * How a subgraph runs a subscription. graphql-js's `subscribe()` executes every event with the one context the
 * subscription started with; a subscription lives for hours, so its DataLoader caches would serve the stock
 * level of the first event to every later one, and every event would be logged under the subscriber's
 * correlation id instead of the id of the change. Here each event is a request of its own: a fresh context (fresh
 * loaders) and the event's correlation id in scope. The source stream (the `subscribe` resolver) is otherwise
 * exactly graphql-js's `createSourceEventStream`.
 */

/** A result stream, or one result with errors (validation, bad arguments): what `subscribe()` answers. */
export type SubscriptionOutcome = AsyncGenerator<ExecutionResult, void, void> | ExecutionResult;

export interface EventScopedSubscription {
  /** The subscriber's scope: the `subscribe` resolver runs in it, and each event keeps its authorization. */
  scope: RequestScope;
  /** A fresh context for one event, built in the event's scope. */
  contextFor: (scope: RequestScope) => unknown;
  /** Told once when the stream ends (completed, unsubscribed or failed), with the number of events delivered. */
  onEnd?: ((events: number) => void) | undefined;
}

/**
 * The correlation id a subscription payload names (`payload.correlationId`), when it is a sane one: the fields of
 * that event resolve under it, so the system calls they make are traced to the change that caused them.
 */
export function eventCorrelationIdOf(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const id = (payload as { correlationId?: unknown }).correlationId;
  // correlationIdFrom hands back an acceptable id unchanged and mints a new one otherwise.
  return typeof id === 'string' && correlationIdFrom(id) === id ? id : undefined;
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';

const asGraphQLError = (error: unknown): GraphQLError =>
  error instanceof GraphQLError ? error : new GraphQLError(error instanceof Error ? error.message : String(error), { originalError: error instanceof Error ? error : undefined });

/**
 * Run a subscription operation. Errors of the `subscribe` resolver (bad arguments, an unknown location) come
 * back as one result with errors, never as a rejection. A source stream that fails later ends the result stream
 * with one last result carrying the error (e.g. `SUBSCRIPTION_OVERFLOW`), so that a consumer sees why it ended.
 */
export async function subscribeEventScoped(args: ExecutionArgs, subscription: EventScopedSubscription): Promise<SubscriptionOutcome> {
  const { scope, contextFor } = subscription;
  let source: AsyncIterable<unknown> | ExecutionResult;
  try {
    source = await runInScope(scope, () => createSourceEventStream(args));
  } catch (error) {
    // graphql-js rethrows what is not a GraphQLError (a resolver returning no stream); it is still this one
    // operation's failure, not the connection's.
    return { errors: [asGraphQLError(error)] };
  }
  if (!isAsyncIterable(source)) return source;
  return mapEvents(source[Symbol.asyncIterator](), async (payload) => {
    const eventScope: RequestScope = { correlationId: eventCorrelationIdOf(payload) ?? scope.correlationId, authorization: scope.authorization };
    const result = await runInScope(eventScope, () => execute({ ...args, rootValue: payload, contextValue: contextFor(eventScope) }));
    // Said in the result too, so that a gateway resolving the rest of the event (entity fetches) does it under
    // the same id: every call about a change carries the change's correlation id.
    return { ...result, extensions: { ...result.extensions, correlationId: eventScope.correlationId } };
  }, subscription.onEnd);
}

/**
 * `source` mapped through `run`, by hand rather than with an async generator: `return()` must reach the source at
 * once, even while a `next()` waits for an event (an async generator queues it behind that `next()`).
 */
export function mapEvents(
  source: AsyncIterator<unknown>,
  run: (payload: unknown) => Promise<ExecutionResult> | ExecutionResult,
  onEnd?: (events: number) => void,
): AsyncGenerator<ExecutionResult, void, void> {
  let finished = false;
  let events = 0;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    onEnd?.(events);
  };
  const stop = async (): Promise<void> => {
    const wasFinished = finished;
    finish();
    if (!wasFinished) await source.return?.();
  };
  const done = (): IteratorResult<ExecutionResult, void> => ({ done: true, value: undefined });
  const generator: AsyncGenerator<ExecutionResult, void, void> = {
    async next() {
      if (finished) return done();
      let step: IteratorResult<unknown>;
      try {
        step = await source.next();
      } catch (error) {
        finish();
        return { done: false, value: { errors: [asGraphQLError(error)] } };
      }
      if (finished) return done();
      if (step.done) {
        finish();
        return done();
      }
      events++;
      try {
        return { done: false, value: await run(step.value) };
      } catch (error) {
        await stop();
        throw error;
      }
    },
    async return() {
      await stop();
      return done();
    },
    async throw(error: unknown) {
      await stop();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return generator;
    },
  };
  return generator;
}
