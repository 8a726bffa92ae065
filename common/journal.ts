import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** Beside each open journal, `<name>.lock` holds the pid of the process that has it open (see {@link journalHolders}). */
const LOCK_SUFFIX = '.lock';
const NDJSON = '.ndjson';
/** Bytes read at a time when a journal or a snapshot is replayed. */
const READ_CHUNK = 1 << 20;
/** A snapshot is written in pieces of about this many bytes, so the event loop keeps turning while it is. */
const WRITE_CHUNK = 1 << 20;
const SNAPSHOT_VERSION = 1;

/**
 * What owns a share of a journal's entries (the entries whose `t` is one of `types`) and can say, at any moment,
 * what its state is. The journal replays the owner's last snapshot records and then its entries at start, and at
 * compaction writes what `snapshot()` returns, after which the entries before it are no longer needed.
 *
 * Contract: the owner's state must at every turn of the event loop equal its snapshot's records plus every entry
 * it has appended: an owner that changes state and then appends does both in one synchronous run (with nothing but
 * resolved promises between); one that appends first and changes state once the entry is on disk (a write-ahead
 * owner) reports the entry in flight in its snapshot too. The journal takes snapshots only between turns.
 */
export interface JournalOwner<E = never, R = unknown> {
  /** The entry types (`t`) that are this owner's. */
  readonly types: readonly string[];
  /**
   * The records that rebuild the owner's state as it is now, in the order `restore` wants them. Taken
   * synchronously and written afterwards: what it returns must not change later (copy the containers; the
   * records themselves are never mutated by owners).
   */
  snapshot(): Iterable<R>;
  /** One record of the last snapshot, in order, before any entry. */
  restore(record: R): void;
  /** One entry appended after the last snapshot, in append order. */
  replay(entry: E): void;
  /**
   * Instead of {@link replay}, for an owner most of whose entries cancel out (a batch recorded, then its
   * publication): the entry's line as written, unparsed, with its type, so that only what survives the replay is
   * ever parsed. A line is handed here when it starts `{"t":"<type>"` (as `append` writes an entry whose `t` comes
   * first); a line that does not is parsed and goes to `replay`. The owner parses what it keeps by `replayed`; a
   * line that does not parse then is the owner's to report.
   * @default none: every entry is parsed and handed to `replay`
   */
  replayLine?(line: string, type: string): void;
  /** Called once the last snapshot and every entry after it were handed over. */
  replayed?(): void;
}

/** When a journal folds its entries into a snapshot (see {@link Journal}). */
export interface CompactionOptions {
  /**
   * Compact once this many entries were appended (or replayed) since the last snapshot.
   * @default 200_000
   */
  compactAfterEntries?: number;
  /**
   * Compact once this many bytes of entries were appended (or replayed) since the last snapshot.
   * @default 128 MiB
   */
  compactAfterBytes?: number;
  /**
   * Compact on `close()`, so that the next start reads a snapshot and (almost) no entries: when at least
   * `compactOnCloseAfterEntries` (or `compactAfterEntries`, if fewer) entries came since the last snapshot.
   * @default true
   */
  compactOnClose?: boolean;
  /**
   * See `compactOnClose`: below this, a clean stop leaves the few entries for the next start to read rather than
   * rewrite the whole snapshot for them.
   * @default 1000
   */
  compactOnCloseAfterEntries?: number;
  /**
   * When the replay at start finds that a compaction is due, it waits this long (ms) before compacting, so that
   * the snapshot is not written while the process is still starting.
   * @default 5000
   */
  compactAfterStartMs?: number;
}

export interface JournalOptions extends CompactionOptions {
  /**
   * The active segment's file name in the directory; sealed segments, the snapshot and its temporary file are
   * named after it (`journal.3.ndjson`, `journal.snapshot.ndjson`, `journal.snapshot-tmp.ndjson`).
   * @default 'journal.ndjson'
   */
  name?: string;
  /**
   * Where the journal says that it compacted (info) or could not (warn).
   * @default silent
   */
  logger?: { info(details: object, message: string): void; warn(details: object, message: string): void };
  /**
   * Told at each step of a compaction, before the step's effect is durable. For tests: throwing stops the
   * compaction there, leaving the files as a crash at that point would.
   * @default none
   */
  onCompactionStep?: (step: CompactionStep) => void;
}

