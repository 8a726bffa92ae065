import type { Site, StockCommitPort, StockCommitResult } from './ports.js';

/** Where a shipped order goes: the routing's destination (a shipping address; else none). */
export interface RoutingDestination {
  country: string;
  postalCode: string;
}

/** One shipment of a routed order: the lines committed at one location. */
export interface RoutedPart {
  locationId: string;
  lines: { sku: string; quantity: number }[];
}

/** What a strategy may do with stock: commit (all or nothing at one location) and, to undo a split half made, release. */
export interface AllocationStock {
  commit: StockCommitPort['commit'];
  /** Give back what `commit` took at a location (by the checkout's reference). @default none: the strategy makes no splits */
  release?: ((locationId: string, lines: readonly { sku: string; quantity: number }[]) => Promise<void>) | undefined;
}

/**
 * Where a shipped order is fulfilled from (its routing). A strategy commits the stock itself, because "can this
 * location fulfil the order" is only true at the moment the commitment succeeds. Rerouting after a pick shortage
 * asks the same strategy, with a `commit` that moves the order's commitment instead (and no splits).
 */
export interface AllocationStrategy {
  /**
   * Commit `lines` at one of `candidates` and return it, or (with `split` and `stock.release`) across several, each
   * part committed at its location (`parts`, the first at `locationId`); else the shortages of the best attempt.
   * `destination`: where the goods go, for strategies that route by distance.
   */
  allocate(
    candidates: readonly Site[],
    lines: readonly { sku: string; quantity: number }[],
    stock: AllocationStock,
    destination?: RoutingDestination | null,
    options?: { split?: boolean | undefined },
  ): Promise<{ locationId: string; parts?: RoutedPart[] | undefined } | Extract<StockCommitResult, { ok: false }>>;
}
