import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutboxPosting } from './ports.js';
import { posted, queued } from './posting-state.js';
import { JournaledOutboxStore } from './store.js';

/* The journaled outbox as an owner of its DATA_DIR journal (common/journal.ts): its snapshot is each posting's latest state. */

const t0 = new Date('2026-03-01T10:00:00.000Z');
const posting = (n: number, orderId = 'ord-1'): OutboxPosting =>
  queued(
    { id: `post-evt-${n}`, orderId, type: 'REFUND', amount: { minor: n * 100, currency: 'EUR' }, sourceEventId: `evt-${n}`, sourceType: 'REFUND_ISSUED', sourceOccurredAt: new Date(t0.getTime() + n * 1000).toISOString(), correlationId: 'c' },
    new Date(t0.getTime() + n),
  );

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('JournaledOutboxStore in a compacted journal', () => {
  it('keeps one line per posting, its latest state, and reads it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-snapshot-'));
    dirs.push(dir);
    const first = await JournaledOutboxStore.open(dir, { compactOnCloseAfterEntries: 1 });
    await first.save(posting(1));
    await first.save(posting(2, 'ord-2'));
    await first.save(posted(posting(1), { documentNumber: 'FI-9', postedAt: t0.toISOString() }));
    await first.close();
    const lines = readFileSync(join(dir, 'finance-outbox.snapshot.ndjson'), 'utf8').split('\n').filter((l) => l.includes('"o":"outbox"'));
    expect(lines).toHaveLength(2);
    expect(readFileSync(join(dir, 'finance-outbox.ndjson'), 'utf8')).toBe('');

    const second = await JournaledOutboxStore.open(dir);
    expect((await second.get(['post-evt-1', 'post-evt-2'])).map((p) => [p?.status, p?.erpDocumentNumber ?? null])).toEqual([
      ['POSTED', 'FI-9'],
      ['PENDING', null],
    ]);
    expect((await second.due(new Date(t0.getTime() + 60_000).toISOString(), 10)).map((p) => p.id)).toEqual(['post-evt-2']);
    await second.close();
  });
});
