import type { SubgraphService } from '../../common/service.js';
import { outboxOf, securityOf, type SubgraphEnvironment } from '../environment.js';
import { BackboneOrderEventLog } from './adapters/backbone-event-log.js';
import { SandboxOrderBook } from './adapters/sandbox-order-book.js';
import { SandboxOrderAging } from './adapters/sandbox-order-aging.js';
import { SandboxPickupQueue } from './adapters/sandbox-pickup-queue.js';
import { SandboxShipments } from './adapters/sandbox-shipments.js';
import { sandboxCheckout } from './checkout/sandbox-adapters.js';
import { DefaultChannelAllocationRule } from '../../common/channels/default-channel-allocation-rule.js';
import { createOrdersSubgraph } from './index.js';
import { SandboxMarketplaceSeller } from './marketplace/sandbox-marketplace.js';
import {
  SandboxLifecycleStock,
  SandboxOrderStatusWriter,
  SandboxPaymentSettlement,
  SandboxReturnDesk,
  SandboxShipmentWriter,
} from './lifecycle/sandbox-adapters.js';

export function createOrdersFromEnvironment(env: SubgraphEnvironment): Promise<SubgraphService> {
  const logger = env.logger.child({ service: 'orders' });
  return createOrdersSubgraph({
    orderBooks: {
      pos: new SandboxOrderBook('pos', env.systems.pos, env.resilience),
      ecom: new SandboxOrderBook('ecom', env.systems.ecom, env.resilience),
    },
    pickupQueue: new SandboxPickupQueue(env.systems.ecom, env.resilience),
    aging: new SandboxOrderAging(env.systems, env.resilience),
    shipments: new SandboxShipments(env.systems.wms, env.resilience),
    eventLog: new BackboneOrderEventLog(env.backbone),
    checkout: sandboxCheckout(env.systems, env.resilience, { idempotency: env.idempotency, backbone: env.backbone, events: outboxOf(env), masterData: env.masterData.store, metrics: env.metrics, tax: env.config.tax, channelRule: new DefaultChannelAllocationRule(env.config.channels) }, logger),
    lifecycle: {
      statuses: new SandboxOrderStatusWriter(env.systems, env.resilience),
      returns: new SandboxReturnDesk(env.systems, env.resilience),
      stock: new SandboxLifecycleStock(env.systems, env.resilience),
      payments: new SandboxPaymentSettlement(env.systems, env.resilience),
      shipments: new SandboxShipmentWriter(env.systems, env.resilience),
    },
    logger,
    checkoutRecovery: env.config.checkoutRecovery,
    marketplace: {
      seller: new SandboxMarketplaceSeller(env.systems.marketplace, env.resilience),
      secret: env.config.marketplace.webhookSecret,
      ackWindowMs: env.config.marketplace.ackWindowMs,
      sweepMs: env.config.marketplace.sweepMs,
    },
    security: securityOf(env),
  });
}
