import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { changesIn, DEFAULT_STREAM_RETENTION, handUntilTaken, sequenceIn, streamsOf, type CanonicalEvent, type EventBackbone, type EventSequences, type EventStream, type EventType, type StreamHistory } from '../events.js';
import { createLogger, type Logger } from '../logger.js';
import type { ChainableCommander } from 'ioredis';
import { attachErrorLogger, disconnectNow, duplicateRedis, pipelineBySlot, type RedisClient } from './connection.js';
import { redisKeys, type RedisKeys } from './keys.js';

export interface RedisEventBackboneOptions {
  /**
   * The shared client (one server or a cluster) for writes and reads. The backbone never closes it: its creator
   * does (see `quitAll`). Blocking reads get connections of their own (`duplicateRedis`).
   */
  redis: RedisClient;
  /** Namespace of every key, so that several deployments can share one Redis. Default `'retail'`. */
  prefix?: string;
  /**
   * How long one `XREAD` blocks, in ms. Bounds how long a reader lingers after its last subscriber leaves on
   * a connection that cannot be interrupted; delivery itself is immediate. Default 1000.
   */
  blockMs?: number;
  /**
   * How long an event id is remembered for de-duplication, in ms. A duplicate that arrives later than this
   * is accepted again. Default 30 days.
   */
  seenTtlMs?: number;
  /** Approximate cap of the live stream (`XADD MAXLEN ~`); the per-order lists are not capped. Default 1 000 000. */
  maxLen?: number;
  /**
   * How long a history loader may go silent before another instance takes over the load, in ms. The loader
   * renews it with every batch. Default 30 000.
   */
  historyLockTtlMs?: number;
  /** Where reader and handler failures go. Default: a pino logger named `redis-event-backbone`. */
  logger?: Pick<Logger, 'warn' | 'error'>;
  /**
   * How long an event handed to a consumer group member may stay untaken before another member (or the same one,
   * after a restart under a new name) claims it, in ms: longer than a handler takes. Default 30 000.
   */
  claimIdleMs?: number;
  /** Events each resumable stream (an order's status moves, a location's stock changes) retains. @default DEFAULT_STREAM_RETENTION (10,000) */
  retention?: number;
}

const DAY_MS = 86_400_000;
/** Entries per `XREAD`: enough to drain a burst quickly, few enough that one reply stays small. */
const READ_COUNT = 500;
/** Events per read of a stream's history when resuming. */
const HISTORY_BATCH = 1_000;
/** Events per pipeline when loading history: big enough to amortise round trips, small enough not to stall Redis. */
const LOAD_BATCH = 1_000;
/** How often an instance waiting for another one's history load looks again, in ms. */
const LOAD_POLL_MS = 200;
/** The stream entry field that carries the event JSON. */
const EVENT_FIELD = 'event';

// Dedupe and append to the stream in one script, so that two instances publishing the same id cannot both get
// past the check. The seen flag shares the stream's hash tag (one slot on a cluster). KEYS: seen flag, stream.
// ARGV: event JSON, seen TTL (ms), stream MAXLEN.
// The flag is set after the XADD: a script is not rolled back, and a flag left by a failed XADD would turn the
// retry into a duplicate.
const PUBLISH_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', '${EVENT_FIELD}', ARGV[1])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
return 1
`;

// Append to the order's list once per event id, whoever publishes it and however often: the list and its id set
// share the order's hash tag, apart from the stream's (see keys.ts for why publishing is two steps).
// KEYS: order list, order's id set. ARGV: event id, event JSON.
const APPEND_LUA = `
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[2])
return 1
`;

// An event's block of sequences in one stream (one per change it delivers there, `count`), once per event id: a
// repeated publish gets the block it had. Keeps the event (without its sequences, which the reader puts back) for
// resuming, scored by its block's LAST sequence (a resume from inside a block finds the event by `> after`), and
// lets go of events whose last change falls out of the retention (counted in changes). All keys share the stream's
// hash tag. KEYS: counter, id set, event set. ARGV: event id, event JSON, retention, count. Returns the block's first.
const SEQUENCE_LUA = `
local count = tonumber(ARGV[4])
local known = redis.call('ZSCORE', KEYS[2], ARGV[1])
if known then return tonumber(known) - count + 1 end
local last = redis.call('INCRBY', KEYS[1], count)
redis.call('ZADD', KEYS[2], last, ARGV[1])
redis.call('ZADD', KEYS[3], last, ARGV[2])
local cut = last - tonumber(ARGV[3])
if cut > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cut)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', cut)
end
return last - count + 1
`;

// Renew (ttl > 0) or release (ttl = 0) a lock only while we still hold it: an expired lock may have a new owner.
// KEYS: lock. ARGV: token, ttl (ms).
const LOCK_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then return redis.call('DEL', KEYS[1]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`;

