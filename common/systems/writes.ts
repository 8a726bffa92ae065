import type { SystemName } from '../resilience.js';
import type { StockBook } from './stock-book.js';

/*
 * The methods of each system of record that change its state: the one list. The sandbox journals exactly these
 * (DATA_DIR) and replays only these, runs them at a fixed call time, and the adapters pass them to the resilience
 * policy as writes so that it never retries them (a retried write could land twice). A new write method of a
 * system goes here, and nowhere else; the sandbox checks at compile time that every name is a method of its system.
 */

/** The stock book's writes (POS and WMS alike; see common/systems/stock-book.ts). */
export const STOCK_WRITES = ['commitStock', 'settleCommitment', 'releaseCommitment', 'fulfillCommitment', 'moveCommitment', 'releaseStock', 'fulfillStock', 'adjustStock', 'reserveStock', 'releaseReservation', 'expireReservations', 'markAnnounced'] as const satisfies readonly (keyof StockBook)[];

/** The order book's writes, shared by the two order-taking systems (POS for till sales, e-commerce for the rest). */
export const ORDER_BOOK_WRITES = ['createOrder', 'setStatus', 'compareAndSetStatus', 'settleMove', 'moveOrderLocation', 'settleRelocation', 'shipFulfillment', 'createReturn', 'setReturnStatus'] as const;

export const ERP_WRITES = ['postJournal', 'postJournalBatch', 'issueInvoice', 'changeItem', 'addProduct', 'setStockPolicy'] as const;
export const POS_WRITES = [...STOCK_WRITES, ...ORDER_BOOK_WRITES] as const;
export const WMS_WRITES = [...STOCK_WRITES, 'recordShipment', 'recordDelivery'] as const;
export const CRM_WRITES = ['postLoyalty'] as const;
export const PSP_WRITES = ['authorize', 'voidPayment', 'refund'] as const;
/** E-commerce is also order management: its exception register (common/systems/exceptions.ts) is written here. */
export const ECOM_WRITES = [...ORDER_BOOK_WRITES, 'recordException'] as const;

/** The marketplace: the buyer's side (the sandbox's own) and the updates and stock offers we send it. */
export const MARKETPLACE_WRITES = ['placeBuyerOrder', 'cancelBuyerOrder', 'acknowledgeOrder', 'rejectOrder', 'confirmShipment', 'cancelOrder', 'publishInventory'] as const;

/** Every system's writes, by system. */
export const WRITE_METHODS = {
  erp: ERP_WRITES,
  pos: POS_WRITES,
  wms: WMS_WRITES,
  crm: CRM_WRITES,
  psp: PSP_WRITES,
  ecom: ECOM_WRITES,
  /** The tax engine only quotes: nothing to journal. */
  tax: [],
  marketplace: MARKETPLACE_WRITES,
} as const satisfies { readonly [S in SystemName]: readonly string[] };

/** A write method of system `S`. */
export type WriteMethod<S extends SystemName = SystemName> = (typeof WRITE_METHODS)[S][number];

export type StockWrite = (typeof STOCK_WRITES)[number];

/** One write as the DATA_DIR journal records it and replays it: which system, which of its writes, when. */
export type SystemWrite = { [S in SystemName]: { system: S; method: WriteMethod<S>; args: unknown[]; at: string } }[SystemName];

export function isWriteMethod<S extends SystemName>(system: S, method: string): method is WriteMethod<S> {
  return (WRITE_METHODS[system] as readonly string[]).includes(method);
}

export function isStockWrite(method: string): method is StockWrite {
  return (STOCK_WRITES as readonly string[]).includes(method);
}
