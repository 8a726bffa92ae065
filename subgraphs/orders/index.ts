import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../common/federation.js';
import type { Logger } from '../../common/logger.js';
import { createSubgraphService, type SubgraphSecurity, type SubgraphService } from '../../common/service.js';
import { createOrdersLoaders, type OrdersContext } from './context.js';
import { Customer } from './customer.js';
import { resolveCustomerReference } from './customer.reference.js';
import { CustomerResolver } from './customer.resolver.js';
import { Location } from './location.js';
import { resolveLocationReference } from './location.reference.js';
import { LocationResolver } from './location.resolver.js';
import { resolveOrderReference } from './order.reference.js';
import { OpenOrdersResolver } from './open-orders.resolver.js';
import { OrderResolver } from './order.resolver.js';
import type { CheckoutDeps } from './checkout/checkout.service.js';
import { CheckoutRecovery } from './checkout/checkout-recovery.js';
import { PlaceOrderResolver } from './checkout/place-order.resolver.js';
import { recoverUnsettledMoves, type LifecyclePorts } from './lifecycle/lifecycle.service.js';
import { OrderLifecycleResolver } from './lifecycle/order-lifecycle.resolver.js';
import { recoverRelocation } from './lifecycle/pickup-change.js';
import type { OrderBooks, OrdersPorts } from './ports.js';
import { routeBatch, systemOfOrderId } from './routing.js';
import { OrderStatusChangeResolver } from './status/order-status-change.resolver.js';
import { OrderStatusFeed, type OrderKeys, type OrderKeysLookup } from './status/order-status-feed.js';
import { ProductVariant } from './variant.js';
import { MarketplaceSync } from './marketplace/marketplace-sync.js';
import { marketplaceWebhook } from './marketplace/marketplace-webhook.js';
import { MARKETPLACE_WEBHOOK_PATH } from '../../common/systems/marketplace.js';
import type { MarketplacePort } from './marketplace/ports.js';

export interface OrdersDeps extends OrdersPorts {
  checkout: Omit<CheckoutDeps, 'loadOrder'>;
  lifecycle: LifecyclePorts;
  logger: Logger;
  /** Undelivered moves one `orderStatusChanged` subscriber may hold before it is ended (SUBSCRIPTION_OVERFLOW). Default 10,000. */
  subscriberCapacity?: number | undefined;
  /** Orders whose customer and locations the status feed keeps, to filter without asking the order systems. Default 10,000. */
  orderKeyCacheSize?: number | undefined;
  /** When a PLACED order counts as an abandoned checkout, and how often to look (see `CheckoutRecovery`). */
  checkoutRecovery?: { staleMs?: number | undefined; intervalMs?: number | undefined } | undefined;
  /** Token verification and production settings. @default every caller anonymous, development settings */
  security?: SubgraphSecurity | undefined;
  /**
   * The marketplace connector (README "Marketplace orders"): its seller API, the webhook's secret, the
   * acknowledgement window and how often to look for missed ones.
   * @default none: no webhook, nothing told to a marketplace
   */
  marketplace?: { seller: MarketplacePort; secret: string | undefined; ackWindowMs: number; sweepMs: number } | undefined;
}

export function buildOrdersSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    {
      resolvers: [OrderResolver, OpenOrdersResolver, LocationResolver, CustomerResolver, PlaceOrderResolver, OrderLifecycleResolver, OrderStatusChangeResolver],
      // The stubs of other subgraphs' entities: the gateway reaches them through `_entities`.
      orphanedTypes: [Location, Customer, ProductVariant],
    },
    {
      Order: { __resolveReference: resolveOrderReference },
      Location: { __resolveReference: resolveLocationReference },
      Customer: { __resolveReference: resolveCustomerReference },
    },
  );
}

/** An order's customer and locations, from the system that holds it (one call per system for many orders). */
export function orderKeysLookup(orderBooks: OrderBooks): OrderKeysLookup {
  return async (ids) => {
    const orders = await routeBatch(ids, systemOfOrderId, { pos: (k) => orderBooks.pos.getOrders(k), ecom: (k) => orderBooks.ecom.getOrders(k) }, null);
    return orders.map((o): OrderKeys | null | Error =>
      o === null || o instanceof Error ? o : { customerId: o.customerId, pickupLocationId: o.pickupLocationId, fulfillmentLocationId: o.fulfillmentLocationId },
    );
  };
}

