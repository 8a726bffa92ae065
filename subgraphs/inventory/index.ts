import type { ChannelAllocationRule } from '../../common/channels/channel-allocation-rule.js';
import { DefaultChannelAllocationRule } from '../../common/channels/default-channel-allocation-rule.js';
import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import type { EventBackbone } from '../../common/events.js';
import type { EventEmitter } from '../../common/outbox/event-outbox.js';
import { buildFederatedSchema } from '../../common/federation.js';
import type { IdempotencyStore } from '../../common/idempotency.js';
import type { Logger } from '../../common/logger.js';
import { createSubgraphService, type SubgraphSecurity, type SubgraphService } from '../../common/service.js';
import { AvailabilityResolver } from './availability.resolver.js';
import { InventoryChangeResolver } from './changes/inventory-change.resolver.js';
import { StockChangeFeed } from './changes/stock-change-feed.js';
import { createInventoryLoaders, type InventoryContext } from './context.js';
import { resolveInventoryLevelReference } from './inventory-level.reference.js';
import { InventoryLevelResolver } from './inventory-level.resolver.js';
import { resolveLocationReference } from './location.reference.js';
import { LocationResolver } from './location.resolver.js';
import type { InventoryPorts, LocationKind } from './ports.js';
import { ProductVariant } from './variant.js';
import { resolveVariantReference } from './variant.reference.js';
import { VariantResolver } from './variant.resolver.js';
import type { ItemMasterPort, StockWriterPort } from './writes/ports.js';
import { announceLeftovers } from './writes/announce.js';
import { ReservationSweeper } from './writes/reservation-sweeper.js';
import type { StockWriteDeps } from './writes/stock-writes.service.js';
import { StockWritesResolver } from './writes/stock-writes.resolver.js';
import { startExceptionRecorder } from './offline/exception-recorder.js';
import { MarketplaceStockFeed } from './marketplace/marketplace-feed.js';
import { availabilityOf } from './inventory.service.js';
import type { MarketplaceListingPort } from './marketplace/ports.js';
import type { CommittedOrdersPort, ExceptionRegisterPort } from './offline/ports.js';
import { CompensationProposalResolver, OperationalExceptionResolver, StoreSyncResolver } from './offline/store-sync.resolver.js';
import type { StoreSyncContext } from './context.js';

/** The write side's own ports and infrastructure (the site masters and stock policy are the read ports'). */
export interface InventoryWriteDeps {
  items: ItemMasterPort;
  writers: Record<LocationKind, StockWriterPort>;
  idempotency: IdempotencyStore;
  /** What the stock change feed listens to. */
  backbone: EventBackbone;
  /** Where the writes' events go (the transactional outbox). */
  events: EventEmitter;
  /** Open online orders holding units at a store: an offline sale that oversells proposes which to reroute or cancel. */
  committedOrders: CommittedOrdersPort;
  /** The exception register OVERSOLD exceptions are recorded in (and `exceptions` reads). */
  exceptions: ExceptionRegisterPort;
  /** How often the reservation sweeper looks for due reservations, in ms (default 1000). */
  sweepIntervalMs?: number;
  now?: () => Date;
}

export interface InventoryDeps extends InventoryPorts {
  /** `available` at or under this is LOW_STOCK. */
  lowStockThreshold: number;
  writes: InventoryWriteDeps;
  logger: Logger;
  /** Undelivered changes one `inventoryChanged` subscriber may hold before it is ended (SUBSCRIPTION_OVERFLOW). Default 10,000. */
  subscriberCapacity?: number | undefined;
  /** Token verification and production settings. @default every caller anonymous, development settings */
  security?: SubgraphSecurity | undefined;
  /**
   * Which stock each channel may sell; the orders subgraph's checkout must be given the same rule.
   * @default DefaultChannelAllocationRule with its defaults
   */
  channelRule?: ChannelAllocationRule | undefined;
  /**
   * Where the marketplace's stock offer goes (README "Marketplace orders"): every stock change republishes its SKU.
   * @default none: no stock feed
   */
  marketplaceListings?: MarketplaceListingPort | undefined;
}

