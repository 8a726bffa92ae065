import type { Journal, JournalOwner } from '../journal.js';
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

/**
 * A snapshot of the journaled store: the model at its position (as the Redis store folds its log), the exceptions
 * kept (oldest first), and the entry being written when the snapshot was taken, if any.
 */
export type MasterDataSnapshotRecord =
  | { k: 'model'; snapshot: MasterSnapshot; appliedAt: string }
  | { k: 'exception'; exception: MasterDataException }
  | { k: 'entry'; entry: MasterDataJournalEntry };

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
export class JournaledMasterDataStore extends InMemoryMasterDataStore implements JournalOwner<MasterDataJournalEntry, MasterDataSnapshotRecord> {
  readonly types = ['md'] as const;
  private readonly queue = new SerialQueue();
  /** The entry appended and not yet applied (the store writes ahead): a snapshot taken meanwhile must hold it. */
  private inFlight: MasterDataJournalEntry | null = null;
  /** While the journal replays: the entries since the last 'replace' (whatever came before it was replaced). */
  private replaying: Exclude<MasterDataJournalEntry, { op: 'exception' }>[] = [];

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
    for (const entry of entries) if (entry.t === 'md') store.replay(entry as MasterDataJournalEntry);
    store.replayed();
    return store;
  }

  /** A store that owns the master-data entries of `journal` (registered before its replay, rebuilt by it). */
  static attach(journal: Journal, options: InMemoryMasterDataStoreOptions = {}): JournaledMasterDataStore {
    const store = new JournaledMasterDataStore(journal, options);
    journal.register('master-data', store);
    return store;
  }

  snapshot(): MasterDataSnapshotRecord[] {
    const records: MasterDataSnapshotRecord[] = [];
    const position = this.model.position();
    // A never-synced model folded into a snapshot would read as synced at 0: only exceptions came so far.
    if (position.sequence !== null) records.push({ k: 'model', snapshot: this.model.toSnapshot(), appliedAt: position.appliedAt ?? this.now().toISOString() });
    for (const exception of this.model.exceptions(Number.MAX_SAFE_INTEGER).reverse()) records.push({ k: 'exception', exception });
    if (this.inFlight) records.push({ k: 'entry', entry: this.inFlight });
    return records;
  }

  restore(record: MasterDataSnapshotRecord): void {
    if (record.k === 'model') this.replay({ t: 'md', op: 'replace', snapshot: record.snapshot, appliedAt: record.appliedAt });
    else if (record.k === 'exception') this.model.addException(record.exception);
    else this.replay(record.entry);
  }

  replay(entry: MasterDataJournalEntry): void {
    if (entry.op === 'exception') this.model.addException(entry.exception);
    else if (entry.op === 'replace') this.replaying = [entry];
    else this.replaying.push(entry);
  }

  replayed(): void {
    for (const entry of this.replaying.splice(0)) this.applyReplayed(entry);
  }

  private applyReplayed(entry: Exclude<MasterDataJournalEntry, { op: 'exception' }>): void {
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
      await this.writeAhead({ t: 'md', op: 'apply', changes: fresh, appliedAt }, () => this.model.apply(fresh, appliedAt));
    });
  }

  override replace(snapshot: MasterSnapshot): Promise<void> {
    return this.queue.run(async () => {
      const appliedAt = this.now().toISOString();
      await this.writeAhead({ t: 'md', op: 'replace', snapshot, appliedAt }, () => this.model.replace(snapshot, appliedAt));
    });
  }

  override skip(sequence: number, at: string): Promise<void> {
    return this.queue.run(async () => {
      const current = this.model.position().sequence;
      if (current !== null && sequence <= current) return;
      const appliedAt = this.now().toISOString();
      await this.writeAhead({ t: 'md', op: 'skip', sequence, at, appliedAt }, () => this.model.skip(sequence, at, appliedAt));
    });
  }

  override recordException(exception: MasterDataException): Promise<void> {
    return this.queue.run(async () => {
      if (this.model.hasException(exception.id)) return;
      await this.writeAhead({ t: 'md', op: 'exception', exception }, () => this.model.addException(exception));
    });
  }

  /** On disk first, then in the model; in between, a snapshot holds it as the entry in flight. */
  private async writeAhead(entry: MasterDataJournalEntry, change: () => unknown): Promise<void> {
    this.inFlight = entry;
    try {
      await this.journal.append(entry);
      change();
    } finally {
      this.inFlight = null;
    }
  }

  /** The journal is shared with the rest of the process: its opener closes it. */
  override async close(): Promise<void> {
    await this.queue.run(async () => undefined);
  }
}
