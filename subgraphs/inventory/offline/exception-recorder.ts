import { assertNever, type CanonicalEvent, type EventBackbone } from '../../../common/events.js';
import type { Logger } from '../../../common/logger.js';
import type { ExceptionRecord, ExceptionRegisterPort } from './ports.js';

/** The consuming group: one member per inventory instance, each event recorded by one of them. */
export const EXCEPTION_RECORDER_GROUP = 'inventory-exception-register';

/** An event that raises an exception: a stock exception at a location, or an order exception. */
export type ExceptionEvent = Extract<CanonicalEvent, { type: 'STOCK_EXCEPTION_RAISED' | 'ORDER_EXCEPTION_RAISED' }>;

/**
 * The register's record of a raised exception (OPEN): a STOCK_EXCEPTION_RAISED with its stock fields and proposal
 * (raised when its write was made); an ORDER_EXCEPTION_RAISED about its order, with its detail and no stock fields.
 */
export function exceptionRecordOf(event: ExceptionEvent): ExceptionRecord {
  const base = { id: event.data.exceptionId, kind: event.data.kind, status: 'OPEN' as const, locationId: event.locationId ?? '', raisedAt: event.occurredAt };
  switch (event.type) {
    case 'STOCK_EXCEPTION_RAISED': {
      const d = event.data;
      return { ...base, sku: event.sku ?? '', transactionId: d.transactionId, quantity: d.quantity, shortfall: d.shortfall, onHandShortfall: d.onHandShortfall, occurredAt: d.occurredAt, proposal: d.proposal.map((p) => ({ ...p })) };
    }
    case 'ORDER_EXCEPTION_RAISED':
      return { ...base, sku: event.sku ?? null, transactionId: null, quantity: null, shortfall: null, onHandShortfall: null, orderId: event.orderId ?? null, detail: event.data.detail, occurredAt: event.occurredAt, proposal: [] };
    default:
      return assertNever(event);
  }
}

/**
 * Records every raised exception (stock: OVERSOLD; order: ACK_WINDOW_MISSED, REROUTE_FAILED) in the register,
 * durably: the backbone hands each event until the register took it (after a crash too), and the register keeps the
 * first record under an exception's id, so a repeat is harmless. The event itself left with the write that raised it (the stock book's unannounced write), so an
 * exception is never lost between the till's sale and the register.
 */
export function startExceptionRecorder(backbone: Pick<EventBackbone, 'consume'>, register: ExceptionRegisterPort, logger?: Logger): () => void {
  return backbone.consume(EXCEPTION_RECORDER_GROUP, new Set(['STOCK_EXCEPTION_RAISED', 'ORDER_EXCEPTION_RAISED']), async (event) => {
    if (event.type !== 'STOCK_EXCEPTION_RAISED' && event.type !== 'ORDER_EXCEPTION_RAISED') return;
    const record = await register.record(exceptionRecordOf(event));
    logger?.info({ exceptionId: record.id, kind: record.kind, locationId: record.locationId, sku: record.sku, orderId: record.orderId, shortfall: record.shortfall }, 'exception recorded');
  });
}
