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
