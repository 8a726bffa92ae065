import { assertNever, type ResilienceRegistry } from '../../common/resilience.js';
import type { ErpProduct, ErpVariant, StockPolicy } from '../../common/systems/records.js';
import type { ErpMasterChange } from '../../common/systems/erp.js';
import type { SandboxErp } from '../../sandbox/erp.js';
import type { MasterChange, MasterProduct, MasterSnapshot, MasterStockPolicy, MasterVariant } from '../../common/master-data/model.js';
import type { MasterDataSource } from '../../common/master-data/sync.js';

/** The part of the sandbox ERP the source reads: its master-data change feed. */
export type ErpChangeFeed = Pick<SandboxErp, 'getMasterDataChanges' | 'getMasterDataSnapshot'>;

const toProduct = (p: ErpProduct): MasterProduct => ({ id: p.id, name: p.name, description: p.description, brand: p.brand, category: p.category, skus: p.skus.slice() });

const toVariant = (v: ErpVariant): MasterVariant => ({
  sku: v.sku,
  productId: v.productId,
  name: v.name,
  color: v.color,
  size: v.size,
  price: { minor: v.priceMinor, currency: v.currency },
  status: v.status,
});

const toPolicy = (p: StockPolicy): MasterStockPolicy => ({ sku: p.sku, locationId: p.locationId, safetyStock: p.safetyStock, incoming: p.incoming });

function toChange(change: ErpMasterChange): MasterChange {
  switch (change.kind) {
    case 'PRODUCT':
      return { sequence: change.sequence, at: change.at, kind: 'PRODUCT', product: toProduct(change.product) };
    case 'VARIANT':
      return { sequence: change.sequence, at: change.at, kind: 'VARIANT', variant: toVariant(change.variant) };
    case 'STOCK_POLICY':
      return { sequence: change.sequence, at: change.at, kind: 'STOCK_POLICY', policy: toPolicy(change.policy) };
    default:
      return assertNever(change);
  }
}

/**
 * The ERP's change feed as the sync reads it, over the sandbox ERP (in process or over SANDBOX_URL), under the
 * ERP's resilience policy: timeouts, retries of these reads and the shared circuit breaker, so an outage surfaces
 * as a SystemUnavailableError (`ERP_UNAVAILABLE`) and the sync backs off. Maps the ERP's records onto the graph's.
 */
export class SandboxErpMasterDataSource implements MasterDataSource {
  private readonly erp: ErpChangeFeed;

  constructor(erp: ErpChangeFeed, resilience: ResilienceRegistry) {
    this.erp = resilience.wrap('erp', erp);
  }

  async changesAfter(sequence: number, limit: number): ReturnType<MasterDataSource['changesAfter']> {
    const batch = await this.erp.getMasterDataChanges(sequence, limit);
    if (!batch.ok) return { ok: false, reason: batch.reason };
    return { ok: true, changes: batch.changes.map(toChange), latestSequence: batch.latestSequence };
  }

  async snapshot(): Promise<MasterSnapshot> {
    const snapshot = await this.erp.getMasterDataSnapshot();
    return { sequence: snapshot.sequence, at: snapshot.at, products: snapshot.products.map(toProduct), variants: snapshot.variants.map(toVariant), policies: snapshot.policies.map(toPolicy) };
  }
}