export function buildInventorySchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    // ProductVariant is mostly reached through `_entities`, so it must not depend on being referenced.
    {
      resolvers: [LocationResolver, InventoryLevelResolver, VariantResolver, AvailabilityResolver, StockWritesResolver, InventoryChangeResolver, StoreSyncResolver, OperationalExceptionResolver, CompensationProposalResolver],
      orphanedTypes: [ProductVariant],
    },
    {
      Location: { __resolveReference: resolveLocationReference },
      InventoryLevel: { __resolveReference: resolveInventoryLevelReference },
      ProductVariant: { __resolveReference: resolveVariantReference },
    },
  );
}

/**
 * The inventory subgraph (systems of record: POS and WMS for sites and stock, ERP for stock policy and the item
 * master), built but not listening. Its reservation sweeper runs from here until the service stops, and so does its
 * stock change feed (one backbone subscription for every `inventoryChanged` subscriber, while there are any).
 */
export async function createInventorySubgraph(deps: InventoryDeps): Promise<SubgraphService> {
  const ports: InventoryPorts = { locations: deps.locations, stock: deps.stock, policies: deps.policies };
  const { sweepIntervalMs, committedOrders, exceptions, ...writeDeps } = deps.writes;
  const sweeper = new ReservationSweeper({
    writers: writeDeps.writers,
    events: writeDeps.events,
    logger: deps.logger,
    intervalMs: sweepIntervalMs,
    now: writeDeps.now,
    alsoRecover: () => announceLeftovers({ writers: writeDeps.writers, events: writeDeps.events, policies: deps.policies, logger: deps.logger, now: writeDeps.now }),
  });
  const writes: StockWriteDeps = {
    ...writeDeps,
    locations: deps.locations,
    policies: deps.policies,
    logger: deps.logger,
    onReserved: (kind, expiresAt) => sweeper.note(kind, expiresAt),
    metrics: deps.security?.metrics?.registry,
  };
  const storeSync: StoreSyncContext = {
    locations: deps.locations,
    stock: deps.stock,
    policies: deps.policies,
    items: writeDeps.items,
    writers: writeDeps.writers,
    events: writeDeps.events,
    orders: committedOrders,
    exceptions,
    logger: deps.logger,
    now: writeDeps.now,
  };
  const changes = new StockChangeFeed({ backbone: writeDeps.backbone, capacity: deps.subscriberCapacity, logger: deps.logger });
  const channels = deps.channelRule ?? new DefaultChannelAllocationRule();
  const service = await createSubgraphService<InventoryContext>({
    name: 'inventory',
    schema: await buildInventorySchema(),
    logger: deps.logger,
    ...deps.security,
    context: (base) => ({ ...base, loaders: createInventoryLoaders(ports), lowStockThreshold: deps.lowStockThreshold, writes, changes, storeSync, channels }),
  });
  await sweeper.start();
  const stopRecorder = startExceptionRecorder(writeDeps.backbone, exceptions, deps.logger);
  const feed = deps.marketplaceListings
    ? new MarketplaceStockFeed({
        backbone: writeDeps.backbone,
        listings: deps.marketplaceListings,
        eligibleLocations: async () => {
          const kinds = await Promise.all(Object.values(ports.locations).map((directory) => directory.listLocations()));
          return kinds.flat().filter((location) => channels.eligible('MARKETPLACE', location)).map((location) => location.id);
        },
        // One set of loaders per publication: the levels are read fresh, each system asked once for the batch (and
        // only the systems of eligible locations: by default the WMS).
        shareOf: (skus, locationIds) => {
          const loaders = createInventoryLoaders(ports);
          return Promise.all(skus.map(async (sku) => (await availabilityOf(loaders, sku, locationIds, deps.lowStockThreshold, { channel: 'MARKETPLACE', rule: channels })).available));
        },
        logger: deps.logger.child({ component: 'marketplace-feed' }),
        now: writeDeps.now,
      })
    : null;
  feed?.start();
  return {
    ...service,
    async stop() {
      stopRecorder();
      feed?.stop();
      await sweeper.stop();
      // Sockets first (their subscribers end with them), then whoever subscribes in process.
      await service.stop();
      changes.close();
    },
  };
}