/**
 * The steps of a compaction, in order: `sealed` (the active segment was renamed to a sealed segment and a new
 * active one started), `snapshot-written` (the temporary snapshot is complete and fsync'd), `snapshot-installed`
 * (renamed over the last snapshot, directory fsync'd), `segments-removed` (the sealed segments it covers are gone).
 */
export type CompactionStep = 'sealed' | 'snapshot-written' | 'snapshot-installed' | 'segments-removed';

/** What {@link Journal.replay} read. */
export interface ReplayStats {
  snapshotRecords: number;
  entries: number;
  /** Segment bytes read (the snapshot's are not counted). */
  bytes: number;
  /** The sealed segments (not yet covered by a snapshot) that were read, besides the active one. */
  sealedSegments: number;
  /** Whether a torn tail was cut off the active segment. */
  tornTail: boolean;
  /**
   * Per owner: the snapshot records and entries it was handed, their bytes, and the ms it spent taking them in
   * (`restore`, `replay`, `replayed`; reading and parsing the lines is not in it). Where a slow start goes.
   */
  owners: Record<string, OwnerReplayStats>;
}

export interface OwnerReplayStats {
  records: number;
  bytes: number;
  ms: number;
}

export class JournalError extends Error {
  constructor(
    readonly code: 'JOURNAL_SNAPSHOT_CORRUPT' | 'JOURNAL_ENTRY_CORRUPT' | 'JOURNAL_SNAPSHOT_INCOMPATIBLE' | 'JOURNAL_OWNER_CONFLICT' | 'JOURNAL_REPLAYED' | 'JOURNAL_CLOSED',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'JournalError';
  }
}

type Pending = { line: string; done: () => void; fail: (error: unknown) => void };
type AnyOwner = JournalOwner<any, any>;

/** Entries no registered owner claims (another version's, a tool's): kept as they are, snapshots included. */
class Unowned implements JournalOwner<unknown, unknown> {
  readonly types: readonly string[] = [];
  readonly entries: unknown[] = [];
  snapshot() {
    return this.entries.slice();
  }
  restore(record: unknown) {
    this.entries.push(record);
  }
  replay(entry: unknown) {
    this.entries.push(entry);
  }
}
const UNOWNED = '*';

/**
 * An append-only, fsync'd journal of state changes in `DATA_DIR` (newline-delimited JSON), so that whatever a
 * mutation returned survives a crash. Appends made in the same tick share one write and one fsync (group
 * commit): each `append` resolves only once its entry is on disk.
 *
 * It stays small: once enough was appended ({@link CompactionOptions}) and on a clean close, the active segment
 * is sealed (renamed `<name>.<n>.ndjson`) and a new one started at a turn of the event loop, the owners' state at
 * that instant is written as a snapshot (a temporary file, fsync'd, renamed over the last one, directory fsync'd),
 * and only then are the sealed segments it covers removed. At start, the snapshot's records go to their owners,
 * then the sealed segments it does not cover and the active segment, streamed in chunks. A crash at any step
 * leaves either the old snapshot with every segment after it, or the new snapshot (with, perhaps, segments it
 * covers, which are skipped): both replay to the same state.
 *
 * Contract: entries are handed back in append order; a torn last line (a crash in the middle of a write) is
 * dropped on open and cut off the file — its caller never got an answer.
 */
