import { handUntilTaken, type CanonicalEvent, type EventBackbone, type EventStream, type EventType, type InMemoryEventBackbone, type StreamHistory } from './events.js';
import type { CompletedIdempotencyRecord, IdempotencyBegin, IdempotencyStore, InMemoryIdempotencyStore } from './idempotency.js';
import type { Journal, JournalOwner } from './journal.js';
import type { MasterDataJournalEntry } from './master-data/memory-store.js';
import type { SystemWrite } from './systems/writes.js';

/** A write of a system of record as the journal holds it. */
export type CallEntry = { t: 'call' } & SystemWrite;

/** What the embedded default writes to DATA_DIR, in the order it happened. */
export type JournalEntry =
  | CallEntry
  | { t: 'event'; event: CanonicalEvent }
  /**
   * A consumer group's first consumption: it is owed every event journaled after this (of `types`, which a line
   * written before it was recorded lacks: then every event is owed until the group consumes again).
   */
  | { t: 'join'; group: string; types?: string[] }
  /** A consumer group took an event in (its handler resolved). */
  | { t: 'taken'; group: string; id: string }
  /** `at`: when it completed (ISO 8601), so that a restart keeps the record for what is left of its TTL only. */
  | { t: 'idem'; op: 'complete'; scope: string; key: string; fingerprint: string; response: unknown; at?: string }
  | { t: 'idem'; op: 'abandon'; scope: string; key: string }
  /** The ERP master-data read models (common/master-data/memory-store.ts): applied batches, snapshots, skips, exceptions. */
  | MasterDataJournalEntry;

/**
 * The embedded systems of record as their journal owner needs them (sandbox/index.ts implements it): common/ never
 * imports the sandbox.
 */
export interface JournaledSystems {
  /** A write of an earlier run, applied again (at its time) without being journaled or counted. */
  replay(write: SystemWrite): void;
  /** The systems' state now, as snapshot records that will not change (copies of what the systems change in place). */
  snapshot(): Iterable<unknown>;
  /** Replace the systems' state by a snapshot's records ({@link snapshot}'s, in order), before any write is replayed. */
  restore(records: readonly unknown[]): void;
}

/** A snapshot record of {@link JournaledWrites}: a system's state, or (a snapshot written before states were) a write. */
export type WritesRecord = CallEntry | { t?: undefined; [key: string]: unknown };

const isCall = (record: WritesRecord): record is CallEntry => record.t === 'call';

/**
 * The writes of the embedded systems of record. Once the systems are attached (before the journal's replay), the
 * snapshot is their state, not their writes: a restart restores it and replays only the writes made after it, so
 * that a compaction shortens the next start. Until then (or in a tool that reads a journal without systems), the
 * snapshot's records and the writes are kept as they came, to be handed over at `attach` or written back as they were.
 *
 * A snapshot written before the systems snapshotted their state holds writes (`t: 'call'`): they are replayed in
 * order, as they always were, and the next compaction writes the state instead.
 */
export class JournaledWrites implements JournalOwner<CallEntry, WritesRecord> {
  readonly types = ['call'] as const;
  private systems: JournaledSystems | null = null;
  /** State records of the last snapshot not handed to the systems yet (all of them arrive before any write). */
  private state: WritesRecord[] = [];
  /** Writes not handed to systems (none attached yet). */
  private writes: CallEntry[] = [];

  constructor(private readonly journal: Journal) {
    journal.register('writes', this);
  }

  /**
   * The systems that own the state from now on: what was replayed so far is handed to them, and the rest of the
   * replay goes straight to them (nothing is kept here).
   */
  attach(systems: JournaledSystems): void {
    this.systems = systems;
    this.flushState();
    const writes = this.writes;
    this.writes = [];
    for (const write of writes) systems.replay(write);
  }

  /** The writes replayed and not handed to attached systems, oldest first (without systems: every write of earlier runs). */
  list(): readonly SystemWrite[] {
    return this.writes;
  }

  /** A new write (the sandbox's `onWrite`): on disk when this resolves. */
  record(write: SystemWrite): Promise<void> {
    const entry = { t: 'call', ...write } as CallEntry;
    if (!this.systems) this.writes.push(entry);
    return this.journal.append(entry);
  }

  snapshot(): Iterable<WritesRecord> {
    if (this.systems) return this.systems.snapshot() as Iterable<WritesRecord>;
    return [...this.state, ...this.writes];
  }
  restore(record: WritesRecord): void {
    if (isCall(record)) this.replay(record);
    else this.state.push(record);
  }
  replay(entry: CallEntry): void {
    if (!this.systems) {
      this.writes.push(entry);
      return;
    }
    this.flushState();
    this.systems.replay(entry);
  }
  replayed(): void {
    this.flushState();
  }