type Arg = string | number;
// ioredis adds `defineCommand` scripts as methods at run time; these describe them. The number of keys comes
// first because it varies (events without an order have no order list).
interface Scripts {
  retailEventPublish(numKeys: number, ...args: Arg[]): Promise<number>;
  retailEventAppend(numKeys: number, ...args: Arg[]): Promise<number>;
  retailLock(numKeys: number, ...args: Arg[]): Promise<number>;
  retailStreamSequence(numKeys: number, ...args: Arg[]): Promise<number>;
}
type ScriptPipeline = ChainableCommander & { [K in keyof Scripts]: (...args: Parameters<Scripts[K]>) => ScriptPipeline };

function defineScripts(redis: RedisClient): RedisClient & Scripts {
  const scripts: Record<keyof Scripts, string> = { retailEventPublish: PUBLISH_LUA, retailEventAppend: APPEND_LUA, retailLock: LOCK_LUA, retailStreamSequence: SEQUENCE_LUA };
  for (const [name, lua] of Object.entries(scripts)) {
    // Several backbones may share a client; defining once keeps the client's script table stable.
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') redis.defineCommand(name, { lua });
  }
  return redis as RedisClient & Scripts;
}

/** Same order as the in-memory backbone: by `occurredAt`, ties in publish order (`Array#sort` is stable). */
function byTime(a: CanonicalEvent, b: CanonicalEvent): number {
  return a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0;
}

/** One subscription period of this instance: from the first subscriber to the last unsubscribe (or close). */
interface Reader {
  connection: RedisClient;
  stopped: boolean;
  /** Fires on stop, to cut a blocked read or a back-off short. */
  abort: AbortController;
  /** Settles once the start position is fixed (or the reader stopped first). */
  positioned: Promise<void>;
  /** Settles when the read loop has exited. */
  done: Promise<void>;
}

/**
 * The event backbone on Redis, shared by every gateway and subgraph instance of a deployment.
 *
 * Each event is written once: an entry in its order's list (`eventsForOrders`, once per id), then a seen-flag per
 * id (duplicates are dropped across instances) and an entry in one stream (live delivery to subscribers). On a
 * Redis Cluster the stream and the order lists are in different slots, so these are two idempotent scripts: a
 * publish that failed half way is completed, never doubled, by publishing the event again (see `keys.ts`).
 * Each instance reads the stream on its own connection, from the position at its first subscription, and
 * hands every entry to its local handlers: every instance's subscribers see every event, in stream order, once.
 *
 * Before all that, an event of a resumable stream (an order's status moves, a location's stock changes) gets its
 * block of sequences in each of its streams, one per change it delivers there (one script per stream, in the
 * stream's slot, idempotent by event id), which
 * also keeps it, capped at `retention` per stream, for `streamSince`. Two instances publishing at once may put
 * one stream's events on the live stream out of sequence order: subscribers put them back in order (see
 * common/stream-sequencer.ts), reading what they miss from the stream.
 *
 * Delivery is asynchronous (after `publish` resolves, unlike the in-memory backbone), and a handler that joins
 * while the reader is running may also receive entries written just before it joined (at-least-once).
 */
