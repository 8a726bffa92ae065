import type { FieldMergeFunction, FieldPolicy, FieldReadFunction, InMemoryCacheConfig, PossibleTypesMap, Reference, StoreObject, TypePolicies, TypePolicy } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { keyPartsOf, parseGlobalId, toGlobalId } from './global-id.js';

/*
 * Apollo Client's InMemoryCache over this graph:
 *
 *   new InMemoryCache({ typePolicies, possibleTypes })   // or new InMemoryCache(cacheOptions)
 *
 * What the default cache gets wrong here, and what each policy below is for:
 * - A `ProductVariant` is known by its `sku` (the contract never selects its `id`), so the default cache keeps it
 *   inside whatever holds it: the listing's `variants { sku price availability }` then overwrites the product page's
 *   variants, silently. Keyed by `sku` the two answers merge. But an order line selects `variant { name }` alone, and
 *   `keyFields: ['sku']` throws there ("Missing field 'sku' while extracting keyFields"): the key function falls back
 *   to keeping that variant inside its line, where `merge` combines it with what the line held already.
 * - Objects without a key of their own (availability, loyalty, an order's lines) are merged instead of replaced, so
 *   a narrower query does not drop what a wider one stored (and Apollo has no reason to warn "Cache data may be lost").
 * - Lists that are the current state (a pickup queue, an order's payments) are replaced as a whole, on purpose.
 * - `products` and `Customer.orders` are Relay connections: `fetchMore({ variables: { after: endCursor } })` appends
 *   the next page to the cached list, one list per search (`query`, `category`) whatever `first` was.
 * - `product(id:)`, `order(id:)`, `node(id:)` and the like are answered from the cache when it holds the object,
 *   with a native id (`prod-0001`) or a global one.
 *
 * Every entity of the graph implements `Node` with a global `id`; every policy works whether a query selects `id` or
 * not, so the contract's operations run as they are written.
 */

/** The types that implement `Node`, for fragments on `Node` (`node(id:) { ... on Product { name } }`). */
export const possibleTypes: PossibleTypesMap = {
  Node: ['Product', 'ProductVariant', 'Location', 'InventoryLevel', 'Customer', 'Order'],
};

/** Apollo does not export the type of a `keyFields` function. */
type KeyFieldsFunction = Extract<NonNullable<TypePolicy['keyFields']>, (...args: never[]) => unknown>;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** One cache entry per variant, whether the query selected `sku`, `id` or both; none (kept in its parent) without either. */
const variantKey: KeyFieldsFunction = (object) => {
  const sku = str(object.sku) ?? keyPartsOf('ProductVariant', object.id)?.[0];
  if (sku !== undefined) return `ProductVariant:${JSON.stringify({ sku })}`;
  const id = str(object.id);
  return id === undefined ? false : `ProductVariant:${JSON.stringify({ id })}`;
};

/** A stock level is one SKU at one location; the contract's selections name neither, so most levels stay embedded. */
const levelKey: KeyFieldsFunction = (object) => {
  const [sku, locationId] = [str(object.sku), str(object.locationId)];
  const parts = sku !== undefined && locationId !== undefined ? [sku, locationId] : keyPartsOf('InventoryLevel', object.id, 2);
  if (parts) return `InventoryLevel:${JSON.stringify({ sku: parts[0], locationId: parts[1] })}`;
  const id = str(object.id);
  return id === undefined ? false : `InventoryLevel:${JSON.stringify({ id })}`;
};

/**
 * Merge two values of one field into one object, unless they name different objects (a key both carry differs):
 * Apollo merges list items position by position, and a list that changed order must not blend two SKUs.
 */
function mergeSame(...keys: string[]): FieldMergeFunction<StoreObject | Reference> {
  return (existing, incoming, { mergeObjects, readField }) => {
    if (!existing || !incoming) return incoming;
    for (const key of keys) {
      const [before, after] = [readField(key, existing), readField(key, incoming)];
      if (before !== undefined && after !== undefined && before !== after) return incoming;
    }
    return mergeObjects(existing, incoming);
  };
}

/**
 * `Query.<field>(id:)` from the cache when the object is there: Apollo cannot know that `order(id: X)` is the `Order`
 * whose id is X. The argument may be a native id (from a URL, an email) while the cache holds the global id.
 */
function byId(typename: string, arg = 'id'): FieldReadFunction {
  return (existing, { args, toReference, canRead }) => {
    if (existing !== undefined) return existing;
    const value = str(args?.[arg]);
    if (value === undefined) return undefined;
    const ids = keyPartsOf(typename, value) ? [value] : [value, toGlobalId(typename, value)];
    for (const id of ids) {
      const ref = toReference({ __typename: typename, id });
      if (ref && canRead(ref)) return ref;
    }
    return undefined;
  };
}

