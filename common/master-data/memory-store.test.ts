import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JournalEntry } from '../durable.js';
import { Journal } from '../journal.js';
import { ResilienceRegistry } from '../resilience.js';
import { createSandbox } from '../../sandbox/index.js';
import { InMemoryMasterDataStore, JournaledMasterDataStore } from './memory-store.js';
import type { MasterChange, MasterDataException, MasterProduct, MasterSnapshot, MasterVariant } from './model.js';
import { SandboxErpMasterDataSource } from '../../subgraphs/master-data/sandbox-source.js';
import type { MasterDataStore } from './store.js';

const AT = '2026-03-01T10:00:00.000Z';

/** A model of `products` products with two variants each and a policy per variant at two locations; `tag` marks the generation. */
function snapshotOf(sequence: number, tag: string, products = 20): MasterSnapshot {
  const snapshot: MasterSnapshot = { sequence, at: AT, products: [], variants: [], policies: [] };
  for (let i = 1; i <= products; i++) {
    const id = `prod-${String(i).padStart(4, '0')}`;
    const skus = [1, 2].map((v) => `SKU-${String(i).padStart(4, '0')}-${v}`);
    snapshot.products.push({ id, name: `${tag} Shirt ${i}`, description: `A ${i % 2 ? 'linen' : 'cotton'} shirt`, brand: i % 3 ? 'Acme' : 'Borealis', category: i % 2 ? 'shirts' : 'tops', skus });
    for (const sku of skus) {
      snapshot.variants.push({ sku, productId: id, name: `${tag} ${sku}`, color: 'blue', size: 'M', price: { minor: tag === 'old' ? 1000 : 2000, currency: 'EUR' }, status: 'ACTIVE' });
      for (const locationId of ['store-001', 'wh-01']) snapshot.policies.push({ sku, locationId, safetyStock: tag === 'old' ? 1 : 2, incoming: 0 });
    }
  }
  return snapshot;
}

const variantChange = (sequence: number, variant: MasterVariant): MasterChange => ({ sequence, at: AT, kind: 'VARIANT', variant });
const productChange = (sequence: number, product: MasterProduct): MasterChange => ({ sequence, at: AT, kind: 'PRODUCT', product });

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'md-journal-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function journaled(dir: string) {
  const { journal, entries } = await Journal.open<JournalEntry>(dir);
  return { journal, store: JournaledMasterDataStore.restore(journal, entries) };
}

/**
 * Read the whole model in one synchronous step, as a resolver would between two awaits, and say which generation
 * it saw: 'old', 'new', 'empty', or 'MIXED' when parts of two were visible at once.
 */
function generationSeen(store: MasterDataStore, skus: readonly string[]): string {
  const seen = new Set<string>();
  for (const product of store.searchProducts({ offset: 0, limit: 1000 }).products) seen.add(product.name.split(' ')[0]!);
  for (const variant of store.getVariants(skus)) seen.add(variant ? (variant.price.minor === 1000 ? 'old' : 'new') : 'empty');
  for (const policy of store.getStockPolicies(skus.map((sku) => ({ sku, locationId: 'wh-01' })))) seen.add(policy ? (policy.safetyStock === 1 ? 'old' : 'new') : 'empty');
  const sequence = store.position().sequence;
  seen.add(sequence === null ? 'empty' : sequence === 1 ? 'old' : 'new');
  return seen.size === 1 ? [...seen][0]! : 'MIXED';
}

/** Sample `read` on every turn of the event loop until `write` settles. */
async function readWhile(write: Promise<void>, read: () => string): Promise<string[]> {
  const seen: string[] = [];
  let settled = false;
  const done = write.finally(() => (settled = true));
  while (!settled) {
    seen.push(read());
    await new Promise((resolve) => setImmediate(resolve));
  }
  await done;
  seen.push(read());
  return seen;
}

