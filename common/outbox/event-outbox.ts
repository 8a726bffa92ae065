import { randomUUID } from 'node:crypto';
import { retryDelayMs } from '../backoff.js';
import type { CanonicalEvent, EventBackbone } from '../events.js';
import type { Logger } from '../logger.js';

/*
 * The transactional event outbox: the one way a producer hands over the events of a change it made. The events of
 * one change are a batch, recorded in one atomic step (one journal append in the embedded default with DATA_DIR, one
 * MULTI in Redis mode) and then published from there, in order, until the backbone takes them: a publish that fails
 * delays the batch (retried with backoff), it never loses it, and a producer never throws because of it. A batch
 * a crashed process left behind is published by the relay of the next process that starts (or of another instance
 * in Redis mode, once it has waited `claimAfterMs`); publishing is idempotent by event id, so a batch published
 * twice is delivered once.
 */

/** The events of one change, as the outbox keeps them until they are published. */
export interface OutboxBatch {
  id: string;
  /** ISO 8601: when it was recorded (other instances leave a young batch to the instance that recorded it). */
  at: string;
  events: CanonicalEvent[];
}

/** Where batches wait until published. `add` is atomic: after it resolves the whole batch is durable, before it none of it. */
export interface EventOutboxStore {
  add(batch: OutboxBatch): Promise<void>;
  remove(id: string): Promise<void>;
  /** Batches still waiting, oldest first, at most `limit`. */
  pending(limit: number): Promise<OutboxBatch[]>;
  /** Batches waiting now. */
  depth(): Promise<number>;
}

/** The producers' port: what a service that changes state gets. */
export interface EventEmitter {
  /**
   * Record the events of a change that has been made, then publish them. Resolves once the batch is recorded and
   * its first publish was tried; never rejects for a publish failure (the relay keeps trying).
   */
  emit(events: readonly CanonicalEvent[]): Promise<void>;
}

export interface EventOutboxOptions {
  backbone: Pick<EventBackbone, 'publish'>;
  /** @default an in-memory store (the embedded default without DATA_DIR) */
  store?: EventOutboxStore | undefined;
  logger?: Pick<Logger, 'warn' | 'error' | 'info'> | undefined;
  /**
   * How old a batch found in the store must be before this relay publishes it although another instance may still
   * be publishing it, in ms. At start, every batch left is taken (a previous run's). @default 10_000
   */
  claimAfterMs?: number | undefined;
  /** How often the relay looks for batches left in the store (by a crash, or by another instance), in ms. @default 5_000 */
  sweepIntervalMs?: number | undefined;
  /** First retry delay after a failed publish, in ms (exponential with full jitter, see common/backoff.ts). @default 100 */
  retryBaseMs?: number | undefined;
  /** Longest wait between two retries, in ms. @default 5_000 */
  retryCapMs?: number | undefined;
  now?: (() => number) | undefined;
}

/** Counters the operations view reads. */
export interface OutboxStats {
  recorded: number;
  published: number;
  publishFailures: number;
  /** Batches this relay has in hand and not yet published. */
  inFlight: number;
  /** A batch that could not even be recorded (the store was down): it is kept in memory and retried. */
  storeFailures: number;
}

/** One lane of the relay: its batches in recording order, published one at a time. */
interface Lane {
  queue: { batch: OutboxBatch; recorded: boolean; settled: Array<() => void> }[];
  draining: Promise<void> | null;
  retryTimer: NodeJS.Timeout | null;
  failures: number;
}

/** Lanes of the relay: batches of one order (or, without one, one location) share a lane and keep their order. */
const LANES = 16;

function laneOf(batch: OutboxBatch): number {
  const first = batch.events[0];
  const key = first?.orderId ?? first?.locationId ?? first?.sku ?? batch.id;
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) | 0;
  return Math.abs(hash) % LANES;
}

/**
 * The outbox and its relay. The relay publishes the batches of one lane one at a time, in the order they were
 * recorded, so the events of one order reach the backbone in the order its changes were made, even across a
 * retry; batches of different orders go side by side.
 */
export class EventOutbox implements EventEmitter {
  private readonly backbone: Pick<EventBackbone, 'publish'>;
  private readonly store: EventOutboxStore;
  private readonly logger: Pick<Logger, 'warn' | 'error' | 'info'> | undefined;
  private readonly claimAfterMs: number;
  private readonly sweepIntervalMs: number;
  private readonly retryBaseMs: number;
  private readonly retryCapMs: number;
  private readonly now: () => number;
  private readonly lanes: Lane[] = Array.from({ length: LANES }, () => ({ queue: [], draining: null, retryTimer: null, failures: 0 }));
  private readonly inHand = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly counters = { recorded: 0, published: 0, publishFailures: 0, storeFailures: 0 };

