import type { ExceptionQuery, ExceptionRecord } from '../../../common/systems/exceptions.js';

export type { ExceptionQuery, ExceptionRecord };

/*
 * What offline store sales need beyond the stock writes: the online orders that hold units at a store (to propose
 * which to cancel or reroute when an offline sale took them), and the exception register the proposal is kept in.
 */

/** An open online order's units of one SKU committed at a location. */
export interface CommittedOrder {
  orderId: string;
  orderNumber: string;
  /** ISO 8601. */
  placedAt: string;
  quantity: number;
  /** Collected at the location (else shipped from it): a reroute must be to another pickup store. */
  pickup: boolean;
}

/**
 * The open online orders (PLACED or CONFIRMED; pickup at the store or shipped from it) holding units at a location.
 * System of record: e-commerce (till sales are the POS's and handed over at once, so they hold nothing).
 *
 * Contract: one list per SKU, in `skus` order, newest placed first ([] when none). A failure rejects with a
 * `SystemUnavailableError` (`ECOM_UNAVAILABLE`).
 */
export interface CommittedOrdersPort {
  openOrdersAt(locationId: string, skus: readonly string[]): Promise<CommittedOrder[][]>;
}

/**
 * The exception register (order management's). `record` is idempotent by id (a repeat answers the first record and
 * changes nothing); `list` answers newest raised first. A failure rejects with a `SystemUnavailableError`.
 */
export interface ExceptionRegisterPort {
  record(exception: ExceptionRecord): Promise<ExceptionRecord>;
  list(query: ExceptionQuery): Promise<ExceptionRecord[]>;
}
