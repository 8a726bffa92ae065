import { mkdirSync, readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

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

  private constructor(private readonly handle: FileHandle) {}

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
    return { journal: new Journal(handle), entries };
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
  }
}
