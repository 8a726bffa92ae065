import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { useRedisServer } from '../../test/support/redis.js';
import { createSandbox, type Sandbox, type SandboxSystems } from '../../sandbox/index.js';
import type { JournalEntry } from '../durable.js';
import { InMemoryEventBackbone, type CanonicalEvent } from '../events.js';
import { Journal } from '../journal.js';
import { createLogger } from '../logger.js';
import { isActiveCurrency } from '../money.js';
import { ResilienceRegistry } from '../resilience.js';
import { InMemoryMasterDataStore, JournaledMasterDataStore } from './memory-store.js';
import type { MasterChange, MasterDataException, MasterSnapshot } from './model.js';
import { RedisMasterDataStore } from './redis-store.js';
import { SandboxErpMasterDataSource } from '../../subgraphs/master-data/sandbox-source.js';
import type { MasterDataStore, ProductSearch } from './store.js';
import { MasterDataSync, RedisSyncLease, SKU_PATTERN, type MasterDataSource, type MasterDataSyncOptions } from './sync.js';

const redisServer = useRedisServer(['md-sync-a', 'md-sync-b']);
let redisA: Redis;
let redisB: Redis;
beforeAll(() => {
  [redisA, redisB] = redisServer.clients as [Redis, Redis];
});

const logger = createLogger({ level: 'silent' });
const until = (check: () => void, timeout = 5_000) => vi.waitFor(check, { timeout, interval: 10 });

/** The real store, counting what its sync hands it: changes that were new to it, and replaces. */
class CountingStore implements MasterDataStore {
  applied = 0;
  replaces = 0;
  constructor(readonly inner: MasterDataStore) {}
  getProducts(ids: readonly string[]) {
    return this.inner.getProducts(ids);
  }
  getVariants(skus: readonly string[]) {
    return this.inner.getVariants(skus);
  }
  getVariantsByProduct(ids: readonly string[]) {
    return this.inner.getVariantsByProduct(ids);
  }
  searchProducts(search: ProductSearch) {
    return this.inner.searchProducts(search);
  }
  getStockPolicies(keys: readonly { sku: string; locationId: string }[]) {
    return this.inner.getStockPolicies(keys);
  }
  position() {
    return this.inner.position();
  }
  exceptions(limit: number) {
    return this.inner.exceptions(limit);
  }
  async apply(changes: readonly MasterChange[]) {
    const at = this.inner.position().sequence ?? -1;
    this.applied += changes.filter((c) => c.sequence > at).length;
    await this.inner.apply(changes);
  }
  async replace(snapshot: MasterSnapshot) {
    this.replaces++;
    await this.inner.replace(snapshot);
  }
  skip(sequence: number, at: string) {
    return this.inner.skip(sequence, at);
  }
  recordException(exception: MasterDataException) {
    return this.inner.recordException(exception);
  }
  close() {
    return this.inner.close();
  }
}

interface Harness {
  sandbox: Sandbox;
  /** The locations the syncs' locations port says exist (the POS's stores, the WMS's warehouses); tests close some. */
  known: Set<string>;
  /** The ERP as its merchandisers reach it: the test's writes, neither counted nor faulted. */
  erp: SandboxSystems['erp'];
  backbone: InMemoryEventBackbone;
  events: CanonicalEvent[];
  /** Start a sync (stopped after the test) over the sandbox's counted, fault-injectable ERP. */
  sync(store: MasterDataStore, options?: Partial<MasterDataSyncOptions>): Promise<MasterDataSync>;
  /** ERP calls of one method the syncs made (the test's own writes go around the counters). */
  calls(method: string): number;
}

