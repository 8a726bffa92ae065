import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { SandboxEcom } from '../../../sandbox/ecom.js';
import type { PickupQueuePort } from '../ports.js';
import { toSalesOrder } from './sandbox-records.js';

/** Pickup queues over the sandbox e-commerce system: one call per port call. */
export class SandboxPickupQueue implements PickupQueuePort {
  private readonly ecom: Pick<SandboxEcom, 'getPickupQueue'>;
  constructor(ecom: Pick<SandboxEcom, 'getPickupQueue'>, resilience: ResilienceRegistry) {
    // Same registry, same breaker as the order book: an e-commerce outage fails both fast.
    this.ecom = resilience.wrap('ecom', ecom);
  }

  async getPickupQueue(locationIds: readonly string[]) {
    return (await this.ecom.getPickupQueue(locationIds)).map((list) => list.map(toSalesOrder));
  }
}
