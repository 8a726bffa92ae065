import { describe, expect, it } from 'vitest';
import { exceptionRecordOf } from './exception-recorder.js';
import { eventsOfWrite, exceptionIdOf } from '../writes/events.js';
import type { UnannouncedStockWrite } from '../writes/ports.js';

/** An offline sale's write as the stock book keeps it until announced (the writer's, or recovery's after a crash). */
const write = (extra: Partial<Extract<UnannouncedStockWrite, { kind: 'ADJUSTED' }>> = {}): Extract<UnannouncedStockWrite, { kind: 'ADJUSTED' }> => ({
  kind: 'ADJUSTED',
  id: 'adjusted:pos-txn:till-1:0',
  locationId: 'store-007',
  at: '2026-03-01T12:00:00.000Z',
  correlationId: 'corr-sync',
  sku: 'SKU-1',
  reason: 'SALE',
  movement: { onHandDelta: -2 },
  record: { sku: 'SKU-1', locationId: 'store-007', onHand: 0, committed: 2, reserved: 0, damaged: 0 },
  previousOnHand: 2,
  occurredAt: '2026-03-01T09:30:00.000Z',
  ...extra,
});
const exception = { kind: 'OVERSOLD' as const, transactionId: 'till-1', quantity: 2, shortfall: 2, onHandShortfall: 0, proposal: [{ orderId: 'ord-w-9', orderNumber: 'W0000009', quantity: 2, action: 'REROUTE' as const, rerouteLocationId: 'store-002' }] };

describe('the events of an offline sale', () => {
  it('an adjustment keeps the till’s time in its data; the envelope says when it was recorded', () => {
    const [adjusted, ...rest] = eventsOfWrite(write(), null);
    expect(rest).toEqual([]);
    expect(adjusted).toMatchObject({ type: 'INVENTORY_ADJUSTED', occurredAt: '2026-03-01T12:00:00.000Z', source: 'POS', locationId: 'store-007', sku: 'SKU-1', data: { reason: 'SALE', delta: -2, onHand: 0, occurredAt: '2026-03-01T09:30:00.000Z' } });
  });

  it('an oversold sale raises STOCK_EXCEPTION_RAISED after its adjustment, with the proposal the write kept', () => {
    const events = eventsOfWrite(write({ exception }), null);
    expect(events.map((e) => e.type)).toEqual(['INVENTORY_ADJUSTED', 'STOCK_EXCEPTION_RAISED']);
    expect(events[1]).toMatchObject({
      source: 'POS',
      locationId: 'store-007',
      sku: 'SKU-1',
      correlationId: 'corr-sync',
      data: { exceptionId: exceptionIdOf(write()), kind: 'OVERSOLD', transactionId: 'till-1', shortfall: 2, occurredAt: '2026-03-01T09:30:00.000Z', proposal: exception.proposal },
    });
  });

  it('the writer and recovery (a later `at`) build the same ids, so the backbone delivers them once', () => {
    const now = eventsOfWrite(write({ exception }), null).map((e) => e.id);
    const recovered = eventsOfWrite(write({ exception, at: '2026-03-01T12:00:20.000Z' }), null).map((e) => e.id);
    expect(recovered).toEqual(now);
    expect(new Set(now).size).toBe(2);
    // Another line of the transaction is another write, another exception.
    expect(exceptionIdOf({ locationId: 'store-007', id: 'adjusted:pos-txn:till-1:1' })).not.toBe(exceptionIdOf(write()));
  });

  it('the register records the exception OPEN, raised when its write was made', () => {
    const raised = eventsOfWrite(write({ exception }), null)[1]!;
    if (raised.type !== 'STOCK_EXCEPTION_RAISED') throw new Error('not the exception');
    expect(exceptionRecordOf(raised)).toEqual({
      id: exceptionIdOf(write()),
      kind: 'OVERSOLD',
      status: 'OPEN',
      locationId: 'store-007',
      sku: 'SKU-1',
      transactionId: 'till-1',
      quantity: 2,
      shortfall: 2,
      onHandShortfall: 0,
      occurredAt: '2026-03-01T09:30:00.000Z',
      raisedAt: '2026-03-01T12:00:00.000Z',
      proposal: exception.proposal,
    });
  });
});
