import type { ItemMasterReadModel } from '../../../common/master-data/store.js';
import type { ItemMasterPort } from './ports.js';

/** Which SKUs the item master knows, from its read model: a stock movement of an unknown SKU is refused without asking the ERP. */
export class ReadModelItemMaster implements ItemMasterPort {
  constructor(private readonly store: ItemMasterReadModel) {}

  async exist(skus: readonly string[]) {
    return this.store.getVariants(skus).map((v) => v !== null);
  }
}
