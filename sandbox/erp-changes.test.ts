import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Journal } from '../common/journal.js';
import { createLogger } from '../common/logger.js';
import type { HttpService } from '../common/service.js';
import { createSandbox, type Sandbox, type SandboxOptions } from './index.js';
import type { ErpProduct, ErpVariant, StockPolicy } from '../common/systems/records.js';
import { remoteSystems } from './remote.js';
import { createSandboxServer, decimalToMinor } from './server.js';
import type { ErpMasterChange, ErpMasterSnapshot, JournalPostingRequest } from '../common/systems/erp.js';
import { WRITE_METHODS, type SystemWrite } from '../common/systems/writes.js';

/*
 * The sandbox ERP's master-data change feed and the merchandiser's writes: the feed's order, paging and lost
 * positions, a snapshot that agrees with the feed, each write and what the ERP's own reads then answer, the
 * control endpoints over HTTP, the DATA_DIR journal and its replay, and the batch posting call.
 */

const CONFIG = { seed: 42, scale: 0.05 };
const silent = createLogger({ level: 'silent' });

const newProduct = (id: string, skus: string[], extra: Partial<{ name: string; category: string }> = {}) => ({
  id,
  name: extra.name ?? 'Nordwind Glacier Parka',
  description: 'A parka for glacier walks.',
  brand: 'Nordwind',
  category: extra.category ?? 'outerwear',
  variants: skus.map((sku, i) => ({ sku, name: `Glacier Parka ${i + 1}`, color: 'ice', size: 'M', listPriceMinor: 19_999 + i, currency: 'EUR' })),
});

const posting = (id: string, amountMinor = 1000): JournalPostingRequest => ({ id, orderId: 'ord-w900001', type: 'SALE', amountMinor, currency: 'EUR' });

/** The master data a snapshot holds, keyed, so two can be compared whatever their order. */
function keyed(snapshot: Pick<ErpMasterSnapshot, 'products' | 'variants' | 'policies'>) {
  return {
    products: new Map(snapshot.products.map((p) => [p.id, p])),
    variants: new Map(snapshot.variants.map((v) => [v.sku, v])),
    policies: new Map(snapshot.policies.map((p) => [`${p.sku}@${p.locationId}`, p])),
  };
}

async function allChanges(sandbox: Sandbox, after = 0): Promise<ErpMasterChange[]> {
  const batch = await sandbox.systems.erp.getMasterDataChanges(after, 5000);
  if (!batch.ok) throw new Error('position lost');
  return batch.changes;
}

