import type { SubgraphService } from '../../common/service.js';
import type { SubgraphEnvironment } from '../environment.js';
import { SandboxLedger } from './adapters/sandbox-ledger.js';
import { SandboxPayments } from './adapters/sandbox-payments.js';
import { createFinanceSubgraph } from './index.js';

export function createFinanceFromEnvironment(env: SubgraphEnvironment): Promise<SubgraphService> {
  return createFinanceSubgraph({
    payments: new SandboxPayments(env.systems.psp, env.resilience),
    ledger: new SandboxLedger(env.systems.erp, env.resilience),
    logger: env.logger.child({ service: 'finance' }),
  });
}
