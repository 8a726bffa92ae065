import { MemoryRateLimiter, RedisRateLimiter } from '../../common/rate-limit.js';
import type { SubgraphService } from '../../common/service.js';
import { securityOf, type SubgraphEnvironment } from '../environment.js';
import { SandboxJournal } from './adapters/sandbox-journal.js';
import { SandboxLedger } from './adapters/sandbox-ledger.js';
import { SandboxOrderOwners } from './adapters/sandbox-order-owners.js';
import { SandboxPayments } from './adapters/sandbox-payments.js';
import { createFinanceSubgraph } from './index.js';
import { outboxSettings, type FinanceConfig } from './outbox/settings.js';
import { RedisOutboxStore } from './outbox/redis-store.js';
import { JournaledOutboxStore } from './outbox/store.js';

export async function createFinanceFromEnvironment(env: SubgraphEnvironment): Promise<SubgraphService> {
  const config = env.config as FinanceConfig;
  return createFinanceSubgraph({
    payments: new SandboxPayments(env.systems.psp, env.resilience),
    ledger: new SandboxLedger(env.systems.erp, env.resilience),
    owners: new SandboxOrderOwners(env.systems, env.resilience),
    journal: new SandboxJournal(env.systems.erp, env.resilience),
    backbone: env.backbone,
    // The outbox survives a restart: in Redis when several instances share it, else beside the rest of DATA_DIR.
    outboxStore: env.redis ? new RedisOutboxStore(env.redis.client, env.redis.prefix) : await JournaledOutboxStore.open(config.dataDir),
    outboxSettings: outboxSettings(config.erpOutbox),
    // One ERP call budget for the deployment: every instance on the Redis takes its tokens from the same bucket.
    erpCallLimiter: env.redis ? new RedisRateLimiter({ redis: env.redis.client, prefix: env.redis.prefix }) : new MemoryRateLimiter(),
    idempotency: env.idempotency,
    logger: env.logger.child({ service: 'finance' }),
    security: securityOf(env),
  });
}
