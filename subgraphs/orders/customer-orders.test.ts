import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../common/pagination.js';
import { mergeCustomerOrders, pageOrders, pageWindow } from './customer-orders.js';
import type { SalesOrder } from './ports.js';

const order = (id: string, placedAt: string): SalesOrder => ({
  id,
  number: id.toUpperCase(),
  status: 'DELIVERED',
  channel: id.startsWith('ord-s') ? 'STORE' : 'WEB',
  deliveryMethod: 'SHIPPING',
  customerId: 'cust-00001',
  pickupLocationId: null,
  fulfillmentLocationId: 'wh-01',
  lines: [],
  total: { minor: 0, currency: 'EUR' },
  placedAt,
  correlationId: 'c',
});

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof GraphQLError ? error.extensions.code : 'not a GraphQLError';
  }
  return 'no error';
};

describe('customer orders', () => {
  const ecom = [order('ord-w3', '2026-11-20T10:00:00.000Z'), order('ord-w1', '2026-10-01T10:00:00.000Z')];
  const pos = [order('ord-s2', '2026-11-01T10:00:00.000Z'), order('ord-s1', '2026-10-01T10:00:00.000Z')];

  it('merges both systems newest first, ties by id', () => {
    expect(mergeCustomerOrders(ecom, pos).map((o) => o.id)).toEqual(['ord-w3', 'ord-s2', 'ord-s1', 'ord-w1']);
    expect(mergeCustomerOrders([], pos).map((o) => o.id)).toEqual(['ord-s2', 'ord-s1']);
    expect(mergeCustomerOrders([], [])).toEqual([]);
  });

  it('does not reorder its inputs', () => {
    const input = [...pos].reverse();
    mergeCustomerOrders(ecom, input);
    expect(input.map((o) => o.id)).toEqual(['ord-s1', 'ord-s2']);
  });

  it('pages with opaque cursors, 10 by default', () => {
    const all = Array.from({ length: 25 }, (_, i) => i);
    const first = pageOrders(all, pageWindow(undefined, undefined), (n) => `#${n}`);
    expect(first.totalCount).toBe(25);
    expect(first.edges.map((e) => e.node)).toEqual(Array.from({ length: 10 }, (_, i) => `#${i}`));
    expect(first.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: encodeCursor(0), endCursor: encodeCursor(9) });

    const last = pageOrders(all, pageWindow(10, first.pageInfo.endCursor), (n) => n);
    const next = pageOrders(all, pageWindow(10, last.pageInfo.endCursor), (n) => n);
    expect(next.edges.map((e) => e.node)).toEqual([20, 21, 22, 23, 24]);
    expect(next.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: encodeCursor(20), endCursor: encodeCursor(24) });

    const empty = pageOrders(all, pageWindow(0, null), (n) => n);
    expect(empty.edges).toEqual([]);
    expect(empty.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null });
  });

  it('maps only the orders on the page', () => {
    let mapped = 0;
    pageOrders(Array.from({ length: 500 }, (_, i) => i), pageWindow(3, null), (n) => (mapped++, n));
    expect(mapped).toBe(3);
  });

  it('refuses a page size outside 0..100 and a foreign cursor as bad input', () => {
    expect(codeOf(() => pageWindow(101, null))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => pageWindow(-1, null))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => pageWindow(10, 'not-a-cursor'))).toBe('BAD_USER_INPUT');
    expect(pageWindow(100, null)).toEqual({ start: 0, size: 100 });
  });
});