describe('InMemoryMasterDataStore', () => {
  it('answers empty until the first snapshot lands', () => {
    const store = new InMemoryMasterDataStore();
    expect(store.position()).toEqual({ sequence: null, changeAt: null, appliedAt: null });
    expect(store.getProducts(['prod-0001'])).toEqual([null]);
    expect(store.getVariants(['SKU-0001-1'])).toEqual([null]);
    expect(store.getVariantsByProduct(['prod-0001'])).toEqual([[]]);
    expect(store.getStockPolicies([{ sku: 'SKU-0001-1', locationId: 'wh-01' }])).toEqual([null]);
    expect(store.searchProducts({ offset: 0, limit: 10 })).toEqual({ total: 0, products: [] });
  });

  it('answers reads as the sandbox ERP does, from indexes', async () => {
    const sandbox = createSandbox({ seed: 42, scale: 0.2 });
    const erp = sandbox.systems.erp;
    const source = new SandboxErpMasterDataSource(erp, new ResilienceRegistry({ timeoutMs: 5000, retries: 0, breakerFailures: 100, breakerResetMs: 1000 }));
    const store = new InMemoryMasterDataStore({ now: () => new Date(AT) });
    await store.replace(await source.snapshot());
    expect(store.position()).toEqual({ sequence: 0, changeAt: expect.any(String), appliedAt: AT });

    const sample = sandbox.data.products[3]!;
    const searches = [
      { offset: 0, limit: 20 },
      { offset: 90, limit: 100 },
      { query: sample.brand, offset: 0, limit: 100 },
      { query: sample.brand.toUpperCase(), offset: 2, limit: 3 },
      { query: `  ${sample.name.split(' ').slice(1).join('   ').toUpperCase()} `, offset: 0, limit: 10 },
      { query: sample.description.split(' ').slice(0, 2).join(' '), offset: 0, limit: 100 },
      { query: 'no-such-word', offset: 0, limit: 10 },
      { category: sample.category, offset: 0, limit: 100 },
      { category: sample.category.toUpperCase(), query: sample.brand, offset: 1, limit: 3 },
      { category: 'no-such-category', offset: 0, limit: 10 },
    ];
    let matched = 0;
    for (const search of searches) {
      const fromErp = await erp.searchProducts(search);
      const fromStore = store.searchProducts(search);
      expect(fromStore.total, JSON.stringify(search)).toBe(fromErp.total);
      expect(fromStore.products.map((p) => p.id)).toEqual(fromErp.products.map((p) => p.id));
      if (fromErp.total > 1 && fromErp.total < sandbox.data.products.length) matched++;
    }
    // The searches narrowed something down, so the comparison means something.
    expect(matched).toBeGreaterThanOrEqual(4);
    expect(store.searchProducts({ offset: 0, limit: 1000 }).total).toBe(sandbox.data.products.length);

    const ids = ['prod-0001', 'prod-0050', 'prod-9999', sandbox.data.products.at(-1)!.id];
    expect(store.getProducts(ids)).toEqual((await erp.getProducts(ids)).map((p) => (p ? { ...p } : null)));
    const erpVariants = await erp.getVariantsByProduct(ids);
    expect(store.getVariantsByProduct(ids).map((list) => list.map((v) => v.sku))).toEqual(erpVariants.map((list) => list.map((v) => v.sku)));
    const sku = erpVariants[0]![0]!.sku;
    const erpVariant = (await erp.getVariants([sku]))[0]!;
    expect(store.getVariants([sku, 'SKU-NOPE'])).toEqual([
      { sku, productId: 'prod-0001', name: erpVariant.name, color: erpVariant.color, size: erpVariant.size, price: { minor: erpVariant.priceMinor, currency: erpVariant.currency }, status: 'ACTIVE' },
      null,
    ]);
    const keys = sandbox.data.policies.slice(0, 30).map(({ sku, locationId }) => ({ sku, locationId }));
    expect(store.getStockPolicies([...keys, { sku, locationId: 'store-999' }])).toEqual([...(await erp.getStockPolicies(keys)), null]);
  });

  it('applies each change at most once: at or below the position is skipped, position := the last change', async () => {
    const store = new InMemoryMasterDataStore();
    const base = snapshotOf(10, 'old', 2);
    await store.replace(base);
    const variant = base.variants[0]!;
    await store.apply([variantChange(9, { ...variant, price: { minor: 9, currency: 'EUR' } }), variantChange(10, { ...variant, price: { minor: 10, currency: 'EUR' } })]);
    expect(store.getVariants([variant.sku])[0]!.price.minor).toBe(1000);
    expect(store.position().sequence).toBe(10);

    await store.apply([variantChange(11, { ...variant, price: { minor: 1100, currency: 'EUR' } }), variantChange(12, { ...variant, price: { minor: 1200, currency: 'EUR' } })]);
    expect(store.getVariants([variant.sku])[0]!.price.minor).toBe(1200);
    // The same batch again, and one overlapping it: only what is new applies.
    await store.apply([variantChange(11, { ...variant, price: { minor: 1, currency: 'EUR' } }), variantChange(12, { ...variant, price: { minor: 2, currency: 'EUR' } })]);
    await store.apply([variantChange(12, { ...variant, price: { minor: 3, currency: 'EUR' } }), variantChange(13, { ...variant, name: 'renamed', price: { minor: 1300, currency: 'EUR' } })]);
    expect(store.getVariants([variant.sku])[0]).toMatchObject({ name: 'renamed', price: { minor: 1300 } });
    expect(store.position()).toMatchObject({ sequence: 13, changeAt: AT });
    expect(store.getVariantsByProduct([variant.productId])[0]!.map((v) => v.sku)).toEqual([variant.sku, base.variants[1]!.sku]);

    await store.skip(12, AT);
    expect(store.position().sequence).toBe(13);
    await store.skip(15, '2026-03-01T11:00:00.000Z');
    expect(store.position()).toMatchObject({ sequence: 15, changeAt: '2026-03-01T11:00:00.000Z' });
    await store.apply([variantChange(14, { ...variant, price: { minor: 14, currency: 'EUR' } })]);
    expect(store.getVariants([variant.sku])[0]!.price.minor).toBe(1300);
  });

  it('keeps indexes right through upserts: new products in id order, a category move, a variant moving product', async () => {
    const store = new InMemoryMasterDataStore();
    const base = snapshotOf(1, 'old', 4);
    await store.replace(base);
    const heldVariants = store.getVariantsByProduct(['prod-0001'])[0]!;
    const [p1, p2] = [base.products[0]!, base.products[1]!];
    await store.apply([
      productChange(2, { id: 'prod-0000', name: 'First Hat', description: '', brand: 'Acme', category: 'hats', skus: ['SKU-0000-1'] }),
      variantChange(3, { sku: 'SKU-0000-1', productId: 'prod-0000', name: 'First Hat', color: '', size: '', price: { minor: 500, currency: 'EUR' }, status: 'ACTIVE' }),
      productChange(4, { ...p1, category: 'hats', name: 'Linen Fedora' }),
      variantChange(5, { ...base.variants[1]!, productId: p2.id }),
    ]);
    expect(store.searchProducts({ offset: 0, limit: 10 }).products.map((p) => p.id)).toEqual(['prod-0000', 'prod-0001', 'prod-0002', 'prod-0003', 'prod-0004']);
    expect(store.searchProducts({ category: 'hats', offset: 0, limit: 10 }).products.map((p) => p.id)).toEqual(['prod-0000', 'prod-0001']);
    expect(store.searchProducts({ category: 'shirts', offset: 0, limit: 10 }).products.map((p) => p.id)).toEqual(['prod-0003']);
    expect(store.searchProducts({ query: 'fedora', offset: 0, limit: 10 }).products.map((p) => p.id)).toEqual(['prod-0001']);
    expect(store.searchProducts({ query: 'old shirt 1', offset: 0, limit: 10 }).total).toBe(0);
    expect(store.getVariantsByProduct(['prod-0001', 'prod-0002', 'prod-0000']).map((l) => l.map((v) => v.sku))).toEqual([
      ['SKU-0001-1'],
      ['SKU-0002-1', 'SKU-0002-2', 'SKU-0001-2'],
      ['SKU-0000-1'],
    ]);
    // What a reader held before the batch is as it was: lists are replaced, never changed.
    expect(heldVariants.map((v) => v.sku)).toEqual(['SKU-0001-1', 'SKU-0001-2']);
    expect(Object.isFrozen(store.getVariants(['SKU-0000-1'])[0])).toBe(true);
    expect(() => store.getVariantsByProduct(['prod-0001'])[0]!.push(base.variants[0]!)).toThrow();
  });

  it('keeps the newest exceptions, newest first, once per id', async () => {
    const store = new InMemoryMasterDataStore({ maxExceptions: 3 });
    const exception = (n: number): MasterDataException => ({ id: `md-${n}`, sequence: n, at: AT, kind: 'VARIANT', key: `SKU-${n}`, reason: 'NON_POSITIVE_PRICE', message: 'price 0', recordedAt: AT });
    for (const n of [1, 2, 2, 3, 4]) await store.recordException(exception(n));
    expect(store.exceptions(10).map((e) => e.id)).toEqual(['md-4', 'md-3', 'md-2']);
    expect(store.exceptions(1).map((e) => e.id)).toEqual(['md-4']);
  });

  it('swaps a whole snapshot at once: a reader during replace sees the old model or the new, never a mix', async () => {
    const { store } = await journaled(tempDir());
    const old = snapshotOf(1, 'old');
    const skus = old.variants.map((v) => v.sku);
    await store.replace(old);
    // The journaled store waits for its fsync before it swaps: readers run meanwhile.
    const seen = await readWhile(store.replace(snapshotOf(2, 'new')), () => generationSeen(store, skus));
    expect(seen).not.toContain('MIXED');
    expect(seen.length).toBeGreaterThan(2);
    expect(seen[0]).toBe('old');
    expect(seen.at(-1)).toBe('new');
  });

  it('applies a batch at once: a reader sees all of it or none of it', async () => {
    const { store } = await journaled(tempDir());
    const old = snapshotOf(1, 'old');
    const skus = old.variants.map((v) => v.sku);
    await store.replace(old);
    const batch: MasterChange[] = [
      ...old.variants.map((v, i) => variantChange(2 + i, { ...v, price: { minor: 2000, currency: 'EUR' } })),
      ...old.policies.filter((p) => p.locationId === 'wh-01').map((p, i) => ({ sequence: 100 + i, at: AT, kind: 'STOCK_POLICY' as const, policy: { ...p, safetyStock: 2 } })),
      ...old.products.map((p, i) => productChange(200 + i, { ...p, name: p.name.replace('old', 'new') })),
    ];
    const seen = await readWhile(store.apply(batch), () => generationSeen(store, skus));
    expect(seen).not.toContain('MIXED');
    expect(seen.length).toBeGreaterThan(2);
    expect(seen[0]).toBe('old');
    expect(seen.at(-1)).toBe('new');
  });
});

