import type { CanonicalEvent, EventBackbone, InMemoryEventBackbone } from './events.js';
import type { IdempotencyBegin, IdempotencyStore } from './idempotency.js';
import type { Journal } from './journal.js';

/** What the embedded default writes to DATA_DIR, in the order it happened. */
export type JournalEntry =
  | { t: 'call'; system: 'erp' | 'pos' | 'wms' | 'crm' | 'psp' | 'ecom'; method: string; args: unknown[]; at: string }
  | { t: 'event'; event: CanonicalEvent }
  | { t: 'idem'; op: 'complete'; scope: string; key: string; fingerprint: string; response: unknown }
  | { t: 'idem'; op: 'abandon'; scope: string; key: string };

/** The in-memory backbone whose new events are on disk before `publish` resolves. */
export class JournaledEventBackbone implements EventBackbone {
  constructor(
    private readonly inner: InMemoryEventBackbone,
    private readonly journal: Journal,
  ) {}

  /** Events of an earlier run, back in the log without notifying anyone. */
  replay(entries: readonly JournalEntry[]): void {
    this.inner.load(entries.flatMap((e) => (e.t === 'event' ? [e.event] : [])));
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
