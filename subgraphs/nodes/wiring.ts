import type { SubgraphService } from '../../common/service.js';
import { securityOf, type SubgraphEnvironment } from '../environment.js';
import { createNodesSubgraph } from './index.js';

/** No adapters: the nodes subgraph reads nothing but the ids it is given. */
export function createNodesFromEnvironment(env: Pick<SubgraphEnvironment, 'config' | 'logger' | 'authenticate' | 'metrics'>): Promise<SubgraphService> {
  return createNodesSubgraph({ logger: env.logger.child({ service: 'nodes' }), security: securityOf(env) });
}
