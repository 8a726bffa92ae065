import type { ResilienceRegistry } from '../../../common/resilience.js';
import type { SubgraphEnvironment } from '../../environment.js';
import type { ReadModelStatusValue, SystemHealthValue, SystemStatusPort } from '../status/ports.js';

/**
 * The status this process knows: each system's circuit breaker (the one every adapter of the process shares), and
 * the read models' position and sync. No call to any system: a status page must answer while they are down.
 */
export class EnvironmentSystemStatus implements SystemStatusPort {
  constructor(
    private readonly resilience: ResilienceRegistry,
    private readonly masterData: SubgraphEnvironment['masterData'],
  ) {}

  systems(): SystemHealthValue[] {
    const sync = this.masterData.sync.status();
    return this.resilience.health().map((health) =>
      // The sync calls the ERP on its own schedule: its failures say the ERP is struggling even when no request asked.
      health.system === 'erp' && health.state === 'UP' && sync.state === 'BACKING_OFF' ? { ...health, state: 'DEGRADED', detail: `master-data sync: ${sync.lastError ?? 'failing'}` } : health,
    );
  }

  readModels(): ReadModelStatusValue[] {
    const position = this.masterData.store.position();
    const sync = this.masterData.sync.status();
    const lagSeconds = position.changeAt && position.appliedAt ? Math.max(0, (Date.parse(position.appliedAt) - Date.parse(position.changeAt)) / 1000) : null;
    // Both models follow the one change feed, so they share one position.
    return (['ITEM_MASTER', 'STOCK_POLICIES'] as const).map((name) => ({
      name,
      sequence: position.sequence,
      changeAt: position.changeAt,
      appliedAt: position.appliedAt,
      lagSeconds,
      latestSequence: sync.latestSequence,
      syncState: sync.state,
      lastError: sync.lastError,
    }));
  }

  exceptions(limit: number) {
    return this.masterData.store.exceptions(limit);
  }
}