  constructor(options: EventOutboxOptions) {
    this.backbone = options.backbone;
    this.store = options.store ?? new InMemoryOutboxStore();
    this.logger = options.logger;
    this.claimAfterMs = options.claimAfterMs ?? 10_000;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 5_000;
    this.retryBaseMs = options.retryBaseMs ?? 100;
    this.retryCapMs = options.retryCapMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  async emit(events: readonly CanonicalEvent[]): Promise<void> {
    if (events.length === 0) return;
    const batch: OutboxBatch = { id: `obx-${randomUUID()}`, at: new Date(this.now()).toISOString(), events: [...events] };
    let recorded = true;
    try {
      await this.store.add(batch);
      this.counters.recorded++;
    } catch (error) {
      // The change is made and must not be answered as failed: keep the batch in memory and publish it from there.
      recorded = false;
      this.counters.storeFailures++;
      this.logger?.error({ err: error, batchId: batch.id, eventIds: batch.events.map((e) => e.id) }, 'event outbox: batch not recorded; publishing it from memory');
    }
    if (this.stopped) return;
    await new Promise<void>((settled) => this.enqueue(batch, recorded, [settled]));
  }

  /** Take what earlier runs left, then look again every `sweepIntervalMs`. */
  async start(): Promise<void> {
    await this.sweep(true);
    this.timer = setInterval(() => void this.sweep(false), this.sweepIntervalMs);
    this.timer.unref();
  }

  /** Stop looking; what is not published yet stays recorded for the next run (or another instance). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const lane of this.lanes) {
      if (lane.retryTimer) clearTimeout(lane.retryTimer);
      lane.retryTimer = null;
      for (const item of lane.queue.splice(0)) for (const settled of item.settled) settled();
    }
    await Promise.all(this.lanes.map((lane) => lane.draining));
  }

  /** Resolves once every batch in hand now has been published (or the outbox stopped). */
  async drained(): Promise<void> {
    await Promise.all(
      this.lanes.map((lane) => {
        const last = lane.queue.at(-1);
        return last ? new Promise<void>((done) => last.settled.push(done)) : undefined;
      }),
    );
  }

  /** Batches not yet published: in the store (every instance's, in Redis mode) or in hand here. */
  async depth(): Promise<number> {
    const inHand = this.lanes.reduce((sum, lane) => sum + lane.queue.length, 0);
    return Math.max(inHand, await this.store.depth().catch(() => inHand));
  }

  stats(): OutboxStats {
    return { ...this.counters, inFlight: this.lanes.reduce((sum, lane) => sum + lane.queue.length, 0) };
  }

  private enqueue(batch: OutboxBatch, recorded: boolean, settled: Array<() => void>): void {
    this.inHand.add(batch.id);
    const lane = this.lanes[laneOf(batch)]!;
    // A lane waiting to retry does not keep a producer waiting too.
    if (lane.retryTimer) for (const done of settled.splice(0)) done();
    lane.queue.push({ batch, recorded, settled });
    this.kick(lane);
  }

  private async sweep(atStart: boolean): Promise<void> {
    if (this.stopped) return;
    let left: OutboxBatch[];
    try {
      left = await this.store.pending(500);
    } catch (error) {
      this.logger?.warn({ err: error }, 'event outbox: could not read the store; looking again later');
      return;
    }
    const cutoff = this.now() - this.claimAfterMs;
    let taken = 0;
    for (const batch of left) {
      if (this.inHand.has(batch.id) || this.stopped) continue;
      if (!atStart && Date.parse(batch.at) > cutoff) continue;
      this.enqueue(batch, true, []);
      taken++;
    }
    if (taken) this.logger?.info({ batches: taken }, 'event outbox: publishing batches left by an earlier run or another instance');
  }

  private kick(lane: Lane): void {
    if (lane.draining || lane.retryTimer || this.stopped) return;
    lane.draining = this.drain(lane).finally(() => {
      lane.draining = null;
      if (lane.queue.length) this.kick(lane);
    });
  }

  private async drain(lane: Lane): Promise<void> {
    while (!this.stopped) {
      const item = lane.queue[0];
      if (!item) return;
      try {
        for (const event of item.batch.events) await this.backbone.publish(event);
      } catch (error) {
        lane.failures++;
        this.counters.publishFailures++;
        const delay = retryDelayMs(lane.failures, this.retryBaseMs, this.retryCapMs);
        this.logger?.warn({ err: error, batchId: item.batch.id, attempt: lane.failures, retryInMs: delay }, 'event outbox: publish failed; retrying');
        // The first failure answers the producers waiting in this lane: their changes are made, the events follow
        // when the backbone is back.
        for (const waiting of lane.queue) for (const settled of waiting.settled.splice(0)) settled();
        lane.retryTimer = setTimeout(() => {
          lane.retryTimer = null;
          this.kick(lane);
        }, delay);
        lane.retryTimer.unref();
        return;
      }
      lane.failures = 0;
      this.counters.published += item.batch.events.length;
      lane.queue.shift();
      this.inHand.delete(item.batch.id);
      for (const settled of item.settled) settled();
      if (item.recorded) {
        await this.store.remove(item.batch.id).catch((error: unknown) => {
          // Left in the store: published again later, which the backbone drops as a repeat.
          this.logger?.warn({ err: error, batchId: item.batch.id }, 'event outbox: published batch not removed; it will be published again (a no-op)');
        });
      }
    }
  }
}

/** The outbox in process memory: what the embedded default without DATA_DIR keeps (and loses on exit, like everything else there). */
export class InMemoryOutboxStore implements EventOutboxStore {
  protected readonly batches = new Map<string, OutboxBatch>();

  async add(batch: OutboxBatch): Promise<void> {
    this.batches.set(batch.id, batch);
  }
  async remove(id: string): Promise<void> {
    this.batches.delete(id);
  }
  async pending(limit: number): Promise<OutboxBatch[]> {
    return [...this.batches.values()].slice(0, limit);
  }
  async depth(): Promise<number> {
    return this.batches.size;
  }
}
