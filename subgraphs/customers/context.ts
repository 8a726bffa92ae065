import DataLoader from 'dataloader';
import type { ScopedContext } from '../../common/http.js';
import type { CustomerMasterPort, CustomerProfile } from './ports.js';

/** A fresh set per request: caching lives exactly as long as one query (the dataloader README's advice). */
export function createCustomerLoaders(customerMaster: CustomerMasterPort) {
  return {
    customer: new DataLoader<string, CustomerProfile | null>((ids) => customerMaster.getCustomers(ids)),
  };
}

export type CustomerLoaders = ReturnType<typeof createCustomerLoaders>;

export interface CustomersContext extends ScopedContext {
  loaders: CustomerLoaders;
  customerMaster: CustomerMasterPort;
}
