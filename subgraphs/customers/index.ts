import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import type { EventBackbone } from '../../common/events.js';
import { buildFederatedSchema } from '../../common/federation.js';
import type { Logger } from '../../common/logger.js';
import { EventOutbox, type EventEmitter } from '../../common/outbox/event-outbox.js';
import { createSubgraphService, type SubgraphSecurity, type SubgraphService } from '../../common/service.js';
import { createCustomerLoaders, type CustomersContext } from './context.js';
import { resolveCustomerReference } from './customer.reference.js';
import { CustomerResolver } from './customer.resolver.js';
import { DefaultPointsRule } from './loyalty/default-points-rule.js';
import { LoyaltyAccrual } from './loyalty/loyalty-accrual.js';
import { LoyaltyResolver } from './loyalty/loyalty.resolver.js';
import type { PointsRule } from './loyalty/points-rule.js';
import type { CustomerMasterPort, LoyaltyLedgerPort, LoyaltyOrdersPort, ServedLocationsPort } from './ports.js';

export interface CustomersDeps {
  customerMaster: CustomerMasterPort;
  servedLocations: ServedLocationsPort;
  /** The CRM's loyalty points ledger: what fulfilment earns and returns reverse, and `Loyalty.history`. */
  loyaltyLedger: LoyaltyLedgerPort;
  /** The orders loyalty prices points by (whose, what total, which lines). */
  loyaltyOrders: LoyaltyOrdersPort;
  /** The backbone loyalty consumes fulfilment and return events from (group `customers-loyalty`). */
  backbone: EventBackbone;
  /** Where loyalty's own events (LOYALTY_POINTS_EARNED / _REVERSED) go. @default an event outbox in memory over `backbone` */
  events?: EventEmitter | undefined;
  /** How many points an order earns and a return takes back. @default a DefaultPointsRule (1 point per whole currency unit) */
  pointsRule?: PointsRule | undefined;
  logger: Logger;
  /** Token verification and production settings. @default every caller anonymous, development settings */
  security?: SubgraphSecurity | undefined;
}

export function buildCustomersSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema({ resolvers: [CustomerResolver, LoyaltyResolver] }, { Customer: { __resolveReference: resolveCustomerReference } });
}

/**
 * The customers subgraph (system of record: CRM customer master and loyalty ledger), built but not listening, with
 * its loyalty accrual consuming the backbone. Stopping the service stops the accrual after the HTTP side.
 */
export async function createCustomersSubgraph(deps: CustomersDeps): Promise<SubgraphService> {
  const service = await createSubgraphService<CustomersContext>({
    name: 'customers',
    schema: await buildCustomersSchema(),
    logger: deps.logger,
    ...deps.security,
    context: (base) => ({ ...base, customerMaster: deps.customerMaster, loaders: createCustomerLoaders(deps.customerMaster, deps.servedLocations, deps.loyaltyLedger) }),
  });
  const accrual = new LoyaltyAccrual({
    backbone: deps.backbone,
    events: deps.events ?? new EventOutbox({ backbone: deps.backbone }),
    ledger: deps.loyaltyLedger,
    orders: deps.loyaltyOrders,
    rule: deps.pointsRule ?? new DefaultPointsRule(),
    logger: deps.logger,
  });
  accrual.start();
  let stopping: Promise<void> | null = null;
  return {
    ...service,
    // common/service.ts has no stop hook, so the accrual is stopped here: the HTTP side first, then the consumer.
    stop() {
      stopping ??= (async () => {
        await service.stop();
        await accrual.stop();
      })();
      return stopping;
    },
  };
}
