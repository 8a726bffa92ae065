import { InMemoryMasterDataStore } from '../../common/master-data/memory-store.js';
import { SandboxErpMasterDataSource } from '../../subgraphs/master-data/sandbox-source.js';
import { ResilienceRegistry } from '../../common/resilience.js';
import type { SandboxSystems } from '../../sandbox/index.js';
import type { SubgraphEnvironment } from '../../subgraphs/environment.js';

/**
 * The read models of a sandbox's ERP master data, filled once from its snapshot, for tests that build a subgraph by
 * hand (the stack runs the real sync). The snapshot read counts as one ERP call.
 */
export async function seededMasterData(systems: Pick<SandboxSystems, 'erp'>): Promise<SubgraphEnvironment['masterData']> {
  const store = new InMemoryMasterDataStore();
  const source = new SandboxErpMasterDataSource(systems.erp, new ResilienceRegistry({ timeoutMs: 10_000, retries: 0, breakerFailures: 1_000, breakerResetMs: 1 }));
  await store.replace(await source.snapshot());
  return { store, sync: { status: () => ({ state: 'IN_SYNC', failures: 0, lastError: null, lastPollAt: null, latestSequence: store.position().sequence }) } };
}
