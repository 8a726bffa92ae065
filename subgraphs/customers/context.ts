import DataLoader from 'dataloader';
import type { ScopedContext } from '../../common/http.js';
import type { CustomerMasterPort, CustomerProfile, LoyaltyEntry, LoyaltyLedgerPort, ServedLocationsPort } from './ports.js';

/** A fresh set per request: caching lives exactly as long as one query (the dataloader README's advice). */
export function createCustomerLoaders(customerMaster: CustomerMasterPort, servedLocations: ServedLocationsPort, loyaltyLedger: LoyaltyLedgerPort) {
  return {
    customer: new DataLoader<string, CustomerProfile | null>((ids) => customerMaster.getCustomers(ids)),
    /** Asked only for store associates (see access.ts): one call per order system for every customer of the request. */
    servedLocations: new DataLoader<string, ReadonlySet<string>>((ids) => servedLocations.locationsServing(ids)),
    /** Each customer's loyalty ledger, oldest first: one CRM call for every customer of the request. */
    loyaltyLedger: new DataLoader<string, LoyaltyEntry[]>((ids) => loyaltyLedger.entriesOf(ids)),
  };
}

export type CustomerLoaders = ReturnType<typeof createCustomerLoaders>;

export interface CustomersContext extends ScopedContext {
  loaders: CustomerLoaders;
  customerMaster: CustomerMasterPort;
}
