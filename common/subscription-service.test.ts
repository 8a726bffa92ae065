import { printSubgraphSchema } from '@apollo/subgraph';
import { type ExecutionResult, type GraphQLSchema, subscribe as graphqlSubscribe, parse } from 'graphql';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { Arg, Ctx, Field, FieldResolver, Int, ObjectType, Query, Resolver, Root, Subscription } from 'type-graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { currentCorrelationId } from './correlation.js';
import { buildFederatedSchema } from './federation.js';
import type { ScopedContext } from './http.js';
import { createLogger } from './logger.js';
import { badInput } from './pagination.js';
import { createSubgraphService, scopeFromConnectionParams, type SubgraphService } from './service.js';
import { SubscriptionQueue } from './subscription-queue.js';

/*
 * The service shell's subscriptions, on a schema of its own: graphql-ws on /graphql (connection params into the
 * scope, every event a request of its own, complete and stop ending the source), and subscribeLocal.
 */

interface TickPayload {
  n: number;
  correlationId: string;
}

interface TestContext extends ScopedContext {
  contextId: number;
}

/** The live subscriptions' queues: what a feed over the backbone would hold. */
const listeners = new Set<SubscriptionQueue<TickPayload>>();
const publish = (payload: TickPayload) => {
  for (const queue of listeners) queue.push(payload);
};

@ObjectType('Tick')
class Tick {
  @Field(() => Int)
  n!: number;

  @Field(() => String)
  correlationId!: string;
}

@Resolver(() => Tick)
class TickResolver {
  @Query(() => String)
  hello(@Ctx() ctx: TestContext): string {
    return `hello ${ctx.scope.correlationId} ${ctx.scope.authorization ?? 'anonymous'}`;
  }

  @Subscription(() => Tick, {
    subscribe: ({ args }) => {
      if ((args as { capacity: number }).capacity < 1) throw badInput('capacity must be positive', 'capacity');
      const queue: SubscriptionQueue<TickPayload> = new SubscriptionQueue({ capacity: (args as { capacity: number }).capacity, onClose: () => listeners.delete(queue) });
      listeners.add(queue);
      return queue;
    },
  })
  ticks(@Root() payload: TickPayload, @Arg('capacity', () => Int) _capacity: number): Tick {
    return Object.assign(new Tick(), payload);
  }

  @FieldResolver(() => Int, { description: 'Which context the event was executed with.' })
  contextId(@Ctx() ctx: TestContext): number {
    return ctx.contextId;
  }

  @FieldResolver(() => String, { nullable: true, description: 'The correlation id in async scope while the event resolves.' })
  scopeCorrelationId(): string | null {
    return currentCorrelationId() ?? null;
  }

  @FieldResolver(() => String, { nullable: true })
  authorization(@Ctx() ctx: TestContext): string | null {
    return ctx.scope.authorization ?? null;
  }
}

let schema: GraphQLSchema;
let service: SubgraphService;
let url: string;
let contexts = 0;
const clients: Client[] = [];

beforeAll(async () => {
  schema = await buildFederatedSchema({ resolvers: [TickResolver] });
  service = await createSubgraphService<TestContext>({
    name: 'ticks',
    schema,
    logger: createLogger({ level: 'silent' }),
    context: (base) => ({ ...base, contextId: ++contexts }),
  });
  url = (await service.listen(0)).replace(/^http/, 'ws');
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await service?.stop();
});

