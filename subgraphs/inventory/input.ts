import { badInput, MAX_PAGE_SIZE } from '../../common/pagination.js';

/** Longest id or SKU accepted; anything longer is a client bug, not a key any system holds. */
export const MAX_KEY_LENGTH = 200;

export function checkKey(value: string, field: string): string {
  if (value.length > MAX_KEY_LENGTH) throw badInput(`${field} must be at most ${MAX_KEY_LENGTH} characters`, field);
  return value;
}

/** A list of keys as an argument: at most MAX_PAGE_SIZE, each a valid key; duplicates dropped, order kept. */
export function checkKeyList(values: readonly string[], field: string): string[] {
  if (values.length > MAX_PAGE_SIZE) throw badInput(`${field} must have at most ${MAX_PAGE_SIZE} entries, got ${values.length}`, field);
  for (const value of values) checkKey(value, field);
  return [...new Set(values)];
}