export class Journal {
  private pending: Pending[] = [];
  private writer: Promise<void> | null = null;
  private closed = false;
  private replayDone = false;
  private readonly owners = new Map<string, AnyOwner>();
  private readonly byType = new Map<string, string>();
  /** Of {@link byType}, the types whose owner takes lines unparsed. */
  private readonly lineOwners = new Map<string, string>();
  private readonly unowned = new Unowned();
  /** Entries and bytes appended or replayed since the snapshot now on disk (or being written). */
  private sinceSnapshot = { entries: 0, bytes: 0 };
  private wantSnapshot = false;
  /** What the replay in progress counts (null outside it). */
  private replayStats: ReplayStats | null = null;
  /** Automatic compaction waits until a while after the start (see `compactAfterStartMs`). */
  private started = false;
  private compaction: Promise<void> | null = null;
  private compactionWaiters: { done: () => void; fail: (error: unknown) => void }[] = [];
  private nextGeneration = 1;
  private readonly base: string;
  private readonly options: Required<CompactionOptions>;

  private constructor(
    private readonly dir: string,
    private readonly name: string,
    private handle: FileHandle,
    private readonly lockPath: string,
    private readonly extra: Pick<JournalOptions, 'logger' | 'onCompactionStep'>,
    options: CompactionOptions,
  ) {
    this.base = name.endsWith(NDJSON) ? name.slice(0, -NDJSON.length) : name;
    this.options = {
      compactAfterEntries: positive(options.compactAfterEntries ?? 200_000, 'compactAfterEntries'),
      compactAfterBytes: positive(options.compactAfterBytes ?? 128 * 1024 * 1024, 'compactAfterBytes'),
      compactOnClose: options.compactOnClose ?? true,
      compactOnCloseAfterEntries: positive(options.compactOnCloseAfterEntries ?? 1000, 'compactOnCloseAfterEntries'),
      compactAfterStartMs: Math.max(0, options.compactAfterStartMs ?? 5000),
    };
    this.owners.set(UNOWNED, this.unowned);
  }

  /**
   * Open (or create) the journal in `dir` for appending, without reading it: register the owners
   * ({@link register}), then {@link replay}.
   */
  static async create(dir: string, options: JournalOptions = {}): Promise<Journal> {
    mkdirSync(dir, { recursive: true });
    const name = options.name ?? 'journal.ndjson';
    const path = join(dir, name);
    const handle = await open(path, 'a');
    // Not a mutual exclusion (a process killed with -9 leaves its lock behind): a cheap sign, for `npm run reset`,
    // that a running process is using this directory.
    const lockPath = `${path}${LOCK_SUFFIX}`;
    writeFileSync(lockPath, `${process.pid}\n`);
    return new Journal(dir, name, handle, lockPath, { logger: options.logger, onCompactionStep: options.onCompactionStep }, options);
  }

  /**
   * Open the journal and hand back every entry, the snapshot's included, as one list (tools and tests that read a
   * journal whole). What it holds stays in the snapshots as it is: nothing is folded.
   */
  static async open<E>(dir: string, name: string | JournalOptions = 'journal.ndjson'): Promise<{ journal: Journal; entries: E[] }> {
    const journal = await Journal.create(dir, typeof name === 'string' ? { name } : name);
    await journal.replay();
    return { journal, entries: journal.unowned.entries.slice() as E[] };
  }

  /** Make `owner` the owner of the entries of its types. Before {@link replay}. */
  register(name: string, owner: AnyOwner): void {
    if (this.replayDone) throw new JournalError('JOURNAL_REPLAYED', `owner ${name} registered after the journal was replayed`);
    if (this.owners.has(name)) throw new JournalError('JOURNAL_OWNER_CONFLICT', `two owners named ${name}`);
    for (const type of owner.types) {
      const other = this.byType.get(type);
      if (other) throw new JournalError('JOURNAL_OWNER_CONFLICT', `entries of type ${type} are ${other}'s already`);
      this.byType.set(type, name);
      if (owner.replayLine) this.lineOwners.set(type, name);
    }
    this.owners.set(name, owner);
  }

