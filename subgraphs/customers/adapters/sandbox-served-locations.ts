import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { SandboxEcom } from '../../../sandbox/ecom.js';
import type { SandboxPos } from '../../../sandbox/pos.js';
import type { ServedLocationsPort } from '../ports.js';

type OrdersByCustomer = Pick<SandboxPos & SandboxEcom, 'getOrdersByCustomer'>;

/** Pickup and fulfilment locations of customers' orders, from the sandbox POS and e-commerce system: one call each. */
export class SandboxServedLocations implements ServedLocationsPort {
  private readonly pos: OrdersByCustomer;
  private readonly ecom: OrdersByCustomer;
  constructor(systems: { pos: OrdersByCustomer; ecom: OrdersByCustomer }, resilience: ResilienceRegistry) {
    this.pos = resilience.wrap('pos', systems.pos);
    this.ecom = resilience.wrap('ecom', systems.ecom);
  }

  async locationsServing(customerIds: readonly string[]): Promise<ReadonlySet<string>[]> {
    const [ecom, pos] = await Promise.all([this.ecom.getOrdersByCustomer(customerIds), this.pos.getOrdersByCustomer(customerIds)]);
    return customerIds.map((_, i) => {
      const served = new Set<string>();
      for (const order of [...(ecom[i] ?? []), ...(pos[i] ?? [])]) {
        if (order.pickupLocationId) served.add(order.pickupLocationId);
        served.add(order.fulfillmentLocationId);
      }
      return served;
    });
  }
}
