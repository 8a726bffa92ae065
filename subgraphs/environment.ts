import type { AppConfig } from '../common/config.js';
import type { EventBackbone } from '../common/events.js';
import type { Redis } from 'ioredis';
import type { IdempotencyStore } from '../common/idempotency.js';
import type { Logger } from '../common/logger.js';
import type { ResilienceRegistry } from '../common/resilience.js';
import type { SandboxSystems } from '../sandbox/systems.js';

/**
 * What a subgraph's wiring gets to build its adapters from. Today the systems are the sandbox ones (in process,
 * or over HTTP with SANDBOX_URL); a real connector is another adapter behind the same port, picked here.
 */
export interface SubgraphEnvironment {
  config: AppConfig;
  systems: SandboxSystems;
  backbone: EventBackbone;
  /** Idempotency records of mutations: in memory embedded, in Redis with REDIS_URL. */
  idempotency: IdempotencyStore;
  /** The shared Redis client with REDIS_URL (for state that several instances share, like the ERP outbox). */
  redis?: { client: Redis; prefix: string } | undefined;
  resilience: ResilienceRegistry;
  logger: Logger;
}
