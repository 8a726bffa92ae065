import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { SandboxEcom } from '../../../sandbox/ecom.js';
import type { SandboxPos } from '../../../sandbox/pos.js';
import type { OrderOwnersPort } from '../ports.js';

type OrderLookup = Pick<SandboxPos & SandboxEcom, 'getOrders'>;

/**
 * Whose orders these are, from the sandbox POS and e-commerce system. Both are asked for the whole batch (one call
 * each): which system holds an id is the orders subgraph's routing, and finance does not depend on it.
 */
export class SandboxOrderOwners implements OrderOwnersPort {
  private readonly pos: OrderLookup;
  private readonly ecom: OrderLookup;
  constructor(systems: { pos: OrderLookup; ecom: OrderLookup }, resilience: ResilienceRegistry) {
    this.pos = resilience.wrap('pos', systems.pos);
    this.ecom = resilience.wrap('ecom', systems.ecom);
  }

  async customersOf(orderIds: readonly string[]): Promise<(string | null | undefined)[]> {
    const [ecom, pos] = await Promise.all([this.ecom.getOrders(orderIds), this.pos.getOrders(orderIds)]);
    return orderIds.map((_, i) => {
      const order = ecom[i] ?? pos[i];
      return order ? order.customerId : undefined;
    });
  }
}
