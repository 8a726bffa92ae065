import { fromGlobalId } from '../../common/global-id.js';
import { Customer } from './customer.js';

/** Customers owns customers; any id is a key this subgraph can hang `orders` on, so no lookup is needed. */
export function resolveCustomerReference(reference: { id: string }): Customer {
  return Customer.ref(fromGlobalId('Customer', reference.id));
}