  /**
   * Hand the last snapshot's records and then every entry after it to their owners (streamed, never the whole file
   * in memory). Once: appends may go on meanwhile, compaction starts only after it.
   */
  async replay(): Promise<ReplayStats> {
    if (this.replayDone) throw new JournalError('JOURNAL_REPLAYED', 'the journal was replayed already');
    const stats: ReplayStats = { snapshotRecords: 0, entries: 0, bytes: 0, sealedSegments: 0, tornTail: false, owners: {} };
    this.replayStats = stats;
    // A temporary snapshot is one a crash interrupted before it was installed: the segments are all still there.
    await unlink(join(this.dir, this.snapshotTmpName())).catch(ignoreMissing);
    const through = await this.readSnapshot(stats);
    const sealed = this.sealedGenerations();
    for (const generation of sealed) {
      // Covered by the snapshot (a crash between installing it and removing them): their entries are in it.
      if (generation <= through) await unlink(join(this.dir, this.sealedName(generation))).catch(ignoreMissing);
    }
    const toRead = sealed.filter((g) => g > through);
    for (const generation of toRead) await this.readSegment(this.sealedName(generation), false, stats);
    stats.sealedSegments = toRead.length;
    await this.readSegment(this.name, true, stats);
    this.nextGeneration = Math.max(through, ...sealed) + 1;
    for (const [name, owner] of this.owners) {
      const started = performance.now();
      owner.replayed?.();
      this.tally(name, 0, 0, started);
    }
    for (const tally of Object.values(stats.owners)) tally.ms = Math.round(tally.ms);
    this.replayStats = null;
    this.replayDone = true;
    this.sinceSnapshot = { entries: stats.entries, bytes: stats.bytes };
    setTimeout(() => {
      this.started = true;
      this.maybeCompact();
    }, this.options.compactAfterStartMs).unref();
    return stats;
  }

