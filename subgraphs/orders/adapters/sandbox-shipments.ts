import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { SandboxWms } from '../../../sandbox/wms.js';
import type { ShipmentPort } from '../ports.js';
import { toOrderShipment } from './sandbox-records.js';

/** Shipments over the sandbox WMS: one call per port call. */
export class SandboxShipments implements ShipmentPort {
  private readonly wms: Pick<SandboxWms, 'getShipmentsByOrder'>;
  constructor(wms: Pick<SandboxWms, 'getShipmentsByOrder'>, resilience: ResilienceRegistry) {
    this.wms = resilience.wrap('wms', wms);
  }

  async getShipmentsByOrder(orderIds: readonly string[]) {
    return (await this.wms.getShipmentsByOrder(orderIds)).map((list) => list.map(toOrderShipment));
  }
}