function connect(connectionParams: Record<string, unknown> = {}, target = url): Client {
  const client = createClient({ url: target, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
  clients.push(client);
  return client;
}

/** A subscription over a client, collected: results, the error or completion that ended it, and `unsubscribe`. */
function collect(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const results: FormattedExecutionResult<Record<string, unknown>, unknown>[] = [];
  let wake: (() => void) | undefined;
  let settle!: (outcome: { error?: unknown }) => void;
  const ended = new Promise<{ error?: unknown }>((resolve) => (settle = resolve));
  const unsubscribe = client.subscribe(
    { query, variables },
    {
      next: (value) => {
        results.push(value);
        wake?.();
      },
      error: (error) => settle({ error }),
      complete: () => settle({}),
    },
  );
  return {
    results,
    ended,
    unsubscribe,
    async waitFor(count: number): Promise<FormattedExecutionResult<Record<string, unknown>, unknown>[]> {
      const deadline = Date.now() + 5_000;
      while (results.length < count) {
        if (Date.now() > deadline) throw new Error(`waited for ${count} results, got ${results.length}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return results;
    },
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const TICKS = 'subscription ($capacity: Int!) { ticks(capacity: $capacity) { n correlationId contextId scopeCorrelationId authorization } }';

describe('buildFederatedSchema', () => {
  it('keeps the subscribe function type-graphql gives a subscription field, and prints the Subscription type', async () => {
    const field = schema.getSubscriptionType()?.getFields().ticks;
    expect(typeof field?.subscribe).toBe('function');
    expect(typeof field?.resolve).toBe('function');
    expect(printSubgraphSchema(schema)).toMatch(/type Subscription \{\s+ticks\(capacity: Int!\): Tick!/);
    // graphql-js itself can run it: the subscribe function is the source, resolve maps each payload.
    const stream = (await graphqlSubscribe({ schema, document: parse('subscription { ticks(capacity: 5) { n } }'), contextValue: { scope: { correlationId: 'x' }, contextId: 0 } })) as AsyncGenerator<ExecutionResult>;
    const first = stream.next();
    publish({ n: 7, correlationId: 'c' });
    expect((await first).value).toEqual({ data: { ticks: { n: 7 } } });
    await stream.return(undefined);
    expect(listeners.size).toBe(0);
  });
});

describe('graphql-ws on /graphql', () => {
  it('carries connection_init params into the scope and runs each event as a request of its own', async () => {
    const client = connect({ authorization: 'Bearer t-1', correlationId: 'conn-1' });
    const sub = collect(client, TICKS, { capacity: 10 });
    await until(() => listeners.size === 1, 'the subscriber');
    const before = contexts;
    publish({ n: 1, correlationId: 'evt-1' });
    publish({ n: 2, correlationId: 'not a valid id!' });
    const results = await sub.waitFor(2);
    expect(results.map((r) => r.data?.ticks)).toEqual([
      { n: 1, correlationId: 'evt-1', contextId: before + 1, scopeCorrelationId: 'evt-1', authorization: 'Bearer t-1' },
      // An id the scope would not accept leaves the subscriber's in place.
      { n: 2, correlationId: 'not a valid id!', contextId: before + 2, scopeCorrelationId: 'conn-1', authorization: 'Bearer t-1' },
    ]);
    sub.unsubscribe();
    await until(() => listeners.size === 0, 'the listener to be removed');
  });

  it('executes queries on the socket too, in the connection scope', async () => {
    const client = connect({ Authorization: 'Bearer t-2', correlationId: 'conn-2' });
    const sub = collect(client, '{ hello }');
    expect(await sub.ended).toEqual({});
    expect(sub.results).toEqual([{ data: { hello: 'hello conn-2 Bearer t-2' } }]);
  });

  it('answers a bad argument of the subscribe resolver with one result carrying the error, then completes', async () => {
    const sub = collect(connect(), TICKS, { capacity: 0 });
    expect(await sub.ended).toEqual({});
    expect(sub.results).toEqual([{ errors: [expect.objectContaining({ message: 'capacity must be positive', path: ['ticks'], extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })] }]);
    expect(listeners.size).toBe(0);
  });

  it('answers a document that does not validate with an error message', async () => {
    const { error } = await collect(connect(), 'subscription { nope }').ended;
    expect(error).toEqual([expect.objectContaining({ message: expect.stringContaining('nope') })]);
  });

  it('ends a subscriber that overflows with a last result carrying SUBSCRIPTION_OVERFLOW', async () => {
    const local = await service.subscribeLocal({ query: TICKS, variables: { capacity: 2 } });
    if (!(Symbol.asyncIterator in local)) throw new Error('expected a stream');
    for (let n = 0; n < 3; n++) publish({ n, correlationId: 'burst' });
    expect(listeners.size).toBe(0);
    const next = await local.next();
    expect(next.value?.errors?.map((e) => e.extensions.code)).toEqual(['SUBSCRIPTION_OVERFLOW']);
    expect(await local.next()).toEqual({ done: true, value: undefined });
  });

  it('refuses upgrades on any other path', async () => {
    const socket = new WebSocket(url.replace(/\/graphql$/, '/elsewhere'), 'graphql-transport-ws');
    const status = await new Promise<number | undefined>((resolve) => {
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      socket.on('open', () => resolve(undefined));
      socket.on('error', () => undefined);
    });
    expect(status).toBe(404);
  });
});

describe('subscribeLocal', () => {
  it('answers a bad argument with one result carrying the error, not a rejection', async () => {
    const result = await service.subscribeLocal({ query: TICKS, variables: { capacity: -1 } });
    expect(Symbol.asyncIterator in result).toBe(false);
    expect((result as ExecutionResult).errors?.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
  });

  it('takes the scope from connectionParams, and return() removes the listener at once', async () => {
    const stream = await service.subscribeLocal({ query: TICKS, variables: { capacity: 5 }, connectionParams: { authorization: 'Bearer local', correlationId: 'local-1' } });
    if (!(Symbol.asyncIterator in stream)) throw new Error('expected a stream');
    const pending = stream.next();
    publish({ n: 3, correlationId: 'x'.repeat(200) });
    expect((await pending).value).toMatchObject({ data: { ticks: { n: 3, scopeCorrelationId: 'local-1', authorization: 'Bearer local' } } });
    // A next() waiting for an event must not hold the unsubscribe back.
    const waiting = stream.next();
    await stream.return(undefined);
    expect(listeners.size).toBe(0);
    expect(await waiting).toEqual({ done: true, value: undefined });
  });

  it('executes a query it is given', async () => {
    expect(await service.subscribeLocal({ query: '{ hello }', connectionParams: { correlationId: 'q-1' } })).toEqual({ data: { hello: 'hello q-1 anonymous' } });
  });
});

describe('scopeFromConnectionParams', () => {
  it('validates the correlation id like the header, and falls back for what was not sent', () => {
    expect(scopeFromConnectionParams({ correlationId: 'ok-1', authorization: 'a' })).toEqual({ correlationId: 'ok-1', authorization: 'a' });
    expect(scopeFromConnectionParams({ correlationId: 'bad id' }).correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(scopeFromConnectionParams({}, { correlationId: 'from-header', authorization: 'h' })).toEqual({ correlationId: 'from-header', authorization: 'h' });
    expect(scopeFromConnectionParams(undefined).correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('stop()', () => {
  it('closes every socket with 1001 (ending its subscriptions) before the HTTP server', async () => {
    const own = await createSubgraphService<TestContext>({ name: 'ticks-2', schema, logger: createLogger({ level: 'silent' }), context: (base) => ({ ...base, contextId: 0 }) });
    const target = (await own.listen(0)).replace(/^http/, 'ws');
    const closes: number[] = [];
    const client = createClient({ url: target, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, on: { closed: (event) => closes.push((event as { code: number }).code) } });
    const sub = collect(client, TICKS, { capacity: 5 });
    await until(() => listeners.size === 1, 'the subscriber');
    await own.stop();
    await sub.ended;
    expect(closes).toEqual([1001]);
    expect(listeners.size).toBe(0);
    expect(own.httpServer.listening).toBe(false);
    await client.dispose();
  });
});
