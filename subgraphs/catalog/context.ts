import DataLoader from 'dataloader';
import type { ScopedContext } from '../../common/http.js';
import type { CatalogProduct, CatalogVariant, ItemMasterPort } from './ports.js';
import type { SystemStatusPort } from './status/ports.js';

/** A fresh set per request: caching lives exactly as long as one query (the dataloader README's advice). */
export function createCatalogLoaders(itemMaster: ItemMasterPort) {
  return {
    product: new DataLoader<string, CatalogProduct | null>((ids) => itemMaster.getProducts(ids)),
    variant: new DataLoader<string, CatalogVariant | null>((skus) => itemMaster.getVariants(skus)),
    variantsByProduct: new DataLoader<string, CatalogVariant[]>((ids) => itemMaster.getVariantsByProduct(ids)),
  };
}

export type CatalogLoaders = ReturnType<typeof createCatalogLoaders>;

export interface CatalogContext extends ScopedContext {
  loaders: CatalogLoaders;
  itemMaster: ItemMasterPort;
  status: SystemStatusPort;
}
