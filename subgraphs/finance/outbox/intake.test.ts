import { describe, expect, it } from 'vitest';
import type { CanonicalEvent, EventType } from '../../../common/events.js';
import { needsPlacedEvent, postingRequestFor, sourceItemsOf } from './intake.js';

let seq = 0;
const event = (type: EventType, data: Record<string, unknown> = {}, extra: Partial<CanonicalEvent> = {}): CanonicalEvent => ({
  id: `evt-${++seq}`,
  type,
  source: 'POS',
  occurredAt: `2026-03-01T10:00:${String(seq % 60).padStart(2, '0')}.000Z`,
  correlationId: 'corr-1',
  orderId: 'ord-1',
  data,
  ...extra,
});

describe('intake: which events book what', () => {
  it('a hand-over with a total is a SALE of it, posting id derived from the event id, correlation carried', () => {
    const e = event('PICKED_UP', { total: 12_345, currency: 'EUR' });
    expect(needsPlacedEvent(e)).toBe(false);
    expect(postingRequestFor(e, undefined)).toEqual({
      ok: true,
      request: { id: `post-${e.id}`, orderId: 'ord-1', type: 'SALE', amount: { minor: 12_345, currency: 'EUR' }, sourceEventId: e.id, sourceType: 'PICKED_UP', sourceOccurredAt: e.occurredAt, correlationId: 'corr-1' },
    });
  });

  it('a shipment without a total takes the ORDER_PLACED total and currency', () => {
    const placed = event('ORDER_PLACED', { total: 5_000, currency: 'CHF' });
    const shipped = event('ORDER_SHIPPED', { shipmentId: 'shp-1' });
    expect(needsPlacedEvent(shipped)).toBe(true);
    expect(postingRequestFor(shipped, placed)).toMatchObject({ ok: true, request: { type: 'SALE', amount: { minor: 5_000, currency: 'CHF' } } });
    expect(postingRequestFor(shipped, undefined)).toMatchObject({ ok: false, reason: expect.stringContaining('no total') });
  });

  it('refunds and returns book their amount; a return without one books nothing', () => {
    expect(postingRequestFor(event('REFUND_ISSUED', { amount: 999 }), undefined)).toMatchObject({ ok: true, request: { type: 'REFUND', amount: { minor: 999, currency: 'EUR' } } });
    expect(postingRequestFor(event('RETURN_RECEIVED', { amount: 500, currency: 'EUR' }), undefined)).toMatchObject({ ok: true, request: { type: 'RETURN' } });
    expect(postingRequestFor(event('RETURN_RECEIVED', { returnId: 'ret-1' }), undefined)).toMatchObject({ ok: false });
  });

  it('ill-typed data is skipped, never thrown on', () => {
    for (const data of [{ amount: '12.00' }, { amount: 1.5 }, { amount: -3 }, { amount: Number.MAX_VALUE }, { amount: 0 }]) {
      expect(postingRequestFor(event('REFUND_ISSUED', data), undefined).ok).toBe(false);
    }
    expect(postingRequestFor(event('REFUND_ISSUED', { amount: 100 }, { orderId: undefined }), undefined).ok).toBe(false);
    expect(postingRequestFor(event('ORDER_CONFIRMED'), undefined).ok).toBe(false);
    expect(postingRequestFor(event('REFUND_ISSUED', { amount: 100, currency: 'euro' }), undefined)).toMatchObject({ ok: true, request: { amount: { currency: 'EUR' } } });
  });

  it('an order is sold once: only its first hand-over or shipment is a sale', () => {
    const placed = event('ORDER_PLACED', { total: 7_000, currency: 'EUR' });
    const first = event('ORDER_SHIPPED');
    const items = sourceItemsOf([placed, first, event('PICKED_UP', { total: 7_000 }), event('REFUND_ISSUED', { amount: 1_000 }), event('RETURN_RECEIVED', {})]);
    expect(items.map((i) => [i.type, i.amount.minor, i.eventId])).toEqual([
      ['SALE', 7_000, first.id],
      ['REFUND', 1_000, expect.any(String)],
    ]);
    expect(items[0]!.postingId).toBe(`post-${first.id}`);
  });
});
