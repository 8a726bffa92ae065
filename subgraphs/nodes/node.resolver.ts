import { isNodeTypeName, NODE_TYPES, parseGlobalId, toGlobalId, type NodeTypeName } from '../../common/global-id.js';
import { badInput, MAX_PAGE_SIZE } from '../../common/pagination.js';

/** What this subgraph answers for a node: its type and canonical global id; the owning subgraph adds the rest. */
export interface NodeReference {
  __typename: NodeTypeName;
  id: string;
}

/** The node a global id names, or null when it names no Node type (or is no global id at all). */
export function nodeOf(id: string): NodeReference | null {
  const parsed = parseGlobalId(id);
  if (!parsed || !isNodeTypeName(parsed.type) || parsed.parts.length !== NODE_TYPES[parsed.type]) return null;
  // Canonical, so the id the client gets back is the one every subgraph answers for the object.
  return { __typename: parsed.type, id: toGlobalId(parsed.type, ...parsed.parts) };
}

export function nodesOf(ids: readonly string[]): (NodeReference | null)[] {
  if (ids.length > MAX_PAGE_SIZE) throw badInput(`ids must have at most ${MAX_PAGE_SIZE} entries, got ${ids.length}`, 'ids');
  return ids.map(nodeOf);
}

/** The SKU inside a ProductVariant's global id (the gateway goes on to catalog and inventory by SKU). */
export function skuOf(variant: { id: string }): string | null {
  const parsed = parseGlobalId(variant.id);
  return parsed?.type === 'ProductVariant' && parsed.parts.length === 1 ? parsed.key : null;
}

/**
 * Entity references: the id is the whole object here. A ProductVariant may also come by SKU. An id that is not a
 * global id of the type resolves to null, as an unknown object would.
 */
export function referenceResolver(type: NodeTypeName) {
  return (reference: { id?: string; sku?: string }): Record<string, string> | null => {
    if (type === 'ProductVariant' && typeof reference.sku === 'string') return { id: toGlobalId('ProductVariant', reference.sku), sku: reference.sku };
    if (typeof reference.id !== 'string') return null;
    const node = nodeOf(reference.id);
    return node && node.__typename === type ? { id: node.id } : null;
  };
}
