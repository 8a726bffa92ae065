import type { AppConfig } from '../common/config.js';
import type { EventBackbone } from '../common/events.js';
import { EventOutbox, type EventEmitter } from '../common/outbox/event-outbox.js';
import type { RedisClient } from '../common/redis/connection.js';
import type { IdempotencyStore } from '../common/idempotency.js';
import type { Logger } from '../common/logger.js';
import type { Authenticate } from '../common/http.js';
import type { SubgraphSecurity } from '../common/service.js';
import type { MasterDataStore } from '../common/master-data/store.js';
import type { MasterDataSync } from '../common/master-data/sync.js';
import type { ResilienceRegistry } from '../common/resilience.js';
import type { SandboxSystems } from '../sandbox/index.js';
import type { ErpAdapters } from './erp-adapters.js';
import type { Metrics } from '../common/telemetry/metrics.js';

/**
 * What a subgraph's wiring gets to build its adapters from. Today the systems are the sandbox ones (in process,
 * or over HTTP with SANDBOX_URL); a real connector is another adapter behind the same port, picked here.
 */
export interface SubgraphEnvironment {
  config: AppConfig;
  systems: SandboxSystems;
  backbone: EventBackbone;
  /**
   * Where producers hand the events of their changes (the transactional outbox, common/outbox).
   * @default an outbox in memory over `backbone` (what a subgraph's own test builds without saying)
   */
  outbox?: EventEmitter | undefined;
  /** Idempotency records of mutations: in memory embedded, in Redis with REDIS_URL. */
  idempotency: IdempotencyStore;
  /** The shared Redis client with REDIS_URL (for state that several instances share, like the ERP outbox). */
  redis?: { client: RedisClient; prefix: string } | undefined;
  resilience: ResilienceRegistry;
  logger: Logger;
  /** Verifies callers' tokens: every subgraph checks them itself, whoever forwarded the request. */
  authenticate: Authenticate;
  /**
   * The read models of ERP master data (item master, stock policies) that every channel read and every checkout
   * reads instead of the ERP, and the state of their sync from the ERP's change feed.
   */
  masterData: { store: MasterDataStore; sync: Pick<MasterDataSync, 'status'> };
  /**
   * The ERP's ledger and journal ports, from the adapter family `ERP_ADAPTER` chose (subgraphs/erp-adapters.ts).
   * @default the sandbox adapters over `systems` (what a subgraph's own test builds without saying)
   */
  erp?: Pick<ErpAdapters, 'kind' | 'ledger' | 'journal'>;
  /**
   * The process's Prometheus series (one registry for every service of the process), served at each service's
   * `/metrics`. @default none: nothing counted, no `/metrics`
   */
  metrics?: Metrics | undefined;
}

/** The token verification and production settings every subgraph's service takes from the environment. */
export function securityOf(env: Pick<SubgraphEnvironment, 'authenticate' | 'config' | 'metrics'>): SubgraphSecurity {
  return {
    authenticate: env.authenticate,
    production: env.config.production,
    metrics: env.metrics ? { registry: env.metrics, scrapeToken: env.config.telemetry.metricsToken } : undefined,
  };
}

/** The environment's outbox, or one in memory over its backbone. */
export function outboxOf(env: Pick<SubgraphEnvironment, 'backbone' | 'outbox'>): EventEmitter {
  return env.outbox ?? new EventOutbox({ backbone: env.backbone });
}
