import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { SandboxPos } from '../../../sandbox/pos.js';
import type { LocationDirectoryPort, StockKey, StockPort } from '../ports.js';
import { toLocation, toStockCount } from './sandbox-sites.js';

/** Stores and store stock over the sandbox POS (in process or over HTTP): one POS call per port call. */
export class SandboxPosStores implements LocationDirectoryPort, StockPort {
  private readonly pos: SandboxPos;
  constructor(pos: SandboxPos, resilience: ResilienceRegistry) {
    this.pos = resilience.wrap('pos', pos);
  }

  async listLocations() {
    return (await this.pos.listStores()).map((s) => toLocation(s, 'STORE'));
  }

  async getLocations(ids: readonly string[]) {
    return (await this.pos.getStores(ids)).map((s) => (s ? toLocation(s, 'STORE') : null));
  }

  async getStock(keys: readonly StockKey[]) {
    return (await this.pos.getStock(keys)).map((r) => (r ? toStockCount(r) : null));
  }
}
