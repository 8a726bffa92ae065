import type { CanonicalEvent, EventBackbone } from '../../../common/events.js';
import type { Logger } from '../../../common/logger.js';
import type { ExceptionRecord, ExceptionRegisterPort } from './ports.js';

/** The consuming group: one member per inventory instance, each event recorded by one of them. */
export const EXCEPTION_RECORDER_GROUP = 'inventory-exception-register';

/** The register's record of a STOCK_EXCEPTION_RAISED (OPEN, raised when its write was made). */
export function exceptionRecordOf(event: Extract<CanonicalEvent, { type: 'STOCK_EXCEPTION_RAISED' }>): ExceptionRecord {
  const d = event.data;
  return {
    id: d.exceptionId,
    kind: d.kind,
    status: 'OPEN',
    locationId: event.locationId ?? '',
    sku: event.sku ?? '',
    transactionId: d.transactionId,
    quantity: d.quantity,
    shortfall: d.shortfall,
    onHandShortfall: d.onHandShortfall,
    occurredAt: d.occurredAt,
    raisedAt: event.occurredAt,
    proposal: d.proposal.map((p) => ({ ...p })),
  };
}

/** The register's record of an ORDER_EXCEPTION_RAISED (OPEN, about the order; no stock fields). */
export function orderExceptionRecordOf(event: Extract<CanonicalEvent, { type: 'ORDER_EXCEPTION_RAISED' }>): ExceptionRecord {
  const d = event.data;
  return {
    id: d.exceptionId,
    kind: d.kind,
    status: 'OPEN',
    locationId: event.locationId ?? '',
    sku: event.sku ?? null,
    transactionId: null,
    quantity: null,
    shortfall: null,
    onHandShortfall: null,
    orderId: event.orderId ?? null,
    detail: d.detail,
    occurredAt: event.occurredAt,
    raisedAt: event.occurredAt,
    proposal: [],
  };
}

/**
 * Records every raised stock exception (and every order exception: ACK_WINDOW_MISSED, REROUTE_FAILED) in the register, durably: the backbone hands each event until the register
 * took it (after a crash too), and the register keeps the first record under an exception's id, so a repeat is
 * harmless. The event itself left with the write that raised it (the stock book's unannounced write), so an
 * exception is never lost between the till's sale and the register.
 */
export function startExceptionRecorder(backbone: Pick<EventBackbone, 'consume'>, register: ExceptionRegisterPort, logger?: Logger): () => void {
  return backbone.consume(EXCEPTION_RECORDER_GROUP, new Set(['STOCK_EXCEPTION_RAISED', 'ORDER_EXCEPTION_RAISED']), async (event) => {
    if (event.type === 'ORDER_EXCEPTION_RAISED') {
      await register.record(orderExceptionRecordOf(event));
      logger?.info({ exceptionId: event.data.exceptionId, kind: event.data.kind, orderId: event.orderId }, 'order exception recorded');
      return;
    }
    if (event.type !== 'STOCK_EXCEPTION_RAISED') return;
    await register.record(exceptionRecordOf(event));
    logger?.info({ exceptionId: event.data.exceptionId, kind: event.data.kind, locationId: event.locationId, sku: event.sku, shortfall: event.data.shortfall }, 'stock exception recorded');
  });
}
