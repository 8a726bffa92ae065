/**
 * Records as the systems of record (ERP, POS, WMS, CRM, PSP, e-commerce) hold them: the systems' own shapes, not
 * the graph's; each subgraph maps them through its ports. The sandbox plays these systems with these shapes, and
 * a connector to a real one answers them too, so they live here and not in `sandbox/`. Money is integer minor units.
 */

export type Channel = 'WEB' | 'MOBILE' | 'STORE' | 'MARKETPLACE' | 'CALL_CENTER';
export type DeliveryMethod = 'SHIPPING' | 'PICKUP' | 'SHIP_FROM_STORE';
export type OrderStatus =
  | 'PLACED'
  | 'CONFIRMED'
  | 'READY_FOR_PICKUP'
  | 'PICKED_UP'
  | 'SHIPPED'
  | 'DELIVERED'
  | 'CANCELLED'
  | 'PARTIALLY_RETURNED'
  | 'RETURNED';
export type LocationType = 'STORE' | 'WAREHOUSE';
/** Whether a variant may still be sold: the ERP keeps a discontinued item in its master rather than delete it. */
export type ItemStatus = 'ACTIVE' | 'DISCONTINUED';

export interface ErpProduct {
  id: string;
  name: string;
  description: string;
  brand: string;
  category: string;
  skus: string[];
}

export interface ErpVariant {
  sku: string;
  productId: string;
  name: string;
  color: string;
  size: string;
  priceMinor: number;
  currency: string;
  status: ItemStatus;
}

export interface Address {
  line1: string;
  city: string;
  postalCode: string;
  country: string;
}

export interface SiteRecord {
  id: string;
  name: string;
  type: LocationType;
  pickupEnabled: boolean;
  address: Address;
}

/** Stock as the operational system (POS for stores, WMS for warehouses) counts it. */
export interface StockRecord {
  sku: string;
  locationId: string;
  onHand: number;
  committed: number;
  reserved: number;
  damaged: number;
}

/** What the ERP plans for a SKU at a location: policy and transfers, not physical stock. */
export interface StockPolicy {
  sku: string;
  locationId: string;
  safetyStock: number;
  incoming: number;
}

export interface StockKey {
  sku: string;
  locationId: string;
}

export interface CustomerRecord {
  id: string;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  loyaltyTier: 'BRONZE' | 'SILVER' | 'GOLD' | 'PLATINUM';
  loyaltyPoints: number;
  consentEmail: boolean;
  consentSms: boolean;
  createdAt: string;
}

/** A loyalty ledger entry of the CRM: points earned on an order, or reversed on a return of it. */
export interface LoyaltyEntryRecord {
  /** The caller's idempotency reference (e.g. `loy-<orderId>-earn`): one entry per reference. */
  reference: string;
  customerId: string;
  kind: 'EARNED' | 'REVERSED';
  /** Always positive; `kind` says which way it moved the balance. */
  points: number;
  orderId: string;
  returnId: string | null;
  /** The customer's balance right after this entry. */
  balance: number;
  /** ISO 8601: when the CRM booked it. */
  postedAt: string;
}

/** A loyalty posting as a caller asks the CRM for it. */
export interface LoyaltyPostingRequest {
  reference: string;
  customerId: string;
  kind: LoyaltyEntryRecord['kind'];
  points: number;
  orderId: string;
  returnId?: string | null;
}

export interface OrderLineRecord {
  sku: string;
  quantity: number;
  unitPriceMinor: number;
  /** The tax included in the line's total (prices are tax-inclusive), rounded per line; absent before tax was quoted. */
  taxMinor?: number;
  /** The line's tax rate in basis points (1900 = 19 %). */
  taxRateBp?: number;
}

/** How an order's tax was found (see README "Tax from a tax engine"). */
export interface OrderTaxRecord {
  /** CALCULATED: the tax engine quoted it; ESTIMATED: the engine could not answer and the outage policy estimated it. */
  status: 'CALCULATED' | 'ESTIMATED';
  /** ENGINE, or for an estimate LAST_RATE (a recent quote for the same country and postal prefix) or DEFAULT_RATE. */
  basis: 'ENGINE' | 'LAST_RATE' | 'DEFAULT_RATE';
  /** An estimate is flagged for a person to check. */
  reviewRequired: boolean;
  country: string;
  postalCode: string;
  /** The engine's jurisdiction (`DE`, `US-CA`); for an estimate, the one its rate came from, else the country. */
  jurisdiction: string;
  /** Sum of the lines' tax. */
  taxMinor: number;
}

