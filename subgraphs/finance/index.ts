import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../common/federation.js';
import type { Logger } from '../../common/logger.js';
import { createSubgraphService, type SubgraphService } from '../../common/service.js';
import { createFinanceLoaders, type FinanceContext } from './context.js';
import { Order } from './order.js';
import { resolveOrderReference } from './order.reference.js';
import { OrderResolver } from './order.resolver.js';
import type { LedgerPort, PaymentsPort } from './ports.js';

export interface FinanceDeps {
  payments: PaymentsPort;
  ledger: LedgerPort;
  logger: Logger;
}

export function buildFinanceSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    // Order is reached only through `_entities`, which type-graphql cannot see, so it must be named here.
    { resolvers: [OrderResolver], orphanedTypes: [Order] },
    { Order: { __resolveReference: resolveOrderReference } },
  );
}

/** The finance subgraph (systems of record: PSP for payments and refunds, ERP for invoices and postings). */
export async function createFinanceSubgraph(deps: FinanceDeps): Promise<SubgraphService> {
  return createSubgraphService<FinanceContext>({
    name: 'finance',
    schema: await buildFinanceSchema(),
    logger: deps.logger,
    context: (base) => ({ ...base, payments: deps.payments, ledger: deps.ledger, loaders: createFinanceLoaders(deps.payments, deps.ledger) }),
  });
}
