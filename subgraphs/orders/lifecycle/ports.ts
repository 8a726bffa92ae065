import type { MoneyValue } from '../../../common/money.js';
import type { OrderReturn, OrderShipment, OrderStatusCode, OrderSystem, ReturnStatusCode, SalesOrder } from '../ports.js';

/*
 * The write side of an order's life after checkout: what the lifecycle service needs from the systems of
 * record. Every port's failure rejects with a SystemUnavailableError naming the system; business outcomes (a
 * status that moved meanwhile, units no longer returnable) are values, not errors. Every write is listed as a
 * write in its adapter, so the resilience policy never retries it.
 */

/** A compare-and-swap answer: the record as written, or (not ok) as it is now, null when the system has no such record. */
export type CasOutcome<T> = { ok: true; value: T } | { ok: false; current: T | null };

/**
 * Status moves in the system that holds the order (POS for STORE, e-commerce otherwise).
 *
 * Contract: `moveStatus` is a compare-and-swap, atomic in the system of record: it moves the order only when it
 * is in `from`, so of two concurrent moves from the same status exactly one lands; otherwise it answers the
 * order as it is now (null when unknown) and changes nothing.
 */
export interface OrderStatusPort {
  /**
   * With `reference`, a repeat of the same move (its answer was lost) answers ok with the order as it is, and the
   * order remembers the move (`lastMove`) until the next one.
   */
  moveStatus(system: OrderSystem, orderId: string, from: OrderStatusCode, to: OrderStatusCode, reference?: string | null): Promise<CasOutcome<SalesOrder>>;
  /** Everything after the move `reference` is done (side effects, events): a repeat is no longer resumed. */
  settleMove(system: OrderSystem, orderId: string, reference: string): Promise<void>;
  /**
   * One part of a split order shipped (compare-and-swap: an OPEN part of a CONFIRMED order); with the last part the
   * order is SHIPPED. A repeat of the same part and shipment answers ok.
   */
  shipPart(system: OrderSystem, orderId: string, partId: string, shipmentId: string, reference: string): Promise<CasOutcome<SalesOrder>>;
  /** Orders whose last move is unsettled and older than `before`: moves whose caller died before finishing them. */
  listUnsettledMoves(system: OrderSystem, before: string, limit: number): Promise<SalesOrder[]>;
}

export type ReturnRequestOutcome =
  | { ok: true; value: OrderReturn }
  | { ok: false; reason: 'UNKNOWN_ORDER' }
  /** Lines asking for more than is still returnable, with what is. */
  | { ok: false; reason: 'NOT_RETURNABLE'; lines: { sku: string; returnable: number }[] };

/**
 * Returns, in the system that holds their order. A return id names its order (`ret-<order id>…`), so the
 * caller routes it like an order id.
 *
 * Contract: `getReturns` answers in key order, null for an unknown id, in one call. `request` records a
 * REQUESTED return all or nothing and atomically against every other request: every SKU on the order, each
 * quantity at most what was bought less what the order's earlier returns (whatever their status) take back.
 * `moveStatus` is a compare-and-swap like the order's; `at` is stamped as `receivedAt` on RECEIVED.
 */
export interface ReturnDeskPort {
  getReturns(system: OrderSystem, returnIds: readonly string[]): Promise<(OrderReturn | null)[]>;
  /** The returns of one order, read fresh (not through a request's cache). */
  getReturnsByOrder(system: OrderSystem, orderId: string): Promise<OrderReturn[]>;
  request(system: OrderSystem, request: { orderId: string; reason: string; lines: readonly { sku: string; quantity: number }[]; requestedAt: string }): Promise<ReturnRequestOutcome>;
  moveStatus(system: OrderSystem, returnId: string, from: ReturnStatusCode, to: ReturnStatusCode, at: string): Promise<CasOutcome<OrderReturn>>;
}

/** How returned goods come back: sellable again, or on hand but damaged. */
export type ReturnConditionCode = 'RESTOCK' | 'DAMAGED';

/**
 * Stock movements of an order's life at its fulfilment location (POS for stores, WMS for warehouses).
 *
 * Contract: `fulfil` takes committed units off the shelf for good (on hand and committed both down; handed over
 * or shipped); `release` gives committed units back to sale (a cancellation); `receive` books returned units
 * in (on hand up; for DAMAGED damaged up as well, so they are not sellable), all lines or none: when a line
 * fails, the lines already booked are taken out again before it rejects. Quantities never go below zero.
 */
export interface LifecycleStockPort {
  /**
   * With the order's checkout reference, its commitment is what moves, once however often this is called (a retry
   * after a lost answer moves nothing more); without one (orders placed before references), the lines.
   */
  fulfil(locationId: string, lines: readonly { sku: string; quantity: number }[], reference?: string | null): Promise<void>;
  release(locationId: string, lines: readonly { sku: string; quantity: number }[], reference?: string | null): Promise<void>;
  /**
   * Book returned units in, one movement per line under `reference` and the line's index: a repeat (after a lost
   * answer, or a failure half way) books only what is not booked yet, never a line twice.
   */
  receive(locationId: string, lines: readonly { sku: string; quantity: number }[], condition: ReturnConditionCode, reference: string): Promise<void>;
}

/**
 * Money after checkout, at the PSP.
 *
 * Contract: `voidAuthorizations` voids the order's open (uncaptured) authorizations and answers how many it
 * voided (0 the second time). `refund` pays money back and is idempotent by `reference`: a second refund with
 * the same reference answers the first and pays nothing.
 */
export interface PaymentSettlementPort {
  voidAuthorizations(orderId: string): Promise<{ voided: number }>;
  refund(request: { orderId: string; amount: MoneyValue; reason: string; reference: string; createdAt: string }): Promise<{ refundId: string; status: 'PENDING' | 'SUCCEEDED' | 'FAILED' }>;
}

/**
 * Shipments in the WMS, whichever location the goods left from.
 *
 * Contract: `recordShipment` turns the order's PENDING shipment SHIPPED (or records a new one) and answers it;
 * sent again with the same carrier and tracking number it answers the same shipment. `recordDelivery` marks the
 * order's SHIPPED shipments DELIVERED and answers all of its shipments.
 */
export interface ShipmentWriterPort {
  recordShipment(request: { orderId: string; carrier: string; trackingNumber: string; shippedAt: string }): Promise<OrderShipment>;
  recordDelivery(orderId: string, deliveredAt: string): Promise<OrderShipment[]>;
}
