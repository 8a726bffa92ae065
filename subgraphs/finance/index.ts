import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import type { EventBackbone } from '../../common/events.js';
import type { EventEmitter } from '../../common/outbox/event-outbox.js';
import { buildFederatedSchema } from '../../common/federation.js';
import type { IdempotencyStore } from '../../common/idempotency.js';
import type { Logger } from '../../common/logger.js';
import type { RateLimiter } from '../../common/rate-limit.js';
import { createSubgraphService, type SubgraphSecurity, type SubgraphService } from '../../common/service.js';
import { createFinanceLoaders, type FinanceContext } from './context.js';
import { Order } from './order.js';
import { resolveOrderReference } from './order.reference.js';
import { OrderResolver } from './order.resolver.js';
import { ErpOutboxResolver } from './outbox/erp-outbox.resolver.js';
import { ErpOutbox } from './outbox/outbox.js';
import type { JournalPort, OutboxStore } from './outbox/ports.js';
import type { OutboxSettings } from './outbox/settings.js';
import type { LedgerPort, OrderOwnersPort, PaymentsPort } from './ports.js';
import { ReconciliationResolver } from './reconciliation/reconciliation.resolver.js';

export interface FinanceDeps {
  payments: PaymentsPort;
  ledger: LedgerPort;
  /** Whose order an id is, for the shopper row rule. */
  owners: OrderOwnersPort;
  /** ERP writes: journal postings and invoices (the outbox's only way into the ERP). */
  journal: JournalPort;
  backbone: EventBackbone;
  /** Where the ERP outbox's own events go (the transactional event outbox). @default one in memory over `backbone` */
  events?: EventEmitter | undefined;
  /** Where the outbox keeps its postings; closed when the service stops. */
  outboxStore: OutboxStore;
  outboxSettings: OutboxSettings;
  /**
   * The ERP call budget the outbox paces itself by (`outboxSettings.maxCallsPerSecond`): in Redis, so that every
   * instance shares one, when several run.
   * @default a MemoryRateLimiter: this process's calls only
   */
  erpCallLimiter?: RateLimiter | undefined;
  idempotency: IdempotencyStore;
  logger: Logger;
  /** Token verification and production settings. @default every caller anonymous, development settings */
  security?: SubgraphSecurity | undefined;
}

/** The most postings a scrape counts in one status (a backlog beyond it reads as this many). */
const SCRAPE_LIMIT = 10_000;

export function buildFinanceSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    // Order is reached only through `_entities`, which type-graphql cannot see, so it must be named here.
    { resolvers: [OrderResolver, ErpOutboxResolver, ReconciliationResolver], orphanedTypes: [Order] },
    { Order: { __resolveReference: resolveOrderReference } },
  );
}

/**
 * The finance subgraph (systems of record: PSP for payments and refunds, ERP for invoices and postings), with its
 * ERP outbox running: subscribed to the backbone, its worker on an unref'd timer. Stopping the service stops the
 * outbox (no new intake, the round in flight finishes) and closes its store.
 */
export async function createFinanceSubgraph(deps: FinanceDeps): Promise<SubgraphService> {
  const metrics = deps.security?.metrics?.registry;
  const outbox = new ErpOutbox({ journal: deps.journal, backbone: deps.backbone, events: deps.events, store: deps.outboxStore, settings: deps.outboxSettings, limiter: deps.erpCallLimiter, logger: deps.logger, metrics });
  // The outbox's depth and dead letters at scrape time, from its store (shared by every instance with Redis).
  const unread = metrics
    ? [
        metrics.read(metrics.outboxPending, async (gauge) => gauge.set({ outbox: 'erp' }, (await deps.outboxStore.list({ statuses: ['PENDING', 'FAILED'] }, SCRAPE_LIMIT).catch(() => [])).length)),
        metrics.read(metrics.outboxDeadLetters, async (gauge) => gauge.set({ outbox: 'erp' }, (await deps.outboxStore.list({ statuses: ['DEAD_LETTER'] }, SCRAPE_LIMIT).catch(() => [])).length)),
      ]
    : [];
  const service = await createSubgraphService<FinanceContext>({
    name: 'finance',
    schema: await buildFinanceSchema(),
    logger: deps.logger,
    ...deps.security,
    context: (base) => ({
      ...base,
      payments: deps.payments,
      ledger: deps.ledger,
      outbox,
      backbone: deps.backbone,
      idempotency: deps.idempotency,
      metrics,
      loaders: createFinanceLoaders(deps.payments, deps.ledger, outbox, deps.owners),
    }),
  });
  outbox.start();
  let stopping: Promise<void> | null = null;
  return {
    ...service,
    // common/service.ts has no stop hook, so the outbox is stopped here: the HTTP side first, then the worker.
    stop() {
      stopping ??= (async () => {
        for (const stopReading of unread) stopReading();
        await service.stop();
        await outbox.stop();
        await deps.outboxStore.close();
      })();
      return stopping;
    },
  };
}
