import { assertNever, createEvent, type CanonicalEvent, type EventDataByType, type EventSource } from '../../../common/events.js';
import type { StockPolicy } from '../ports.js';
import { locationKindOf, toStockLevel, type StockLevel } from '../stock.js';
import type { UnannouncedStockWrite } from './ports.js';
import { shortDigest } from '../../../common/digest.js';

/*
 * The canonical events of stock writes. Each carries the SKU and location it is about, the correlation id of
 * the request that caused it, and `data.quantity` (units moved, never negative) that timeline summaries read.
 * They are built from the write as the system of record keeps it until announced (UnannouncedStockWrite), by
 * the writer right after the write and, had it died first, by recovery: the same ids either way, so that the
 * backbone delivers a write's events once whoever hands them over, and however often.
 */

/** Stores are the POS's, warehouses the WMS's. */
export const stockSourceOf = (locationId: string): EventSource => (locationKindOf(locationId) === 'WAREHOUSE' ? 'WMS' : 'POS');

type StockEventType = 'INVENTORY_ADJUSTED' | 'INVENTORY_RESERVED' | 'INVENTORY_RELEASED' | 'STOCK_EXCEPTION_RAISED';

function stockEvent<T extends StockEventType>(type: T, id: string, write: UnannouncedStockWrite, sku: string, data: EventDataByType[T]): CanonicalEvent {
  return createEvent(type, data, { id, source: stockSourceOf(write.locationId), occurredAt: write.at, correlationId: write.correlationId ?? undefined, sku, locationId: write.locationId });
}

/** The id of the `index`-th event of a write: the location and the write's id name it once. */
const eventIdOf = (write: UnannouncedStockWrite, index: number): string =>
  `evt-sw-${shortDigest(`${write.locationId}\0${write.id}`)}-${index}`;

/** The id of the stock exception an adjustment raised: the location and the write's id name it once. */
export const exceptionIdOf = (write: Pick<UnannouncedStockWrite, 'locationId' | 'id'>): string =>
  `exc-${shortDigest(`${write.locationId}\0${write.id}`)}`;

/** The level an adjustment left, as its event and its answer state it. */
export function adjustedLevel(write: Extract<UnannouncedStockWrite, { kind: 'ADJUSTED' }>, policy: StockPolicy | null): StockLevel {
  return toStockLevel(write.record, policy, write.at);
}

/**
 * The events of one write: one INVENTORY_ADJUSTED for an adjustment (and a STOCK_EXCEPTION_RAISED after it when
 * the adjustment raised one, e.g. an offline sale of units promised online); one INVENTORY_RESERVED per line of a
 * reservation; one INVENTORY_RELEASED per line of one that ended (`RELEASED` by a client, or `EXPIRED`). `policy`
 * is the adjusted SKU's at its location (for `available`); the others ignore it.
 */
export function eventsOfWrite(write: UnannouncedStockWrite, policy: StockPolicy | null): CanonicalEvent[] {
  switch (write.kind) {
    case 'ADJUSTED': {
      const level = adjustedLevel(write, policy);
      const onHandDelta = write.record.onHand - write.previousOnHand;
      const damagedDelta = write.movement.damagedDelta ?? 0;
      const delta = write.movement.countedOnHand !== undefined ? onHandDelta : (write.movement.onHandDelta ?? damagedDelta);
      const data = { reason: write.reason ?? 'UNKNOWN', delta, quantity: Math.abs(delta), onHandDelta, damagedDelta, onHand: level.onHand, damaged: level.damaged, available: level.available, ...(write.occurredAt && { occurredAt: write.occurredAt }) };
      const adjusted = stockEvent('INVENTORY_ADJUSTED', eventIdOf(write, 0), write, write.sku, data);
      const exception = write.exception;
      if (!exception) return [adjusted];
      // Built from the write like its adjustment, so that recovery raises it too, under the same id.
      const raised = stockEvent('STOCK_EXCEPTION_RAISED', eventIdOf(write, 1), write, write.sku, {
        exceptionId: exceptionIdOf(write),
        kind: exception.kind,
        transactionId: exception.transactionId,
        quantity: exception.quantity,
        shortfall: exception.shortfall,
        onHandShortfall: exception.onHandShortfall,
        occurredAt: write.occurredAt ?? write.at,
        proposal: exception.proposal.map((p) => ({ ...p })),
      });
      return [adjusted, raised];
    }
    case 'RESERVED': {
      const { id: reservationId, expiresAt } = write.reservation;
      return write.reservation.lines.map((line, i) => stockEvent('INVENTORY_RESERVED', eventIdOf(write, i), write, line.sku, { quantity: line.quantity, reservationId, expiresAt }));
    }
    case 'RELEASED':
    case 'EXPIRED': {
      const reason = write.kind;
      return write.reservation.lines.map((line, i) => stockEvent('INVENTORY_RELEASED', eventIdOf(write, i), write, line.sku, { quantity: line.quantity, reservationId: write.reservation.id, reason }));
    }
    default:
      return assertNever(write);
  }
}
