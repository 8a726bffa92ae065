import type { MasterDataException } from '../../../common/master-data/model.js';

/** How a system of record looks from this process: its circuit breaker, and what the last calls said. */
export type SystemStateCode = 'UP' | 'DEGRADED' | 'DOWN';

export interface SystemHealthValue {
  system: string;
  state: SystemStateCode;
  /** Why it is not UP, in a few words (an open circuit, failing calls). */
  detail: string | null;
}

export interface ReadModelStatusValue {
  name: 'ITEM_MASTER' | 'STOCK_POLICIES';
  /** The ERP change sequence last applied; null before the first sync. */
  sequence: number | null;
  /** When the ERP made that change. */
  changeAt: string | null;
  /** When this graph applied it. */
  appliedAt: string | null;
  /** appliedAt − changeAt: how long the last change took to reach the graph. */
  lagSeconds: number | null;
  /** The ERP's latest sequence at the last poll: `latestSequence − sequence` changes are on their way. */
  latestSequence: number | null;
  syncState: string;
  lastError: string | null;
}

/**
 * What operations need to see how fresh the graph is: the systems of record's health and the read models'
 * positions. Contract: cheap and never a call to a system (it reports what this process already knows).
 */
export interface SystemStatusPort {
  systems(): SystemHealthValue[];
  readModels(): ReadModelStatusValue[];
  /** Master-data changes the sync refused, newest first. */
  exceptions(limit: number): MasterDataException[];
}
