import { toVariantReference } from './mapping.js';

/**
 * Any SKU the gateway asks about is taken as is: the item master lives in catalog, and a SKU this subgraph
 * holds no stock of simply has nothing available.
 */
export function resolveVariantReference(reference: { sku: string }) {
  return toVariantReference(reference.sku);
}
