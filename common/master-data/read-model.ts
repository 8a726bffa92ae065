import type { MasterChange, MasterDataException, MasterProduct, MasterSnapshot, MasterStockPolicy, MasterVariant } from './model.js';
import type { MasterDataStore, ProductSearch, ReadModelPosition } from './store.js';
import { assertNever } from '../resilience.js';

/**
 * The indexes every read goes through. Reads come on every request (a listing searches 500 products, a product
 * page reads its variants and 25 locations' policies), so each read is a map lookup or a walk over exactly the
 * products it may return, never a scan of the whole model.
 */
interface Indexes {
  products: Map<string, MasterProduct>;
  variants: Map<string, MasterVariant>;
  /** Frozen arrays, replaced (never changed) on a write: a reader may hold one across a later batch. */
  byProduct: Map<string, readonly MasterVariant[]>;
  /** Nested maps: building a `sku@location` string per lookup shows in profiles of a 1,500-pair listing. */
  policies: Map<string, Map<string, MasterStockPolicy>>;
  /** Every product id, sorted (the search order). */
  productIds: string[];
  /** Sorted product ids per category exactly as stored. */
  byCategory: Map<string, string[]>;
  /** `name brand category description`, lower-cased, per product id. */
  haystacks: Map<string, string>;
}

const NEVER_SYNCED: ReadModelPosition = Object.freeze({ sequence: null, changeAt: null, appliedAt: null });

/** Exceptions kept by default: enough to see a misconfigured ERP's pattern, bounded whatever it sends. */
export const DEFAULT_MAX_EXCEPTIONS = 1000;

