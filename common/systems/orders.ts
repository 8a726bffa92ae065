import type { ReturnRecord } from './records.js';

/* The order books' (POS, e-commerce), the WMS's shipments' and the PSP's refunds' requests and answers. */

/** A compare-and-swap write: the record as written, or (not ok) as it is now, null when unknown. */
export type CasResult<T> = { ok: true; record: T } | { ok: false; record: T | null };

export interface ReturnRequest {
  orderId: string;
  reason: string;
  lines: readonly { sku: string; quantity: number }[];
  requestedAt: string;
}

/** NOT_RETURNABLE lists the refused lines with the units of that SKU still returnable. */
export type ReturnRequestResult =
  | { ok: true; record: ReturnRecord }
  | { ok: false; reason: 'UNKNOWN_ORDER' | 'NOT_RETURNABLE'; lines: { sku: string; returnable: number }[] };

/** A shipment as the WMS records it when the carrier takes the parcel. */
export interface ShipmentRequest {
  orderId: string;
  carrier: string;
  trackingNumber: string;
  shippedAt: string;
}

export interface RefundRequest {
  orderId: string;
  amountMinor: number;
  currency: string;
  reason: string;
  /** The caller's reference (e.g. a return id): the PSP answers a second refund with the same reference with the first. */
  reference: string;
  createdAt: string;
}
