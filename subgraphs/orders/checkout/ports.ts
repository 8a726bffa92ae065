import type { CommitmentReference, MoveCommitmentResult, OpenCommitment } from '../../../common/systems/stock-book.js';
import type { MoneyValue } from '../../../common/money.js';
import type { ChannelCode, DeliveryMethodCode, OrderStatusCode, OrderSystem, SalesOrder, SalesOrderLine } from '../ports.js';

/*
 * The write side of checkout: what the saga needs from the systems of record. Every port's failure rejects with
 * a SystemUnavailableError naming the system; business outcomes (a shortage, a decline) are values, not errors.
 */

/**
 * List prices of SKUs and whether they are still sold (the ERP item master, through its read model: never a call to
 * the ERP); null for an unknown SKU. The order keeps the price it was sold at.
 */
export interface PriceListPort {
  getPrices(skus: readonly string[]): Promise<({ sku: string; price: MoneyValue; status: 'ACTIVE' | 'DISCONTINUED' } | null)[]>;
}

/** Safety stock per SKU at a location (the ERP's stock policies, through their read model); 0 without a policy. */
export interface SafetyStockPort {
  safetyStock(locationId: string, skus: readonly string[]): Promise<number[]>;
}

export interface Site {
  id: string;
  kind: 'STORE' | 'WAREHOUSE';
  pickupEnabled: boolean;
  /** Where the site is, for tax: a pickup is taxed at its store, a shipment without an address at its location. */
  address?: { country: string; postalCode: string } | undefined;
}

/** The store and warehouse master (POS and WMS): sites by id, and every site of a kind, by id. */
export interface SiteDirectoryPort {
  getSites(ids: readonly string[]): Promise<(Site | null)[]>;
  listSites(kind: Site['kind']): Promise<Site[]>;
}

/** Which customers exist (CRM), in key order. */
export interface CustomerDirectoryPort {
  exist(customerIds: readonly string[]): Promise<boolean[]>;
}

export type StockCommitResult = { ok: true } | { ok: false; shortages: { sku: string; available: number }[] };

/**
 * Stock commitments at one location (POS for stores, WMS for warehouses, with the ERP's safety stock):
 * `commit` is all or nothing and atomic against every other commitment, so two orders can never both take the
 * last unit; `release` gives committed units back.
 */
export interface StockCommitPort {
  /**
   * With `reference` (checkout's), a repeat under a reference still open commits nothing, and the commitment is
   * findable until settled. A line's `holdBack` (the channel's share rule) is held back on top of the safety stock.
   */
  commit(locationId: string, lines: readonly { sku: string; quantity: number; holdBack?: number | undefined }[], reference?: CommitmentReference | null): Promise<StockCommitResult>;
  /** With `reference`, the commitment made under it, once (see LifecycleStockPort.release); else the lines. */
  release(locationId: string, lines: readonly { sku: string; quantity: number }[], reference?: string | null): Promise<void>;
  /** The order holding commitment `reference` is recorded. */
  settle(locationId: string, reference: string): Promise<void>;
  /**
   * Give back the units of open commitment `reference`; false when none is open. With `seenAt`, only while it is
   * still open as listed at that time (not settled, not made again by a retry since; see StockBook.releaseCommitment).
   */
  releaseCommitment(locationId: string, reference: string, seenAt?: string): Promise<boolean>;
  /**
   * Move an order's commitment `reference` between two stores or two warehouses, all or nothing
   * (StockBook.moveCommitment: the lines checked at the new location with its safety stock and a line's `holdBack`,
   * committed there, given back at the old one; a repeat moves nothing more). The new location's commitment stays
   * open (`movedFrom`) until `settle`.
   */
  moveCommitment(fromLocationId: string, toLocationId: string, reference: string, lines: readonly { sku: string; quantity: number; holdBack?: number | undefined }[], at: string): Promise<MoveCommitmentResult>;
  /** Commitments no order holds yet, made before `before`, at most `limit` per system. */
  openCommitments(before: string, limit: number): Promise<OpenCommitment[]>;
}

export type PaymentMethodCode = 'CARD' | 'PAYPAL' | 'KLARNA' | 'GIFT_CARD' | 'CASH';

/** Payment authorization at the PSP: declined is an answer, not an error. Never retried (it is a write). */
export interface PaymentAuthorizationPort {
  /** With `reference` (checkout's), a repeat answers the first authorization. */
  authorize(request: { orderId: string; amount: MoneyValue; method: PaymentMethodCode; token: string | null; reference?: string | null }): Promise<{ paymentId: string; status: 'AUTHORIZED' | 'DECLINED' }>;
  /** Void the order's open authorizations (an order cancelled while it was being placed). */
  void(orderId: string): Promise<void>;
}

/** An order as it is recorded, before its system gives it an id and a number. */
export type OrderDraft = Omit<SalesOrder, 'id' | 'number'>;

/**
 * Creating orders and moving their status in the system that holds them (POS for STORE, e-commerce otherwise).
 * Moves are compare-and-swap: a cancel that lands while checkout is still authorizing must not be overwritten.
 */
export interface OrderWriterPort {
  create(system: OrderSystem, draft: OrderDraft): Promise<SalesOrder>;
  /** The order recorded under each checkout reference, in either system (null: none). */
  forCheckout(references: readonly string[]): Promise<(SalesOrder | null)[]>;
  /**
   * Orders of `system` still PLACED that were placed before `before` (an instant), oldest first, at most
   * `limit`. PLACED is checkout's own transient state (stock committed, payment not settled yet), so an old one
   * is a checkout that never finished.
   */
  listPlacedBefore(system: OrderSystem, before: string, limit: number): Promise<SalesOrder[]>;
  /**
   * Change an order's location (a PICKUP order's store, a shipped order's fulfilment location) from `fromLocationId` to `toLocationId` while its status is one of `statuses`
   * (compare-and-swap; a repeat of the same `reference` answers moved); `moved` false and the order as it is otherwise.
   */
  moveLocation(system: OrderSystem, orderId: string, statuses: readonly OrderStatusCode[], fromLocationId: string, toLocationId: string, reference: string): Promise<{ moved: boolean; order: SalesOrder | null }>;
  /** The events of change `reference` are handed over: a retry or recovery has nothing more to say. */
  settleRelocation(system: OrderSystem, orderId: string, reference: string): Promise<void>;
  /**
   * Move from `expected` to `status`; `moved` false (and the order as it is) when it was not in `expected`. With
   * `reference`, the order remembers the move unsettled (`lastMove`) until {@link settleMove}: a move whose runner died
   * before finishing what follows it is finished by move recovery (lifecycle.service.ts `recoverUnsettledMoves`).
   */
  compareAndSetStatus(system: OrderSystem, orderId: string, expected: OrderStatusCode, status: OrderStatusCode, reference?: string | null): Promise<{ moved: boolean; order: SalesOrder | null }>;
  /** Everything after the move `reference` is done: recovery has nothing more to finish. */
  settleMove(system: OrderSystem, orderId: string, reference: string): Promise<void>;
}
