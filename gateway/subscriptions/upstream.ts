import { createClient, type Client } from 'graphql-ws';
import { GraphQLError, type ExecutionResult } from 'graphql';
import WebSocket from 'ws';
import { runInScope } from '../../common/correlation.js';
import type { Logger } from '../../common/logger.js';
import { scopeFromConnectionParams } from '../../common/service.js';

/** One subscription operation as a subgraph receives it. */
export interface UpstreamRequest {
  query: string;
  variables: Record<string, unknown>;
  operationName?: string | undefined;
  /** The client's `connection_init` payload, carried as this subscription's own `connection_init` upstream. */
  connectionParams: Record<string, unknown>;
  /**
   * Fail (SUBGRAPH_UNAVAILABLE) when the connection drops instead of subscribing again with the same variables: for
   * a subscription that resumes from a sequence (`after`), which would replay from that same point again; its
   * client resumes from the last sequence it saw.
   * @default false
   */
  failOnDrop?: boolean | undefined;
}

/** Where a subgraph's subscription results go. */
export interface UpstreamSink {
  next(result: ExecutionResult): void;
  /** The subscription failed and is over (refused by the subgraph, or the subgraph cannot be reached for good). */
  error(errors: readonly GraphQLError[]): void;
  /** The subgraph ended the subscription. */
  complete(): void;
}

/**
 * The port to the subgraphs' own subscriptions.
 *
 * Contract: `subscribe` starts one subscription at the named subgraph and returns its unsubscribe function
 * (idempotent; after it, the sink hears nothing more). Results arrive in the order the subgraph sent them.
 * When the connection to the subgraph drops (a restart), the adapter reconnects and subscribes again by
 * itself, sending the same request again: events the subgraph published while nobody was subscribed are not
 * replayed, unless the request resumes (`after`) and its owner moved `variables` on meanwhile (the hub does, see
 * `ResumeTracker`: the adapter re-sends the very `variables` object it was given).
 */
export interface UpstreamSubscriber {
  subscribe(service: string, request: UpstreamRequest, sink: UpstreamSink): () => void;
  /** Ends every subscription and connection. */
  close(): Promise<void>;
}

/** A subgraph subscription run in this process (what `SubgraphService.subscribeLocal` provides). */
export type LocalSubscribe = (request: {
  query: string;
  variables?: Record<string, unknown> | undefined;
  operationName?: string | undefined;
  connectionParams?: Record<string, unknown> | undefined;
}) => Promise<AsyncGenerator<ExecutionResult, void, void> | ExecutionResult>;

const asErrors = (errors: readonly unknown[]): GraphQLError[] =>
  errors.map((e) => (e instanceof GraphQLError ? e : new GraphQLError(String((e as { message?: unknown }).message ?? e), { extensions: ((e as { extensions?: Record<string, unknown> }).extensions ?? {}) })));

function isAsyncIterable(value: unknown): value is AsyncGenerator<ExecutionResult, void, void> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Subgraphs in the gateway's process (`SUBGRAPH_DISPATCH=local`): no socket, the subgraph's iterator directly. */
export class LocalUpstream implements UpstreamSubscriber {
  private readonly live = new Set<() => void>();
  constructor(private readonly subgraphs: Partial<Record<string, LocalSubscribe>>) {}

  has(service: string): boolean {
    return this.subgraphs[service] !== undefined;
  }

  subscribe(service: string, request: UpstreamRequest, sink: UpstreamSink): () => void {
    const subscribeLocal = this.subgraphs[service];
    if (!subscribeLocal) {
      sink.error([new GraphQLError(`no subgraph ${service} in this process`)]);
      return () => undefined;
    }
    let stopped = false;
    let iterator: AsyncGenerator<ExecutionResult, void, void> | undefined;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      this.live.delete(stop);
      void iterator?.return(undefined);
    };
    this.live.add(stop);
    // The subgraph's resolvers read the caller's scope (correlation id, Authorization) from async context.
    void runInScope(scopeFromConnectionParams(request.connectionParams), async () => {
      try {
        const result = await subscribeLocal({ query: request.query, variables: request.variables, operationName: request.operationName, connectionParams: request.connectionParams });
        if (!isAsyncIterable(result)) {
          this.live.delete(stop);
          if (!stopped) sink.error(asErrors(result.errors ?? [new GraphQLError('the subgraph answered a subscription with a single result')]));
          return;
        }
        iterator = result;
        if (stopped) return void iterator.return(undefined);
        for await (const value of iterator) {
          if (stopped) break;
          // As over a socket: a result with errors and no data ends the subscription (a refusal, or the
          // subscriber's token expiring), it is not an event.
          if (value.data == null && value.errors?.length) {
            this.live.delete(stop);
            stopped = true;
            sink.error(asErrors(value.errors));
            void iterator.return(undefined);
            return;
          }
          sink.next(value);
        }
        this.live.delete(stop);
        if (!stopped) sink.complete();
      } catch (error) {
        this.live.delete(stop);
        if (!stopped) sink.error(asErrors([error]));
      }
    });
    return stop;
  }

  async close(): Promise<void> {
    for (const stop of [...this.live]) stop();
  }
}

