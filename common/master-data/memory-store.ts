import type { Journal } from '../journal.js';
import { assertNever } from '../resilience.js';
import type { MasterChange, MasterDataException, MasterSnapshot } from './model.js';
import { MasterDataReadModel, ReadModelReads, SerialQueue } from './read-model.js';
import type { MasterDataStore } from './store.js';

export interface InMemoryMasterDataStoreOptions {
  /**
   * How many exceptions are kept; beyond it the oldest go first.
   * @default 1000
   */
  maxExceptions?: number;
  /**
   * The clock that stamps `appliedAt`.
   * @default () => new Date()
   */
  now?: () => Date;
}

/**
 * What the journaled store writes to DATA_DIR (`t: 'md'`, a member of `JournalEntry` in common/durable.ts): the
 * writes as they were made, with the time each was made, so that a replay rebuilds the same model and position.
 */
export type MasterDataJournalEntry =
  | { t: 'md'; op: 'apply'; changes: MasterChange[]; appliedAt: string }
  | { t: 'md'; op: 'replace'; snapshot: MasterSnapshot; appliedAt: string }
  | { t: 'md'; op: 'skip'; sequence: number; at: string; appliedAt: string }
  | { t: 'md'; op: 'exception'; exception: MasterDataException };

/** The read models in this process's memory only: the embedded default without DATA_DIR, and tests. */
export class InMemoryMasterDataStore extends ReadModelReads implements MasterDataStore {
  protected readonly model: MasterDataReadModel;
  protected readonly now: () => Date;

  constructor(options: InMemoryMasterDataStoreOptions = {}) {
    super();
    this.model = new MasterDataReadModel(options.maxExceptions);
    this.now = options.now ?? (() => new Date());
  }

  protected current(): MasterDataReadModel {
    return this.model;
  }

  async apply(changes: readonly MasterChange[]): Promise<void> {
    this.model.apply(changes, this.now().toISOString());
  }
  async replace(snapshot: MasterSnapshot): Promise<void> {
    this.model.replace(snapshot, this.now().toISOString());
  }
  async skip(sequence: number, at: string): Promise<void> {
    this.model.skip(sequence, at, this.now().toISOString());
  }
  async recordException(exception: MasterDataException): Promise<void> {
    this.model.addException(exception);
  }
  async close(): Promise<void> {}
}

/**
 * The embedded default with DATA_DIR: the in-memory store whose every write is in the journal (fsync'd) before
 * the model shows it, and which is rebuilt from the journal at start — so a restart resumes from its position
 * instead of taking a new snapshot. Writes that change nothing (changes at or below the position, a known
 * exception) are not journaled.
 *
 * A replay starts from the last snapshot entry: whatever came before it was replaced by it.
 */
export class JournaledMasterDataStore extends InMemoryMasterDataStore {
  private readonly queue = new SerialQueue();

  private constructor(
    private readonly journal: Journal,
    options: InMemoryMasterDataStoreOptions,
  ) {
    super(options);
  }

  /**
   * A store over `journal`, rebuilt from `entries` (the journal's entries as `Journal.open` read them; those that
   * are not master data are ignored).
   */
  static restore(journal: Journal, entries: readonly { t: string }[], options: InMemoryMasterDataStoreOptions = {}): JournaledMasterDataStore {
    const store = new JournaledMasterDataStore(journal, options);
    const own = entries.filter((e): e is MasterDataJournalEntry => e.t === 'md');
    let from = 0;
    own.forEach((e, i) => {
      if (e.op === 'replace') from = i;
    });
    for (const [i, entry] of own.entries()) {
      if (entry.op === 'exception') store.model.addException(entry.exception);
      else if (i >= from) store.replay(entry);
    }
    return store;
  }

  private replay(entry: Exclude<MasterDataJournalEntry, { op: 'exception' }>): void {
    switch (entry.op) {
      case 'apply':
        this.model.apply(entry.changes, entry.appliedAt);
        return;
      case 'replace':
        this.model.replace(entry.snapshot, entry.appliedAt);
        return;
      case 'skip':
        this.model.skip(entry.sequence, entry.at, entry.appliedAt);
        return;
      default:
        assertNever(entry);
    }
  }

  override apply(changes: readonly MasterChange[]): Promise<void> {
    return this.queue.run(async () => {
      const fresh = this.model.pending(changes);
      if (!fresh.length) return;
      const appliedAt = this.now().toISOString();
      await this.journal.append({ t: 'md', op: 'apply', changes: fresh, appliedAt } satisfies MasterDataJournalEntry);
      this.model.apply(fresh, appliedAt);
    });
  }

  override replace(snapshot: MasterSnapshot): Promise<void> {
    return this.queue.run(async () => {
      const appliedAt = this.now().toISOString();
      await this.journal.append({ t: 'md', op: 'replace', snapshot, appliedAt } satisfies MasterDataJournalEntry);
      this.model.replace(snapshot, appliedAt);
    });
  }

  override skip(sequence: number, at: string): Promise<void> {
    return this.queue.run(async () => {
      const current = this.model.position().sequence;
      if (current !== null && sequence <= current) return;
      const appliedAt = this.now().toISOString();
      await this.journal.append({ t: 'md', op: 'skip', sequence, at, appliedAt } satisfies MasterDataJournalEntry);
      this.model.skip(sequence, at, appliedAt);
    });
  }

  override recordException(exception: MasterDataException): Promise<void> {
    return this.queue.run(async () => {
      if (this.model.hasException(exception.id)) return;
      await this.journal.append({ t: 'md', op: 'exception', exception } satisfies MasterDataJournalEntry);
      this.model.addException(exception);
    });
  }

  /** The journal is shared with the rest of the process: its opener closes it. */
  override async close(): Promise<void> {
    await this.queue.run(async () => undefined);
  }
}
