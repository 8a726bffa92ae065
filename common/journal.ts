import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** Beside each open journal, `<name>.lock` holds the pid of the process that has it open (see {@link journalHolders}). */
const LOCK_SUFFIX = '.lock';

/**
 * An append-only, fsync'd journal of state changes in `DATA_DIR` (newline-delimited JSON), so that whatever a
 * mutation returned survives a crash. Appends made in the same tick share one write and one fsync (group
 * commit): each `append` resolves only once its entry is on disk.
 *
 * Contract: entries are read back in append order; a torn last line (a crash in the middle of a write) is
 * dropped on open — its caller never got an answer.
 */
export class Journal {
  private pending: { line: string; done: () => void; fail: (error: unknown) => void }[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    private readonly lockPath: string,
  ) {}

  /** Open (or create) the journal in `dir` and return it with the entries already there. */
  static async open<E>(dir: string, name = 'journal.ndjson'): Promise<{ journal: Journal; entries: E[] }> {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, name);
    const entries: E[] = [];
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        entries.push(JSON.parse(line) as E);
      } catch {
        break; // a torn tail; nothing after it was acknowledged
      }
    }
    const handle = await open(path, 'a');
    // Not a mutual exclusion (a process killed with -9 leaves its lock behind): a cheap sign, for `npm run reset`,
    // that a running process is using this directory.
    const lockPath = `${path}${LOCK_SUFFIX}`;
    writeFileSync(lockPath, `${process.pid}\n`);
    return { journal: new Journal(handle, lockPath), entries };
  }

  append(entry: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new Error('journal is closed'));
    const line = `${JSON.stringify(entry)}\n`;
    return new Promise<void>((done, fail) => {
      this.pending.push({ line, done, fail });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    // Let the rest of this tick's appends join the batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.handle.write(batch.map((p) => p.line).join(''));
        await this.handle.datasync();
        for (const p of batch) p.done();
      } catch (error) {
        for (const p of batch) p.fail(error);
      }
    }
    this.flushing = null;
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.handle.close();
    try {
      // Only our own: another process may have opened the journal since and written its pid.
      if (readFileSync(this.lockPath, 'utf8').trim() === String(process.pid)) unlinkSync(this.lockPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

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
