import type { CanonicalEvent } from '../../common/events.js';
import type { MoneyValue } from '../../common/money.js';
import type { SystemName } from '../../common/resilience.js';
import type { Address, FulfillmentPartRecord, OrderMarketplaceRecord, OrderTaxRecord } from '../../common/systems/records.js';

export type OrderStatusCode = 'PLACED' | 'CONFIRMED' | 'READY_FOR_PICKUP' | 'PICKED_UP' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED' | 'PARTIALLY_RETURNED' | 'RETURNED';
export type ChannelCode = 'WEB' | 'MOBILE' | 'STORE' | 'MARKETPLACE' | 'CALL_CENTER';
export type DeliveryMethodCode = 'SHIPPING' | 'PICKUP' | 'SHIP_FROM_STORE';
export type ShipmentStatusCode = 'PENDING' | 'SHIPPED' | 'DELIVERED';
export type ReturnStatusCode = 'REQUESTED' | 'RECEIVED' | 'REFUNDED';

/** The two order-taking systems: the POS holds till sales (channel STORE), e-commerce every other channel. */
export type OrderSystem = Extract<SystemName, 'pos' | 'ecom'>;

export interface SalesOrderLine {
  sku: string;
  quantity: number;
  unitPrice: MoneyValue;
  /** The tax included in the line's total, rounded per line (minor units); absent on orders placed before tax. */
  taxMinor?: number | undefined;
  /** The line's tax rate in basis points (1900 = 19 %). */
  taxRateBp?: number | undefined;
}

/** An order as the graph sees it, whichever of the two order systems holds it. */
export interface SalesOrder {
  id: string;
  number: string;
  status: OrderStatusCode;
  channel: ChannelCode;
  deliveryMethod: DeliveryMethodCode;
  /** Null for anonymous till sales. */
  customerId: string | null;
  /** Set only for PICKUP orders. */
  pickupLocationId: string | null;
  fulfillmentLocationId: string;
  lines: SalesOrderLine[];
  /** The total the order system recorded; the graph's `total` is the sum of the lines, which must equal it. */
  total: MoneyValue;
  /** ISO 8601 instant. */
  placedAt: string;
  correlationId: string;
  /** The move by reference that set the status (see common/systems/records.ts OrderRecord.lastMove). */
  lastMove?: { reference: string; from: OrderStatusCode; settled: boolean; at?: string } | null;
  /** The last change of its pickup store by reference (see common/systems/records.ts OrderRecord.lastRelocation). */
  lastRelocation?: { reference: string; fromLocationId: string; toLocationId: string; settled: boolean; at: string } | null;
  /** The reference of the checkout that placed it (its stock commitment's), when it has one. */
  checkoutReference?: string | null;
  /** How checkout found its tax (prices are tax-inclusive: the tax is part of `total`); null on orders placed before tax. */
  tax?: OrderTaxRecord | null;
  /** Where a shipped order goes, when the checkout was given an address. */
  shippingAddress?: Address | null;
  /** Where a marketplace order came from (channel MARKETPLACE, through the webhook). */
  marketplace?: OrderMarketplaceRecord | null;
  /** A split order's shipments (see common/systems/records.ts); read through `fulfillmentsOf(order)`, which answers one part for the others. */
  fulfillments?: FulfillmentPartRecord[] | null;
}

export interface OrderShipment {
  id: string;
  orderId: string;
  status: ShipmentStatusCode;
  carrier: string;
  /** Null until the carrier has assigned one. */
  trackingNumber: string | null;
  shippedAt: string | null;
  deliveredAt: string | null;
}

export interface OrderReturn {
  id: string;
  orderId: string;
  status: ReturnStatusCode;
  reason: string;
  lines: { sku: string; quantity: number }[];
  requestedAt: string;
  receivedAt: string | null;
}

/**
 * One order-taking system's order book (read side): the POS for till sales, e-commerce for web, mobile,
 * marketplace and call-centre orders. The subgraph holds one per {@link OrderSystem} and routes every id or
 * number to the system that owns it, so a system only ever sees its own keys. Writes (placing, cancelling,
 * handing over, returning) belong beside these methods.
 *
 * Contract: every method takes many keys and answers in a single call to the system, one entry per key in key
 * order (null or [] for an unknown key). A system failure rejects with a `SystemUnavailableError`
 * (`POS_UNAVAILABLE` or `ECOM_UNAVAILABLE`).
 */
export interface OrderBookPort {
  getOrders(ids: readonly string[]): Promise<(SalesOrder | null)[]>;
  getOrdersByNumber(numbers: readonly string[]): Promise<(SalesOrder | null)[]>;
  /** Every order of each customer in this system, newest first. */
  getOrdersByCustomer(customerIds: readonly string[]): Promise<SalesOrder[][]>;
  /** Returns of each order, as the system that holds the order records them. */
  getReturnsByOrder(orderIds: readonly string[]): Promise<OrderReturn[][]>;
}

export type OrderBooks = Readonly<Record<OrderSystem, OrderBookPort>>;

/**
 * Pickup orders waiting to be handed over at a location: CONFIRMED or READY_FOR_PICKUP, oldest first. System of
 * record: e-commerce (a till sale is handed over at the till, so the POS never has a queue).
 *
 * Contract: one call for many locations, one list per location id in key order ([] for an unknown location).
 * A failure rejects with a `SystemUnavailableError` (`ECOM_UNAVAILABLE`).
 */
export interface PickupQueuePort {
  getPickupQueue(locationIds: readonly string[]): Promise<SalesOrder[][]>;
}

/**
 * Shipments of orders, whichever system took the order. System of record: the WMS.
 *
 * Contract: one call for many orders, one list per order id in key order ([] when nothing was shipped or the
 * order is unknown). A failure rejects with a `SystemUnavailableError` (`WMS_UNAVAILABLE`).
 */
export interface ShipmentPort {
  getShipmentsByOrder(orderIds: readonly string[]): Promise<OrderShipment[][]>;
}

/**
 * The canonical events of orders, as the event backbone logs them: the only source of `Order.timeline`.
 *
 * Contract: one read for many orders, one list per order id in key order, oldest first ([] for an order with
 * no events). A failure rejects with a GraphQLError whose `extensions.code` is `EVENTS_UNAVAILABLE`.
 */
export interface OrderEventLogPort {
  eventsForOrders(orderIds: readonly string[]): Promise<CanonicalEvent[][]>;
}

/** Everything the orders subgraph reads through. */
/** Orders not yet completed or cancelled: the statuses an order waits in. */
export const OPEN_ORDER_STATUSES = ['PLACED', 'CONFIRMED', 'READY_FOR_PICKUP', 'SHIPPED'] as const satisfies readonly OrderStatusCode[];

/** How many orders wait in each open status, since when the oldest waits, and the oldest orders themselves. */
export interface OpenOrders {
  byStatus: { status: OrderStatusCode; count: number; oldestPlacedAt: string | null }[];
  /** The oldest open orders, oldest first. */
  oldest: SalesOrder[];
}

/**
 * Order aging across every order-taking system (the operations console, `retail_open_orders`). Systems of record:
 * the POS and e-commerce, one call each.
 *
 * Contract: `oldest` (0 to 100) orders at most; a failure of either system rejects with its `SystemUnavailableError`.
 */
export interface OrderAgingPort {
  openOrders(oldest: number): Promise<OpenOrders>;
}

export interface OrdersPorts {
  orderBooks: OrderBooks;
  aging: OrderAgingPort;
  pickupQueue: PickupQueuePort;
  shipments: ShipmentPort;
  eventLog: OrderEventLogPort;
}