/** `node(id:)`: a global id names its type, so the cache can find the object by the id alone. */
function nodeRef(id: unknown, toReference: Parameters<FieldReadFunction>[1]['toReference'], canRead: Parameters<FieldReadFunction>[1]['canRead']): Reference | undefined {
  const value = str(id);
  const type = value === undefined ? undefined : parseGlobalId(value)?.type;
  if (value === undefined || type === undefined || !possibleTypes.Node!.includes(type)) return undefined;
  const ref = toReference({ __typename: type, id: value });
  return ref && canRead(ref) ? ref : undefined;
}

/**
 * `relayStylePagination`, minus one thing: a page that comes without `pageInfo` (the contract's MyAccount and
 * CustomerLookup select none) and starts the list afresh leaves none behind, where Apollo's policy would keep the old
 * list's cursors or invent `hasNextPage: true`, and a later `fetchMore` would read them. A query that needs `pageInfo`
 * then asks the server.
 */
function connection(keyArgs: string[] | false): FieldPolicy {
  const relay = relayStylePagination(keyArgs) as FieldPolicy & { merge: FieldMergeFunction };
  const hasPageInfo = (value: unknown) => typeof value === 'object' && value !== null && (value as { pageInfo?: unknown }).pageInfo != null;
  return {
    ...relay,
    merge(existing, incoming, options) {
      const merged = relay.merge(existing, incoming, options) as Record<string, unknown> | null;
      const appended = hasPageInfo(existing) && typeof options.args?.after === 'string';
      if (merged && !hasPageInfo(incoming) && !appended) {
        const { pageInfo: _stale, ...rest } = merged;
        return rest;
      }
      return merged;
    },
  };
}

/** An order's lines never change; merged line by line (same SKU at the same position), a narrower query keeps the rest. */
const orderLines: FieldPolicy<readonly StoreObject[]> = {
  merge(existing, incoming, { mergeObjects, readField }) {
    if (!existing || existing.length !== incoming.length) return incoming;
    return incoming.map((line, i) => {
      const before = existing[i];
      return before && readField('sku', before) === readField('sku', line) ? mergeObjects(before, line) : line;
    });
  },
};

/** A list that is the current state: the new answer replaces the old one (and Apollo need not warn about it). */
const replace = { merge: false } as const;

/**
 * The cache policies for this graph's types: `new InMemoryCache({ typePolicies, possibleTypes })`. Extend them with
 * an app's own (`{ ...typePolicies, Query: { fields: { ...typePolicies.Query!.fields, mine: ... } } }`).
 */
export const typePolicies: TypePolicies = {
  Query: {
    fields: {
      products: connection(['query', 'category']),
      product: byId('Product'),
      variant: {
        read(existing, { args, toReference, canRead }) {
          if (existing !== undefined) return existing;
          const sku = str(args?.sku);
          const ref = sku === undefined ? undefined : toReference({ __typename: 'ProductVariant', sku });
          return ref && canRead(ref) ? ref : undefined;
        },
      },
      location: byId('Location'),
      customer: byId('Customer'),
      order: byId('Order'),
      node: { read: (existing, { args, toReference, canRead }) => (existing !== undefined ? existing : nodeRef(args?.id, toReference, canRead)) },
      nodes: {
        read(existing, { args, toReference, canRead }) {
          if (existing !== undefined) return existing;
          const ids: unknown = args?.ids;
          if (!Array.isArray(ids)) return undefined;
          const refs = ids.map((id) => nodeRef(id, toReference, canRead));
          return refs.every((ref) => ref !== undefined) ? refs : undefined;
        },
      },
      locations: replace,
      searchCustomers: replace,
    },
  },
  Product: { merge: mergeSame('id'), fields: { variants: replace } },
  ProductVariant: { keyFields: variantKey, merge: mergeSame('sku', 'id') },
  InventoryLevel: { keyFields: levelKey, merge: mergeSame('sku', 'locationId', 'id') },
  Location: { merge: mergeSame('id'), fields: { pickupQueue: replace, inventoryLevels: replace } },
  Customer: { merge: mergeSame('id'), fields: { orders: connection(false) } },
  Order: {
    merge: mergeSame('id'),
    fields: { lines: orderLines, payments: replace, refunds: replace, invoices: replace, erpPostings: replace, shipments: replace, returns: replace, timeline: replace },
  },
  Availability: { merge: true },
  Loyalty: { merge: true },
  MarketingConsent: { merge: true },
  Address: { merge: true },
};

/** `new InMemoryCache(cacheOptions)`: the policies and the `Node` interface's members. */
export const cacheOptions: InMemoryCacheConfig = { typePolicies, possibleTypes };
