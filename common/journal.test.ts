import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Journal, JournalError, type CompactionStep, type JournalOptions, type JournalOwner } from './journal.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  dirs.push(dir);
  return dir;
};

type SetEntry = { t: 'set'; k: string; v: number } | { t: 'del'; k: string };

/** A key-value owner: its snapshot is the map, its entries set and delete keys. */
class Register implements JournalOwner<SetEntry, [string, number]> {
  readonly types = ['set', 'del'];
  readonly values = new Map<string, number>();
  constructor(private readonly journal: Journal) {
    journal.register('register', this);
  }
  set(k: string, v: number): Promise<void> {
    this.values.set(k, v);
    return this.journal.append({ t: 'set', k, v } satisfies SetEntry);
  }
  del(k: string): Promise<void> {
    this.values.delete(k);
    return this.journal.append({ t: 'del', k } satisfies SetEntry);
  }
  snapshot() {
    return [...this.values];
  }
  restore([k, v]: [string, number]) {
    this.values.set(k, v);
  }
  replay(entry: SetEntry) {
    if (entry.t === 'set') this.values.set(entry.k, entry.v);
    else this.values.delete(entry.k);
  }
}

async function openRegister(dir: string, options: JournalOptions = {}) {
  const journal = await Journal.create(dir, options);
  const register = new Register(journal);
  const stats = await journal.replay();
  return { journal, register, stats };
}

/** Some writes, with keys overwritten and deleted, so a snapshot is smaller than the entries. */
async function churn(register: Register, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    await register.set(`k${i % 7}`, i);
    if (i % 5 === 0) await register.del(`k${(i + 3) % 7}`);
  }
}

const files = (dir: string) => readdirSync(dir).sort();

