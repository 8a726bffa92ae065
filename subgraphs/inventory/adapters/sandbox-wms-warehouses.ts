import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { SandboxWms } from '../../../sandbox/wms.js';
import type { LocationDirectoryPort, StockKey, StockPort } from '../ports.js';
import { toLocation, toStockCount } from './sandbox-sites.js';

/** Warehouses and warehouse stock over the sandbox WMS (in process or over HTTP): one WMS call per port call. */
export class SandboxWmsWarehouses implements LocationDirectoryPort, StockPort {
  private readonly wms: SandboxWms;
  constructor(wms: SandboxWms, resilience: ResilienceRegistry) {
    this.wms = resilience.wrap('wms', wms);
  }

  async listLocations() {
    return (await this.wms.listWarehouses()).map((w) => toLocation(w, 'WAREHOUSE'));
  }

  async getLocations(ids: readonly string[]) {
    return (await this.wms.getWarehouses(ids)).map((w) => (w ? toLocation(w, 'WAREHOUSE') : null));
  }

  async getStock(keys: readonly StockKey[]) {
    return (await this.wms.getStock(keys)).map((r) => (r ? toStockCount(r) : null));
  }
}