  private flushState(): void {
    if (!this.systems || !this.state.length) return;
    const state = this.state;
    this.state = [];
    this.systems.restore(state);
  }
}

type BackboneEntry = Extract<JournalEntry, { t: 'event' | 'join' | 'taken' }>;

/** A snapshot of the backbone: its journaled events, then what each consumer group still owes. */
export type BackboneRecord =
  | { k: 'event'; event: CanonicalEvent }
  /**
   * `owed`: events journaled after the group joined that it has not taken in (of `types`, once the group said
   * which it takes); `early`: events it took in whose own line is not journaled yet.
   */
  | { k: 'group'; group: string; types: string[] | null; owed: string[]; early: string[] };

interface GroupState {
  owed: Set<string>;
  early: Set<string>;
  types: ReadonlySet<string> | null;
  /** Its backlog was handed in this run already (a second `consume` of the group gets only live events). */
  handed: boolean;
}

/**
 * The in-memory backbone whose new events are on disk before `publish` resolves. Consumer groups are durable
 * too: what a group takes in is journaled, so that after a crash the events it was owed and had not taken in
 * (published, then the process died before the handler finished) are handed to it again when it consumes.
 *
 * Its snapshot keeps every journaled event (they are the log `Order.timeline` reads) and, per group, only the
 * events it still owes: the 'join' and 'taken' lines fold into that.
 */
export class JournaledEventBackbone implements EventBackbone, JournalOwner<BackboneEntry, BackboneRecord> {
  readonly types = ['event', 'join', 'taken'] as const;
  /** Every journaled event, in journal order (the seeded history is the inner backbone's alone). */
  private readonly events: CanonicalEvent[] = [];
  /** Every group that joined, in this run or an earlier one. */
  private readonly groups = new Map<string, GroupState>();
  /** Events accepted (stamped, kept) whose journal line is not on disk yet, or failed to get there. */
  private readonly unwritten = new Map<string, Unwritten>();

  constructor(
    private readonly inner: InMemoryEventBackbone,
    private readonly journal: Journal,
  ) {
    journal.register('events', this);
  }

  snapshot(): BackboneRecord[] {
    const records: BackboneRecord[] = this.events.map((event) => ({ k: 'event', event }));
    for (const [group, state] of this.groups) records.push({ k: 'group', group, types: state.types ? [...state.types] : null, owed: [...state.owed], early: [...state.early] });
    return records;
  }

  restore(record: BackboneRecord): void {
    if (record.k === 'event') this.events.push(record.event);
    else this.groups.set(record.group, { owed: new Set(record.owed), early: new Set(record.early), types: record.types ? new Set(record.types) : null, handed: false });
  }

  replay(entry: BackboneEntry): void {
    if (entry.t === 'event') this.noteEvent(entry.event);
    else if (entry.t === 'join') {
      // Knowing the types at replay keeps the events the group never takes out of its owed set.
      if (!this.groups.has(entry.group)) this.groups.set(entry.group, newGroup(entry.types ? new Set(entry.types) : null));
    } else {
      const state = this.groups.get(entry.group);
      if (state) noteTaken(state, entry.id);
    }
  }

  /** Events of an earlier run, back in the log without notifying anyone. */
  replayed(): void {
    this.inner.load(this.events);
  }

  /**
   * Stamp, keep and journal the event, then tell subscribers: a subscriber never sees a sequence that a crash
   * could give again. An append that failed is retried by the next publish of the same id (the caller's retry),
   * with the same sequences.
   */
  async publish(event: CanonicalEvent): Promise<boolean> {
    const unwritten = this.unwritten.get(event.id);
    if (unwritten) return this.write(unwritten);
    const stamped = this.inner.accept(event);
    if (!stamped) return false;
    this.noteEvent(stamped);
    return this.write({ event: stamped, writing: undefined });
  }

  streamSince(stream: EventStream, after: number | null): Promise<StreamHistory> {
    return this.inner.streamSince(stream, after);
  }

  streamSinceNow(stream: EventStream, after: number | null): StreamHistory {
    return this.inner.streamSinceNow(stream, after);
  }

  /** Journal an accepted event (once, however many publishes wait for it), then notify. */
  private async write(entry: Unwritten): Promise<boolean> {
    const { event } = entry;
    this.unwritten.set(event.id, entry);
    entry.writing ??= this.journal.append({ t: 'event', event } satisfies JournalEntry);
    try {
      await entry.writing;
    } catch (error) {
      entry.writing = undefined;
      throw error;
    }
    // Only the first waiter to get here notifies.
    if (this.unwritten.get(event.id) !== entry) return false;
    this.unwritten.delete(event.id);
    this.inner.notify(event);
    return true;
  }

