import type { ResilienceRegistry } from '../../common/resilience.js';
import type { SandboxPos } from '../../sandbox/pos.js';
import type { SandboxWms } from '../../sandbox/wms.js';

/**
 * Which location ids exist, from the sandbox POS (stores) and WMS (warehouses): what the master-data sync checks a
 * stock policy's location against (UNKNOWN_LOCATION). A warehouse id starts with `wh-`.
 */
export class SandboxLocationDirectory {
  private readonly pos: Pick<SandboxPos, 'getStores'>;
  private readonly wms: Pick<SandboxWms, 'getWarehouses'>;
  constructor(systems: { pos: Pick<SandboxPos, 'getStores'>; wms: Pick<SandboxWms, 'getWarehouses'> }, resilience: ResilienceRegistry) {
    this.pos = resilience.wrap('pos', systems.pos);
    this.wms = resilience.wrap('wms', systems.wms);
  }

  async exists(ids: readonly string[]): Promise<boolean[]> {
    const stores = ids.filter((id) => !id.startsWith('wh-'));
    const warehouses = ids.filter((id) => id.startsWith('wh-'));
    const [s, w] = await Promise.all([stores.length ? this.pos.getStores(stores) : [], warehouses.length ? this.wms.getWarehouses(warehouses) : []]);
    const known = new Set([...s, ...w].flatMap((site) => (site ? [site.id] : [])));
    return ids.map((id) => known.has(id));
  }
}
