/*
 * The tax engine's shapes (a quote by address), shared by the sandbox tax service and the orders subgraph's
 * adapter, as the other systems' records are (common/systems/records.ts).
 */

/** Where goods are taxed: the store for a pickup, the shipping address (or the shipping location) otherwise. */
export interface TaxAddress {
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  postalCode: string;
}

/** One quote for one address: the rate per line, in basis points (1900 = 19 %). */
export interface TaxQuoteRequest {
  address: TaxAddress;
  lines: readonly { sku: string; category?: string | null | undefined }[];
}

export interface TaxQuoteRecord {
  /** The jurisdiction the engine found, e.g. `DE`, `US-CA`; null: it knows no such place (no rates then). */
  jurisdiction: string | null;
  /** Per line of the request, in order: the rate in basis points. */
  lineRatesBp: number[];
}