export class RedisEventBackbone implements EventBackbone {
  private readonly redis: RedisClient & Scripts;
  private readonly keys: RedisKeys['events'];
  private readonly blockMs: number;
  private readonly seenTtlMs: number;
  private readonly maxLen: number;
  private readonly historyLockTtlMs: number;
  private readonly claimIdleMs: number;
  private readonly retention: number;
  private readonly consumers = new Set<{ stop(): Promise<void> }>();
  private readonly explicitLogger: Pick<Logger, 'warn' | 'error'> | undefined;
  private defaultLogger: Logger | undefined;
  private readonly handlers = new Set<(event: CanonicalEvent) => void>();
  private reader: Reader | undefined;
  /** Readers being shut down, so that `close` can wait for all of them. */
  private readonly stopping = new Set<Promise<void>>();
  private closed = false;

  constructor(options: RedisEventBackboneOptions) {
    this.redis = defineScripts(options.redis);
    this.keys = redisKeys(options.prefix ?? 'retail').events;
    this.blockMs = positiveInt(options.blockMs ?? 1_000, 'blockMs');
    this.seenTtlMs = positiveInt(options.seenTtlMs ?? 30 * DAY_MS, 'seenTtlMs');
    this.maxLen = positiveInt(options.maxLen ?? 1_000_000, 'maxLen');
    this.historyLockTtlMs = positiveInt(options.historyLockTtlMs ?? 30_000, 'historyLockTtlMs');
    this.claimIdleMs = positiveInt(options.claimIdleMs ?? 30_000, 'claimIdleMs');
    this.retention = positiveInt(options.retention ?? DEFAULT_STREAM_RETENTION, 'retention');
    this.explicitLogger = options.logger;
  }

  /** The live stream. */
  get streamKey(): string {
    return this.keys.stream;
  }

  async publish(event: CanonicalEvent): Promise<boolean> {
    this.assertOpen();
    const { sequences: _given, ...bare } = event;
    const streams = streamsOf(event);
    let stamped = bare as CanonicalEvent;
    if (streams.length > 0) {
      // An event already on the live stream is a duplicate, and must not be given sequences again (a stream lets
      // go of old ids with their events). One that failed half way is not on it yet: it gets its sequences back.
      if (await this.redis.exists(this.keys.seen(event.id))) return false;
      stamped = { ...bare, sequences: await this.sequence(streams, bare as CanonicalEvent) } as CanonicalEvent;
    }
    const json = JSON.stringify(stamped);
    // The order's list first: whoever sees the event live can read it in the timeline already.
    // Truthiness, not `!== undefined`, as in the in-memory backbone: an empty order id belongs to no order.
    if (event.orderId) await this.append(event.orderId, event.id, json);
    return (await this.redis.retailEventPublish(2, this.keys.seen(event.id), this.keys.stream, json, this.seenTtlMs, this.maxLen)) === 1;
  }

  /**
   * Resume reads: the stream's retained events after `after` (their `sequences` name this stream only), in
   * sequence order, read in batches. Every key is in the stream's slot.
   */
  async streamSince(stream: EventStream, after: number | null): Promise<StreamHistory> {
    this.assertOpen();
    const eventsKey = this.keys.streamEvents(stream.kind, stream.id);
    // One transaction, so that the counter and the oldest retained event are of the same moment.
    const replies = (await this.redis.multi().get(this.keys.streamSequence(stream.kind, stream.id)).zrange(eventsKey, 0, 0, 'WITHSCORES').exec()) ?? [];
    const failed = replies.length < 2 ? new Error('transaction aborted') : replies.find(([error]) => error)?.[0];
    if (failed) throw new Error(`reading stream ${stream.kind} ${stream.id} failed: ${failed.message}`, { cause: failed });
    const counter = replies[0]?.[1] as string | null;
    const oldestReply = replies[1]?.[1] as string[] | null;
    let latest = Number(counter ?? 0);
    // Scores are each event's last sequence; its first is counted back from the changes it has.
    const firstOf = (json: string, last: number): CanonicalEvent => {
      const event = JSON.parse(json) as CanonicalEvent;
      return { ...event, sequences: { [stream.kind]: last - Math.max(1, changesIn(event, stream.kind)) + 1 } };
    };
    const oldestJson = oldestReply?.[0];
    const oldestLast = oldestReply?.[1];
    const oldest = oldestJson === undefined || oldestLast === undefined ? latest + 1 : sequenceIn(firstOf(oldestJson, Number(oldestLast)), stream.kind);
    const events: CanonicalEvent[] = [];
    if (after === null) return { events, oldest, latest };
    for (let cursor = `(${after}`; ; ) {
      const reply = await this.redis.zrangebyscore(eventsKey, cursor, '+inf', 'WITHSCORES', 'LIMIT', 0, HISTORY_BATCH);
      for (let i = 0; i + 1 < reply.length; i += 2) {
        const last = Number(reply[i + 1]);
        events.push(firstOf(reply[i] as string, last));
        cursor = `(${last}`;
        // An event sequenced after the counter was read.
        if (last > latest) latest = last;
      }
      if (reply.length < HISTORY_BATCH * 2) break;
    }
    return { events, oldest, latest };
  }

