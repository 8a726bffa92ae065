import type { Site, StockCommitPort, StockCommitResult } from './ports.js';

/** Where a shipped order goes: the routing's destination (a shipping address; else none). */
export interface RoutingDestination {
  country: string;
  postalCode: string;
}

/**
 * Where a shipped order is fulfilled from (its routing). A strategy commits the stock itself, because "can this
 * location fulfil the order" is only true at the moment the commitment succeeds. Rerouting after a pick shortage
 * asks the same strategy, with a `commit` that moves the order's commitment instead.
 */
export interface AllocationStrategy {
  /**
   * Commit `lines` at one of `candidates` and return it, or the shortages of the best attempt when none can take
   * the whole order. `destination`: where the goods go, for strategies that route by distance.
   */
  allocate(
    candidates: readonly Site[],
    lines: readonly { sku: string; quantity: number }[],
    stock: Pick<StockCommitPort, 'commit'>,
    destination?: RoutingDestination | null,
  ): Promise<{ locationId: string } | Extract<StockCommitResult, { ok: false }>>;
}
