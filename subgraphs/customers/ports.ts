export type LoyaltyTierCode = 'BRONZE' | 'SILVER' | 'GOLD' | 'PLATINUM';

export interface CustomerProfile {
  id: string;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  loyalty: { tier: LoyaltyTierCode; pointsBalance: number };
  marketingConsent: { email: boolean; sms: boolean };
  /** ISO 8601 timestamp of when the CRM created the customer. */
  createdAt: string;
}

/**
 * The customer master: profiles, loyalty standing and marketing consent. System of record: the CRM.
 *
 * Contract: `getCustomers` returns one entry per id, in id order (null for an unknown id), in a single call to
 * the system. `searchCustomers` is one call too. A system failure rejects with a `SystemUnavailableError`
 * (`CRM_UNAVAILABLE`).
 */
export interface CustomerMasterPort {
  getCustomers(ids: readonly string[]): Promise<(CustomerProfile | null)[]>;
  /**
   * Customers whose name or email contains `query`, case-insensitive, or whose phone contains its digits when
   * the query looks like a phone number. At most `limit`, ordered by last name, first name, id; [] for a
   * blank query.
   */
  searchCustomers(query: string, limit: number): Promise<CustomerProfile[]>;
}

/**
 * Where each customer's orders are picked up or fulfilled from: what lets a store associate see the name and phone
 * of the customers their store serves, and no one else's. Systems of record: the POS and the e-commerce order
 * system.
 *
 * Contract: one set of location ids per customer id, in order (empty for a customer without orders), with one
 * call per order system for the whole batch. A failure rejects with the system's `SystemUnavailableError`.
 */
export interface ServedLocationsPort {
  locationsServing(customerIds: readonly string[]): Promise<ReadonlySet<string>[]>;
}

/** One loyalty ledger entry of the CRM (see `LoyaltyLedgerPort`). */
export interface LoyaltyEntry {
  /** The entry's idempotency reference (`loy-<orderId>-earn`, `loy-<returnId>-reverse`). */
  reference: string;
  customerId: string;
  kind: 'EARNED' | 'REVERSED';
  /** Positive; `kind` says which way it moved the balance. */
  points: number;
  orderId: string;
  returnId: string | null;
  /** The balance right after the entry. */
  balance: number;
  /** ISO 8601. */
  postedAt: string;
}

/** A posting to book: `reference` makes a repeat harmless. */
export interface LoyaltyPosting {
  reference: string;
  customerId: string;
  kind: LoyaltyEntry['kind'];
  points: number;
  orderId: string;
  returnId?: string | null;
}

/**
 * The loyalty points ledger. System of record: the CRM.
 *
 * Contract: `post` books one entry per reference; a repeat of a reference answers the first entry (its balance then)
 * and changes nothing, so a post whose answer was lost may be sent again. Null: the CRM knows no such customer
 * (nothing booked). `entriesOf` answers each customer's entries oldest first, in one call. A system failure
 * rejects with a `SystemUnavailableError` (`CRM_UNAVAILABLE`); the post may or may not have landed.
 */
export interface LoyaltyLedgerPort {
  post(posting: LoyaltyPosting): Promise<LoyaltyEntry | null>;
  entriesOf(customerIds: readonly string[]): Promise<LoyaltyEntry[][]>;
}

/** What loyalty needs to know of an order: whose it is and what was bought at which price. */
export interface LoyaltyOrder {
  id: string;
  /** Null for a guest order (which earns nothing). */
  customerId: string | null;
  currency: string;
  /** Integer minor units of `currency`. */
  totalMinor: number;
  lines: { sku: string; quantity: number; unitPriceMinor: number }[];
}

/**
 * Orders as loyalty reads them. Systems of record: the POS and the e-commerce order system.
 *
 * Contract: one entry per id, in order (null for an unknown id), one call per order system for the batch. A failure
 * rejects with the system's `SystemUnavailableError`.
 */
export interface LoyaltyOrdersPort {
  ordersFor(orderIds: readonly string[]): Promise<(LoyaltyOrder | null)[]>;
}
