import type { StockLineData } from '../../../common/events.js';
import type { LoyaltyOrder } from '../ports.js';

/**
 * How many loyalty points an order earns when it is fulfilled (picked up or delivered), and how many a received
 * return of it takes back. A strategy port: the default is `DefaultPointsRule`; a merchant's programme (double points
 * on a promotion, tiers that earn faster) is another implementation passed to the customers subgraph.
 *
 * Contract: both answer whole points ≥ 0 and are deterministic (the same order and return always answer the same,
 * since a redelivered event is computed again). `reversed` never answers more than `earned(order)` less
 * `alreadyReversed` (what earlier returns of the order took back), so the returns of an order can never take more
 * than it earned.
 */
export interface PointsRule {
  earned(order: LoyaltyOrder): number;
  reversed(order: LoyaltyOrder, returned: readonly StockLineData[], alreadyReversed: number): number;
}
