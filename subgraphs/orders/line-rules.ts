import { userError, type UserErrorValue } from '../../common/idempotent-mutation.js';

/** At most this many lines on an order or a return. */
export const MAX_LINES = 100;
/** Units of one SKU on one line. */
export const MAX_QUANTITY = 999;

/**
 * The line checks orders and returns share: 1 to MAX_LINES lines, one per SKU, each quantity 1 to
 * MAX_QUANTITY. `noun` names the document in messages ("an order", "a return").
 */
export function lineErrors(lines: readonly { sku: string; quantity: number }[], noun: string): UserErrorValue[] {
  if (lines.length === 0) return [userError('INVALID_INPUT', `${noun} needs at least one line`, 'lines')];
  if (lines.length > MAX_LINES) return [userError('INVALID_INPUT', `${noun} has at most ${MAX_LINES} lines, got ${lines.length}`, 'lines')];
  const errors: UserErrorValue[] = [];
  const seen = new Set<string>();
  lines.forEach((line, i) => {
    if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > MAX_QUANTITY) {
      errors.push(userError('INVALID_QUANTITY', `quantity must be 1 to ${MAX_QUANTITY}, got ${line.quantity}`, `lines.${i}.quantity`));
    }
    if (line.sku.length === 0 || line.sku.length > 64) errors.push(userError('UNKNOWN_SKU', 'not a SKU', `lines.${i}.sku`));
    else if (seen.has(line.sku)) errors.push(userError('INVALID_INPUT', `${line.sku} appears on more than one line; put the total on one line`, `lines.${i}.sku`));
    seen.add(line.sku);
  });
  return errors;
}