export interface OrderRecord {
  id: string;
  number: string;
  customerId: string | null;
  channel: Channel;
  deliveryMethod: DeliveryMethod;
  status: OrderStatus;
  pickupLocationId: string | null;
  fulfillmentLocationId: string;
  lines: OrderLineRecord[];
  currency: string;
  totalMinor: number;
  placedAt: string;
  correlationId: string;
  /**
   * The move that set the current status, when its caller gave a reference: a repeat of that move (its answer was
   * lost) is answered as done, and `settled` says whether the caller finished what follows the move.
   */
  lastMove?: OrderMoveRecord | null;
  /**
   * The last change of its pickup store by reference (see moveOrderLocation): unsettled until the caller has handed
   * over its events, so that a retry or recovery says them (once: their ids are the reference's).
   */
  lastRelocation?: OrderRelocationRecord | null;
  /** The reference of the checkout that placed it, under which its stock was committed. */
  checkoutReference?: string | null;
  /** How its tax was found, when checkout quoted it (orders from before tax have none). */
  tax?: OrderTaxRecord | null;
  /** Where a shipped order goes, when the checkout was given an address. */
  shippingAddress?: Address | null;
  /** A marketplace order: which marketplace's, its id there and its acknowledgement window. */
  marketplace?: OrderMarketplaceRecord | null;
  /**
   * A split order's shipments (two or more, the first at `fulfillmentLocationId`), each with its own lines and
   * status; absent on an order shipped from one location.
   */
  fulfillments?: FulfillmentPartRecord[] | null;
}

/** One shipment of a split order: what leaves one location, committed there under the order's checkout reference. */
export interface FulfillmentPartRecord {
  /** `f1`, `f2`, … in routing order (nearest first). */
  id: string;
  locationId: string;
  lines: { sku: string; quantity: number }[];
  status: 'OPEN' | 'SHIPPED' | 'CANCELLED';
  /** The WMS shipment it left in, once SHIPPED. */
  shipmentId?: string | null;
}

/** Copies of `parts`, lines and all: parts change in place when they ship, so no two owners share one. */
export const copyFulfillments = (parts: readonly FulfillmentPartRecord[]): FulfillmentPartRecord[] => parts.map((p) => ({ ...p, lines: p.lines.map((l) => ({ ...l })) }));

/** Where a marketplace order came from (subgraphs/orders/marketplace). */
export interface OrderMarketplaceRecord {
  /** The marketplace's name, e.g. `MEGAMART`. */
  name: string;
  externalOrderId: string;
  /** ISO 8601: when our webhook accepted its notification. */
  receivedAt: string;
  /** ISO 8601: by when the marketplace wants it acknowledged (`receivedAt` + MARKETPLACE_ACK_WINDOW_MS). */
  acknowledgeBy: string;
}

/** A change of a pickup order's store by reference (see OrderRecord.lastRelocation). */
export interface OrderRelocationRecord {
  reference: string;
  fromLocationId: string;
  toLocationId: string;
  settled: boolean;
  /** ISO 8601: when it was made. */
  at: string;
}

/** A status move by reference (see OrderRecord.lastMove). */
export interface OrderMoveRecord {
  reference: string;
  from: OrderStatus;
  settled: boolean;
  /** ISO 8601: when the move was made (an unsettled move long after it is one whose caller died). */
  at?: string;
}

export interface ShipmentRecord {
  id: string;
  orderId: string;
  status: 'PENDING' | 'SHIPPED' | 'DELIVERED';
  carrier: string;
  trackingNumber: string;
  shippedAt: string | null;
  deliveredAt: string | null;
}

export interface ReturnRecord {
  id: string;
  orderId: string;
  status: 'REQUESTED' | 'RECEIVED' | 'REFUNDED';
  reason: string;
  lines: { sku: string; quantity: number }[];
  requestedAt: string;
  receivedAt: string | null;
}

export interface PaymentRecord {
  id: string;
  orderId: string;
  status: 'AUTHORIZED' | 'CAPTURED' | 'VOIDED' | 'DECLINED';
  method: 'CARD' | 'PAYPAL' | 'KLARNA' | 'GIFT_CARD' | 'CASH';
  amountMinor: number;
  currency: string;
  createdAt: string;
  /** The caller's reference of the authorization (checkout's), which makes a repeat answer the first. */
  reference?: string;
}

export interface RefundRecord {
  id: string;
  orderId: string;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  amountMinor: number;
  currency: string;
  reason: string;
  createdAt: string;
}

export interface InvoiceRecord {
  id: string;
  orderId: string;
  number: string;
  status: 'ISSUED' | 'PAID' | 'CREDITED';
  totalMinor: number;
  currency: string;
  issuedAt: string;
  /** The tax included in the total; absent on invoices issued before tax. */
  taxMinor?: number | null;
}

export interface PostingRecord {
  id: string;
  orderId: string;
  type: 'SALE' | 'REFUND' | 'RETURN';
  status: 'PENDING' | 'POSTED' | 'FAILED' | 'DEAD_LETTER';
  attempts: number;
  amountMinor: number;
  currency: string;
  /** The tax included in the amount (the tax payable booked); absent on postings from before tax. */
  taxMinor?: number | null;
  erpDocumentNumber: string | null;
  lastError: string | null;
  postedAt: string | null;
  createdAt: string;
}
