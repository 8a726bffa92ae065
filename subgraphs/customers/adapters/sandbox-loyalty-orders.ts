import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { SandboxEcom } from '../../../sandbox/ecom.js';
import type { SandboxPos } from '../../../sandbox/pos.js';
import type { LoyaltyOrder, LoyaltyOrdersPort } from '../ports.js';

type OrderLookup = Pick<SandboxPos & SandboxEcom, 'getOrders'>;

/**
 * Orders as loyalty reads them, from the sandbox POS and e-commerce system: both asked for the whole batch (one call
 * each), since which system holds an id is the orders subgraph's routing, not the customers subgraph's.
 */
export class SandboxLoyaltyOrders implements LoyaltyOrdersPort {
  private readonly pos: OrderLookup;
  private readonly ecom: OrderLookup;
  constructor(systems: { pos: OrderLookup; ecom: OrderLookup }, resilience: ResilienceRegistry) {
    this.pos = resilience.wrap('pos', systems.pos);
    this.ecom = resilience.wrap('ecom', systems.ecom);
  }

  async ordersFor(orderIds: readonly string[]): Promise<(LoyaltyOrder | null)[]> {
    const [ecom, pos] = await Promise.all([this.ecom.getOrders(orderIds), this.pos.getOrders(orderIds)]);
    return orderIds.map((_, i) => {
      const order = ecom[i] ?? pos[i];
      if (!order) return null;
      return {
        id: order.id,
        customerId: order.customerId,
        currency: order.currency,
        totalMinor: order.totalMinor,
        lines: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPriceMinor: l.unitPriceMinor })),
      };
    });
  }
}