const syncs: MasterDataSync[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await Promise.all(syncs.splice(0).map((s) => s.stop()));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function harness(options: { changeRetention?: number } = {}): Harness {
  const sandbox = createSandbox({ seed: 42, scale: 0.05 }, options.changeRetention ? { erp: { changeRetention: options.changeRetention } } : {});
  const resilience = new ResilienceRegistry({ timeoutMs: 2_000, retries: 0, breakerFailures: 1_000, breakerResetMs: 50 });
  const known = new Set([...sandbox.data.stores, ...sandbox.data.warehouses].map((l) => l.id));
  const backbone = new InMemoryEventBackbone();
  const events: CanonicalEvent[] = [];
  backbone.subscribe((e) => events.push(e));
  if (!sandbox.direct) throw new Error('the sandbox has no direct systems');
  return {
    sandbox,
    erp: sandbox.direct.erp,
    known,
    backbone,
    events,
    async sync(store, extra = {}) {
      const sync = new MasterDataSync({
        source: new SandboxErpMasterDataSource(sandbox.systems.erp, resilience),
        store,
        backbone,
        logger,
        locations: { exists: async (ids) => ids.map((id) => known.has(id)) },
        pollMs: 20,
        backoffBaseMs: 10,
        backoffCapMs: 40,
        ...extra,
      });
      syncs.push(sync);
      await sync.start();
      return sync;
    },
    calls: (method) => sandbox.control.calls().erp?.[method] ?? 0,
  };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'md-sync-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('MasterDataSync over the sandbox ERP', () => {
  it('fills a never-synced store from a snapshot first, then applies each change within a poll', async () => {
    const h = harness();
    const store = new InMemoryMasterDataStore();
    const sync = await h.sync(store);
    // start() resolved after the first round: the store is filled.
    expect(store.position().sequence).toBe(0);
    expect(store.searchProducts({ offset: 0, limit: 100 }).total).toBe(h.sandbox.data.products.length);
    expect(h.calls('getMasterDataSnapshot')).toBe(1);
    await until(() => expect(sync.status()).toMatchObject({ state: 'IN_SYNC', failures: 0, lastError: null, latestSequence: 0 }));

    const sku = h.sandbox.data.variants[0]!.sku;
    const { sequence } = await h.erp.changeItem({ sku, listPriceMinor: 2499 });
    // No poke: the worker's own poll brings it.
    await until(() => expect(store.getVariants([sku])[0]!.price).toEqual({ minor: 2499, currency: 'EUR' }));
    expect(store.position().sequence).toBe(sequence);
    await until(() => expect(sync.status().latestSequence).toBe(sequence));

    const added = await h.erp.addProduct({
      id: 'prod-9001',
      name: 'Harbour Raincoat',
      brand: 'Borealis',
      category: h.sandbox.data.products[0]!.category,
      variants: [
        { sku: 'SKU-9001-1', name: 'Raincoat S', size: 'S', listPriceMinor: 8999, currency: 'EUR' },
        { sku: 'SKU-9001-2', name: 'Raincoat M', size: 'M', listPriceMinor: 8999, currency: 'EUR' },
      ],
    });
    const discontinued = await h.erp.changeItem({ sku, status: 'DISCONTINUED' });
    await sync.caughtUp(discontinued.sequence);
    expect(added.sequence).toBe(sequence + 3);
    expect(store.getProducts(['prod-9001'])[0]).toMatchObject({ name: 'Harbour Raincoat', skus: ['SKU-9001-1', 'SKU-9001-2'] });
    expect(store.getVariantsByProduct(['prod-9001'])[0]!.map((v) => v.sku)).toEqual(['SKU-9001-1', 'SKU-9001-2']);
    expect(store.searchProducts({ query: 'harbour raincoat', offset: 0, limit: 10 }).products.map((p) => p.id)).toEqual(['prod-9001']);
    expect(store.getVariants([sku])[0]).toMatchObject({ status: 'DISCONTINUED', price: { minor: 2499 } });

    const policy = h.sandbox.data.policies[0]!;
    const set = await h.erp.setStockPolicy({ sku: policy.sku, locationId: policy.locationId, safetyStock: 9, incoming: 4 });
    await sync.caughtUp(set.sequence);
    expect(store.getStockPolicies([policy])).toEqual([{ sku: policy.sku, locationId: policy.locationId, safetyStock: 9, incoming: 4 }]);
    expect(h.calls('getMasterDataSnapshot')).toBe(1);
    expect(store.exceptions(10)).toEqual([]);
  });

  it('resumes from the store’s position after a restart, applying nothing twice', async () => {
    const h = harness();
    const dir = tempDir();
    const skus = h.sandbox.data.variants.slice(0, 3).map((v) => v.sku);
    {
      const { journal, entries } = await Journal.open<JournalEntry>(dir);
      const store = JournaledMasterDataStore.restore(journal, entries);
      const sync = await h.sync(store);
      let last = 0;
      for (const [i, sku] of skus.entries()) last = (await h.erp.changeItem({ sku, listPriceMinor: 1000 + i })).sequence;
      await sync.caughtUp(last);
      await sync.stop();
      await journal.close();
    }
    // Changes made while no sync ran are picked up after the restart.
    const whileDown = await h.erp.changeItem({ sku: skus[0]!, listPriceMinor: 4444 });

    const { journal, entries } = await Journal.open<JournalEntry>(dir);
    cleanups.push(() => journal.close());
    const store = new CountingStore(JournaledMasterDataStore.restore(journal, entries));
    expect(store.position().sequence).toBe(whileDown.sequence - 1);
    const sync = await h.sync(store);
    await sync.caughtUp(whileDown.sequence);
    expect(store.replaces).toBe(0);
    expect(h.calls('getMasterDataSnapshot')).toBe(1);
    expect(store.applied).toBe(1);
    expect(store.getVariants(skus).map((v) => v!.price.minor)).toEqual([4444, 1001, 1002]);
    const next = await h.erp.changeItem({ sku: skus[1]!, listPriceMinor: 5555 });
    await sync.caughtUp(next.sequence);
    expect(store.applied).toBe(2);
  });

  it('backs off while the ERP fails, keeps serving what it has, and catches up after', async () => {
    const h = harness();
    const store = new InMemoryMasterDataStore();
    const sync = await h.sync(store);
    const sku = h.sandbox.data.variants[1]!.sku;
    const before = store.getVariants([sku])[0]!.price.minor;
    h.sandbox.control.setFault('erp', { down: true });
    const callsBefore = h.calls('getMasterDataChanges');
    await h.erp.changeItem({ sku, listPriceMinor: 3131 });
    const last = await h.erp.changeItem({ sku, listPriceMinor: 3232 });
    await until(() => expect(sync.status()).toMatchObject({ state: 'BACKING_OFF', lastError: expect.stringMatching(/ERP is unavailable/) }));
    await until(() => expect(sync.status().failures).toBeGreaterThanOrEqual(4));
    expect(store.getVariants([sku])[0]!.price.minor).toBe(before);
    expect(store.position().sequence).toBe(0);
    // Each failed round is one call, then a wait: no hammering of a failing ERP.
    expect(h.calls('getMasterDataChanges') - callsBefore).toBeLessThanOrEqual(sync.status().failures + 1);

    h.sandbox.control.clearFaults();
    await sync.caughtUp(last.sequence);
    expect(store.getVariants([sku])[0]!.price.minor).toBe(3232);
    await until(() => expect(sync.status()).toMatchObject({ state: 'IN_SYNC', failures: 0, lastError: null, latestSequence: last.sequence }));
  });

  it('resyncs from a snapshot after the ERP lost its position, never patching a half catalog', async () => {
    const h = harness();
    const store = new CountingStore(new InMemoryMasterDataStore());
    const first = await h.sync(store);
    await first.stop();
    const variants = h.sandbox.data.variants.slice(0, 5);
    let last = 0;
    for (const [i, v] of variants.entries()) last = (await h.erp.changeItem({ sku: v.sku, listPriceMinor: 7000 + i })).sequence;
    await h.erp.trimMasterDataChanges(2);
    expect(await h.erp.getMasterDataChanges(0, 10)).toMatchObject({ ok: false, reason: 'POSITION_LOST' });

    const sync = await h.sync(store);
    await sync.caughtUp(last);
    expect(store.replaces).toBe(2);
    expect(store.applied).toBe(0);
    expect(h.calls('getMasterDataSnapshot')).toBe(2);
    expect(store.getVariants(variants.map((v) => v.sku)).map((v) => v!.price.minor)).toEqual([7000, 7001, 7002, 7003, 7004]);
    await until(() => expect(sync.status().state).toBe('IN_SYNC'));
  });

  it('refuses each kind of bad change into the exception list with an event, keeps the previous version, moves past it', async () => {
    const h = harness();
    const store = new InMemoryMasterDataStore();
    const sync = await h.sync(store);
    // The POS closed a store the ERP still plans for.
    h.known.delete('store-020');
    const erp = h.erp;
    const [v0, v1, v2] = h.sandbox.data.variants as [(typeof h.sandbox.data.variants)[0], (typeof h.sandbox.data.variants)[0], (typeof h.sandbox.data.variants)[0]];
    const policy = h.sandbox.data.policies.find((p) => p.sku === v0.sku && p.locationId !== 'store-020')!;
    const kept = { v0: store.getVariants([v0.sku])[0], v1: store.getVariants([v1.sku])[0], v2: store.getVariants([v2.sku])[0], policy: store.getStockPolicies([policy])[0] };

    const zero = await erp.changeItem({ sku: v0.sku, listPriceMinor: 0 });
    const negative = await erp.changeItem({ sku: v1.sku, listPriceMinor: -5 });
    const xxx = await erp.changeItem({ sku: v2.sku, currency: 'XXX' });
    const product = await erp.addProduct({
      id: 'prod-9002',
      name: 'Odd Socks',
      brand: 'Acme',
      category: 'accessories',
      variants: [
        { sku: 'SKU-9002-1', name: 'Odd Socks 1', listPriceMinor: 900, currency: 'EUR' },
        { sku: 'bad sku!', name: 'Odd Socks 2', listPriceMinor: 900, currency: 'EUR' },
      ],
    });
    const negativeStock = await erp.setStockPolicy({ sku: policy.sku, locationId: policy.locationId, safetyStock: -1 });
    const closedStore = await erp.setStockPolicy({ sku: v0.sku, locationId: 'store-020', safetyStock: 3 });
    const good = await erp.changeItem({ sku: v1.sku, listPriceMinor: 1234 });
    await sync.caughtUp(good.sequence);

    expect(store.position().sequence).toBe(good.sequence);
    expect(store.exceptions(100).map((e) => [e.sequence, e.kind, e.key, e.reason])).toEqual([
      [closedStore.sequence, 'STOCK_POLICY', `${v0.sku}@store-020`, 'UNKNOWN_LOCATION'],
      [negativeStock.sequence, 'STOCK_POLICY', `${policy.sku}@${policy.locationId}`, 'NEGATIVE_QUANTITY'],
      [product.sequence, 'VARIANT', 'bad sku!', 'MALFORMED_SKU'],
      [xxx.sequence, 'VARIANT', v2.sku, 'UNKNOWN_CURRENCY'],
      [negative.sequence, 'VARIANT', v1.sku, 'NON_POSITIVE_PRICE'],
      [zero.sequence, 'VARIANT', v0.sku, 'NON_POSITIVE_PRICE'],
    ]);
    // The previous good versions stay in service; the good changes around the bad ones are applied.
    expect(store.getVariants([v0.sku, v2.sku, 'bad sku!'])).toEqual([kept.v0, kept.v2, null]);
    expect(store.getVariants([v1.sku])[0]).toEqual({ ...kept.v1, price: { minor: 1234, currency: 'EUR' } });
    expect(store.getStockPolicies([policy, { sku: v0.sku, locationId: 'store-020' }])).toEqual([kept.policy, h.sandbox.data.policies.find((p) => p.sku === v0.sku && p.locationId === 'store-020') ?? null]);
    expect(store.getVariantsByProduct(['prod-9002'])[0]!.map((v) => v.sku)).toEqual(['SKU-9002-1']);

    const rejected = h.events.filter((e) => e.type === 'MASTER_DATA_REJECTED');
    expect(rejected.map((e) => e.data)).toEqual(store.exceptions(100).slice().reverse());
    expect(rejected[0]).toMatchObject({ id: `evt-md-${zero.sequence}`, source: 'ERP', sku: v0.sku });
    expect(rejected.at(-1)).toMatchObject({ sku: v0.sku, locationId: 'store-020' });
    expect(rejected.every((e) => e.correlationId && e.occurredAt)).toBe(true);
  });

  it('checks a snapshot record by record: a bad record is left out on a first sync, keeps its previous version on a resync', async () => {
    const h = harness();
    const erp = h.erp;
    const [a, b] = h.sandbox.data.variants as [(typeof h.sandbox.data.variants)[0], (typeof h.sandbox.data.variants)[0]];
    const policy = h.sandbox.data.policies.find((p) => p.sku === b.sku)!;
    await erp.changeItem({ sku: a.sku, listPriceMinor: 0 });
    const store = new InMemoryMasterDataStore();
    const first = await h.sync(store);
    expect(store.getVariants([a.sku, b.sku]).map((v) => v?.sku ?? null)).toEqual([null, b.sku]);
    expect(store.exceptions(10)).toEqual([expect.objectContaining({ id: 'md-s1-VARIANT-' + a.sku, sequence: 1, kind: 'VARIANT', key: a.sku, reason: 'NON_POSITIVE_PRICE' })]);
    const fixed = await erp.changeItem({ sku: a.sku, listPriceMinor: 1500 });
    await first.caughtUp(fixed.sequence);
    expect(store.getVariants([a.sku])[0]!.price.minor).toBe(1500);
    await first.stop();

    await erp.changeItem({ sku: a.sku, currency: 'ZZZ' });
    const last = await erp.setStockPolicy({ sku: policy.sku, locationId: policy.locationId, safetyStock: -3 });
    await erp.trimMasterDataChanges(0);
    const second = await h.sync(store);
    await second.caughtUp(last.sequence);
    expect(store.getVariants([a.sku])[0]!.price).toEqual({ minor: 1500, currency: 'EUR' });
    expect(store.getStockPolicies([policy])[0]).toEqual(policy);
    expect(store.exceptions(10).map((e) => [e.sequence, e.key, e.reason])).toEqual([
      [last.sequence, `${policy.sku}@${policy.locationId}`, 'NEGATIVE_QUANTITY'],
      [last.sequence, a.sku, 'UNKNOWN_CURRENCY'],
      [1, a.sku, 'NON_POSITIVE_PRICE'],
    ]);
    expect(h.events.filter((e) => e.type === 'MASTER_DATA_REJECTED')).toHaveLength(3);
  });

  it('shares the work between two instances on one Redis: one holds the lease, the other stands by and takes over', async () => {
    const h = harness();
    const prefix = redisServer.freshPrefix();
    const stores = [await RedisMasterDataStore.open({ redis: redisA, prefix, followMs: 20 }), await RedisMasterDataStore.open({ redis: redisB, prefix, followMs: 20 })] as const;
    cleanups.push(() => Promise.all(stores.map((s) => s.close())).then(() => undefined));
    const leases = [new RedisSyncLease({ redis: redisA, prefix, ttlMs: 2_000, holder: 'instance-a' }), new RedisSyncLease({ redis: redisB, prefix, ttlMs: 2_000, holder: 'instance-b' })];
    const [syncA, syncB] = [await h.sync(stores[0], { lease: leases[0] }), await h.sync(stores[1], { lease: leases[1] })];
    await until(() => expect([syncA.status().state, syncB.status().state].sort()).toEqual(['IN_SYNC', 'STANDBY']));
    const [holder, standby] = syncA.status().state === 'IN_SYNC' ? ([syncA, syncB] as const) : ([syncB, syncA] as const);
    const standbyStore = standby === syncA ? stores[0] : stores[1];
    await until(() => expect(stores.map((s) => s.position().sequence)).toEqual([0, 0]));
    expect(h.calls('getMasterDataSnapshot')).toBe(1);

    const sku = h.sandbox.data.variants[2]!.sku;
    const change = await h.erp.changeItem({ sku, listPriceMinor: 4242 });
    await standby.caughtUp(change.sequence);
    await until(() => expect(stores.map((s) => s.getVariants([sku])[0]?.price.minor)).toEqual([4242, 4242]));
    expect(standby.status().state).toBe('STANDBY');

    await holder.stop();
    await until(() => expect(standby.status().state).toBe('IN_SYNC'));
    const next = await h.erp.changeItem({ sku, listPriceMinor: 4343 });
    await standby.caughtUp(next.sequence);
    expect(standbyStore.getVariants([sku])[0]!.price.minor).toBe(4343);
    await until(() => expect(stores.map((s) => s.getVariants([sku])[0]?.price.minor)).toEqual([4343, 4343]));
    expect(h.calls('getMasterDataSnapshot')).toBe(1);
  });
});

