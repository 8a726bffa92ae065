/*
 * The exception register of order management (the e-commerce system's): business exceptions that need a person,
 * raised by the flows that detect them (an offline store sale of units that were promised online: OVERSOLD), each
 * with the compensation proposed. One register for every kind, so that later kinds (a marketplace's missed window,
 * a failed reroute) land beside it.
 */

export const EXCEPTION_KINDS = ['OVERSOLD'] as const;
export type ExceptionKind = (typeof EXCEPTION_KINDS)[number];

export const EXCEPTION_STATUSES = ['OPEN', 'RESOLVED'] as const;
export type ExceptionStatus = (typeof EXCEPTION_STATUSES)[number];

/** What to do with one open online order to make up for an exception. */
export interface CompensationRecord {
  orderId: string;
  orderNumber: string;
  /** Units of the exception's SKU the order holds at the location. */
  quantity: number;
  action: 'REROUTE' | 'CANCEL';
  /** REROUTE: where the units are sellable now. */
  rerouteLocationId: string | null;
}

export interface ExceptionRecord {
  /** Derived from what raised it (the location and the write), so that recording it again changes nothing. */
  id: string;
  kind: ExceptionKind;
  status: ExceptionStatus;
  locationId: string;
  sku: string;
  /** The id of the transaction that raised it (the POS's, for OVERSOLD). */
  transactionId: string;
  /** Units the transaction moved of the SKU, of which `shortfall` were not sellable, `onHandShortfall` not even on hand. */
  quantity: number;
  shortfall: number;
  onHandShortfall: number;
  /** ISO 8601: when the transaction happened (the till's time). */
  occurredAt: string;
  /** ISO 8601: when it was raised (recorded by the synchronisation). */
  raisedAt: string;
  /** Newest order first. */
  proposal: CompensationRecord[];
}

export interface ExceptionQuery {
  kind?: ExceptionKind | null;
  status?: ExceptionStatus | null;
  locationId?: string | null;
  /** At most this many, newest raised first. */
  limit: number;
}
