import { handUntilTaken, type CanonicalEvent, type EventBackbone, type EventType, type InMemoryEventBackbone } from './events.js';
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
  /** A consumer group's first consumption: it is owed every event journaled after this. */
  | { t: 'join'; group: string }
  /** A consumer group took an event in (its handler resolved). */
  | { t: 'taken'; group: string; id: string }
  /** `at`: when it completed (ISO 8601), so that a restart keeps the record for what is left of its TTL only. */
  | { t: 'idem'; op: 'complete'; scope: string; key: string; fingerprint: string; response: unknown; at?: string }
  | { t: 'idem'; op: 'abandon'; scope: string; key: string }
  /** The ERP master-data read models (common/master-data/memory-store.ts): applied batches, snapshots, skips, exceptions. */
  | MasterDataJournalEntry;

/**
 * The writes of the embedded systems of record, kept as they were made: the sandbox's state is its seeded data
 * with these applied again (sandbox/index.ts `replay`), so the writes are its snapshot too.
 */
export class JournaledWrites implements JournalOwner<CallEntry, CallEntry> {
  readonly types = ['call'] as const;
  private readonly writes: CallEntry[] = [];

  constructor(private readonly journal: Journal) {
    journal.register('writes', this);
  }

  /** Every write so far, oldest first (after the journal's replay: those of earlier runs). */
  list(): readonly SystemWrite[] {
    return this.writes;
  }

  /** A new write (the sandbox's `onWrite`): on disk when this resolves. */
  record(write: SystemWrite): Promise<void> {
    const entry = { t: 'call', ...write } as CallEntry;
    this.writes.push(entry);
    return this.journal.append(entry);
  }

  snapshot(): CallEntry[] {
    return this.writes.slice();
  }
  restore(record: CallEntry): void {
    this.writes.push(record);
  }
  replay(entry: CallEntry): void {
    this.writes.push(entry);
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
      if (!this.groups.has(entry.group)) this.groups.set(entry.group, newGroup(null));
    } else {
      const state = this.groups.get(entry.group);
      if (state) noteTaken(state, entry.id);
    }
  }

  /** Events of an earlier run, back in the log without notifying anyone. */
  replayed(): void {
    this.inner.load(this.events);
  }

  async publish(event: CanonicalEvent): Promise<boolean> {
    const fresh = await this.inner.publish(event);
    if (fresh) {
      this.noteEvent(event);
      await this.journal.append({ t: 'event', event } satisfies JournalEntry);
    }
    return fresh;
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
      void this.journal.append({ t: 'join', group } satisfies JournalEntry);
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
