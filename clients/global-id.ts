/*
 * The graph's global ids as the client cache policies need them: the server's own codec (`common/global-id.ts`, which
 * uses only what browsers have), plus a lookup that takes any value a cache hands over.
 *
 * Apps treat ids as opaque. Only the cache policies look inside, for two reasons: a `ProductVariant` or an
 * `InventoryLevel` must land in one cache entry whether a query selected its `id` or its natural key (`sku`; `sku`
 * and `locationId`), and `product(id: "prod-0001")` must find the product the cache holds under its global id.
 */
import { isNodeTypeName, parseGlobalId, toGlobalId as serverToGlobalId } from '../common/global-id.js';

export { parseGlobalId };

/** The global id of `type` (a `Node` type name) with key `parts`. */
export function toGlobalId(type: string, ...parts: string[]): string {
  if (!isNodeTypeName(type)) throw new Error(`${type} is not a Node type`);
  return serverToGlobalId(type, ...parts);
}

/** The key parts `value` names if it is a global id of `type` with `arity` parts; null otherwise. */
export function keyPartsOf(type: string, value: unknown, arity = 1): string[] | null {
  if (typeof value !== 'string') return null;
  const parsed = parseGlobalId(value);
  return parsed && parsed.type === type && parsed.parts.length === arity ? [...parsed.parts] : null;
}
