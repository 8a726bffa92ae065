import { JournalError, type Journal, type JournalOwner } from '../journal.js';
import type { RedisClient } from '../redis/connection.js';
import { redisKeys } from '../redis/keys.js';
import { InMemoryOutboxStore, type OutboxBatch, type EventOutboxStore } from './event-outbox.js';

/** The outbox's lines in the DATA_DIR journal: a batch recorded, a batch published. */
export type OutboxJournalEntry = { t: 'outbox'; op: 'add'; batch: OutboxBatch } | { t: 'outbox'; op: 'done'; id: string };

/**
 * The outbox in the DATA_DIR journal: a batch is one journal line (so it is on disk whole or not at all), its
 * publication another; a snapshot keeps the batches still waiting.
 */
export class JournaledEventOutboxStore extends InMemoryOutboxStore implements JournalOwner<OutboxJournalEntry, OutboxBatch> {
  readonly types = ['outbox'] as const;
  /**
   * At start, the `add` lines of batches not published yet, unparsed, by batch id. Almost every batch is published
   * a moment after it is recorded, and its events are in the events' own lines too: a journal of a million entries
   * holds a hundred MB of `add` lines of which only the few still waiting at the end need parsing.
   */
  private unparsed = new Map<string, string | OutboxBatch>();

  constructor(private readonly journal: Journal) {
    super();
    journal.register('event-outbox', this);
  }

  override async add(batch: OutboxBatch): Promise<void> {
    // In the map before the line is written, so that a snapshot taken meanwhile keeps it (see JournalOwner).
    await super.add(batch);
    try {
      await this.journal.append({ t: 'outbox', op: 'add', batch } satisfies OutboxJournalEntry);
    } catch (error) {
      await super.remove(batch.id);
      throw error;
    }
  }

  override async remove(id: string): Promise<void> {
    await super.remove(id);
    await this.journal.append({ t: 'outbox', op: 'done', id } satisfies OutboxJournalEntry);
  }

  snapshot(): OutboxBatch[] {
    return [...this.batches.values()];
  }
  restore(batch: OutboxBatch): void {
    this.batches.set(batch.id, batch);
  }
  replay(entry: OutboxJournalEntry): void {
    if (entry.op === 'add') this.batches.set(entry.batch.id, entry.batch);
    else this.batches.delete(entry.id);
  }
  replayLine(line: string): void {
    const add = idAfter(line, ADD_PREFIX);
    if (add !== null) {
      this.unparsed.set(add, line);
      return;
    }
    const done = idAfter(line, DONE_PREFIX);
    if (done !== null) {
      this.unparsed.delete(done);
      this.batches.delete(done);
      return;
    }
    // Another shape (an id with an escape): parsed now, and kept in its place among the unparsed.
    const entry = parseEntry(line);
    if (entry.op === 'add') this.unparsed.set(entry.batch.id, entry.batch);
    else {
      this.unparsed.delete(entry.id);
      this.batches.delete(entry.id);
    }
  }
  replayed(): void {
    // In the order they were recorded, after the snapshot's (restored first): the relay publishes oldest first.
    for (const waiting of this.unparsed.values()) this.replay(typeof waiting === 'string' ? parseEntry(waiting) : { t: 'outbox', op: 'add', batch: waiting });
    this.unparsed = new Map();
  }
}

/** How `append` writes the two entries (`JSON.stringify` keeps the keys' order): the batch's id comes first. */
const ADD_PREFIX = '{"t":"outbox","op":"add","batch":{"id":"';
const DONE_PREFIX = '{"t":"outbox","op":"done","id":"';

/** The id right after `prefix`, or null when the line does not start so (or the id has an escape: parse it then). */
function idAfter(line: string, prefix: string): string | null {
  if (!line.startsWith(prefix)) return null;
  const end = line.indexOf('"', prefix.length);
  if (end < 0) return null;
  const id = line.slice(prefix.length, end);
  return id.includes('\\') ? null : id;
}

function parseEntry(line: string): OutboxJournalEntry {
  try {
    return JSON.parse(line) as OutboxJournalEntry;
  } catch {
    throw new JournalError('JOURNAL_ENTRY_CORRUPT', `an outbox line of the journal does not parse: ${line.slice(0, 120)}`);
  }
}

/**
 * The outbox in Redis, shared by every instance: a hash of batch JSON and a sorted set by recording time, both
 * under one hash tag and written in one MULTI, so a batch is recorded whole or not at all.
 */
export class RedisEventOutboxStore implements EventOutboxStore {
  private readonly batchesKey: string;
  private readonly byTimeKey: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    const keys = redisKeys(prefix);
    this.batchesKey = keys.eventOutbox('batches');
    this.byTimeKey = keys.eventOutbox('by-time');
  }

  async add(batch: OutboxBatch): Promise<void> {
    const results = await this.redis.multi().hset(this.batchesKey, batch.id, JSON.stringify(batch)).zadd(this.byTimeKey, Date.parse(batch.at), batch.id).exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw new Error(`recording an outbox batch failed: ${failed?.[0]?.message ?? 'transaction aborted'}`);
  }

  async remove(id: string): Promise<void> {
    await this.redis.multi().hdel(this.batchesKey, id).zrem(this.byTimeKey, id).exec();
  }

  async pending(limit: number): Promise<OutboxBatch[]> {
    const ids = await this.redis.zrange(this.byTimeKey, 0, Math.max(0, limit - 1));
    if (ids.length === 0) return [];
    const raw = await this.redis.hmget(this.batchesKey, ...ids);
    const batches: OutboxBatch[] = [];
    for (const json of raw) if (json) batches.push(JSON.parse(json) as OutboxBatch);
    return batches;
  }

  async depth(): Promise<number> {
    return this.redis.zcard(this.byTimeKey);
  }
}
