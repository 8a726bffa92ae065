import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Address } from './records.js';

/*
 * The marketplace's shapes (its order notifications, our updates back, the stock we publish to it), shared by the
 * sandbox marketplace and the orders and inventory subgraphs' adapters, as the other systems' records are
 * (common/systems/records.ts).
 */

/** Where the marketplace posts its order notifications (the orders subgraph's route, and the gateway's in front of it). */
export const MARKETPLACE_WEBHOOK_PATH = '/webhooks/marketplace/orders';

/** The header a notification's signature comes in: `sha256=<hex HMAC-SHA256 of the raw body>`. */
export const MARKETPLACE_SIGNATURE_HEADER = 'x-marketplace-signature';

/**
 * What the marketplace pushes to our webhook, at least once and in no promised order: the order as it is at
 * `version` (1 when placed; every change by the buyer or the marketplace raises it).
 */
export interface MarketplaceOrderNotification {
  /** The marketplace's name, e.g. `MEGAMART`. */
  marketplace: string;
  externalOrderId: string;
  version: number;
  /** CREATED: a new order to accept; CANCELLED: the buyer cancelled it. */
  status: 'CREATED' | 'CANCELLED';
  /** ISO 8601: when the buyer placed it. */
  placedAt: string;
  lines: { sku: string; quantity: number }[];
  shippingAddress: Address;
}

/** What we told the marketplace about one of its orders. */
export type MarketplaceUpdateKind = 'ACKNOWLEDGED' | 'REJECTED' | 'SHIPPED' | 'CANCELLED';

/** One update we sent, kept once per `reference` (a repeat answers the first). */
export interface MarketplaceUpdateRecord {
  reference: string;
  externalOrderId: string;
  kind: MarketplaceUpdateKind;
  /** Our order, once there is one (a rejected notification has none). */
  orderId: string | null;
  orderNumber: string | null;
  /** REJECTED, CANCELLED: why. */
  reason: string | null;
  /** SHIPPED: the parcel. */
  carrier: string | null;
  trackingNumber: string | null;
  /** ISO 8601: when the marketplace recorded it. */
  at: string;
}

/** An order as the marketplace holds it: the buyer's latest version and every update we sent, in order. */
export interface MarketplaceOrderRecord {
  notification: MarketplaceOrderNotification;
  updates: MarketplaceUpdateRecord[];
}

/** The units of a SKU we offer on the marketplace, as last published. */
export interface MarketplaceListingRecord {
  sku: string;
  quantity: number;
  /** ISO 8601: when we computed it (a publication older than the listing's is ignored). */
  asOf: string;
  reference: string;
}

/** The signature the marketplace sends with `body` (the raw bytes it posts). */
export function signMarketplaceBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Whether `header` is the signature of `body` under `secret`, compared in constant time. */
export function verifyMarketplaceSignature(secret: string, body: string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signMarketplaceBody(secret, body));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