/**
 * The orders subgraph (systems of record: POS and e-commerce for orders, WMS for shipments), built but not
 * listening. Its status feed (one backbone subscription for every `orderStatusChanged` subscriber, while there are
 * any) and its recovery of abandoned checkouts run until the service stops.
 */
export async function createOrdersSubgraph(deps: OrdersDeps): Promise<SubgraphService> {
  const { logger, checkout, lifecycle: lifecyclePorts, subscriberCapacity, orderKeyCacheSize, checkoutRecovery, security, marketplace, ...ports } = deps;
  const lifecycle: LifecyclePorts = { logger, ...lifecyclePorts };
  const statusChanges = new OrderStatusFeed({
    backbone: checkout.backbone,
    lookup: orderKeysLookup(ports.orderBooks),
    capacity: subscriberCapacity,
    keyCacheSize: orderKeyCacheSize,
    logger,
  });
  // Reads for the connector's decisions come fresh from the systems, never from a request's cache.
  const loadOrder = async (id: string) => {
    const system = systemOfOrderId(id);
    return system ? ((await ports.orderBooks[system].getOrders([id]))[0] ?? null) : null;
  };
  const sync = marketplace
    ? new MarketplaceSync({ backbone: checkout.backbone, events: checkout.events, marketplace: marketplace.seller, loadOrder, logger: logger.child({ component: 'marketplace' }), sweepMs: marketplace.sweepMs, now: checkout.now })
    : null;
  const webhook = marketplace
    ? marketplaceWebhook({
        secret: marketplace.secret,
        logger: logger.child({ component: 'marketplace' }),
        intake: {
          checkout: { ...checkout, loadOrder },
          lifecycle: { ...lifecycle, orderBooks: ports.orderBooks, loadOrder, idempotency: checkout.idempotency, events: checkout.events, now: checkout.now },
          ackWindowMs: marketplace.ackWindowMs,
          logger,
          now: checkout.now,
        },
      })
    : null;
  const service = await createSubgraphService<OrdersContext>({
    name: 'orders',
    schema: await buildOrdersSchema(),
    logger,
    ...security,
    routes: webhook ? { [MARKETPLACE_WEBHOOK_PATH]: webhook } : {},
    context: (base) => ({ ...base, ports, checkout, lifecycle, statusChanges, loaders: createOrdersLoaders(ports) }),
  });
  const moves = { ...lifecycle, events: checkout.events, now: checkout.now };
  const recovery = new CheckoutRecovery({
    orders: checkout.orders,
    stock: checkout.stock,
    payments: checkout.payments,
    events: checkout.events,
    logger,
    now: checkout.now,
    alsoRecover: (staleMs) => recoverUnsettledMoves(moves, staleMs),
    recoverRelocation: (commitment, order) => recoverRelocation({ events: checkout.events, stock: checkout.stock, orders: checkout.orders, logger, now: checkout.now }, commitment, order),
    ...checkoutRecovery,
  });
  await recovery.start();
  sync?.start();
  const metrics = security?.metrics?.registry;
  // Order aging at scrape time, from the order systems (an aging report); a scrape while they are down reads nothing.
  const unread = metrics
    ? [
        metrics.read(metrics.openOrders, async (gauge) => {
          const open = await ports.aging.openOrders(0).catch(() => null);
          const now = Date.now();
          for (const { status, count, oldestPlacedAt } of open?.byStatus ?? []) {
            gauge.set({ status }, count);
            metrics.openOrderOldest.set({ status }, oldestPlacedAt ? Math.max(0, now - Date.parse(oldestPlacedAt)) / 1000 : 0);
          }
        }),
      ]
    : [];
  return {
    ...service,
    async stop() {
      for (const stopReading of unread) stopReading();
      await recovery.stop();
      await sync?.stop();
      // Sockets first (their subscribers end with them), then whoever subscribes in process.
      await service.stop();
      statusChanges.close();
    },
  };
}
