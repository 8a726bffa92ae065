import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal } from './journal.js';

describe('Journal', () => {
  it('reads back what was appended, in order, across reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const first = await Journal.open<{ n: number }>(dir);
    expect(first.entries).toEqual([]);
    await Promise.all(Array.from({ length: 100 }, (_, n) => first.journal.append({ n })));
    await first.journal.append({ n: 100 });
    await first.journal.close();
    const second = await Journal.open<{ n: number }>(dir);
    expect(second.entries.map((e) => e.n)).toEqual(Array.from({ length: 101 }, (_, n) => n));
    await second.journal.close();
  });

  it('drops a torn last line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const { journal } = await Journal.open(dir);
    await journal.append({ ok: 1 });
    await journal.close();
    appendFileSync(join(dir, 'journal.ndjson'), '{"ok":');
    const reopened = await Journal.open(dir);
    expect(reopened.entries).toEqual([{ ok: 1 }]);
    await reopened.journal.close();
    expect(readFileSync(join(dir, 'journal.ndjson'), 'utf8').startsWith('{"ok":1}\n')).toBe(true);
  });
});
