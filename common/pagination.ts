import { GraphQLError } from 'graphql';

/** The largest page any list field serves; larger requests are refused with BAD_USER_INPUT, not truncated silently. */
export const MAX_PAGE_SIZE = 100;

export function badInput(message: string, field?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(field ? { field } : {}) } });
}

export function checkFirst(first: number | null | undefined, fallback: number): number {
  const value = first ?? fallback;
  if (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}, got ${value}`, 'first');
  }
  return value;
}

/** Cursors are opaque to clients; inside they are offsets. */
export function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined): number {
  if (cursor === null || cursor === undefined) return 0;
  const match = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match?.[1]) throw badInput('after is not a cursor this field returned', 'after');
  return Number(match[1]) + 1;
}

export interface Page<T> {
  totalCount: number;
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/**
 * Build a page from the slice starting at `start` of a list whose full length is `totalCount`. Paging is forward
 * only (`first`/`after`), so, as the Relay connection spec allows, `hasPreviousPage` says whether items lie before
 * the page: true exactly when `after` named an item of the list (an offset is cheap to check).
 */
export function toPage<T>(slice: readonly T[], start: number, totalCount: number): Page<T> {
  const edges = slice.map((node, index) => ({ cursor: encodeCursor(start + index), node }));
  const first = edges[0];
  const last = edges[edges.length - 1];
  return {
    totalCount,
    edges,
    pageInfo: {
      hasNextPage: start + slice.length < totalCount,
      hasPreviousPage: Math.min(start, totalCount) > 0,
      startCursor: first ? first.cursor : null,
      endCursor: last ? last.cursor : null,
    },
  };
}

/** Page over a list already in memory. */
export function pageOf<T>(all: readonly T[], first: number | null | undefined, after: string | null | undefined, fallback = 20): Page<T> {
  const size = checkFirst(first, fallback);
  const start = decodeCursor(after);
  return toPage(all.slice(start, start + size), start, all.length);
}
