import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../journal.js';
import { JournaledMasterDataStore } from './memory-store.js';
import type { MasterChange, MasterSnapshot, MasterVariant } from './model.js';

/*
 * The journaled master-data store as an owner of DATA_DIR's journal (common/journal.ts): its snapshot is the model
 * at its position with the exceptions, and the entry it was writing when the snapshot was taken.
 */

const AT = '2026-03-01T10:00:00.000Z';
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function model(sequence: number, products: number): MasterSnapshot {
  const snapshot: MasterSnapshot = { sequence, at: AT, products: [], variants: [], policies: [] };
  for (let i = 1; i <= products; i++) {
    const id = `prod-${String(i).padStart(4, '0')}`;
    const sku = `SKU-${String(i).padStart(4, '0')}-1`;
    snapshot.products.push({ id, name: `Shirt ${i}`, description: 'A shirt', brand: 'Acme', category: 'shirts', skus: [sku] });
    snapshot.variants.push({ sku, productId: id, name: `Shirt ${i} M`, color: 'blue', size: 'M', price: { minor: 1000 + i, currency: 'EUR' }, status: 'ACTIVE' });
    snapshot.policies.push({ sku, locationId: 'store-001', safetyStock: 1, incoming: 0 });
  }
  return snapshot;
}
const priced = (sequence: number, variant: MasterVariant, minor: number): MasterChange => ({ sequence, at: AT, kind: 'VARIANT', variant: { ...variant, price: { minor, currency: 'EUR' } } });

async function open(dir: string) {
  const journal = await Journal.create(dir, { compactOnCloseAfterEntries: 1 });
  const store = JournaledMasterDataStore.attach(journal);
  await journal.replay();
  return { journal, store };
}

const view = (store: JournaledMasterDataStore) => ({
  position: store.position(),
  products: store.searchProducts({ offset: 0, limit: 100 }),
  variants: store.getVariants(['SKU-0001-1', 'SKU-0002-1', 'SKU-0003-1']),
  policies: store.getStockPolicies([{ sku: 'SKU-0001-1', locationId: 'store-001' }]),
  exceptions: store.exceptions(10),
});

describe('JournaledMasterDataStore in a compacted journal', () => {
  it('comes back from its snapshot as it was: model, position, exceptions; superseded snapshots are gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'md-snapshot-'));
    dirs.push(dir);
    const first = await open(dir);
    await first.store.replace(model(1, 5));
    const base = model(4, 3);
    await first.store.replace(base);
    await first.store.apply([priced(5, base.variants[0]!, 555)]);
    await first.store.recordException({ id: 'md-6', sequence: 6, at: AT, kind: 'VARIANT', key: 'bad sku!', reason: 'MALFORMED_SKU', message: 'no', recordedAt: AT });
    await first.store.skip(7, '2026-03-01T10:07:00.000Z');
    const before = view(first.store);
    await first.store.close();
    await first.journal.close();
    const snapshot = readFileSync(join(dir, 'journal.snapshot.ndjson'), 'utf8');
    expect(snapshot.match(/"k":"model"/g)).toHaveLength(1);
    expect(readFileSync(join(dir, 'journal.ndjson'), 'utf8')).toBe('');

    const second = await open(dir);
    expect(view(second.store)).toEqual(before);
    expect(second.store.position()).toMatchObject({ sequence: 7, changeAt: '2026-03-01T10:07:00.000Z' });
    // It resumes from its position.
    await second.store.apply([priced(7, base.variants[0]!, 7), priced(8, base.variants[0]!, 800)]);
    expect(second.store.getVariants(['SKU-0001-1'])[0]!.price.minor).toBe(800);
    await second.journal.close({ compact: false });
  });

  it('a snapshot taken while a write is on its way to disk holds that write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'md-snapshot-'));
    dirs.push(dir);
    const first = await open(dir);
    const base = model(1, 3);
    await first.store.replace(base);
    // The write's entry and the snapshot instant share the writer's next turn: the model changes only after.
    const applying = first.store.apply([priced(2, base.variants[1]!, 222)]);
    const compacting = first.journal.compact();
    await Promise.all([applying, compacting]);
    const before = view(first.store);
    // Dies now: the entry's segment is gone, so the write is in the snapshot or nowhere.
    await first.journal.close({ compact: false });
    expect(readFileSync(join(dir, 'journal.snapshot.ndjson'), 'utf8')).toContain('"k":"entry"');

    const second = await open(dir);
    expect(view(second.store)).toEqual(before);
    expect(second.store.getVariants(['SKU-0002-1'])[0]!.price.minor).toBe(222);
    await second.journal.close({ compact: false });
  });
});
