import { checkFirst, decodeCursor, toPage, type Page } from '../../common/pagination.js';
import type { SalesOrder } from './ports.js';

/** Page size of `Customer.orders` when the client gives none. */
export const DEFAULT_CUSTOMER_ORDERS = 10;

/** Newest first; ties (two orders in the same millisecond) by id so that pages are stable across requests. */
export function compareNewestFirst(a: SalesOrder, b: SalesOrder): number {
  if (a.placedAt !== b.placedAt) return a.placedAt < b.placedAt ? 1 : -1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * One customer's orders from both order systems as one list, newest first. Each system already sorts its
 * own list, but re-sorting the union is simpler than a merge and costs nothing at a customer's order count.
 */
export function mergeCustomerOrders(...perSystem: readonly (readonly SalesOrder[])[]): SalesOrder[] {
  return perSystem.flat().sort(compareNewestFirst);
}

/** The window a page asks for, validated before any system is called so that bad input costs no call. */
export interface PageWindow {
  start: number;
  size: number;
}

export function pageWindow(first: number | null | undefined, after: string | null | undefined): PageWindow {
  return { size: checkFirst(first, DEFAULT_CUSTOMER_ORDERS), start: decodeCursor(after) };
}

/** The page of `all` in `window`; only the orders on the page are mapped. */
export function pageOrders<T, N>(all: readonly T[], window: PageWindow, map: (item: T) => N): Page<N> {
  return toPage(all.slice(window.start, window.start + window.size).map(map), window.start, all.length);
}
