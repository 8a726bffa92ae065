import { beforeEach, describe, expect, it } from 'vitest';
import { ResilienceRegistry, SystemUnavailableError } from '../../../common/resilience.js';
import { createSandbox, type Sandbox } from '../../../sandbox/index.js';
import { JournalRejectedError, type JournalEntry } from '../outbox/ports.js';
import { SandboxJournal } from './sandbox-journal.js';

const CONFIG = { seed: 42, scale: 0.05 };
const entry = (id: string, patch: Partial<JournalEntry> = {}): JournalEntry => ({
  id,
  orderId: `ord-${id}`,
  type: 'REFUND',
  amount: { minor: 1_234, currency: 'EUR' },
  postingDate: '2026-03-01T10:00:00.000Z',
  attempt: 1,
  ...patch,
});

describe('SandboxJournal over a real sandbox ERP', () => {
  let sandbox: Sandbox;
  let now: number;
  let journal: SandboxJournal;
  beforeEach(() => {
    now = Date.parse('2026-03-01T10:00:00.000Z');
    sandbox = createSandbox(CONFIG, { now: () => now });
    // A breaker that one counted failure would open: a refusal for rate must not be one.
    journal = new SandboxJournal(sandbox.systems.erp, new ResilienceRegistry({ timeoutMs: 1_000, retries: 2, breakerFailures: 1, breakerResetMs: 60_000 }));
  });

  it('books a batch in one postJournalBatch call, one outcome per entry, in order; a refused entry is a JournalRejectedError and the others are booked', async () => {
    const outcomes = await journal.postBatch([entry('pst-a'), entry('pst-bad', { amount: { minor: 100, currency: 'euro' } }), entry('pst-b', { amount: { minor: 500, currency: 'EUR' } })]);
    expect(sandbox.control.calls()).toEqual({ erp: { postJournalBatch: 1 } });
    expect(outcomes[0]).toEqual({ documentNumber: expect.stringMatching(/^FI-\d{8}$/), postedAt: expect.any(String), amount: { minor: 1_234, currency: 'EUR' } });
    expect(outcomes[1]).toBeInstanceOf(JournalRejectedError);
    expect((outcomes[1] as JournalRejectedError).message).toMatch(/ERP rejected posting pst-bad/);
    expect(outcomes[2]).toMatchObject({ amount: { minor: 500, currency: 'EUR' } });
    const held = await sandbox.direct!.erp.getPostings(['pst-a', 'pst-bad', 'pst-b']);
    expect(held.map((p) => p?.status ?? null)).toEqual(['POSTED', null, 'POSTED']);
    // Idempotent per id: the same batch again books nothing new and answers the same documents.
    const again = await journal.postBatch([entry('pst-a'), entry('pst-b')]);
    expect(again.map((o) => (o as { documentNumber: string }).documentNumber)).toEqual([(outcomes[0] as { documentNumber: string }).documentNumber, (outcomes[2] as { documentNumber: string }).documentNumber]);
  });

  it('a batch of one is one postJournal call', async () => {
    const [outcome] = await journal.postBatch([entry('pst-one')]);
    expect(outcome).toMatchObject({ documentNumber: expect.stringMatching(/^FI-/) });
    expect(sandbox.control.calls()).toEqual({ erp: { postJournal: 1 } });
    const [refused] = await journal.postBatch([entry('pst-neg', { amount: { minor: -1, currency: 'EUR' } })]);
    expect(refused).toBeInstanceOf(JournalRejectedError);
    expect(await journal.postBatch([])).toEqual([]);
  });

  it('the ERP’s refusal for rate is a SystemUnavailableError with retryAfterMs, nothing booked, and it leaves the circuit closed', async () => {
    sandbox.control.setFault('erp', { rateLimitPerSecond: 1 });
    await journal.postBatch([entry('pst-1'), entry('pst-2')]);
    const refusals: unknown[] = [];
    for (let i = 0; i < 3; i++) refusals.push(await journal.postBatch([entry('pst-3'), entry('pst-4')]).catch((e: unknown) => e));
    for (const error of refusals) {
      expect(error).toBeInstanceOf(SystemUnavailableError);
      expect(error).toMatchObject({ retryAfterMs: expect.any(Number), extensions: { code: 'ERP_UNAVAILABLE', retryAfterMs: expect.any(Number) } });
      expect((error as SystemUnavailableError).retryAfterMs).toBeGreaterThan(0);
      expect((error as SystemUnavailableError).retryAfterMs).toBeLessThanOrEqual(1_000);
    }
    expect(await sandbox.direct!.erp.getPostings(['pst-3', 'pst-4'])).toEqual([null, null]);
    // Once the ERP's bucket refilled, the same batch goes through: the breaker (one failure opens it) never opened.
    now += (refusals[0] as SystemUnavailableError).retryAfterMs!;
    const outcomes = await journal.postBatch([entry('pst-3'), entry('pst-4')]);
    expect(outcomes.map((o) => o instanceof JournalRejectedError)).toEqual([false, false]);
    expect(sandbox.control.callRates().erp).toMatchObject({ accepted: 2, refused: 3 });
  });
});
