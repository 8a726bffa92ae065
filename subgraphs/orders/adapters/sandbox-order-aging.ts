import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { SandboxEcom } from '../../../sandbox/ecom.js';
import type { SandboxPos } from '../../../sandbox/pos.js';
import { OPEN_ORDER_STATUSES, type OpenOrders, type OrderAgingPort } from '../ports.js';
import { toSalesOrder } from './sandbox-records.js';

type AgingSystem = Pick<SandboxPos & SandboxEcom, 'openOrders'>;

/** Order aging over the sandbox POS and e-commerce systems: one call to each, merged. */
export class SandboxOrderAging implements OrderAgingPort {
  private readonly pos: AgingSystem;
  private readonly ecom: AgingSystem;
  constructor(systems: { pos: AgingSystem; ecom: AgingSystem }, resilience: ResilienceRegistry) {
    this.pos = resilience.wrap('pos', systems.pos);
    this.ecom = resilience.wrap('ecom', systems.ecom);
  }

  async openOrders(oldest: number): Promise<OpenOrders> {
    const [pos, ecom] = await Promise.all([this.pos.openOrders(OPEN_ORDER_STATUSES, oldest), this.ecom.openOrders(OPEN_ORDER_STATUSES, oldest)]);
    const byStatus = OPEN_ORDER_STATUSES.map((status) => {
      const both = [...pos.byStatus, ...ecom.byStatus].filter((s) => s.status === status);
      const times = both.map((s) => s.oldestPlacedAt).filter((t): t is string => t !== null);
      return { status, count: both.reduce((n, s) => n + s.count, 0), oldestPlacedAt: times.length ? times.reduce((a, b) => (a < b ? a : b)) : null };
    });
    const merged = [...pos.oldest, ...ecom.oldest].sort((a, b) => (a.placedAt < b.placedAt ? -1 : a.placedAt > b.placedAt ? 1 : 0)).slice(0, oldest);
    return { byStatus, oldest: merged.map(toSalesOrder) };
  }
}