describe('JournaledMasterDataStore', () => {
  it('comes back from DATA_DIR after a restart: model, position and exceptions', async () => {
    const dir = tempDir();
    const first = await journaled(dir);
    await first.journal.append({ t: 'call', system: 'erp', method: 'changeItem', args: [], at: AT } satisfies JournalEntry);
    const base = snapshotOf(5, 'old', 3);
    await first.store.replace(base);
    await first.store.apply([variantChange(6, { ...base.variants[0]!, price: { minor: 600, currency: 'EUR' } })]);
    await first.store.apply([variantChange(6, { ...base.variants[0]!, price: { minor: 1, currency: 'EUR' } })]); // nothing new: not journaled
    await first.store.recordException({ id: 'md-7', sequence: 7, at: AT, kind: 'VARIANT', key: 'bad sku!', reason: 'MALFORMED_SKU', message: 'no', recordedAt: AT });
    await first.store.recordException({ id: 'md-7', sequence: 7, at: AT, kind: 'VARIANT', key: 'bad sku!', reason: 'MALFORMED_SKU', message: 'no', recordedAt: AT });
    await first.store.skip(7, '2026-03-01T10:07:00.000Z');
    const before = { position: first.store.position(), products: first.store.searchProducts({ offset: 0, limit: 100 }), variants: first.store.getVariantsByProduct(base.products.map((p) => p.id)), exceptions: first.store.exceptions(10) };
    await first.store.close();
    await first.journal.close();

    const { journal, entries } = await Journal.open<JournalEntry>(dir);
    expect(entries.filter((e) => e.t === 'md').map((e) => (e.t === 'md' ? e.op : ''))).toEqual(['replace', 'apply', 'exception', 'skip']);
    const second = JournaledMasterDataStore.restore(journal, entries);
    expect(second.position()).toEqual(before.position);
    expect(second.position()).toMatchObject({ sequence: 7, changeAt: '2026-03-01T10:07:00.000Z' });
    expect(second.searchProducts({ offset: 0, limit: 100 })).toEqual(before.products);
    expect(second.getVariantsByProduct(base.products.map((p) => p.id))).toEqual(before.variants);
    expect(second.getVariants([base.variants[0]!.sku])[0]!.price.minor).toBe(600);
    expect(second.exceptions(10)).toEqual(before.exceptions);
    // It resumes: what it had is skipped, the next change applies.
    await second.apply([variantChange(7, { ...base.variants[0]!, price: { minor: 7, currency: 'EUR' } }), variantChange(8, { ...base.variants[0]!, price: { minor: 800, currency: 'EUR' } })]);
    expect(second.getVariants([base.variants[0]!.sku])[0]!.price.minor).toBe(800);
    await journal.close();
  });

  it('replays from the last snapshot: what a replace superseded is gone', async () => {
    const dir = tempDir();
    const first = await journaled(dir);
    await first.store.replace(snapshotOf(1, 'old', 5));
    await first.store.apply([productChange(2, { id: 'prod-0900', name: 'Gone', description: '', brand: 'X', category: 'hats', skus: [] })]);
    await first.store.replace(snapshotOf(3, 'new', 2));
    await first.journal.close();

    const second = await journaled(dir);
    expect(second.store.position().sequence).toBe(3);
    expect(second.store.searchProducts({ offset: 0, limit: 100 }).products.map((p) => p.name)).toEqual(['new Shirt 1', 'new Shirt 2']);
    expect(second.store.getProducts(['prod-0900', 'prod-0005'])).toEqual([null, null]);
    await second.journal.close();
  });
});
