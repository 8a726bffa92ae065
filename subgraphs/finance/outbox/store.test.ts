import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OutboxPosting } from './ports.js';
import { failed, posted, queued } from './posting-state.js';
import { InMemoryOutboxStore, JournaledOutboxStore } from './store.js';

const t0 = new Date('2026-03-01T10:00:00.000Z');
const posting = (n: number, orderId = 'ord-1'): OutboxPosting =>
  queued(
    { id: `post-evt-${n}`, orderId, type: 'REFUND', amount: { minor: n * 100, currency: 'EUR' }, sourceEventId: `evt-${n}`, sourceType: 'REFUND_ISSUED', sourceOccurredAt: new Date(t0.getTime() + n * 1000).toISOString(), correlationId: 'c' },
    new Date(t0.getTime() + n),
  );

describe('outbox stores', () => {
  it('answers due postings earliest first, and neither posted nor dead ones', async () => {
    const store = new InMemoryOutboxStore();
    const policy = { baseMs: 1_000, capMs: 1_000, maxAttempts: 1 };
    await store.save(posting(1));
    await store.save(posting(2));
    await store.save(posted(posting(3), { documentNumber: 'FI-1', postedAt: t0.toISOString() }));
    await store.save(failed(posting(4), 'x', t0, policy));
    expect((await store.due(new Date(t0.getTime() + 10).toISOString(), 10)).map((p) => p.id)).toEqual(['post-evt-1', 'post-evt-2']);
    expect((await store.due(new Date(t0.getTime() + 10).toISOString(), 1)).map((p) => p.id)).toEqual(['post-evt-1']);
    expect((await store.list({ statuses: ['DEAD_LETTER', 'POSTED'] }, 10)).map((p) => p.id)).toEqual(['post-evt-4', 'post-evt-3']);
    expect((await store.bySourceTime(new Date(t0.getTime() + 2000).toISOString(), new Date(t0.getTime() + 4000).toISOString())).map((p) => p.id).sort()).toEqual(['post-evt-2', 'post-evt-3']);
  });

  it('the journaled store gives back the latest state of every posting after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    const first = await JournaledOutboxStore.open(dir);
    await first.save(posting(1));
    await first.save(posting(2, 'ord-2'));
    await first.save(posted(posting(1), { documentNumber: 'FI-9', postedAt: t0.toISOString() }));
    await first.close();

    const second = await JournaledOutboxStore.open(dir);
    expect((await second.get(['post-evt-1', 'post-evt-2', 'post-evt-3'])).map((p) => p?.status ?? null)).toEqual(['POSTED', 'PENDING', null]);
    expect((await second.byOrder(['ord-2', 'ord-9'])).map((list) => list.length)).toEqual([1, 0]);
    expect((await second.due(new Date(t0.getTime() + 60_000).toISOString(), 10)).map((p) => p.id)).toEqual(['post-evt-2']);
    await second.close();
  });
});