describe('Journal', () => {
  it('reads back what was appended, in order, across reopen', async () => {
    const dir = tempDir();
    const first = await Journal.open<{ n: number }>(dir);
    expect(first.entries).toEqual([]);
    await Promise.all(Array.from({ length: 100 }, (_, n) => first.journal.append({ n })));
    await first.journal.append({ n: 100 });
    await first.journal.close();
    const second = await Journal.open<{ n: number }>(dir);
    expect(second.entries.map((e) => e.n)).toEqual(Array.from({ length: 101 }, (_, n) => n));
    await second.journal.close();
  });

  it('drops a torn last line and cuts it off the file, so the next append starts a line of its own', async () => {
    const dir = tempDir();
    const { journal } = await Journal.open(dir);
    await journal.append({ ok: 1 });
    await journal.close({ compact: false });
    appendFileSync(join(dir, 'journal.ndjson'), '{"ok":');
    const reopened = await Journal.open(dir);
    expect(reopened.entries).toEqual([{ ok: 1 }]);
    expect(readFileSync(join(dir, 'journal.ndjson'), 'utf8')).toBe('{"ok":1}\n');
    await reopened.journal.append({ ok: 2 });
    await reopened.journal.close({ compact: false });
    expect((await Journal.open(dir)).entries).toEqual([{ ok: 1 }, { ok: 2 }]);
  });

  it('streams a journal larger than its read chunk: lines across chunk ends, a line of several chunks, multi-byte characters', async () => {
    const dir = tempDir();
    const big = 'ü€'.repeat(700_000); // about 3.5 MB as UTF-8: more than three read chunks
    const lines = [...Array.from({ length: 30_000 }, (_, n) => ({ n, s: `é${'x'.repeat(n % 97)}` })), { n: -1, s: big }, { n: -2, s: '𝄞' }];
    writeFileSync(join(dir, 'journal.ndjson'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"torn":`);
    const { journal, entries } = await Journal.open<{ n: number; s: string }>(dir);
    expect(entries.length).toBe(lines.length);
    expect(entries).toEqual(lines);
    await journal.close({ compact: false });
  });

  it('compacts into a snapshot once enough was appended: the sealed segments go, the state comes back the same', async () => {
    const dir = tempDir();
    const steps: CompactionStep[] = [];
    const first = await openRegister(dir, { compactAfterEntries: 50, compactAfterStartMs: 0, compactOnClose: false, onCompactionStep: (s) => steps.push(s) });
    await first.journal.append({ t: 'note', text: 'no owner claims me' });
    await churn(first.register, 0, 200);
    await vi.waitFor(() => expect(steps).toContain('segments-removed'));
    const expected = new Map(first.register.values);
    await first.journal.compact(); // folds the entries the automatic ones left, so that the next start reads few
    await first.journal.close();
    expect(files(dir)).toEqual(['journal.ndjson', 'journal.snapshot.ndjson']);

    const second = await openRegister(dir);
    expect(second.register.values).toEqual(expected);
    expect(second.stats.snapshotRecords).toBeLessThanOrEqual(8); // seven keys at most, and the unclaimed note
    expect(second.stats.entries).toBeLessThan(50);
    await second.journal.close({ compact: false });
    // What no owner claims is kept as it was.
    expect((await Journal.open(dir)).entries).toEqual(expect.arrayContaining([{ t: 'note', text: 'no owner claims me' }]));
  });

  it('says what each owner was handed at start: its snapshot records and entries, their bytes, its time', async () => {
    const dir = tempDir();
    const first = await openRegister(dir, { compactOnClose: false });
    await churn(first.register, 0, 20);
    await first.journal.compact();
    await first.register.set('after', 1);
    await first.journal.append({ t: 'note' });
    await first.journal.close();

    const second = await openRegister(dir);
    const { register, '*': unowned } = second.stats.owners;
    // A record per key at the compaction, and the entry after it.
    expect(register).toMatchObject({ records: second.register.values.size, ms: expect.any(Number) });
    expect(register!.bytes).toBeGreaterThan(0);
    expect(unowned).toMatchObject({ records: 1, bytes: '{"t":"note"}'.length });
    await second.journal.close({ compact: false });
  });

  it('compacts at a clean close: the next start reads the snapshot and no entries', async () => {
    const dir = tempDir();
    const first = await openRegister(dir, { compactOnCloseAfterEntries: 10 });
    await churn(first.register, 0, 40);
    const expected = new Map(first.register.values);
    await first.journal.close();
    expect(readFileSync(join(dir, 'journal.ndjson'), 'utf8')).toBe('');
    const second = await openRegister(dir);
    expect(second.stats.entries).toBe(0);
    expect(second.register.values).toEqual(expected);
    await second.journal.close();
  });

  it('leaves a few entries at a clean close rather than rewrite the whole snapshot for them', async () => {
    const dir = tempDir();
    const first = await openRegister(dir, { compactOnCloseAfterEntries: 10 });
    await churn(first.register, 0, 40);
    await first.journal.close();
    const second = await openRegister(dir, { compactOnCloseAfterEntries: 10 });
    await second.register.set('one', 1);
    const expected = new Map(second.register.values);
    await second.journal.close();
    expect(readFileSync(join(dir, 'journal.ndjson'), 'utf8')).toBe('{"t":"set","k":"one","v":1}\n');
    const third = await openRegister(dir);
    expect(third.stats.entries).toBe(1);
    expect(third.register.values).toEqual(expected);
    await third.journal.close();
  });

  it('keeps appends made while a snapshot is written: they are in the new segment', async () => {
    const dir = tempDir();
    const first = await openRegister(dir, { compactOnClose: false });
    await churn(first.register, 0, 20);
    const compaction = first.journal.compact();
    // Whether these land before the snapshot instant or after it (in the new segment), they must survive.
    await new Promise((resolve) => setImmediate(resolve));
    const during = Promise.all([first.register.set('late', 1), first.register.set('k1', 99)]);
    await compaction;
    await during;
    const expected = new Map(first.register.values);
    await first.journal.close();
    const second = await openRegister(dir);
    expect(second.register.values).toEqual(expected);
    expect(second.register.values.get('late')).toBe(1);
    await second.journal.close();
  });

  describe('a crash during compaction replays to the same state', () => {
    const crashAt = async (step: CompactionStep) => {
      const dir = tempDir();
      const first = await openRegister(dir, {
        compactOnClose: false,
        onCompactionStep: (s) => {
          if (s === step) throw new Error(`crash at ${s}`);
        },
      });
      await churn(first.register, 0, 60);
      await expect(first.journal.compact()).rejects.toThrow(`crash at ${step}`);
      // The process goes on a little after the failed compaction, then dies without closing cleanly.
      await churn(first.register, 60, 10);
      const expected = new Map(first.register.values);
      await first.journal.close({ compact: false });
      return { dir, expected, left: files(dir) };
    };

    it('after sealing the segment, before any snapshot: the sealed segment and the new one are read', async () => {
      const { dir, expected, left } = await crashAt('sealed');
      expect(left).toEqual(['journal.1.ndjson', 'journal.ndjson']);
      const second = await openRegister(dir);
      expect(second.stats.sealedSegments).toBe(1);
      expect(second.register.values).toEqual(expected);
      // A later compaction picks up from there and numbers its segment after the one left.
      await second.journal.compact();
      await second.journal.close();
      expect(files(dir)).toEqual(['journal.ndjson', 'journal.snapshot.ndjson']);
      expect((await openRegister(dir)).register.values).toEqual(expected);
    });

    it('with the temporary snapshot written but not installed: it is ignored and removed', async () => {
      const { dir, expected, left } = await crashAt('snapshot-written');
      expect(left).toEqual(['journal.1.ndjson', 'journal.ndjson', 'journal.snapshot-tmp.ndjson']);
      const second = await openRegister(dir);
      expect(second.register.values).toEqual(expected);
      expect(existsSync(join(dir, 'journal.snapshot-tmp.ndjson'))).toBe(false);
      await second.journal.close({ compact: false });
    });

    it('with a torn temporary snapshot (the crash hit its write): ignored and removed', async () => {
      const dir = tempDir();
      const first = await openRegister(dir, { compactOnClose: false });
      await churn(first.register, 0, 30);
      const expected = new Map(first.register.values);
      await first.journal.close();
      writeFileSync(join(dir, 'journal.snapshot-tmp.ndjson'), '{"snapshot":1,"through":1}\n{"o":"register","r":["k1",');
      const second = await openRegister(dir);
      expect(second.register.values).toEqual(expected);
      expect(files(dir)).toEqual(['journal.ndjson', 'journal.ndjson.lock']);
      await second.journal.close({ compact: false });
    });

    it('with the snapshot installed and the segment it covers still there: the segment is skipped, then removed', async () => {
      const { dir, expected, left } = await crashAt('snapshot-installed');
      expect(left).toEqual(['journal.1.ndjson', 'journal.ndjson', 'journal.snapshot.ndjson']);
      const second = await openRegister(dir);
      expect(second.stats.sealedSegments).toBe(0);
      expect(second.register.values).toEqual(expected);
      expect(files(dir)).toEqual(['journal.ndjson', 'journal.ndjson.lock', 'journal.snapshot.ndjson']);
      await second.journal.close({ compact: false });
    });
  });

  it('refuses a snapshot without its trailer instead of restoring half of it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'journal.snapshot.ndjson'), '{"snapshot":1,"through":3}\n{"o":"register","r":["a",1]}\n');
    const journal = await Journal.create(dir);
    new Register(journal);
    const error = await journal.replay().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JournalError);
    expect((error as JournalError).code).toBe('JOURNAL_SNAPSHOT_CORRUPT');
    await journal.close({ compact: false });
  });

  it('gives each entry type one owner', async () => {
    const journal = await Journal.create(tempDir());
    new Register(journal);
    expect(() => journal.register('other', { types: ['set'], snapshot: () => [], restore: () => undefined, replay: () => undefined })).toThrow(/JOURNAL_OWNER_CONFLICT/);
    await journal.replay();
    expect(() => journal.register('late', { types: ['x'], snapshot: () => [], restore: () => undefined, replay: () => undefined })).toThrow(/JOURNAL_REPLAYED/);
    await journal.close({ compact: false });
  });
});
