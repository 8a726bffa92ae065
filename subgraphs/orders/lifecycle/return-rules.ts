import type { MoneyValue } from '../../../common/money.js';
import { userError, type UserErrorValue } from '../../../common/idempotent-mutation.js';
import { lineErrors } from '../line-rules.js';
import type { OrderReturn, SalesOrder } from '../ports.js';

/*
 * What a return may ask for, and what it is worth: pure rules over the order and its earlier returns.
 */

export const MAX_REASON_LENGTH = 500;

export interface ReturnLineRequest {
  sku: string;
  quantity: number;
}

/** Checks that need no system: a reason, 1 to MAX_LINES lines, one per SKU, each quantity 1 to MAX_QUANTITY. */
export function validateReturnShape(input: { reason: string; lines: readonly ReturnLineRequest[] }): UserErrorValue[] {
  const errors: UserErrorValue[] = [];
  const reason = input.reason.trim();
  if (reason.length === 0 || reason.length > MAX_REASON_LENGTH) errors.push(userError('INVALID_INPUT', `reason must be 1 to ${MAX_REASON_LENGTH} characters`, 'reason'));
  errors.push(...lineErrors(input.lines, 'a return'));
  return errors;
}

const sumBySku = (lines: readonly { sku: string; quantity: number }[], into = new Map<string, number>()) => {
  for (const line of lines) into.set(line.sku, (into.get(line.sku) ?? 0) + line.quantity);
  return into;
};

/** Units of each SKU on the order that no earlier return (whatever its status) takes back yet. */
export function returnableBySku(order: Pick<SalesOrder, 'lines'>, earlier: readonly Pick<OrderReturn, 'lines'>[]): Map<string, number> {
  const bought = sumBySku(order.lines);
  const taken = new Map<string, number>();
  for (const r of earlier) sumBySku(r.lines, taken);
  return new Map([...bought].map(([sku, quantity]) => [sku, Math.max(0, quantity - (taken.get(sku) ?? 0))]));
}

/** Against the order: every SKU on it (UNKNOWN_SKU), every quantity at most what is still returnable (INVALID_QUANTITY). */
export function checkReturnLines(order: Pick<SalesOrder, 'id' | 'lines'>, earlier: readonly Pick<OrderReturn, 'lines'>[], lines: readonly ReturnLineRequest[]): UserErrorValue[] {
  const returnable = returnableBySku(order, earlier);
  const errors: UserErrorValue[] = [];
  lines.forEach((line, i) => {
    const left = returnable.get(line.sku);
    if (left === undefined) errors.push(userError('UNKNOWN_SKU', `${line.sku} is not on order ${order.id}`, `lines.${i}.sku`));
    else if (line.quantity > left) errors.push(userError('INVALID_QUANTITY', `only ${left} of ${line.sku} can still be returned, ${line.quantity} asked`, `lines.${i}.quantity`));
  });
  return errors;
}

/** What the returned units were paid: quantity × the unit price on the order, in the order's currency. */
export function refundAmount(order: Pick<SalesOrder, 'id' | 'lines' | 'total'>, lines: readonly ReturnLineRequest[]): MoneyValue {
  let minor = 0;
  for (const line of lines) {
    const bought = order.lines.find((l) => l.sku === line.sku);
    if (!bought) throw new Error(`${line.sku} is not on order ${order.id}`);
    minor += line.quantity * bought.unitPrice.minor;
  }
  if (!Number.isSafeInteger(minor)) throw new RangeError(`refund of order ${order.id} is not a safe integer of minor units`);
  return { minor, currency: order.total.currency };
}

/**
 * The tax included in a refund of `lines`: each returned line's share of its line's tax (rounded per line, as the
 * line's tax was), so that a full return refunds exactly the tax of the sale.
 */
export function refundTaxMinor(order: Pick<SalesOrder, 'id' | 'lines'>, lines: readonly ReturnLineRequest[]): number {
  let minor = 0;
  for (const line of lines) {
    const bought = order.lines.find((l) => l.sku === line.sku);
    if (!bought) throw new Error(`${line.sku} is not on order ${order.id}`);
    if (bought.taxMinor) minor += Math.round((bought.taxMinor * line.quantity) / bought.quantity);
  }
  return minor;
}

/** Whether the received returns (RECEIVED or REFUNDED) bring back every unit bought. */
export function allUnitsReturned(order: Pick<SalesOrder, 'lines'>, returns: readonly Pick<OrderReturn, 'status' | 'lines'>[]): boolean {
  const received = new Map<string, number>();
  for (const r of returns) if (r.status !== 'REQUESTED') sumBySku(r.lines, received);
  return [...sumBySku(order.lines)].every(([sku, quantity]) => (received.get(sku) ?? 0) >= quantity);
}
