import type { StockCommitPort, StockCommitResult } from './ports.js';

/**
 * Where a shipped order is fulfilled from. A strategy commits the stock itself, because "can this location
 * fulfil the order" is only true at the moment the commitment succeeds.
 */
export interface AllocationStrategy {
  /**
   * Commit `lines` at one of `candidates` (location ids) and return it, or the shortages of the best attempt
   * when none can take the whole order.
   */
  allocate(candidates: readonly string[], lines: readonly { sku: string; quantity: number }[], stock: Pick<StockCommitPort, 'commit'>): Promise<{ locationId: string } | Extract<StockCommitResult, { ok: false }>>;
}