  async eventsForOrders(orderIds: readonly string[]): Promise<CanonicalEvent[][]> {
    if (orderIds.length === 0) return [];
    // A pipeline per order: on a cluster the orders' lists are on many slots.
    const replies = await pipelineBySlot(this.redis, orderIds, (id) => this.keys.order(id), (pipeline, id) => pipeline.lrange(this.keys.order(id), 0, -1));
    return orderIds.map((id, i) => {
      const [error, raw] = replies[i] ?? [new Error('no reply'), null];
      if (error) throw new Error(`reading the events of order ${id} failed: ${error.message}`, { cause: error });
      // Lists are in publish order; a late event (a posting retried hours later) is put in place here.
      return (raw as string[]).map((entry) => JSON.parse(entry) as CanonicalEvent).sort(byTime);
    });
  }

  subscribe(handler: (event: CanonicalEvent) => void): () => void {
    this.assertOpen();
    this.handlers.add(handler);
    this.reader ??= this.startReader();
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.handlers.delete(handler);
      if (this.handlers.size === 0 && this.reader) this.stopReader(this.reader);
    };
  }

  /**
   * A Redis Streams consumer group per consuming service: the group keeps its position in Redis, so events
   * published while every member was down wait for the first member to start. Each member reads new entries
   * (`XREADGROUP >`) on its own connection, hands those of `types` to the handler one by one and acknowledges an
   * entry once the handler resolved for it (others at once). An entry left unacknowledged (a handler that failed,
   * a member that died) is claimed after `claimIdleMs` by whichever member looks next (`XAUTOCLAIM`), so it is
   * handed again. The group starts at the stream's end when it is created.
   */
  consume(group: string, types: ReadonlySet<EventType>, handler: (event: CanonicalEvent) => Promise<void>): () => void {
    this.assertOpen();
    const connection = duplicateRedis(this.redis, { suffix: `consumer:${group}` });
    attachErrorLogger(connection, this.logger);
    const consumer = `${group}-${randomUUID()}`;
    const abort = new AbortController();
    let stopped = false;
    const take = async (id: string, fields: string[]): Promise<void> => {
      const event = this.parse(id, fields);
      if (event && types.has(event.type)) {
        const taken = await handUntilTaken(event, handler, () => stopped, (error, attempt) => this.logger.warn({ err: error, group, eventId: event.id, attempt }, 'event consumer failed; handing the event again'));
        if (!taken) return; // stopping: left pending, claimed again later
      }
      await connection.xack(this.streamKey, group, id);
    };
    const loop = async () => {
      let failures = 0;
      let lastClaim = 0;
      while (!stopped) {
        try {
          await connection.xgroup('CREATE', this.streamKey, group, '$', 'MKSTREAM').catch((error: Error) => {
            if (!String(error.message).includes('BUSYGROUP')) throw error;
          });
          for (;;) {
            if (stopped) return;
            if (Date.now() - lastClaim >= this.claimIdleMs / 2) {
              lastClaim = Date.now();
              // Entries another member (or an earlier run of this service) was handed and never acknowledged.
              const claimed = (await connection.xautoclaim(this.streamKey, group, consumer, this.claimIdleMs, '0-0', 'COUNT', READ_COUNT)) as [string, [string, string[]][]];
              for (const [id, fields] of claimed[1] ?? []) if (fields) await take(id, fields);
            }
            const read = connection.xreadgroup('GROUP', group, consumer, 'COUNT', READ_COUNT, 'BLOCK', this.blockMs, 'STREAMS', this.streamKey, '>') as Promise<[string, [string, string[]][]][] | null>;
            read.catch(() => {});
            const reply = await orAborted(read, abort.signal);
            if (stopped) return;
            failures = 0;
            for (const [, entries] of reply ?? []) for (const [id, fields] of entries) await take(id, fields);
          }
        } catch (error) {
          if (stopped) return;
          failures++;
          this.logger.warn({ err: error, group, failures }, 'event consumer read failed; retrying');
          await sleep(Math.min(100 * 2 ** failures, 5_000), undefined, { signal: abort.signal }).catch(() => {});
        }
      }
    };
    const done = loop();
    const member = {
      stop: async () => {
        stopped = true;
        abort.abort();
        // A handler in flight gets a moment to finish and be acknowledged; one that hangs is left pending, for
        // another member to claim.
        await Promise.race([done, sleep(2_000)]);
        await disconnectNow(connection);
      },
    };
    this.consumers.add(member);
    return () => {
      if (!this.consumers.delete(member)) return;
      const stopping = member.stop();
      this.stopping.add(stopping);
      void stopping.finally(() => this.stopping.delete(stopping));
    };
  }

  /**
   * Resolves once this instance reads the stream from a fixed position: from then on, events published by
   * any instance reach its subscribers. (Events this instance publishes after `subscribe` always do.)
   */
  async ready(): Promise<void> {
    await this.reader?.positioned;
  }

  /**
   * Bulk-load history (the sandbox's seeded events) into the order lists, without notifying subscribers.
   *
   * Runs once per `tag` (name the data set, e.g. `seed-42-scale-1`) however many instances start, and however
   * often: one instance loads while the others wait for it, then all return. A loader that dies half way is
   * taken over after `historyLockTtlMs`, and since every event is deduplicated by id, the rest is simply loaded
   * on top. `events` is not iterated at all when the tag is already loaded.
   *
   * @returns true if this call loaded the history, false if it was loaded already (here or elsewhere).
   */
  async load(events: Iterable<CanonicalEvent>, tag: string): Promise<boolean> {
    this.assertOpen();
    const doneKey = this.keys.historyLoaded(tag);
    const lockKey = this.keys.historyLoading(tag);
    const token = randomUUID();
    for (;;) {
      if (await this.redis.exists(doneKey)) return false;
      if (await this.redis.set(lockKey, token, 'PX', this.historyLockTtlMs, 'NX')) break;
      await sleep(LOAD_POLL_MS);
      this.assertOpen();
    }
    try {
      // The previous holder may have finished between our EXISTS and our SET.
      if (await this.redis.exists(doneKey)) return false;
      let batch: CanonicalEvent[] = [];
      let total = 0;
      for (const event of events) {
        batch.push(event);
        if (++total % LOAD_BATCH === 0) {
          await this.flushLoad(batch, lockKey, token);
          batch = [];
        }
      }
      if (batch.length) await this.flushLoad(batch, lockKey, token);
      await this.redis.set(doneKey, JSON.stringify({ events: total, at: new Date().toISOString() }));
      return true;
    } finally {
      await this.redis.retailLock(1, lockKey, token, 0).catch(() => {
        // Unreleased, the lock merely expires: others wait at most historyLockTtlMs longer.
      });
    }
  }

  /** Stop reading and close the reader connection. The shared `redis` client stays open: it is the caller's. */
  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
    if (this.reader) this.stopReader(this.reader);
    const members = [...this.consumers];
    this.consumers.clear();
    await Promise.all([...this.stopping, ...members.map((m) => m.stop())]);
  }

  /** The first of the event's block of sequences in each of its streams (a script per stream, in the stream's slot, all in one round trip). */
  private async sequence(streams: readonly EventStream[], bare: CanonicalEvent): Promise<EventSequences> {
    const json = JSON.stringify(bare);
    const replies = await pipelineBySlot<EventStream, ScriptPipeline>(
      this.redis,
      streams,
      (stream) => this.keys.streamSequence(stream.kind, stream.id),
      (pipeline, stream) =>
        pipeline.retailStreamSequence(
          3,
          this.keys.streamSequence(stream.kind, stream.id),
          this.keys.streamIds(stream.kind, stream.id),
          this.keys.streamEvents(stream.kind, stream.id),
          bare.id,
          json,
          this.retention,
          Math.max(1, changesIn(bare, stream.kind)),
        ),
    );
    const sequences: EventSequences = {};
    streams.forEach((stream, i) => {
      const [error, sequence] = replies[i] ?? [new Error('no reply'), null];
      if (error) throw new Error(`sequencing event ${bare.id} in stream ${stream.kind} ${stream.id} failed: ${error.message}`, { cause: error });
      sequences[stream.kind] = Number(sequence);
    });
    return sequences;
  }

  /** The order's list entry of an event, once per id (see APPEND_LUA). */
  private async append(orderId: string, eventId: string, json: string): Promise<void> {
    await this.redis.retailEventAppend(2, this.keys.order(orderId), this.keys.orderIds(orderId), eventId, json);
  }

  /**
   * History, a batch at a time: each event's seen flag (so that publishing it later is a duplicate) and its order's
   * list entry, without the stream (nobody is notified of the past); and the loader's lock renewed, so that a
   * loader that makes progress keeps it. Flags and lists are on different slots: a pipeline per slot.
   */
  private async flushLoad(batch: readonly CanonicalEvent[], lockKey: string, token: string): Promise<void> {
    type Step = { kind: 'seen'; event: CanonicalEvent } | { kind: 'append'; event: CanonicalEvent; orderId: string } | { kind: 'lock' };
    const steps: Step[] = [{ kind: 'lock' }];
    for (const event of batch) {
      steps.push({ kind: 'seen', event });
      if (event.orderId) steps.push({ kind: 'append', event, orderId: event.orderId });
    }
    const replies = await pipelineBySlot<Step, ScriptPipeline>(
      this.redis,
      steps,
      (step) => (step.kind === 'lock' ? lockKey : step.kind === 'seen' ? this.keys.seen(step.event.id) : this.keys.order(step.orderId)),
      (pipeline, step) => {
        if (step.kind === 'lock') pipeline.retailLock(1, lockKey, token, this.historyLockTtlMs);
        else if (step.kind === 'seen') pipeline.set(this.keys.seen(step.event.id), '1', 'PX', this.seenTtlMs, 'NX');
        else pipeline.retailEventAppend(2, this.keys.order(step.orderId), this.keys.orderIds(step.orderId), step.event.id, JSON.stringify(step.event));
      },
    );
    const failed = replies.find(([error]) => error);
    if (failed?.[0]) throw new Error(`loading event history failed: ${failed[0].message}`, { cause: failed[0] });
  }

  private startReader(): Reader {
    // Fix the start position with a command on the shared connection, sent now: any later publish of this
    // instance goes down the same connection behind it, so it lands after the position and is delivered.
    const firstPosition = this.position();
    // XREAD BLOCK holds its connection, so the reader gets its own. No command timeout (it would cut the
    // block), and no retry limit: through an outage the read just waits for the reconnect.
    const connection = duplicateRedis(this.redis, { suffix: 'events-reader' });
    attachErrorLogger(connection, this.logger);
    let positioned!: () => void;
    const reader: Reader = {
      connection,
      stopped: false,
      abort: new AbortController(),
      positioned: new Promise<void>((resolve) => (positioned = resolve)),
      done: Promise.resolve(),
    };
    reader.done = this.read(reader, firstPosition, positioned);
    return reader;
  }

  private stopReader(reader: Reader): void {
    if (reader.stopped) return;
    reader.stopped = true;
    if (this.reader === reader) this.reader = undefined;
    reader.abort.abort();
    const stopped = Promise.all([reader.done, disconnectNow(reader.connection)]).then(() => {});
    this.stopping.add(stopped);
    void stopped.finally(() => this.stopping.delete(stopped));
  }

  private async read(reader: Reader, firstPosition: Promise<string>, positioned: () => void): Promise<void> {
    let pending: Promise<string> | undefined = firstPosition;
    let lastId: string | undefined;
    let failures = 0;
    try {
      while (!reader.stopped) {
        try {
          if (lastId === undefined) {
            const position = await orAborted(pending ?? this.position(), reader.abort.signal);
            if (position === null) return;
            lastId = position;
            positioned();
          }
          const read = reader.connection.xread('COUNT', READ_COUNT, 'BLOCK', this.blockMs, 'STREAMS', this.streamKey, lastId);
          // Disconnecting rejects it, but a connection between reconnect attempts has nothing to reject.
          read.catch(() => {});
          const reply = await orAborted(read, reader.abort.signal);
          if (reader.stopped) return;
          failures = 0;
          for (const [, entries] of reply ?? []) {
            for (const [id, fields] of entries) {
              lastId = id;
              this.dispatch(id, fields);
            }
          }
        } catch (error) {
          if (reader.stopped) return;
          pending = undefined;
          failures++;
          this.logger.warn({ err: error, stream: this.streamKey, failures }, 'event stream read failed; retrying');
          await sleep(Math.min(100 * 2 ** failures, 5_000), undefined, { signal: reader.abort.signal }).catch(() => {});
        }
      }
    } finally {
      // Nobody waiting on `ready()` must hang because the reader stopped before it found its position.
      positioned();
    }
  }

  /** The event of a stream entry, or null (logged) for an entry that is not one. */
  private parse(id: string, fields: string[]): CanonicalEvent | null {
    const index = fields.indexOf(EVENT_FIELD);
    const raw = index >= 0 && index % 2 === 0 ? fields[index + 1] : undefined;
    try {
      if (raw === undefined) throw new Error(`no "${EVENT_FIELD}" field`);
      return JSON.parse(raw) as CanonicalEvent;
    } catch (error) {
      // Someone else's entry in our stream: skip it rather than stop delivery for everyone.
      this.logger.warn({ err: error, stream: this.streamKey, entryId: id }, 'unreadable event stream entry skipped');
      return null;
    }
  }

  private dispatch(id: string, fields: string[]): void {
    const event = this.parse(id, fields);
    if (!event) return;
    for (const handler of this.handlers) {
      try {
        handler(event);
      } catch (error) {
        // One failing consumer must not starve the others, nor stop the reader.
        this.logger.error({ err: error, eventId: event.id, eventType: event.type }, 'event handler failed');
      }
    }
  }

  /** The id of the newest stream entry (`0-0` for an empty stream): reading after it yields only newer ones. */
  private async position(): Promise<string> {
    const newest = await this.redis.xrevrange(this.streamKey, '+', '-', 'COUNT', 1);
    return newest[0]?.[0] ?? '0-0';
  }

  private get logger(): Pick<Logger, 'warn' | 'error'> {
    return this.explicitLogger ?? (this.defaultLogger ??= createLogger({ name: 'redis-event-backbone' }));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('RedisEventBackbone is closed');
  }
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * `promise`, or null as soon as `signal` aborts. Not `Promise.race` with one promise for the loop's life: each race
 * leaves a reaction on a promise that never settles, holding what the race resolved with (here, every reply read),
 * so a reader that loops once per event would keep every event it ever read.
 */
function orAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise<T | null>((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