export interface RemoteUpstreamOptions {
  /** Each subgraph's HTTP URL of `/graphql`; its WebSocket endpoint is the same URL with `ws:`/`wss:`. */
  urls: Partial<Record<string, string>>;
  logger: Logger;
  /** Reconnection attempts after a connection drops before the subscriptions fail. Default 1 000 (about 30 minutes at the capped wait). */
  retryAttempts?: number;
  /** Longest wait between two reconnection attempts, in ms (exponential from 100 ms, with jitter). Default 2 000. */
  maxRetryWaitMs?: number;
}

/**
 * Subgraphs over graphql-ws. One socket per subgraph and set of credentials: subscriptions of the same caller
 * share it; another caller gets its own, since the `connection_init` payload is how the subgraph learns who is
 * asking.
 */
export class RemoteUpstream implements UpstreamSubscriber {
  private readonly clients = new Map<string, { client: Client; users: number }>();
  constructor(private readonly options: RemoteUpstreamOptions) {}

  subscribe(service: string, request: UpstreamRequest, sink: UpstreamSink): () => void {
    const url = this.options.urls[service];
    if (!url) {
      sink.error([new GraphQLError(`no URL for subgraph ${service}`)]);
      return () => undefined;
    }
    const failOnDrop = request.failOnDrop === true;
    const key = `${url}\n${scopeFromConnectionParams(request.connectionParams).authorization ?? ''}${failOnDrop ? '\nfail-on-drop' : ''}`;
    let entry = this.clients.get(key);
    if (!entry) {
      entry = { client: this.createClient(service, url.replace(/^http/, 'ws'), request.connectionParams, failOnDrop), users: 0 };
      this.clients.set(key, entry);
    }
    entry.users++;
    const owner = entry;
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      if (--owner.users === 0 && this.clients.get(key) === owner) {
        this.clients.delete(key);
        void owner.client.dispose();
      }
    };
    const unsubscribe = owner.client.subscribe<Record<string, unknown>>(
      { query: request.query, variables: request.variables, ...(request.operationName ? { operationName: request.operationName } : {}) },
      {
        next: (value) => {
          if (done) return;
          // A subgraph refuses a subscription (bad arguments) with one result of errors and no data, then
          // completes: that is this subscription's failure, not an event.
          if (value.data == null && value.errors?.length) {
            unsubscribe();
            release();
            sink.error(asErrors(value.errors));
            return;
          }
          sink.next(value as ExecutionResult);
        },
        error: (error) => {
          if (done) return;
          release();
          sink.error(Array.isArray(error) ? asErrors(error) : [new GraphQLError(`subgraph ${service} subscription failed: ${describe(error)}`, { extensions: { code: 'SUBGRAPH_UNAVAILABLE', service } })]);
        },
        complete: () => {
          if (done) return;
          release();
          sink.complete();
        },
      },
    );
    return () => {
      if (done) return;
      unsubscribe();
      release();
    };
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((entry) => entry.client.dispose()));
  }

  private createClient(service: string, url: string, connectionParams: Record<string, unknown>, failOnDrop: boolean): Client {
    const { logger } = this.options;
    const maxWait = this.options.maxRetryWaitMs ?? 2_000;
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams,
      lazy: true,
      // Keep the socket a little after the last subscription ends: a client that resubscribes at once reuses it.
      lazyCloseTimeout: 1_000,
      keepAlive: 10_000,
      retryAttempts: failOnDrop ? 0 : (this.options.retryAttempts ?? 1_000),
      // Every drop is retried (a subgraph restart closes with 1001 or 1006); graphql-ws still gives up on
      // fatal protocol codes (bad request, unauthorized).
      shouldRetry: () => true,
      retryWait: async (retries) => {
        const ceiling = Math.min(maxWait, 100 * 2 ** retries);
        await new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)));
      },
    });
    client.on('connected', () => logger.debug({ service, url }, 'subgraph subscription socket connected'));
    client.on('closed', (event) => logger.debug({ service, url, code: (event as { code?: number }).code }, 'subgraph subscription socket closed'));
    return client;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'code' in error) return `socket closed with ${(error as { code: number }).code} ${(error as { reason?: string }).reason ?? ''}`.trim();
  return String(error);
}