/** Runs a store's writes one after the other, so that each sees the position the one before it left. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

function emptyIndexes(): Indexes {
  return { products: new Map(), variants: new Map(), byProduct: new Map(), policies: new Map(), productIds: [], byCategory: new Map(), haystacks: new Map() };
}

const freezeProduct = (p: MasterProduct): MasterProduct => Object.freeze({ ...p, skus: Object.freeze([...p.skus]) as string[] });
const freezeVariant = (v: MasterVariant): MasterVariant => Object.freeze({ ...v, price: Object.freeze({ ...v.price }) });
const freezePolicy = (p: MasterStockPolicy): MasterStockPolicy => Object.freeze({ ...p });
const haystackOf = (p: MasterProduct) => `${p.name} ${p.brand} ${p.category} ${p.description}`.toLowerCase();

/** Index of the first element ≥ `id` in a sorted array. */
function lowerBound(sorted: readonly string[], id: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(sorted: string[], id: string): void {
  const at = lowerBound(sorted, id);
  if (sorted[at] !== id) sorted.splice(at, 0, id);
}

function removeSorted(sorted: string[], id: string): void {
  const at = lowerBound(sorted, id);
  if (sorted[at] === id) sorted.splice(at, 1);
}

function putProduct(ix: Indexes, product: MasterProduct): void {
  const old = ix.products.get(product.id);
  ix.products.set(product.id, product);
  ix.haystacks.set(product.id, haystackOf(product));
  if (!old) insertSorted(ix.productIds, product.id);
  if (old?.category === product.category) return;
  if (old) {
    const previous = ix.byCategory.get(old.category);
    if (previous) removeSorted(previous, product.id);
  }
  let list = ix.byCategory.get(product.category);
  if (!list) ix.byCategory.set(product.category, (list = []));
  insertSorted(list, product.id);
}

function putVariant(ix: Indexes, variant: MasterVariant): void {
  const old = ix.variants.get(variant.sku);
  ix.variants.set(variant.sku, variant);
  if (old && old.productId !== variant.productId) {
    const previous = ix.byProduct.get(old.productId) ?? [];
    ix.byProduct.set(old.productId, Object.freeze(previous.filter((v) => v.sku !== variant.sku)));
  }
  const list = ix.byProduct.get(variant.productId) ?? [];
  const at = old && old.productId === variant.productId ? list.findIndex((v) => v.sku === variant.sku) : -1;
  ix.byProduct.set(variant.productId, Object.freeze(at >= 0 ? list.map((v, i) => (i === at ? variant : v)) : [...list, variant]));
}

function putPolicy(ix: Indexes, policy: MasterStockPolicy): void {
  let perSku = ix.policies.get(policy.sku);
  if (!perSku) ix.policies.set(policy.sku, (perSku = new Map()));
  perSku.set(policy.locationId, policy);
}

function indexSnapshot(snapshot: MasterSnapshot): Indexes {
  const ix = emptyIndexes();
  // Bulk: sort once instead of one sorted insert per product.
  for (const raw of snapshot.products) {
    const product = freezeProduct(raw);
    ix.products.set(product.id, product);
    ix.haystacks.set(product.id, haystackOf(product));
  }
  ix.productIds = [...ix.products.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const id of ix.productIds) {
    const category = ix.products.get(id)!.category;
    const list = ix.byCategory.get(category);
    if (list) list.push(id);
    else ix.byCategory.set(category, [id]);
  }
  for (const raw of snapshot.variants) ix.variants.set(raw.sku, freezeVariant(raw));
  const grouped = new Map<string, MasterVariant[]>();
  for (const variant of ix.variants.values()) {
    const list = grouped.get(variant.productId);
    if (list) list.push(variant);
    else grouped.set(variant.productId, [variant]);
  }
  for (const [productId, list] of grouped) ix.byProduct.set(productId, Object.freeze(list));
  for (const raw of snapshot.policies) putPolicy(ix, freezePolicy(raw));
  return ix;
}

/**
 * The master data of one process, indexed, with the synchronous writes the stores build on (the in-memory and
 * journaled stores hold one; the Redis store keeps one as its replica). Every write is one synchronous step, so
 * no reader (JavaScript runs one at a time) can see half of it; `replace` builds the new indexes aside and swaps
 * them in with one assignment.
 */
export class MasterDataReadModel {
  private ix: Indexes = emptyIndexes();
  private pos: ReadModelPosition = NEVER_SYNCED;
  /** Newest first. */
  private recent: MasterDataException[] = [];
  private readonly exceptionIds = new Set<string>();

  /** @param maxExceptions How many exceptions are kept (the oldest go first). @default 1000 */
  constructor(private readonly maxExceptions = DEFAULT_MAX_EXCEPTIONS) {
    if (!Number.isInteger(maxExceptions) || maxExceptions < 1) throw new RangeError(`maxExceptions must be a positive integer, got ${maxExceptions}`);
  }

  getProducts(ids: readonly string[]): (MasterProduct | null)[] {
    const products = this.ix.products;
    return ids.map((id) => products.get(id) ?? null);
  }

  getVariants(skus: readonly string[]): (MasterVariant | null)[] {
    const variants = this.ix.variants;
    return skus.map((sku) => variants.get(sku) ?? null);
  }

  getVariantsByProduct(productIds: readonly string[]): MasterVariant[][] {
    const byProduct = this.ix.byProduct;
    // The arrays are frozen; the port's type says MasterVariant[][] for its callers' convenience.
    return productIds.map((id) => (byProduct.get(id) ?? []) as MasterVariant[]);
  }

  searchProducts(search: ProductSearch): { total: number; products: MasterProduct[] } {
    const ix = this.ix;
    const words = (search.query ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    const category = search.category?.toLowerCase();
    const candidates = category ? (ix.byCategory.get(category) ?? []) : ix.productIds;
    const offset = Math.max(0, search.offset);
    const end = offset + Math.max(0, search.limit);
    if (!words.length) return { total: candidates.length, products: candidates.slice(offset, end).map((id) => ix.products.get(id)!) };
    let total = 0;
    const products: MasterProduct[] = [];
    for (const id of candidates) {
      const haystack = ix.haystacks.get(id)!;
      if (!words.every((w) => haystack.includes(w))) continue;
      if (total >= offset && total < end) products.push(ix.products.get(id)!);
      total++;
    }
    return { total, products };
  }

  getStockPolicies(keys: readonly { sku: string; locationId: string }[]): (MasterStockPolicy | null)[] {
    const policies = this.ix.policies;
    return keys.map((k) => policies.get(k.sku)?.get(k.locationId) ?? null);
  }

  position(): ReadModelPosition {
    return this.pos;
  }

  exceptions(limit: number): MasterDataException[] {
    return this.recent.slice(0, Math.max(0, limit));
  }

  /** The changes above the position, in order, each above the one before: what `apply` would apply. */
  pending(changes: readonly MasterChange[]): MasterChange[] {
    let last = this.pos.sequence ?? -Infinity;
    const fresh: MasterChange[] = [];
    for (const change of changes) {
      if (change.sequence <= last) continue;
      fresh.push(change);
      last = change.sequence;
    }
    return fresh;
  }

  /** Apply the changes above the position (see {@link pending}); answers the ones applied. */
  apply(changes: readonly MasterChange[], appliedAt: string): MasterChange[] {
    const fresh = this.pending(changes);
    const last = fresh.at(-1);
    if (!last) return fresh;
    const ix = this.ix;
    for (const change of fresh) {
      switch (change.kind) {
        case 'PRODUCT':
          putProduct(ix, freezeProduct(change.product));
          break;
        case 'VARIANT':
          putVariant(ix, freezeVariant(change.variant));
          break;
        case 'STOCK_POLICY':
          putPolicy(ix, freezePolicy(change.policy));
          break;
        default:
          assertNever(change);
      }
    }
    this.pos = Object.freeze({ sequence: last.sequence, changeAt: last.at, appliedAt });
    return fresh;
  }

  replace(snapshot: MasterSnapshot, appliedAt: string): void {
    const next = indexSnapshot(snapshot);
    this.ix = next;
    this.pos = Object.freeze({ sequence: snapshot.sequence, changeAt: snapshot.at, appliedAt });
  }

  /** Move the position to `sequence` when it is above it; answers whether it moved. */
  skip(sequence: number, at: string, appliedAt: string): boolean {
    if (this.pos.sequence !== null && sequence <= this.pos.sequence) return false;
    this.pos = Object.freeze({ sequence, changeAt: at, appliedAt });
    return true;
  }

  /** Keep the exception unless one with its id is kept already; answers whether it was new. */
  addException(exception: MasterDataException): boolean {
    if (this.exceptionIds.has(exception.id)) return false;
    this.exceptionIds.add(exception.id);
    this.recent.unshift(Object.freeze({ ...exception }));
    while (this.recent.length > this.maxExceptions) this.exceptionIds.delete(this.recent.pop()!.id);
    return true;
  }

  hasException(id: string): boolean {
    return this.exceptionIds.has(id);
  }

  /** The whole model as a snapshot at its position (the Redis store folds its log into one with it). */
  toSnapshot(): MasterSnapshot {
    const ix = this.ix;
    const policies: MasterStockPolicy[] = [];
    for (const perSku of ix.policies.values()) for (const policy of perSku.values()) policies.push(policy);
    return {
      sequence: this.pos.sequence ?? 0,
      at: this.pos.changeAt ?? new Date(0).toISOString(),
      products: ix.productIds.map((id) => ix.products.get(id)!),
      variants: [...ix.variants.values()],
      policies,
    };
  }
}

/**
 * A store's reads, all answered by the read model it currently holds (which a store may swap for a new one): one
 * home for the delegation every store implementation shares.
 */
export abstract class ReadModelReads implements Pick<MasterDataStore, 'getProducts' | 'getVariants' | 'getVariantsByProduct' | 'searchProducts' | 'getStockPolicies' | 'position' | 'exceptions'> {
  /** The read model answering now. */
  protected abstract current(): MasterDataReadModel;

  getProducts(ids: readonly string[]) {
    return this.current().getProducts(ids);
  }
  getVariants(skus: readonly string[]) {
    return this.current().getVariants(skus);
  }
  getVariantsByProduct(productIds: readonly string[]) {
    return this.current().getVariantsByProduct(productIds);
  }
  searchProducts(search: ProductSearch) {
    return this.current().searchProducts(search);
  }
  getStockPolicies(keys: readonly { sku: string; locationId: string }[]) {
    return this.current().getStockPolicies(keys);
  }
  position() {
    return this.current().position();
  }
  exceptions(limit: number) {
    return this.current().exceptions(limit);
  }
}
