import { describe, expect, it } from 'vitest';
import type { EventDataByType, EventMeta, EventType } from '../../../common/events.js';
import { testEvent } from '../../../test/support/events.js';
import { postingRequestFor, sourceItemsOf } from './intake.js';

let seq = 0;
const event = <T extends EventType>(type: T, data: Partial<EventDataByType[T]> = {}, meta: Partial<EventMeta> = {}) =>
  testEvent(type, data, { source: 'POS', occurredAt: `2026-03-01T10:00:${String(++seq % 60).padStart(2, '0')}.000Z`, correlationId: 'corr-1', orderId: 'ord-1', ...meta });

describe('intake: which events book what', () => {
  it('a hand-over is a SALE of its total, posting id derived from the event id, correlation carried', () => {
    const e = event('PICKED_UP', { total: 12_345, currency: 'EUR' });
    expect(postingRequestFor(e)).toEqual({
      ok: true,
      request: { id: `post-${e.id}`, orderId: 'ord-1', type: 'SALE', amount: { minor: 12_345, currency: 'EUR' }, sourceEventId: e.id, sourceType: 'PICKED_UP', sourceOccurredAt: e.occurredAt, correlationId: 'corr-1' },
    });
  });

  it('a shipment books its own total and currency', () => {
    const shipped = event('ORDER_SHIPPED', { total: 5_000, currency: 'CHF' });
    expect(postingRequestFor(shipped)).toMatchObject({ ok: true, request: { type: 'SALE', amount: { minor: 5_000, currency: 'CHF' }, sourceType: 'ORDER_SHIPPED' } });
  });

  it('a refund books its amount in its own currency; a return receipt books nothing', () => {
    expect(postingRequestFor(event('REFUND_ISSUED', { amount: 999, currency: 'EUR' }))).toMatchObject({ ok: true, request: { type: 'REFUND', amount: { minor: 999, currency: 'EUR' } } });
    expect(postingRequestFor(event('REFUND_ISSUED', { amount: 1_250, currency: 'GBP' }))).toMatchObject({ ok: true, request: { type: 'REFUND', amount: { minor: 1_250, currency: 'GBP' } } });
    expect(postingRequestFor(event('RETURN_RECEIVED', { returnId: 'ret-1' }))).toMatchObject({ ok: false, reason: expect.stringContaining('no amount') });
  });

  it('books nothing for an event without an order, a non-positive amount, or a type that is not money', () => {
    expect(postingRequestFor(event('REFUND_ISSUED', { amount: 100 }, { orderId: undefined }))).toMatchObject({ ok: false, reason: expect.stringContaining('names no order') });
    for (const amount of [0, -3, 1.5]) expect(postingRequestFor(event('REFUND_ISSUED', { amount })).ok).toBe(false);
    for (const type of ['ORDER_PLACED', 'ORDER_CONFIRMED', 'ORDER_CANCELLED', 'INVOICE_ISSUED', 'JOURNAL_POSTED'] as const) {
      expect(postingRequestFor(event(type))).toMatchObject({ ok: false, reason: `${type} books nothing` });
    }
  });

  it('an order is sold once: only its first hand-over or shipment is a sale', () => {
    const placed = event('ORDER_PLACED', { total: 7_000, currency: 'EUR' });
    const first = event('ORDER_SHIPPED', { total: 7_000, currency: 'EUR' });
    const items = sourceItemsOf([placed, first, event('PICKED_UP', { total: 7_000 }), event('REFUND_ISSUED', { amount: 1_000 }), event('RETURN_RECEIVED')]);
    expect(items.map((i) => [i.type, i.amount.minor, i.eventId])).toEqual([
      ['SALE', 7_000, first.id],
      ['REFUND', 1_000, expect.any(String)],
    ]);
    expect(items[0]!.postingId).toBe(`post-${first.id}`);
  });
});
