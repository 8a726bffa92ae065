/*
 * The exception register of order management (the e-commerce system's): business exceptions that need a person,
 * raised by the flows that detect them (an offline store sale of units that were promised online: OVERSOLD), each
 * with the compensation proposed. One register for every kind: OVERSOLD (a stock exception, about a SKU at a
 * location), ACK_WINDOW_MISSED (a marketplace order not acknowledged in its window) and REROUTE_FAILED (a pick
 * shortage nowhere else could take), the last two about an order. The stock-specific fields are null on order
 * exceptions.
 */

export const EXCEPTION_KINDS = ['OVERSOLD', 'ACK_WINDOW_MISSED', 'REROUTE_FAILED'] as const;
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
  /** Where it happened: the store of an OVERSOLD sale; the order's fulfilment location for an order exception. */
  locationId: string;
  /** The SKU (OVERSOLD; REROUTE_FAILED: the first short line's); null on exceptions about a whole order. */
  sku: string | null;
  /** The id of the transaction that raised it (the POS's, for OVERSOLD); null on order exceptions. */
  transactionId: string | null;
  /** Units the transaction moved of the SKU, of which `shortfall` were not sellable, `onHandShortfall` not even on hand (OVERSOLD; else null). */
  quantity: number | null;
  shortfall: number | null;
  onHandShortfall: number | null;
  /** The order it is about (ACK_WINDOW_MISSED, REROUTE_FAILED); null or absent for OVERSOLD. */
  orderId?: string | null | undefined;
  /** What a person needs to know, in a sentence (e.g. which lines no location could take). */
  detail?: string | null | undefined;
  /** ISO 8601: when what raised it happened (the till's time; the window's end; the shortage's report). */
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