  eventsForOrders(orderIds: readonly string[]): Promise<CanonicalEvent[][]> {
    return this.inner.eventsForOrders(orderIds);
  }

  subscribe(handler: (event: CanonicalEvent) => void): () => void {
    return this.inner.subscribe(handler);
  }

  consume(group: string, types: ReadonlySet<EventType>, handler: (event: CanonicalEvent) => Promise<void>): () => void {
    let stopped = false;
    let state = this.groups.get(group);
    let backlog: CanonicalEvent[] = [];
    if (!state) {
      this.groups.set(group, (state = newGroup(types)));
      void this.journal.append({ t: 'join', group, types: [...types] } satisfies JournalEntry);
    } else {
      // What the group was owed when the last run ended, oldest first. Events of types it does not take are
      // never handed to it, so they are not owed any more either.
      const owed = state.owed;
      if (!state.handed) backlog = this.events.filter((e) => owed.has(e.id) && types.has(e.type));
      for (const e of this.events) if (owed.has(e.id) && !types.has(e.type)) owed.delete(e.id);
      state.types = types;
    }
    state.handed = true;
    const joined = state;
    // Journaled once taken: only events of `types` are handed, so only those cost a journal line.
    const take = async (event: CanonicalEvent) => {
      await handler(event);
      noteTaken(joined, event.id);
      await this.journal.append({ t: 'taken', group, id: event.id } satisfies JournalEntry);
    };
    const unsubscribe = this.inner.subscribe((event) => {
      if (types.has(event.type)) void handUntilTaken(event, take, () => stopped, () => undefined);
    });
    // Handlers dedupe what may also come live.
    void (async () => {
      for (const event of backlog) await handUntilTaken(event, take, () => stopped, () => undefined);
    })();
    return () => {
      stopped = true;
      unsubscribe();
    };
  }

  /** A journaled event: owed to every group that joined before it and takes its type (unless taken already). */
  private noteEvent(event: CanonicalEvent): void {
    this.events.push(event);
    for (const state of this.groups.values()) {
      // A 'taken' line can precede its event's line: the in-memory backbone hands events before `publish`
      // journals them.
      if (state.early.delete(event.id)) continue;
      if (state.types && !state.types.has(event.type)) continue;
      state.owed.add(event.id);
    }
  }
}

interface Unwritten {
  event: CanonicalEvent;
  writing: Promise<void> | undefined;
}

const newGroup = (types: ReadonlySet<string> | null): GroupState => ({ owed: new Set(), early: new Set(), types, handed: false });

function noteTaken(state: GroupState, id: string): void {
  if (!state.owed.delete(id)) state.early.add(id);
}

type IdempotencyEntry = Extract<JournalEntry, { t: 'idem' }>;

/**
 * Idempotency records that survive a restart: completions and abandons are journaled; a running key is not (a
 * crash abandons it). A completion carries its time, so a restart keeps it only for what is left of its TTL; the
 * snapshot holds the completed records not yet expired, and nothing else.
 */
export class JournaledIdempotencyStore implements IdempotencyStore, JournalOwner<IdempotencyEntry, CompletedIdempotencyRecord> {
  readonly types = ['idem'] as const;

  constructor(
    private readonly inner: InMemoryIdempotencyStore,
    private readonly journal: Journal,
  ) {
    journal.register('idempotency', this);
  }

  snapshot(): CompletedIdempotencyRecord[] {
    return this.inner.completedRecords();
  }
  restore(record: CompletedIdempotencyRecord): void {
    this.inner.restore(record);
  }
  replay(entry: IdempotencyEntry): void {
    if (entry.op === 'abandon') this.inner.forget(entry.scope, entry.key);
    // A line written before completions carried their time: kept as if completed now, as it always was.
    else this.inner.restore({ scope: entry.scope, key: entry.key, fingerprint: entry.fingerprint, response: entry.response, at: entry.at ?? new Date(this.inner.now()).toISOString() });
  }

  begin(scope: string, key: string, fingerprint: string): Promise<IdempotencyBegin> {
    return this.inner.begin(scope, key, fingerprint);
  }

  async complete(scope: string, key: string, fingerprint: string, response: unknown): Promise<void> {
    const { at } = this.inner.completeNow(scope, key, fingerprint, response);
    await this.journal.append({ t: 'idem', op: 'complete', scope, key, fingerprint, response, at } satisfies JournalEntry);
  }

  async abandon(scope: string, key: string): Promise<void> {
    this.inner.forget(scope, key);
    await this.journal.append({ t: 'idem', op: 'abandon', scope, key } satisfies JournalEntry);
  }
}
