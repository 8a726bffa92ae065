import { MemoryRateLimiter, RedisRateLimiter } from '../../common/rate-limit.js';
import type { SubgraphService } from '../../common/service.js';
import { outboxOf, securityOf, type SubgraphEnvironment } from '../environment.js';
import { SandboxOrderOwners } from './adapters/sandbox-order-owners.js';
import { SandboxPayments } from './adapters/sandbox-payments.js';
import { createErpAdapters } from '../erp-adapters.js';
import { createFinanceSubgraph } from './index.js';
import { outboxSettings, type FinanceConfig } from './outbox/settings.js';
import { RedisOutboxStore } from './outbox/redis-store.js';
import { JournaledOutboxStore } from './outbox/store.js';

export async function createFinanceFromEnvironment(env: SubgraphEnvironment): Promise<SubgraphService> {
  const config = env.config as FinanceConfig;
  const erp = env.erp ?? createErpAdapters({ erp: { ...config.erp, adapter: 'sandbox' }, adapter: config.adapter }, { systems: env.systems, resilience: env.resilience });
  return createFinanceSubgraph({
    payments: new SandboxPayments(env.systems.psp, env.resilience),
    // The ERP's ports come from the one adapter family chosen for the process (ERP_ADAPTER).
    ledger: erp.ledger,
    owners: new SandboxOrderOwners(env.systems, env.resilience),
    journal: erp.journal,
    backbone: env.backbone,
    events: outboxOf(env),
    // The outbox survives a restart: in Redis when several instances share it, else beside the rest of DATA_DIR.
    outboxStore: env.redis ? new RedisOutboxStore(env.redis.client, env.redis.prefix) : await JournaledOutboxStore.open(config.dataDir, config.journal),
    outboxSettings: outboxSettings(config.erpOutbox),
    // One ERP call budget for the deployment: every instance on the Redis takes its tokens from the same bucket.
    erpCallLimiter: env.redis ? new RedisRateLimiter({ redis: env.redis.client, prefix: env.redis.prefix }) : new MemoryRateLimiter(),
    idempotency: env.idempotency,
    logger: env.logger.child({ service: 'finance' }),
    security: securityOf(env),
  });
}