  append(entry: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new JournalError('JOURNAL_CLOSED', 'journal is closed'));
    const line = `${JSON.stringify(entry)}\n`;
    // An entry no owner claims is kept as it is, so that a compaction does not lose it.
    if (!this.byType.has(typeOf(entry) ?? '')) this.unowned.entries.push(entry);
    this.sinceSnapshot.entries++;
    this.sinceSnapshot.bytes += line.length;
    return new Promise<void>((done, fail) => {
      this.pending.push({ line, done, fail });
      this.kick();
      this.maybeCompact();
    });
  }

  /**
   * Fold everything appended so far into a snapshot now (resolves once the snapshot is installed and the segments
   * it covers are removed). Automatic compaction calls this; so does `close()`.
   */
  compact(): Promise<void> {
    if (!this.replayDone) return Promise.reject(new JournalError('JOURNAL_REPLAYED', 'compaction before the journal was replayed'));
    return new Promise<void>((done, fail) => {
      this.compactionWaiters.push({ done, fail });
      this.wantSnapshot = true;
      this.kick();
    });
  }

  /** Stop appending, compact (unless `compact: false`, or nothing was appended), close the files. */
  async close(options: { compact?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writer || this.compaction) {
      await this.writer;
      await this.compaction;
    }
    const enough = Math.min(this.options.compactOnCloseAfterEntries, this.options.compactAfterEntries);
    const compact = options.compact ?? (this.options.compactOnClose && this.sinceSnapshot.entries >= enough);
    if (compact && this.replayDone && this.sinceSnapshot.entries > 0) {
      try {
        await this.compact();
      } catch (error) {
        this.extra.logger?.warn({ err: error, journal: this.name }, 'journal not compacted at close');
      }
    }
    await this.handle.close();
    try {
      // Only our own: another process may have opened the journal since and written its pid.
      if (readFileSync(this.lockPath, 'utf8').trim() === String(process.pid)) unlinkSync(this.lockPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  private maybeCompact(): void {
    if (!this.started || this.compaction || this.wantSnapshot || this.closed) return;
    const { entries, bytes } = this.sinceSnapshot;
    if (entries < this.options.compactAfterEntries && bytes < this.options.compactAfterBytes) return;
    this.compact().catch((error: unknown) => this.extra.logger?.warn({ err: error, journal: this.name }, 'journal compaction failed; the segments stay'));
  }

  private kick(): void {
    if (!this.writer) this.writer = this.writeLoop();
  }

  /**
   * The one writer: batches of appends, and the instant of a compaction. Each round starts at a turn of the event
   * loop (setImmediate), where no owner is between changing its state and appending (see {@link JournalOwner}).
   */
  private async writeLoop(): Promise<void> {
    await turn();
    while (this.pending.length || (this.wantSnapshot && !this.compaction)) {
      const batch = this.pending;
      this.pending = [];
      // The snapshot instant: the owners' state now is exactly the entries up to and including `batch`.
      const captured = this.wantSnapshot && !this.compaction ? this.capture() : null;
      if (batch.length) {
        try {
          await this.handle.write(batch.map((p) => p.line).join(''));
          await this.handle.datasync();
          for (const p of batch) p.done();
        } catch (error) {
          for (const p of batch) p.fail(error);
          if (captured) this.failCompaction(captured.waiters, error);
          continue;
        }
      }
      if (captured) {
        try {
          const generation = await this.seal();
          this.extra.onCompactionStep?.('sealed');
          // Written beside new appends: the snapshot's records were taken at the instant, the new segment has the rest.
          this.compaction = this.install(captured, generation).then(
            () => {
              this.compaction = null;
              this.sinceSnapshot = { entries: this.sinceSnapshot.entries - captured.entries, bytes: this.sinceSnapshot.bytes - captured.bytes };
              for (const w of captured.waiters) w.done();
              if (this.wantSnapshot) this.kick();
              else this.maybeCompact();
            },
            (error: unknown) => {
              // The sealed segment stays and is read at the next start, as if no compaction had begun.
              this.compaction = null;
              this.failCompaction(captured.waiters, error);
              if (this.wantSnapshot) this.kick();
            },
          );
        } catch (error) {
          this.failCompaction(captured.waiters, error);
        }
      }
      if (this.pending.length || this.wantSnapshot) await turn();
    }
    this.writer = null;
  }

  private failCompaction(waiters: { fail: (error: unknown) => void }[], error: unknown): void {
    for (const w of waiters) w.fail(error);
  }

  private capture(): { owners: [string, unknown[]][]; entries: number; bytes: number; waiters: Journal['compactionWaiters']; captureMs: number } {
    this.wantSnapshot = false;
    const waiters = this.compactionWaiters;
    this.compactionWaiters = [];
    const owners: [string, unknown[]][] = [];
    // The one part of a compaction that holds up the event loop: the owners copy what they hold.
    const started = performance.now();
    for (const [name, owner] of this.owners) owners.push([name, [...owner.snapshot()]]);
    return { owners, entries: this.sinceSnapshot.entries, bytes: this.sinceSnapshot.bytes, waiters, captureMs: Math.round(performance.now() - started) };
  }

  /** Rename the active segment to the next sealed one and start a new active segment. */
  private async seal(): Promise<number> {
    const generation = this.nextGeneration++;
    await this.handle.close();
    const active = join(this.dir, this.name);
    await rename(active, join(this.dir, this.sealedName(generation)));
    this.handle = await open(active, 'a');
    await syncDir(this.dir);
    return generation;
  }

  /** Write the captured state as the snapshot through `generation`, install it, remove the segments it covers. */
  private async install(captured: { owners: [string, unknown[]][]; captureMs: number }, generation: number): Promise<void> {
    const tmp = join(this.dir, this.snapshotTmpName());
    const file = await open(tmp, 'w');
    let records = 0;
    try {
      let buffer = `${JSON.stringify({ snapshot: SNAPSHOT_VERSION, through: generation, at: new Date().toISOString() })}\n`;
      for (const [owner, list] of captured.owners) {
        const prefix = `{"o":${JSON.stringify(owner)},"r":`;
        for (const record of list) {
          buffer += `${prefix}${JSON.stringify(record) ?? 'null'}}\n`;
          records++;
          if (buffer.length >= WRITE_CHUNK) {
            await file.write(buffer);
            buffer = '';
          }
        }
      }
      // The trailer says the snapshot is whole: a snapshot without it is refused rather than half restored.
      buffer += `${JSON.stringify({ end: records })}\n`;
      await file.write(buffer);
      await file.sync();
    } finally {
      await file.close();
    }
    this.extra.onCompactionStep?.('snapshot-written');
    await rename(tmp, join(this.dir, this.snapshotName()));
    await syncDir(this.dir);
    this.extra.onCompactionStep?.('snapshot-installed');
    for (const g of this.sealedGenerations()) if (g <= generation) await unlink(join(this.dir, this.sealedName(g))).catch(ignoreMissing);
    await syncDir(this.dir);
    this.extra.onCompactionStep?.('segments-removed');
    this.extra.logger?.info({ journal: this.name, through: generation, records, captureMs: captured.captureMs }, 'journal compacted into a snapshot');
  }

  /** The snapshot's records to their owners; the generation it covers (0: none). */
  private async readSnapshot(stats: ReplayStats): Promise<number> {
    const path = join(this.dir, this.snapshotName());
    let header: { snapshot?: number; through?: number } | null = null;
    let end: number | null = null;
    let records = 0;
    const found = await readLines(path, (line) => {
      const parsed = parseLine(line);
      if (parsed === undefined || end !== null) throw corrupt(path, 'a line is not JSON, or comes after the end');
      if (!header) {
        header = parsed as { snapshot?: number; through?: number };
        if (header.snapshot !== SNAPSHOT_VERSION || !Number.isSafeInteger(header.through)) throw corrupt(path, `unknown header ${line.slice(0, 200)}`);
        return true;
      }
      const { o, r, end: last } = parsed as { o?: string; r?: unknown; end?: number };
      if (last !== undefined) {
        end = last;
        return true;
      }
      // The unclaimed entries of the run that wrote it are entries still: whoever owns their type now takes them.
      if (o === UNOWNED) this.dispatch(r, line.length);
      else {
        // An owner this process does not have (it was removed): its records are kept with the unclaimed entries.
        const name = this.owners.has(o ?? '') ? (o as string) : UNOWNED;
        const started = performance.now();
        this.owners.get(name)!.restore(r);
        this.tally(name, 1, line.length, started);
      }
      records++;
      return true;
    });
    if (!found) return 0;
    if (!header || end !== records) throw corrupt(path, 'it ends before its trailer');
    stats.snapshotRecords = records;
    return (header as { through: number }).through;
  }

  /** A segment's entries to their owners; the active one (`cut`) loses a torn tail, on disk too. */
  private async readSegment(name: string, cut: boolean, stats: ReplayStats): Promise<void> {
    const path = join(this.dir, name);
    let good = 0;
    let torn = false;
    await readLines(
      path,
      (line, endOffset) => {
        if (!this.dispatchLine(line)) {
          const entry = parseLine(line);
          if (entry === undefined) {
            torn = true;
            return false; // a torn write; nothing after it was acknowledged
          }
          this.dispatch(entry, line.length);
        }
        stats.entries++;
        stats.bytes += endOffset - good;
        good = endOffset;
        return true;
      },
      () => {
        torn = true; // the last line has no newline: its write never finished
      },
    );
    if (torn && cut) {
      // Cut it off, or the next append would continue the torn line and both would be lost at the next start.
      await this.handle.truncate(good);
      await this.handle.datasync();
      stats.tornTail = true;
    }
  }

  /** A line to an owner that takes lines unparsed ({@link JournalOwner.replayLine}); false when none does. */
  private dispatchLine(line: string): boolean {
    if (this.lineOwners.size === 0 || !line.startsWith(TYPE_PREFIX)) return false;
    const end = line.indexOf('"', TYPE_PREFIX.length);
    if (end < 0) return false;
    const type = line.slice(TYPE_PREFIX.length, end);
    const name = this.lineOwners.get(type);
    if (name === undefined) return false;
    const started = performance.now();
    this.owners.get(name)!.replayLine!(line, type);
    this.tally(name, 1, line.length, started);
    return true;
  }

  private dispatch(entry: unknown, bytes: number): void {
    const type = typeOf(entry);
    const name = (type === undefined ? undefined : this.byType.get(type)) ?? UNOWNED;
    const started = performance.now();
    this.owners.get(name)!.replay(entry as never);
    this.tally(name, 1, bytes, started);
  }

  /** Count a record handed to `name` during the replay (see {@link ReplayStats.owners}). */
  private tally(name: string, records: number, bytes: number, started: number): void {
    const owners = this.replayStats?.owners;
    if (!owners) return;
    const tally = (owners[name] ??= { records: 0, bytes: 0, ms: 0 });
    tally.records += records;
    tally.bytes += bytes;
    tally.ms += performance.now() - started;
  }

  private sealedGenerations(): number[] {
    const pattern = new RegExp(`^${escapeRegExp(this.base)}\\.(\\d+)\\${NDJSON}$`);
    const generations: number[] = [];
    for (const file of readdirSync(this.dir)) {
      const match = pattern.exec(file);
      if (match) generations.push(Number(match[1]));
    }
    return generations.sort((a, b) => a - b);
  }

  private sealedName(generation: number): string {
    return `${this.base}.${generation}${NDJSON}`;
  }
  private snapshotName(): string {
    return `${this.base}.snapshot${NDJSON}`;
  }
  private snapshotTmpName(): string {
    return `${this.base}.snapshot-tmp${NDJSON}`;
  }
}

/**
 * Call `onLine` with each complete line of `path` (and the byte offset just after its newline), reading in
 * chunks; stop early when it returns false. `onTorn` is told about a last line without a newline. False when the
 * file does not exist.
 */
async function readLines(path: string, onLine: (line: string, endOffset: number) => boolean, onTorn?: () => void): Promise<boolean> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  try {
    let carry: Buffer = Buffer.alloc(0);
    let offset = 0; // file offset of carry[0]
    let position = 0;
    const chunk = Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, READ_CHUNK, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const buffer = carry.length ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      for (let nl = buffer.indexOf(10, start); nl !== -1; nl = buffer.indexOf(10, start)) {
        if (nl > start && !onLine(buffer.toString('utf8', start, nl), offset + nl + 1)) return true;
        start = nl + 1;
      }
      // Copied: `chunk` is reused by the next read.
      carry = Buffer.from(buffer.subarray(start));
      offset += start;
    }
    if (carry.length) onTorn?.();
    return true;
  } finally {
    await file.close();
  }
}

/** How a line starts whose entry has its type first (see {@link JournalOwner.replayLine}). */
const TYPE_PREFIX = '{"t":"';

function typeOf(entry: unknown): string | undefined {
  const type = typeof entry === 'object' && entry !== null ? (entry as { t?: unknown }).t : undefined;
  return typeof type === 'string' ? type : undefined;
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}

function corrupt(path: string, why: string): JournalError {
  return new JournalError('JOURNAL_SNAPSHOT_CORRUPT', `${path}: ${why}`);
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 1) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface JournalHolder {
  /** The lock file's name inside the directory. */
  lock: string;
  pid: number;
  /** Whether a process with that pid is running now; a lock of a process that is gone is stale. */
  running: boolean;
}

/** The journal locks in `dir` and whether the processes that wrote them still run. An absent `dir` holds none. */
export function journalHolders(dir: string): JournalHolder[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => name.endsWith(LOCK_SUFFIX))
    .map((lock) => {
      const pid = Number.parseInt(readFileSync(join(dir, lock), 'utf8').trim(), 10);
      return { lock, pid, running: Number.isInteger(pid) && pid > 0 && isRunning(pid) };
    });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
