import { currencyExponent } from '../../../common/money.js';
import type { StockLineData } from '../../../common/events.js';
import type { LoyaltyOrder } from '../ports.js';
import type { PointsRule } from './points-rule.js';

export interface DefaultPointsRuleOptions {
  /**
   * Points per whole unit of the order's currency (1 EUR, 1 JPY, …).
   * @default 1
   */
  pointsPerUnit?: number;
}

/**
 * The default programme: `pointsPerUnit` points per whole currency unit of the order's total, rounded down (an order
 * of 24.99 EUR earns 24). A return takes back the earned points in proportion to the value of the returned lines
 * (their units at the order's unit prices) within the value of all the order's lines, rounded down, and never more
 * than the order has left to take back.
 */
export class DefaultPointsRule implements PointsRule {
  private readonly pointsPerUnit: number;

  constructor(options: DefaultPointsRuleOptions = {}) {
    const pointsPerUnit = options.pointsPerUnit ?? 1;
    if (!Number.isSafeInteger(pointsPerUnit) || pointsPerUnit < 0) throw new RangeError(`pointsPerUnit must be a whole number >= 0, got ${pointsPerUnit}`);
    this.pointsPerUnit = pointsPerUnit;
  }

  earned(order: LoyaltyOrder): number {
    if (order.totalMinor <= 0) return 0;
    return Math.floor(order.totalMinor / 10 ** currencyExponent(order.currency)) * this.pointsPerUnit;
  }

  reversed(order: LoyaltyOrder, returned: readonly StockLineData[], alreadyReversed: number): number {
    const earned = this.earned(order);
    const left = Math.max(0, earned - Math.max(0, alreadyReversed));
    const ordered = order.lines.reduce((sum, line) => sum + Math.max(0, line.quantity) * Math.max(0, line.unitPriceMinor), 0);
    if (left === 0 || ordered <= 0) return 0;
    // Units of each SKU still to price, so a return naming more units than were bought counts only those bought.
    const remaining = new Map<string, number>();
    for (const line of returned) if (line.quantity > 0) remaining.set(line.sku, (remaining.get(line.sku) ?? 0) + line.quantity);
    let value = 0;
    for (const line of order.lines) {
      const want = remaining.get(line.sku) ?? 0;
      if (want <= 0) continue;
      const units = Math.min(want, Math.max(0, line.quantity));
      value += units * Math.max(0, line.unitPriceMinor);
      remaining.set(line.sku, want - units);
    }
    // Integer arithmetic, so no float drift decides a point: floor(earned · value / ordered).
    return Math.min(left, Math.floor((earned * value) / ordered));
  }
}