/** A change feed the test writes by hand, for what the sandbox ERP cannot produce. */
class ScriptedSource implements MasterDataSource {
  changes: MasterChange[] = [];
  failure: Error | null = null;
  constructor(public base: MasterSnapshot) {}
  async changesAfter(sequence: number, limit: number) {
    if (this.failure) throw this.failure;
    return { ok: true as const, changes: this.changes.filter((c) => c.sequence > sequence).slice(0, limit), latestSequence: this.changes.at(-1)?.sequence ?? this.base.sequence };
  }
  async snapshot() {
    if (this.failure) throw this.failure;
    return this.base;
  }
}

describe('MasterDataSync data quality', () => {
  const AT = '2026-03-01T10:00:00.000Z';
  const product = (id: string) => ({ id, name: id, description: '', brand: 'Acme', category: 'hats', skus: [] });
  const variant = (sku: string, productId: string) => ({ sku, productId, name: sku, color: '', size: '', price: { minor: 100, currency: 'EUR' }, status: 'ACTIVE' as const });

  async function run(source: ScriptedSource, batchSize: number) {
    const store = new InMemoryMasterDataStore();
    const sync = new MasterDataSync({ source, store, backbone: new InMemoryEventBackbone(), logger, locations: { exists: async (ids) => ids.map(() => true) }, pollMs: 20, batchSize, backoffBaseMs: 10, backoffCapMs: 20 });
    syncs.push(sync);
    await sync.start();
    return { store, sync };
  }

  it('refuses a variant of a product the model does not know, unless the batch brings the product', async () => {
    const source = new ScriptedSource({ sequence: 0, at: AT, products: [product('prod-0001')], variants: [], policies: [] });
    source.changes = [
      { sequence: 1, at: AT, kind: 'VARIANT', variant: variant('SKU-0404-1', 'prod-0404') },
      { sequence: 2, at: AT, kind: 'VARIANT', variant: variant('SKU-0001-1', 'prod-0001') },
      { sequence: 3, at: AT, kind: 'PRODUCT', product: product('prod-0002') },
      { sequence: 4, at: AT, kind: 'VARIANT', variant: variant('SKU-0002-1', 'prod-0002') },
    ];
    const { store, sync } = await run(source, 500);
    await sync.caughtUp(4);
    expect(store.getVariants(['SKU-0404-1', 'SKU-0001-1', 'SKU-0002-1']).map((v) => v?.sku ?? null)).toEqual([null, 'SKU-0001-1', 'SKU-0002-1']);
    expect(store.exceptions(10)).toEqual([expect.objectContaining({ id: 'md-1', key: 'SKU-0404-1', reason: 'UNKNOWN_PRODUCT', message: expect.stringContaining('prod-0404') })]);

    // One change per batch: the product came in an earlier batch, so the model knows it by then.
    source.changes.push({ sequence: 5, at: AT, kind: 'PRODUCT', product: product('prod-0003') }, { sequence: 6, at: AT, kind: 'VARIANT', variant: variant('SKU-0003-1', 'prod-0003') });
    await sync.caughtUp(6);
    expect(store.getVariants(['SKU-0003-1'])[0]?.productId).toBe('prod-0003');
  });

  it('moves past a batch that is refused whole, one batch at a time', async () => {
    const source = new ScriptedSource({ sequence: 0, at: AT, products: [product('prod-0001')], variants: [], policies: [] });
    source.changes = [1, 2, 3].map((n) => ({ sequence: n, at: AT, kind: 'VARIANT' as const, variant: { ...variant(`SKU-0001-${n}`, 'prod-0001'), price: { minor: -n, currency: 'EUR' } } }));
    source.changes.push({ sequence: 4, at: AT, kind: 'STOCK_POLICY', policy: { sku: 'SKU-0001-9', locationId: 'wh-01', safetyStock: 1, incoming: 2 } });
    const { store, sync } = await run(source, 1);
    await sync.caughtUp(4);
    expect(store.exceptions(10).map((e) => e.id)).toEqual(['md-3', 'md-2', 'md-1']);
    expect(store.getStockPolicies([{ sku: 'SKU-0001-9', locationId: 'wh-01' }])[0]).toMatchObject({ incoming: 2 });
    await until(() => expect(sync.status()).toMatchObject({ state: 'IN_SYNC', latestSequence: 4 }));
  });

  it('asks the locations port per batch, and uses its last answer while it is down', async () => {
    const source = new ScriptedSource({ sequence: 0, at: AT, products: [product('prod-0001')], variants: [variant('SKU-0001-1', 'prod-0001')], policies: [] });
    const policy = (sequence: number, locationId: string, safetyStock: number): MasterChange => ({ sequence, at: AT, kind: 'STOCK_POLICY', policy: { sku: 'SKU-0001-1', locationId, safetyStock, incoming: 0 } });
    const open = new Set(['wh-01', 'store-001']);
    let down = false;
    const asked: string[][] = [];
    const store = new InMemoryMasterDataStore();
    const sync = new MasterDataSync({
      source,
      store,
      backbone: new InMemoryEventBackbone(),
      logger,
      locations: {
        exists: async (ids) => {
          if (down) throw new Error('POS is unavailable');
          asked.push([...ids]);
          return ids.map((id) => open.has(id));
        },
      },
      pollMs: 20,
      backoffBaseMs: 10,
      backoffCapMs: 20,
    });
    syncs.push(sync);
    await sync.start();
    source.changes.push(policy(1, 'wh-01', 1), policy(2, 'store-001', 1), policy(3, 'wh-01', 2));
    await sync.caughtUp(3);
    expect(asked).toEqual([['wh-01', 'store-001']]);
    // A store closed since: its next policy is refused.
    open.delete('store-001');
    source.changes.push(policy(4, 'store-001', 5));
    await sync.caughtUp(4);
    expect(store.exceptions(1)[0]).toMatchObject({ sequence: 4, reason: 'UNKNOWN_LOCATION' });

    down = true;
    source.changes.push(policy(5, 'wh-01', 3));
    await sync.caughtUp(5);
    expect(store.getStockPolicies([{ sku: 'SKU-0001-1', locationId: 'wh-01' }])[0]?.safetyStock).toBe(3);
    // A location never asked about cannot be checked: the round fails and is tried again.
    source.changes.push(policy(6, 'wh-02', 1));
    await until(() => expect(sync.status()).toMatchObject({ state: 'BACKING_OFF', lastError: 'POS is unavailable' }));
    expect(store.position().sequence).toBe(5);
    down = false;
    await sync.caughtUp(6);
    expect(store.exceptions(1)[0]).toMatchObject({ sequence: 6, key: 'SKU-0001-1@wh-02', reason: 'UNKNOWN_LOCATION' });
  });

  it('starts even while the ERP is down, and fills the store once it answers', async () => {
    const source = new ScriptedSource({ sequence: 7, at: AT, products: [product('prod-0001')], variants: [], policies: [] });
    source.failure = new Error('ERP is unavailable: refused');
    const { store, sync } = await run(source, 500);
    // The sync retries every 10–20 ms, so by now it may be backing off or already trying again: never caught up.
    const failing = sync.status();
    expect(['BACKING_OFF', 'RESYNCING']).toContain(failing.state);
    expect(failing).toMatchObject({ failures: expect.any(Number), lastError: 'ERP is unavailable: refused' });
    expect(failing.failures).toBeGreaterThanOrEqual(1);
    expect(store.position().sequence).toBeNull();
    source.failure = null;
    await sync.caughtUp(7);
    expect(store.getProducts(['prod-0001'])[0]?.id).toBe('prod-0001');
    await sync.stop();
    expect(sync.status().state).toBe('STOPPED');
  });

  it('knows the active ISO 4217 codes and the SKU shape', () => {
    for (const code of ['EUR', 'USD', 'JPY', 'XOF', 'XCG', 'ZWG']) expect(isActiveCurrency(code)).toBe(true);
    for (const code of ['XXX', 'XTS', 'XAU', 'XDR', 'eur', 'EURO', '', 'HRK', 'DEM']) expect(isActiveCurrency(code)).toBe(false);
    for (const sku of ['SKU-0001-1', 'ABC', '9-A']) expect(SKU_PATTERN.test(sku)).toBe(true);
    for (const sku of ['bad sku!', 'sku-0001-1', 'AB', '-ABC', 'A'.repeat(65)]) expect(SKU_PATTERN.test(sku)).toBe(false);
  });
});

describe('RedisSyncLease', () => {
  it('has one holder at a time, renews for its holder, is released only by it, and lapses', async () => {
    const prefix = redisServer.freshPrefix();
    const one = new RedisSyncLease({ redis: redisA, prefix, ttlMs: 150, holder: 'one' });
    const two = new RedisSyncLease({ redis: redisB, prefix, ttlMs: 150, holder: 'two' });
    expect(await one.acquire()).toBe(true);
    expect(await two.acquire()).toBe(false);
    expect(await one.acquire()).toBe(true);
    await two.release();
    expect(await two.acquire()).toBe(false);
    await one.release();
    expect(await two.acquire()).toBe(true);
    // A holder that stops renewing (a crashed instance) loses it once the TTL is over.
    await until(async () => expect(await one.acquire()).toBe(true));
    expect(await two.acquire()).toBe(false);
  });
});
