import type { SubgraphService } from '../../common/service.js';
import type { SubgraphEnvironment } from '../environment.js';
import { BackboneOrderEventLog } from './adapters/backbone-event-log.js';
import { SandboxOrderBook } from './adapters/sandbox-order-book.js';
import { SandboxPickupQueue } from './adapters/sandbox-pickup-queue.js';
import { SandboxShipments } from './adapters/sandbox-shipments.js';
import { createOrdersSubgraph } from './index.js';

export function createOrdersFromEnvironment(env: SubgraphEnvironment): Promise<SubgraphService> {
  return createOrdersSubgraph({
    orderBooks: {
      pos: new SandboxOrderBook('pos', env.systems.pos, env.resilience),
      ecom: new SandboxOrderBook('ecom', env.systems.ecom, env.resilience),
    },
    pickupQueue: new SandboxPickupQueue(env.systems.ecom, env.resilience),
    shipments: new SandboxShipments(env.systems.wms, env.resilience),
    eventLog: new BackboneOrderEventLog(env.backbone),
    logger: env.logger.child({ service: 'orders' }),
  });
}
