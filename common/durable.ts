import { handUntilTaken, type CanonicalEvent, type EventBackbone, type EventType, type InMemoryEventBackbone } from './events.js';
import type { IdempotencyBegin, IdempotencyStore } from './idempotency.js';
import type { Journal } from './journal.js';
import type { MasterDataJournalEntry } from './master-data/memory-store.js';

/** What the embedded default writes to DATA_DIR, in the order it happened. */
export type JournalEntry =
  | { t: 'call'; system: 'erp' | 'pos' | 'wms' | 'crm' | 'psp' | 'ecom'; method: string; args: unknown[]; at: string }
  | { t: 'event'; event: CanonicalEvent }
  /** A consumer group's first consumption: it is owed every event journaled after this. */
  | { t: 'join'; group: string }
  /** A consumer group took an event in (its handler resolved). */
  | { t: 'taken'; group: string; id: string }
  | { t: 'idem'; op: 'complete'; scope: string; key: string; fingerprint: string; response: unknown }
  | { t: 'idem'; op: 'abandon'; scope: string; key: string }
  /** The ERP master-data read models (common/master-data/memory-store.ts): applied batches, snapshots, skips, exceptions. */
  | MasterDataJournalEntry;

/**
 * The in-memory backbone whose new events are on disk before `publish` resolves. Consumer groups are durable
 * too: what a group takes in is journaled, so that after a crash the events it was owed and had not taken in
 * (published, then the process died before the handler finished) are handed to it again when it consumes.
 */
export class JournaledEventBackbone implements EventBackbone {
  /** Per group that joined in an earlier run: the events journaled after it joined that it has not taken in. */
  private readonly owed = new Map<string, CanonicalEvent[]>();

  constructor(
    private readonly inner: InMemoryEventBackbone,
    private readonly journal: Journal,
  ) {}

  /** Events of an earlier run, back in the log without notifying anyone; what each consumer group still owes. */
  replay(entries: readonly JournalEntry[]): void {
    this.inner.load(entries.flatMap((e) => (e.t === 'event' ? [e.event] : [])));
    // A 'taken' line can precede its event's line (the in-memory backbone hands events before `publish` journals
    // them), so what was taken is collected first.
    const joinedAt = new Map<string, number>();
    const taken = new Map<string, Set<string>>();
    entries.forEach((entry, i) => {
      if (entry.t === 'join' && !joinedAt.has(entry.group)) joinedAt.set(entry.group, i);
      else if (entry.t === 'taken') taken.set(entry.group, (taken.get(entry.group) ?? new Set()).add(entry.id));
    });
    for (const [group, since] of joinedAt) {
      const done = taken.get(group) ?? new Set<string>();
      this.owed.set(group, entries.flatMap((entry, i) => (entry.t === 'event' && i > since && !done.has(entry.event.id) ? [entry.event] : [])));
    }
  }

  async publish(event: CanonicalEvent): Promise<boolean> {
    const fresh = await this.inner.publish(event);
    if (fresh) await this.journal.append({ t: 'event', event } satisfies JournalEntry);
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
    // Journaled once taken: only events of `types` are handed, so only those cost a journal line.
    const take = async (event: CanonicalEvent) => {
      await handler(event);
      await this.journal.append({ t: 'taken', group, id: event.id } satisfies JournalEntry);
    };
    const backlog = this.owed.get(group);
    if (!backlog) {
      this.owed.set(group, []);
      void this.journal.append({ t: 'join', group } satisfies JournalEntry);
    }
    const unsubscribe = this.inner.subscribe((event) => {
      if (types.has(event.type)) void handUntilTaken(event, take, () => stopped, () => undefined);
    });
    // What the group was owed when the last run ended, oldest first; handlers dedupe what may also come live.
    void (async () => {
      for (const event of backlog?.splice(0) ?? []) if (types.has(event.type)) await handUntilTaken(event, take, () => stopped, () => undefined);
    })();
    return () => {
      stopped = true;
      unsubscribe();
    };
  }
}

/** Idempotency records that survive a restart: completions and abandons are journaled; a running key is not (a crash abandons it). */
export class JournaledIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly inner: IdempotencyStore,
    private readonly journal: Journal,
  ) {}

  async replay(entries: readonly JournalEntry[]): Promise<void> {
    for (const e of entries) {
      if (e.t !== 'idem') continue;
      if (e.op === 'complete') await this.inner.complete(e.scope, e.key, e.fingerprint, e.response);
      else await this.inner.abandon(e.scope, e.key);
    }
  }

  begin(scope: string, key: string, fingerprint: string): Promise<IdempotencyBegin> {
    return this.inner.begin(scope, key, fingerprint);
  }

  async complete(scope: string, key: string, fingerprint: string, response: unknown): Promise<void> {
    await this.inner.complete(scope, key, fingerprint, response);
    await this.journal.append({ t: 'idem', op: 'complete', scope, key, fingerprint, response } satisfies JournalEntry);
  }

  async abandon(scope: string, key: string): Promise<void> {
    await this.inner.abandon(scope, key);
    await this.journal.append({ t: 'idem', op: 'abandon', scope, key } satisfies JournalEntry);
  }
}