describe('the change feed', () => {
  let sandbox: Sandbox;
  beforeEach(() => {
    sandbox = createSandbox(CONFIG);
  });

  it('starts at sequence 0 with the seed as its snapshot, every variant ACTIVE', async () => {
    expect(await sandbox.systems.erp.getMasterDataChanges(0, 100)).toEqual({ ok: true, changes: [], latestSequence: 0 });
    const snapshot = await sandbox.systems.erp.getMasterDataSnapshot();
    expect(snapshot.sequence).toBe(0);
    expect(snapshot.products).toEqual(sandbox.data.products);
    expect(snapshot.variants).toHaveLength(sandbox.data.variants.length);
    expect(snapshot.variants.every((v) => v.status === 'ACTIVE')).toBe(true);
    expect(snapshot.policies).toHaveLength(sandbox.data.policies.length);
    expect(new Date(snapshot.at).toISOString()).toBe(snapshot.at);
  });

  it('answers the changes after a sequence, ascending, at most `limit`, with the latest sequence', async () => {
    const erp = sandbox.systems.erp;
    expect(await erp.changeItem({ sku: 'SKU-0001-1', listPriceMinor: 2499 })).toEqual({ sequence: 1 });
    expect(await erp.setStockPolicy({ sku: 'SKU-0001-1', locationId: 'store-003', safetyStock: 4 })).toEqual({ sequence: 2 });
    expect(await erp.addProduct(newProduct('prod-0901', ['SKU-0901-1', 'SKU-0901-2']))).toEqual({ sequence: 5 });
    expect(await erp.changeItem({ sku: 'SKU-0002-1', status: 'DISCONTINUED' })).toEqual({ sequence: 6 });

    const all = await allChanges(sandbox);
    expect(all.map((c) => c.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(all.map((c) => c.kind)).toEqual(['VARIANT', 'STOCK_POLICY', 'PRODUCT', 'VARIANT', 'VARIANT', 'VARIANT']);
    for (const change of all) expect(new Date(change.at).toISOString()).toBe(change.at);
    // Each change carries the whole record as it is after the change.
    const [first] = await erp.getVariants(['SKU-0001-1']);
    expect(all[0]).toMatchObject({ kind: 'VARIANT', variant: first });
    expect(all[1]).toMatchObject({ kind: 'STOCK_POLICY', policy: { sku: 'SKU-0001-1', locationId: 'store-003', safetyStock: 4 } });
    expect(all[2]).toMatchObject({ kind: 'PRODUCT', product: { id: 'prod-0901', skus: ['SKU-0901-1', 'SKU-0901-2'] } });

    const page = await erp.getMasterDataChanges(2, 3);
    expect(page).toEqual({ ok: true, changes: all.slice(2, 5), latestSequence: 6 });
    expect(await erp.getMasterDataChanges(5, 5000)).toEqual({ ok: true, changes: all.slice(5), latestSequence: 6 });
    expect(await erp.getMasterDataChanges(6, 10)).toEqual({ ok: true, changes: [], latestSequence: 6 });
  });

  it('refuses a limit outside 1..5000 and a negative or fractional position', async () => {
    const erp = sandbox.systems.erp;
    for (const limit of [0, 5001, 1.5, Number.NaN]) await expect(erp.getMasterDataChanges(0, limit)).rejects.toThrow(RangeError);
    for (const after of [-1, 0.5]) await expect(erp.getMasterDataChanges(after, 10)).rejects.toThrow(RangeError);
    expect((await erp.getMasterDataChanges(0, 5000)).ok).toBe(true);
  });

  it('answers POSITION_LOST for a position whose next changes were trimmed, and for a position it never issued', async () => {
    const erp = sandbox.systems.erp;
    for (let i = 1; i <= 5; i++) await erp.changeItem({ sku: 'SKU-0001-1', listPriceMinor: 1000 + i });
    expect(await erp.trimMasterDataChanges(2)).toEqual({ oldestSequence: 4 });
    expect(await erp.getMasterDataChanges(2, 10)).toEqual({ ok: false, reason: 'POSITION_LOST', oldestSequence: 4, latestSequence: 5 });
    expect(await erp.getMasterDataChanges(0, 10)).toMatchObject({ ok: false, reason: 'POSITION_LOST' });
    const kept = await erp.getMasterDataChanges(3, 10);
    expect(kept.ok && kept.changes.map((c) => c.sequence)).toEqual([4, 5]);
    // A reader ahead of the ERP (the ERP was reset under it) cannot go on from there either.
    expect(await erp.getMasterDataChanges(6, 10)).toEqual({ ok: false, reason: 'POSITION_LOST', oldestSequence: 4, latestSequence: 5 });

    expect(await erp.trimMasterDataChanges(0)).toEqual({ oldestSequence: 6 });
    expect(await erp.getMasterDataChanges(5, 10)).toEqual({ ok: true, changes: [], latestSequence: 5 });
    expect(await erp.getMasterDataChanges(4, 10)).toMatchObject({ ok: false, oldestSequence: 6 });
    await erp.changeItem({ sku: 'SKU-0001-1', listPriceMinor: 999 });
    const next = await erp.getMasterDataChanges(5, 10);
    expect(next.ok && next.changes.map((c) => c.sequence)).toEqual([6]);
    await expect(erp.trimMasterDataChanges(-1)).rejects.toThrow(RangeError);
  });

  it('keeps only the newest `changeRetention` changes', async () => {
    const small = createSandbox(CONFIG, { erp: { changeRetention: 3 } });
    for (let i = 1; i <= 5; i++) await small.systems.erp.changeItem({ sku: 'SKU-0001-1', listPriceMinor: 1000 + i });
    expect(await small.systems.erp.getMasterDataChanges(1, 10)).toEqual({ ok: false, reason: 'POSITION_LOST', oldestSequence: 3, latestSequence: 5 });
    const kept = await small.systems.erp.getMasterDataChanges(2, 10);
    expect(kept.ok && kept.changes.map((c) => c.sequence)).toEqual([3, 4, 5]);
    expect(() => createSandbox(CONFIG, { erp: { changeRetention: 0 } })).toThrow(RangeError);
  });

  it('gives a snapshot that is the earlier snapshot with the changes since applied', async () => {
    const erp = sandbox.systems.erp;
    await erp.changeItem({ sku: 'SKU-0003-2', listPriceMinor: 5 });
    const before = await erp.getMasterDataSnapshot();
    await erp.changeItem({ sku: 'SKU-0001-1', listPriceMinor: 2499, currency: 'USD' });
    await erp.addProduct(newProduct('prod-0902', ['SKU-0902-1']));
    await erp.setStockPolicy({ sku: 'SKU-0902-1', locationId: 'wh-01', safetyStock: 7, incoming: 30 });
    await erp.setStockPolicy({ sku: 'SKU-0001-1', locationId: 'wh-02', safetyStock: 1 });
    await erp.changeItem({ sku: 'SKU-0902-1', status: 'DISCONTINUED' });

    const replica = keyed(before);
    for (const change of await allChanges(sandbox, before.sequence)) {
      switch (change.kind) {
        case 'PRODUCT':
          replica.products.set(change.product.id, change.product);
          break;
        case 'VARIANT':
          replica.variants.set(change.variant.sku, change.variant);
          break;
        case 'STOCK_POLICY':
          replica.policies.set(`${change.policy.sku}@${change.policy.locationId}`, change.policy);
          break;
      }
    }
    const after = await erp.getMasterDataSnapshot();
    expect(before.sequence).toBe(1);
    expect(after.sequence).toBe(7);
    expect(keyed(after)).toEqual(replica);
    expect(after.products.map((p) => p.id)).toEqual([...after.products.map((p) => p.id)].sort());
  });
});

describe('the master-data writes', () => {
  let sandbox: Sandbox;
  beforeEach(() => {
    sandbox = createSandbox(CONFIG);
  });

  it('changeItem changes price, currency and status, and every read of the ERP shows it', async () => {
    const erp = sandbox.systems.erp;
    const [before] = await erp.getVariants(['SKU-0001-1']);
    const [siblingsBefore] = await erp.getVariantsByProduct(['prod-0001']);
    await erp.changeItem({ sku: 'SKU-0001-1', listPriceMinor: 2499 });
    expect((await erp.getVariants(['SKU-0001-1']))[0]).toEqual({ ...before, priceMinor: 2499 });
    await erp.changeItem({ sku: 'SKU-0001-1', listPriceMinor: 2500, currency: 'JPY', status: 'DISCONTINUED' });
    const [after] = await erp.getVariants(['SKU-0001-1']);
    expect(after).toEqual({ ...before, priceMinor: 2500, currency: 'JPY', status: 'DISCONTINUED' });
    const [siblings] = await erp.getVariantsByProduct(['prod-0001']);
    expect(siblings?.map((v) => v.sku)).toEqual(siblingsBefore?.map((v) => v.sku));
    expect(siblings?.find((v) => v.sku === 'SKU-0001-1')).toEqual(after);
    // Records answered before, and the seed, are left as they were.
    expect(before).toMatchObject({ priceMinor: sandbox.data.variants[0]?.priceMinor, status: 'ACTIVE' });
    expect(siblingsBefore?.[0]).toBe(before);
    expect(sandbox.data.variants[0]).toEqual(before);
  });

  it('changeItem refuses an unknown SKU with "no variant <sku>" and a bad status, writing nothing', async () => {
    const erp = sandbox.systems.erp;
    await expect(erp.changeItem({ sku: 'SKU-9999-9', listPriceMinor: 100 })).rejects.toThrow(new Error('no variant SKU-9999-9'));
    await expect(erp.changeItem({ sku: 'SKU-0001-1', status: 'GONE' as never })).rejects.toThrow(/status/);
    await expect(erp.changeItem({ sku: 'SKU-0001-1', listPriceMinor: 1.5 })).rejects.toThrow(/integer/);
    expect((await erp.getMasterDataChanges(0, 10)).ok && (await allChanges(sandbox))).toEqual([]);
  });

  it('addProduct adds a product and its variants that getProducts, getVariants(ByProduct) and searchProducts find', async () => {
    const erp = sandbox.systems.erp;
    const { sequence } = await erp.addProduct(newProduct('prod-0501', ['SKU-0501-1', 'SKU-0501-2'], { name: 'Nordwind Zyxwvut Parka', category: 'outerwear' }));
    expect(sequence).toBe(3);
    const [product] = await erp.getProducts(['prod-0501']);
    expect(product).toEqual({ id: 'prod-0501', name: 'Nordwind Zyxwvut Parka', description: 'A parka for glacier walks.', brand: 'Nordwind', category: 'outerwear', skus: ['SKU-0501-1', 'SKU-0501-2'] });
    const variants = await erp.getVariants(['SKU-0501-1', 'SKU-0501-2']);
    expect(variants).toEqual([
      { sku: 'SKU-0501-1', productId: 'prod-0501', name: 'Glacier Parka 1', color: 'ice', size: 'M', priceMinor: 19_999, currency: 'EUR', status: 'ACTIVE' },
      { sku: 'SKU-0501-2', productId: 'prod-0501', name: 'Glacier Parka 2', color: 'ice', size: 'M', priceMinor: 20_000, currency: 'EUR', status: 'ACTIVE' },
    ]);
    expect(await erp.getVariantsByProduct(['prod-0501'])).toEqual([variants]);
    expect(await erp.searchProducts({ query: 'zyxwvut', offset: 0, limit: 10 })).toEqual({ total: 1, products: [product] });
    expect(await erp.searchProducts({ query: 'ZYXWVUT nordwind', category: 'outerwear', offset: 0, limit: 10 })).toEqual({ total: 1, products: [product] });
    expect((await erp.searchProducts({ query: 'zyxwvut', category: 'footwear', offset: 0, limit: 10 })).total).toBe(0);
    // Search stays ordered by id: a new id sorting before the seed's lands first.
    const early = newProduct('prod-0000', ['SKU-0000-1'], { name: 'Nordwind Zyxwvut Boot' });
    await erp.addProduct(early);
    const found = await erp.searchProducts({ query: 'zyxwvut', offset: 0, limit: 10 });
    expect(found.products.map((p) => p.id)).toEqual(['prod-0000', 'prod-0501']);
    const everything = await erp.searchProducts({ offset: 0, limit: 1000 });
    expect(everything.total).toBe(sandbox.data.products.length + 2);
    expect(everything.products.map((p) => p.id)).toEqual([...everything.products.map((p) => p.id)].sort());
    expect(sandbox.data.products).toHaveLength(everything.total - 2);
  });

  it('addProduct records the product, then one change per variant, and refuses an id or SKU it holds', async () => {
    const erp = sandbox.systems.erp;
    await erp.addProduct(newProduct('prod-0501', ['SKU-0501-1', 'SKU-0501-2']));
    const changes = await allChanges(sandbox);
    expect(changes.map((c) => [c.sequence, c.kind])).toEqual([
      [1, 'PRODUCT'],
      [2, 'VARIANT'],
      [3, 'VARIANT'],
    ]);
    expect(changes.map((c) => (c.kind === 'VARIANT' ? c.variant.sku : null))).toEqual([null, 'SKU-0501-1', 'SKU-0501-2']);
    await expect(erp.addProduct(newProduct('prod-0501', ['SKU-0502-1']))).rejects.toThrow('product prod-0501 exists');
    await expect(erp.addProduct(newProduct('prod-0502', ['SKU-0001-1']))).rejects.toThrow('variant SKU-0001-1 exists');
    await expect(erp.addProduct(newProduct('prod-0502', ['SKU-0502-1', 'SKU-0502-1']))).rejects.toThrow('variant SKU-0502-1 exists');
    expect(await erp.getProducts(['prod-0502'])).toEqual([null]);
    expect((await allChanges(sandbox)).length).toBe(3);
  });

  it('setStockPolicy sets safety stock (and incoming when given) that getStockPolicies answers', async () => {
    const erp = sandbox.systems.erp;
    const key = { sku: 'SKU-0001-1', locationId: 'store-003' };
    const [before] = await erp.getStockPolicies([key]);
    await erp.setStockPolicy({ ...key, safetyStock: 9 });
    expect(await erp.getStockPolicies([key])).toEqual([{ ...key, safetyStock: 9, incoming: before?.incoming }]);
    await erp.setStockPolicy({ ...key, safetyStock: 2, incoming: 40 });
    expect(await erp.getStockPolicies([key])).toEqual([{ ...key, safetyStock: 2, incoming: 40 }]);
    expect(sandbox.data.policies.find((p) => p.sku === key.sku && p.locationId === key.locationId)).toEqual(before);
    // A SKU new to the master gets its first policy.
    await erp.addProduct(newProduct('prod-0501', ['SKU-0501-1']));
    await erp.setStockPolicy({ sku: 'SKU-0501-1', locationId: 'wh-01', safetyStock: 3 });
    expect(await erp.getStockPolicies([{ sku: 'SKU-0501-1', locationId: 'wh-01' }])).toEqual([{ sku: 'SKU-0501-1', locationId: 'wh-01', safetyStock: 3, incoming: 0 }]);
    await expect(erp.setStockPolicy({ sku: 'SKU-9999-9', locationId: 'wh-01', safetyStock: 1 })).rejects.toThrow('no variant SKU-9999-9');
    await expect(erp.setStockPolicy({ sku: 'SKU-0001-1', locationId: 'store-999', safetyStock: 1 })).rejects.toThrow('no location store-999');
  });

  it('takes nonsense values as given: a price of 0 or -5, currency XXX, a SKU "bad sku!", a negative safety stock', async () => {
    const erp = sandbox.systems.erp;
    await erp.changeItem({ sku: 'SKU-0001-1', listPriceMinor: 0 });
    await erp.changeItem({ sku: 'SKU-0001-2', listPriceMinor: -5, currency: 'XXX' });
    await erp.addProduct({ id: 'prod-bad', name: '', brand: '', category: 'nowhere', variants: [{ sku: 'bad sku!', name: 'x', listPriceMinor: -1, currency: 'eur' }] });
    await erp.setStockPolicy({ sku: 'bad sku!', locationId: 'store-001', safetyStock: -3, incoming: -1 });
    const [zero, negative, bad] = await erp.getVariants(['SKU-0001-1', 'SKU-0001-2', 'bad sku!']);
    expect(zero).toMatchObject({ priceMinor: 0, currency: 'EUR' });
    expect(negative).toMatchObject({ priceMinor: -5, currency: 'XXX' });
    expect(bad).toMatchObject({ productId: 'prod-bad', priceMinor: -1, currency: 'eur', status: 'ACTIVE' });
    expect(await erp.getStockPolicies([{ sku: 'bad sku!', locationId: 'store-001' }])).toEqual([{ sku: 'bad sku!', locationId: 'store-001', safetyStock: -3, incoming: -1 }]);
  });
});

describe('postJournalBatch', () => {
  let sandbox: Sandbox;
  beforeEach(() => {
    sandbox = createSandbox(CONFIG);
  });

  it('books every entry in order in one ERP call, each exactly as postJournal', async () => {
    const erp = sandbox.systems.erp;
    const [single] = await Promise.all([erp.postJournal(posting('pst-single'))]);
    sandbox.control.resetCalls();
    const booked = await erp.postJournalBatch([posting('pst-a', 100), posting('pst-b', 200), posting('pst-c', 300)]);
    expect(sandbox.control.calls()).toEqual({ erp: { postJournalBatch: 1 } });
    expect(booked.map((p) => [p.id, p.status, p.amountMinor])).toEqual([
      ['pst-a', 'POSTED', 100],
      ['pst-b', 'POSTED', 200],
      ['pst-c', 'POSTED', 300],
    ]);
    const numbers = booked.map((p) => Number(p.erpDocumentNumber?.slice(3)));
    expect(numbers).toEqual([1, 2, 3].map((i) => Number(single.erpDocumentNumber?.slice(3)) + i));
    expect(await erp.getPostings(['pst-a', 'pst-b', 'pst-c'])).toEqual(booked);
  });

  it('is idempotent per posting id: again, or twice in one batch, an id is booked once', async () => {
    const erp = sandbox.systems.erp;
    const first = await erp.postJournalBatch([posting('pst-a'), posting('pst-b')]);
    const again = await erp.postJournalBatch([posting('pst-b'), posting('pst-a'), posting('pst-c'), posting('pst-c')]);
    expect(again[0]).toEqual(first[1]);
    expect(again[1]).toEqual(first[0]);
    expect(again[2]).toEqual(again[3]);
    expect(await erp.postJournal(posting('pst-c'))).toEqual(again[2]);
    const documents = new Set([...first, ...again].map((p) => p.erpDocumentNumber));
    expect(documents.size).toBe(3);
  });

  it('answers an entry it cannot book as FAILED with the reason, keeps nothing of it, and books the rest', async () => {
    const erp = sandbox.systems.erp;
    const answers = await erp.postJournalBatch([posting('pst-a'), { ...posting('pst-bad'), currency: 'euro' }, { ...posting('pst-neg'), amountMinor: -1 }, posting('pst-b')]);
    expect(answers.map((p) => [p.id, p.status])).toEqual([
      ['pst-a', 'POSTED'],
      ['pst-bad', 'FAILED'],
      ['pst-neg', 'FAILED'],
      ['pst-b', 'POSTED'],
    ]);
    expect(answers[1]).toMatchObject({ erpDocumentNumber: null, postedAt: null, lastError: expect.stringMatching(/currency must be an ISO 4217 code/) });
    await expect(erp.postJournal({ ...posting('pst-bad'), currency: 'euro' })).rejects.toThrow(answers[1]?.lastError ?? 'never');
    expect(await erp.getPostings(['pst-bad', 'pst-neg'])).toEqual([null, null]);
    expect(await erp.postJournalBatch([])).toEqual([]);
  });
});

describe('the DATA_DIR journal', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A sandbox over a journal in `dir`, exactly as stack.ts opens one. */
  async function journaled(dir: string, extra: SandboxOptions = {}) {
    type CallEntry = { t: 'call' } & SystemWrite;
    const opened = await Journal.open<CallEntry | { t: 'other' }>(dir);
    const sandbox = createSandbox(CONFIG, {
      ...extra,
      replay: opened.entries.flatMap((e) => (e.t === 'call' ? [e] : [])),
      onWrite: (write) => opened.journal.append({ t: 'call', ...write }),
    });
    return { sandbox, journal: opened.journal, entries: opened.entries };
  }

  it('lists the new writes in WRITE_METHODS', () => {
    expect(WRITE_METHODS.erp).toEqual(expect.arrayContaining(['changeItem', 'addProduct', 'setStockPolicy', 'postJournalBatch']));
    expect(WRITE_METHODS.erp).not.toContain('trimMasterDataChanges');
  });

  it('journals every master-data write and posting batch, and a restart replays them into the same state and feed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-erp-journal-'));
    dirs.push(dir);
    const first = await journaled(dir);
    const erp = first.sandbox.systems.erp;
    await erp.changeItem({ sku: 'SKU-0001-1', listPriceMinor: 2499, status: 'DISCONTINUED' });
    await erp.addProduct(newProduct('prod-0501', ['SKU-0501-1', 'SKU-0501-2']));
    await erp.setStockPolicy({ sku: 'SKU-0501-1', locationId: 'store-002', safetyStock: 5, incoming: 12 });
    const booked = await erp.postJournalBatch([posting('pst-a'), posting('pst-b')]);
    await expect(erp.changeItem({ sku: 'SKU-9999-9', listPriceMinor: 1 })).rejects.toThrow('no variant');
    // The control's writes (the merchandiser's console) are journaled as well.
    const server = createSandboxServer(first.sandbox, silent);
    const base = await server.listen(0, '127.0.0.1');
    const response = await fetch(`${base}/sandbox/erp/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'SKU-0002-1', listPrice: '9.50' }) });
    expect(await response.json()).toEqual({ sequence: 6 });
    await server.stop();
    const before = { snapshot: await erp.getMasterDataSnapshot(), changes: await allChanges(first.sandbox), postings: await erp.getPostings(['pst-a', 'pst-b']) };
    await first.journal.close();

    const second = await journaled(dir);
    expect(second.entries.map((e) => (e.t === 'call' ? e.method : e.t))).toEqual(['changeItem', 'addProduct', 'setStockPolicy', 'postJournalBatch', 'changeItem']);
    const replayed = second.sandbox.systems.erp;
    const snapshot = await replayed.getMasterDataSnapshot();
    expect({ ...snapshot, at: null }).toEqual({ ...before.snapshot, at: null });
    expect(await allChanges(second.sandbox)).toEqual(before.changes);
    expect(await replayed.getPostings(['pst-a', 'pst-b'])).toEqual(booked);
    expect(before.postings).toEqual(booked);
    expect((await replayed.getVariants(['SKU-0002-1']))[0]).toMatchObject({ priceMinor: 950 });
    // The replayed ERP carries on from where it was: the next change is 7, a posted id stays booked once.
    expect(await replayed.changeItem({ sku: 'SKU-0003-1', listPriceMinor: 1 })).toEqual({ sequence: 7 });
    expect(await replayed.postJournalBatch([posting('pst-a')])).toEqual([booked[0]]);
    await second.journal.close();
  });
});

describe('the control endpoints', () => {
  let sandbox: Sandbox;
  let server: HttpService;
  let base: string;

  beforeAll(async () => {
    sandbox = createSandbox(CONFIG);
    server = createSandboxServer(sandbox, silent);
    base = await server.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await server.stop();
  });
  beforeEach(() => {
    sandbox.control.clearFaults();
    sandbox.control.resetCalls();
  });

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  // Read at the console, so that these reads are not counted as ERP calls.
  const variant = async (sku: string): Promise<ErpVariant | null> => (await (sandbox.direct ?? sandbox.systems).erp.getVariants([sku]))[0] ?? null;
  const latest = async () => (await (sandbox.direct ?? sandbox.systems).erp.getMasterDataSnapshot()).sequence;

  it('POST /sandbox/erp/items sets a list price from a decimal string in the variant currency, answering the sequence', async () => {
    const expected = (await latest()) + 1;
    expect(await post('/sandbox/erp/items', { sku: 'SKU-0001-1', listPrice: '24.99' })).toEqual({ status: 200, body: { sequence: expected } });
    expect(await variant('SKU-0001-1')).toMatchObject({ priceMinor: 2499, currency: 'EUR' });
    const batch = await sandbox.systems.erp.getMasterDataChanges(expected - 1, 10);
    expect(batch.ok && batch.changes.map((c) => c.sequence)).toEqual([expected]);
    expect((await post('/sandbox/erp/items', { sku: 'SKU-0001-1', listPrice: '19.9' })).status).toBe(200);
    expect(await variant('SKU-0001-1')).toMatchObject({ priceMinor: 1990 });
  });

  it('takes the price in currencyCode when it comes with it (its own exponent)', async () => {
    expect((await post('/sandbox/erp/items', { sku: 'SKU-0002-1', listPrice: '2500', currencyCode: 'JPY' })).status).toBe(200);
    expect(await variant('SKU-0002-1')).toMatchObject({ priceMinor: 2500, currency: 'JPY' });
    expect((await post('/sandbox/erp/items', { sku: 'SKU-0002-1', listPrice: '1.234', currencyCode: 'KWD' })).status).toBe(200);
    expect(await variant('SKU-0002-1')).toMatchObject({ priceMinor: 1234, currency: 'KWD' });
  });

  it('discontinues a variant', async () => {
    const { status, body } = await post('/sandbox/erp/items', { sku: 'SKU-0003-1', status: 'DISCONTINUED' });
    expect(status).toBe(200);
    expect(body.sequence).toBe(await latest());
    expect(await variant('SKU-0003-1')).toMatchObject({ status: 'DISCONTINUED' });
    expect((await post('/sandbox/erp/items', { sku: 'SKU-0003-1', status: 'ACTIVE' })).status).toBe(200);
    expect(await variant('SKU-0003-1')).toMatchObject({ status: 'ACTIVE' });
  });

  it('adds a product with its variants (EUR unless a variant names its currency) that search then finds', async () => {
    const product = {
      id: 'prod-0501',
      name: 'Qwertzu Trail Shoe',
      brand: 'Nordwind',
      category: 'footwear',
      description: 'Light.',
      variants: [
        { sku: 'SKU-0501-1', name: 'Qwertzu 42', listPrice: '19.99', currencyCode: 'EUR', color: 'red', size: '42' },
        { sku: 'SKU-0501-2', name: 'Qwertzu 43', listPrice: '21' },
      ],
    };
    const { status, body } = await post('/sandbox/erp/items', { product });
    expect(status).toBe(200);
    expect(body.sequence).toBe(await latest());
    expect(await sandbox.systems.erp.getVariants(['SKU-0501-1', 'SKU-0501-2'])).toMatchObject([
      { productId: 'prod-0501', name: 'Qwertzu 42', color: 'red', size: '42', priceMinor: 1999, currency: 'EUR', status: 'ACTIVE' },
      { productId: 'prod-0501', name: 'Qwertzu 43', color: '', size: '', priceMinor: 2100, currency: 'EUR', status: 'ACTIVE' },
    ]);
    const found = await sandbox.systems.erp.searchProducts({ query: 'qwertzu', category: 'footwear', offset: 0, limit: 5 });
    expect(found.products).toEqual([{ id: 'prod-0501', name: 'Qwertzu Trail Shoe', brand: 'Nordwind', category: 'footwear', description: 'Light.', skus: ['SKU-0501-1', 'SKU-0501-2'] } satisfies ErpProduct]);
  });

  it('POST /sandbox/erp/stock-policies sets a policy, POST /sandbox/erp/changes/trim trims the feed', async () => {
    const { status, body } = await post('/sandbox/erp/stock-policies', { sku: 'SKU-0004-1', locationId: 'wh-02', safetyStock: 6, incoming: 50 });
    expect(status).toBe(200);
    expect(body.sequence).toBe(await latest());
    expect(await sandbox.systems.erp.getStockPolicies([{ sku: 'SKU-0004-1', locationId: 'wh-02' }])).toEqual([{ sku: 'SKU-0004-1', locationId: 'wh-02', safetyStock: 6, incoming: 50 } satisfies StockPolicy]);
    expect((await post('/sandbox/erp/stock-policies', { sku: 'SKU-0004-1', locationId: 'wh-02', safetyStock: 1 })).status).toBe(200);
    expect(await sandbox.systems.erp.getStockPolicies([{ sku: 'SKU-0004-1', locationId: 'wh-02' }])).toEqual([{ sku: 'SKU-0004-1', locationId: 'wh-02', safetyStock: 1, incoming: 50 }]);

    const latestSequence = await latest();
    expect(await post('/sandbox/erp/changes/trim', { keep: 1 })).toEqual({ status: 200, body: { oldestSequence: latestSequence } });
    expect(await sandbox.systems.erp.getMasterDataChanges(latestSequence - 2, 10)).toMatchObject({ ok: false, reason: 'POSITION_LOST', oldestSequence: latestSequence });
  });

  it('accepts nonsense values as given: "0", "-5", currency "XXX", a SKU "bad sku!", a negative safety stock', async () => {
    expect((await post('/sandbox/erp/items', { sku: 'SKU-0005-1', listPrice: '0' })).status).toBe(200);
    expect(await variant('SKU-0005-1')).toMatchObject({ priceMinor: 0 });
    expect((await post('/sandbox/erp/items', { sku: 'SKU-0005-2', listPrice: '-5' })).status).toBe(200);
    expect(await variant('SKU-0005-2')).toMatchObject({ priceMinor: -500, currency: 'EUR' });
    expect((await post('/sandbox/erp/items', { sku: 'SKU-0005-3', listPrice: '12.50', currencyCode: 'XXX' })).status).toBe(200);
    expect(await variant('SKU-0005-3')).toMatchObject({ priceMinor: 1250, currency: 'XXX' });
    const product = { id: 'prod-junk', name: 'Junk', brand: 'None', category: 'junk', variants: [{ sku: 'bad sku!', name: 'junk', listPrice: '-0.01' }] };
    expect((await post('/sandbox/erp/items', { product })).status).toBe(200);
    expect(await variant('bad sku!')).toMatchObject({ priceMinor: -1 });
    expect((await post('/sandbox/erp/stock-policies', { sku: 'bad sku!', locationId: 'store-001', safetyStock: -2 })).status).toBe(200);
  });

  it('answers 400 with the reason for malformed JSON, an unknown SKU or location, a missing or ill-typed field', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['/sandbox/erp/items', '{"sku":', /malformed JSON/],
      ['/sandbox/erp/items', '', /JSON object/],
      ['/sandbox/erp/items', [1], /JSON object/],
      ['/sandbox/erp/items', { sku: 'SKU-9999-9', listPrice: '1.00' }, /no variant SKU-9999-9/],
      ['/sandbox/erp/items', { listPrice: '1.00' }, /sku/],
      ['/sandbox/erp/items', { sku: 'SKU-0001-1' }, /listPrice, status/],
      ['/sandbox/erp/items', { sku: 'SKU-0001-1', listPrice: 24.99 }, /listPrice must be a decimal string/],
      ['/sandbox/erp/items', { sku: 'SKU-0001-1', listPrice: '1e3' }, /decimal string/],
      ['/sandbox/erp/items', { sku: 'SKU-0001-1', listPrice: '19.999' }, /more than 2 decimals/],
      ['/sandbox/erp/items', { sku: 'SKU-0001-1', listPrice: ' 19.99' }, /decimal string/],
      ['/sandbox/erp/items', { sku: 'SKU-0001-1', status: 'RETIRED' }, /status must be ACTIVE or DISCONTINUED/],
      ['/sandbox/erp/items', { sku: 'SKU-0001-1', currencyCode: 'USD' }, /listPrice, status|currencyCode comes only with listPrice/],
      ['/sandbox/erp/items', { sku: 'SKU-0001-1', status: 'ACTIVE', currencyCode: 'USD' }, /currencyCode comes only with listPrice/],
      ['/sandbox/erp/items', { sku: 'SKU-0001-1', listPrice: '1', currencyCode: 7 }, /currencyCode/],
      ['/sandbox/erp/items', { sku: 'SKU-0001-1', product: {} }, /not both/],
      ['/sandbox/erp/items', { product: 'prod-0601' }, /product must be a JSON object/],
      ['/sandbox/erp/items', { product: { id: 'prod-0601', brand: 'b', category: 'c', variants: [] } }, /product\.name/],
      ['/sandbox/erp/items', { product: { id: 'prod-0601', name: 'n', brand: 'b', category: 'c' } }, /product\.variants/],
      ['/sandbox/erp/items', { product: { id: 'prod-0601', name: 'n', brand: 'b', category: 'c', variants: [{ sku: 'SKU-0601-1', name: 'v' }] } }, /variants\[0\]\.listPrice/],
      ['/sandbox/erp/items', { product: { id: 'prod-0601', name: 'n', brand: 'b', category: 'c', variants: [{ name: 'v', listPrice: '1' }] } }, /variants\[0\]\.sku/],
      ['/sandbox/erp/items', { product: { id: 'prod-0001', name: 'n', brand: 'b', category: 'c', variants: [] } }, /product prod-0001 exists/],
      ['/sandbox/erp/items', { product: { id: 'prod-0601', name: 'n', brand: 'b', category: 'c', variants: [{ sku: 'SKU-0001-1', name: 'v', listPrice: '1' }] } }, /variant SKU-0001-1 exists/],
      ['/sandbox/erp/stock-policies', { sku: 'SKU-9999-9', locationId: 'store-001', safetyStock: 1 }, /no variant SKU-9999-9/],
      ['/sandbox/erp/stock-policies', { sku: 'SKU-0001-1', locationId: 'store-999', safetyStock: 1 }, /no location store-999/],
      ['/sandbox/erp/stock-policies', { sku: 'SKU-0001-1', locationId: 'store-001' }, /safetyStock must be an integer/],
      ['/sandbox/erp/stock-policies', { sku: 'SKU-0001-1', locationId: 'store-001', safetyStock: '3' }, /safetyStock must be an integer/],
      ['/sandbox/erp/stock-policies', { sku: 'SKU-0001-1', locationId: 'store-001', safetyStock: 3, incoming: 1.5 }, /incoming must be an integer/],
      ['/sandbox/erp/stock-policies', { sku: 'SKU-0001-1', safetyStock: 3 }, /locationId/],
      ['/sandbox/erp/stock-policies', '{', /malformed JSON/],
      ['/sandbox/erp/changes/trim', { keep: -1 }, /keep/],
      ['/sandbox/erp/changes/trim', { keep: '5' }, /keep/],
      ['/sandbox/erp/changes/trim', '{]', /malformed JSON/],
    ];
    const before = await latest();
    const unchanged = await variant('SKU-0001-1');
    for (const [path, body, error] of cases) {
      const answer = await post(path, body);
      expect({ path, body, status: answer.status }).toEqual({ path, body, status: 400 });
      expect(answer.body).toEqual({ error: expect.stringMatching(error) });
    }
    expect(await latest()).toBe(before);
    expect(await variant('SKU-0001-1')).toBe(unchanged);
    const wrongMethod = await fetch(`${base}/sandbox/erp/items`);
    expect(wrongMethod.status).toBe(405);
  });

  it('acts at the ERP console: neither counted as ERP calls nor stopped by an ERP fault', async () => {
    sandbox.control.setFault('erp', { down: true, rateLimitPerSecond: 1 });
    expect((await post('/sandbox/erp/items', { sku: 'SKU-0006-1', listPrice: '5.00' })).status).toBe(200);
    expect((await post('/sandbox/erp/stock-policies', { sku: 'SKU-0006-1', locationId: 'store-001', safetyStock: 1 })).status).toBe(200);
    expect((await post('/sandbox/erp/changes/trim', { keep: 100 })).status).toBe(200);
    expect(sandbox.control.calls()).toEqual({});
    expect(sandbox.control.callRates().erp).toEqual({ accepted: 0, refused: 0, peakPerSecond: 0 });
    await expect(sandbox.systems.erp.getVariants(['SKU-0006-1'])).rejects.toThrow(/sandbox fault: down/);
  });

  it('serves the feed, the snapshot and the writes over the RPC (SANDBOX_URL)', async () => {
    const erp = remoteSystems(base).erp;
    const from = await latest();
    expect(sandbox.control.calls()).toEqual({});
    expect(await erp.changeItem({ sku: 'SKU-0007-1', listPriceMinor: 777 })).toEqual({ sequence: from + 1 });
    expect(await erp.setStockPolicy({ sku: 'SKU-0007-1', locationId: 'store-001', safetyStock: 2 })).toEqual({ sequence: from + 2 });
    expect(await erp.addProduct(newProduct('prod-0701', ['SKU-0701-1']))).toEqual({ sequence: from + 4 });
    const batch = await erp.getMasterDataChanges(from, 10);
    expect(batch.ok && batch.changes.map((c) => c.kind)).toEqual(['VARIANT', 'STOCK_POLICY', 'PRODUCT', 'VARIANT']);
    const snapshot = await erp.getMasterDataSnapshot();
    expect(snapshot.sequence).toBe(from + 4);
    expect(snapshot.variants.find((v) => v.sku === 'SKU-0007-1')).toMatchObject({ priceMinor: 777 });
    const booked = await erp.postJournalBatch([posting('pst-rpc-1'), posting('pst-rpc-2')]);
    expect(booked.map((p) => p.status)).toEqual(['POSTED', 'POSTED']);
    expect(await erp.postJournalBatch([posting('pst-rpc-2')])).toEqual([booked[1]]);
    await expect(erp.changeItem({ sku: 'SKU-9999-9', listPriceMinor: 1 })).rejects.toThrow(/no variant SKU-9999-9/);
    expect(sandbox.control.calls().erp).toMatchObject({ changeItem: 2, setStockPolicy: 1, addProduct: 1, postJournalBatch: 2, getMasterDataChanges: 1, getMasterDataSnapshot: 1 });
  });
});

describe('decimalToMinor', () => {
  it('turns decimal strings into minor units with the currency exponent, refusing anything else', () => {
    expect(decimalToMinor('24.99', 2)).toBe(2499);
    expect(decimalToMinor('19.9', 2)).toBe(1990);
    expect(decimalToMinor('0', 2)).toBe(0);
    expect(decimalToMinor('-0', 2)).toBe(0);
    expect(decimalToMinor('-5', 2)).toBe(-500);
    expect(decimalToMinor('2500', 0)).toBe(2500);
    expect(decimalToMinor('1.230', 2)).toBe(123);
    expect(decimalToMinor('1.234', 3)).toBe(1234);
    for (const bad of ['1e3', '+1', '1.', '.5', '', ' 1', '1,00', 'NaN', '0x10']) expect(typeof decimalToMinor(bad, 2)).toBe('string');
    expect(decimalToMinor('1.5', 0)).toMatch(/more than 0 decimals/);
    expect(decimalToMinor('99999999999999999999', 2)).toMatch(/too large/);
    expect(decimalToMinor(12, 2)).toMatch(/decimal string/);
  });
});
