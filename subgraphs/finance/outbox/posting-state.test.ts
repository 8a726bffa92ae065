import { describe, expect, it } from 'vitest';
import { failed, invoiced, isDue, posted, queued, requeued, type PostingRequest } from './posting-state.js';

const t0 = new Date('2026-03-01T10:00:00.000Z');
const later = (ms: number) => new Date(t0.getTime() + ms);
const request: PostingRequest = {
  id: 'post-evt-1',
  orderId: 'ord-1',
  type: 'SALE',
  amount: { minor: 10_000, currency: 'EUR' },
  sourceEventId: 'evt-1',
  sourceType: 'PICKED_UP',
  sourceOccurredAt: '2026-03-01T09:59:00.000Z',
  correlationId: 'corr-1',
};
const policy = { baseMs: 100, capMs: 1_000, maxAttempts: 3 };
const half = () => 0.5;

describe('outbox posting state machine', () => {
  it('queues a posting PENDING, due at once, nothing attempted', () => {
    const p = queued(request, t0);
    expect(p).toMatchObject({ status: 'PENDING', attempts: 0, lastError: null, erpDocumentNumber: null, nextAttemptAt: t0.toISOString(), createdAt: t0.toISOString() });
    expect(isDue(p, t0)).toBe(true);
  });

  it('a success is POSTED for good: document number, no next attempt, attempts counted', () => {
    const p = posted(queued(request, t0), { documentNumber: 'FI-1', postedAt: later(5).toISOString() });
    expect(p).toMatchObject({ status: 'POSTED', attempts: 1, erpDocumentNumber: 'FI-1', postedAt: later(5).toISOString(), nextAttemptAt: null, lastError: null });
    expect(isDue(p, later(1_000_000))).toBe(false);
    expect(requeued(p, t0)).toEqual({ ok: false, status: 'POSTED' });
  });

  it('a failure is FAILED with lastError, due again after a jittered exponential backoff', () => {
    const once = failed(queued(request, t0), 'ERP is unavailable: down', t0, policy, { retryable: true, random: half });
    expect(once).toMatchObject({ status: 'FAILED', attempts: 1, roundAttempts: 1, lastError: 'ERP is unavailable: down', nextAttemptAt: later(50).toISOString() });
    expect(isDue(once, later(49))).toBe(false);
    expect(isDue(once, later(50))).toBe(true);
    const twice = failed(once, 'again', later(50), policy, { retryable: true, random: half });
    expect(twice).toMatchObject({ status: 'FAILED', attempts: 2, nextAttemptAt: later(150).toISOString() });
  });

  it('the maxAttempts-th failure of a round is DEAD_LETTER, never due', () => {
    let p = queued(request, t0);
    for (let i = 0; i < 3; i++) p = failed(p, `failure ${i + 1}`, t0, policy, { retryable: true, random: half });
    expect(p).toMatchObject({ status: 'DEAD_LETTER', attempts: 3, lastError: 'failure 3', nextAttemptAt: null, deadLetters: 1 });
    expect(isDue(p, later(10_000_000))).toBe(false);
  });

  it('a refusal for good is DEAD_LETTER at once', () => {
    expect(failed(queued(request, t0), 'ERP rejected: period closed', t0, policy, { retryable: false })).toMatchObject({ status: 'DEAD_LETTER', attempts: 1, deadLetters: 1 });
  });

  it('replay re-queues a DEAD_LETTER with a fresh budget; attempts keep counting; nothing else can be replayed', () => {
    let p = queued(request, t0);
    for (let i = 0; i < 3; i++) p = failed(p, 'down', t0, policy, { retryable: true, random: half });
    const replayed = requeued(p, later(1_000));
    expect(replayed).toMatchObject({ ok: true, posting: { status: 'PENDING', attempts: 3, roundAttempts: 0, lastError: 'down', nextAttemptAt: later(1_000).toISOString() } });
    if (!replayed.ok) throw new Error('unreachable');
    // Three more failures in the new round before it is dead again.
    let again = replayed.posting;
    for (let i = 0; i < 2; i++) again = failed(again, 'down', t0, policy, { retryable: true, random: half });
    expect(again.status).toBe('FAILED');
    again = failed(again, 'down', t0, policy, { retryable: true, random: half });
    expect(again).toMatchObject({ status: 'DEAD_LETTER', attempts: 6, deadLetters: 2 });
    expect(requeued(queued(request, t0), t0)).toEqual({ ok: false, status: 'PENDING' });
    expect(requeued(failed(queued(request, t0), 'x', t0, policy), t0)).toEqual({ ok: false, status: 'FAILED' });
  });

  it('changes nothing in place', () => {
    const p = queued(request, t0);
    const copy = structuredClone(p);
    posted(p, { documentNumber: 'FI-1', postedAt: t0.toISOString() });
    failed(p, 'x', t0, policy);
    invoiced(p, { id: 'inv-ord-1', number: 'INV-1' });
    expect(p).toEqual(copy);
  });
});
