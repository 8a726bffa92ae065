import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { REDIS_TOPOLOGIES, useRedisServer } from '../../test/support/redis.js';
import type { RedisClient } from '../redis/connection.js';
import type { MasterChange, MasterDataException, MasterSnapshot, MasterVariant } from './model.js';
import { RedisMasterDataStore, type RedisMasterDataStoreOptions } from './redis-store.js';
import type { MasterDataStore } from './store.js';

describe.each(REDIS_TOPOLOGIES)('%s', (topology) => {
  const redisServer = useRedisServer(['md-store-a', 'md-store-b'], { topology });
  let a: RedisClient;
  let b: RedisClient;
  beforeAll(() => {
    [a, b] = redisServer.clients as [RedisClient, RedisClient];
  });

  const AT = '2026-03-01T10:00:00.000Z';

  function snapshotOf(sequence: number, tag: 'old' | 'new', products = 20): MasterSnapshot {
    const snapshot: MasterSnapshot = { sequence, at: AT, products: [], variants: [], policies: [] };
    for (let i = 1; i <= products; i++) {
      const id = `prod-${String(i).padStart(4, '0')}`;
      const skus = [1, 2].map((v) => `SKU-${String(i).padStart(4, '0')}-${v}`);
      snapshot.products.push({ id, name: `${tag} Shirt ${i}`, description: 'A shirt', brand: 'Acme', category: 'shirts', skus });
      for (const sku of skus) {
        snapshot.variants.push({ sku, productId: id, name: `${tag} ${sku}`, color: 'blue', size: 'M', price: { minor: tag === 'old' ? 1000 : 2000, currency: 'EUR' }, status: 'ACTIVE' });
        snapshot.policies.push({ sku, locationId: 'wh-01', safetyStock: tag === 'old' ? 1 : 2, incoming: 0 });
      }
    }
    return snapshot;
  }

  const priced = (sequence: number, variant: MasterVariant, minor: number): MasterChange => ({ sequence, at: AT, kind: 'VARIANT', variant: { ...variant, price: { minor, currency: 'EUR' } } });

  /** The whole model in one synchronous read: 'old', 'new', or 'MIXED'. */
  function generationSeen(store: MasterDataStore, skus: readonly string[]): string {
    const seen = new Set<string>();
    for (const product of store.searchProducts({ offset: 0, limit: 1000 }).products) seen.add(product.name.split(' ')[0]!);
    for (const variant of store.getVariants(skus)) seen.add(variant?.price.minor === 1000 ? 'old' : 'new');
    for (const policy of store.getStockPolicies(skus.map((sku) => ({ sku, locationId: 'wh-01' })))) seen.add(policy?.safetyStock === 1 ? 'old' : 'new');
    return seen.size === 1 ? [...seen][0]! : 'MIXED';
  }

  const opened: RedisMasterDataStore[] = [];
  async function open(redis: RedisClient, prefix: string, options: Partial<RedisMasterDataStoreOptions> = {}) {
    const store = await RedisMasterDataStore.open({ redis, prefix, followMs: 20, ...options });
    opened.push(store);
    return store;
  }
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  describe('RedisMasterDataStore', () => {
    it('shares one model between instances: each sees its own writes at once and the other’s through its replica', async () => {
      const prefix = redisServer.freshPrefix();
      const one = await open(a, prefix);
      const two = await open(b, prefix);
      expect(two.position().sequence).toBeNull();
      const base = snapshotOf(3, 'old', 3);
      await one.replace(base);
      expect(one.position()).toMatchObject({ sequence: 3, changeAt: AT });
      expect(one.getProducts(['prod-0001'])[0]?.name).toBe('old Shirt 1');
      await vi.waitFor(() => expect(two.position().sequence).toBe(3));
      expect(two.searchProducts({ offset: 0, limit: 10 })).toEqual(one.searchProducts({ offset: 0, limit: 10 }));

      const sku = base.variants[0]!.sku;
      await one.apply([priced(4, base.variants[0]!, 1400)]);
      expect(one.getVariants([sku])[0]!.price.minor).toBe(1400);
      await vi.waitFor(() => expect(two.getVariants([sku])[0]?.price.minor).toBe(1400));

      // The other way round, with the writer's replica behind: it follows first, then writes.
      await two.apply([priced(5, base.variants[0]!, 1500)]);
      await two.skip(6, '2026-03-01T10:06:00.000Z');
      const exception: MasterDataException = { id: 'md-6', sequence: 6, at: AT, kind: 'VARIANT', key: sku, reason: 'NON_POSITIVE_PRICE', message: 'price 0', recordedAt: AT };
      await two.recordException(exception);
      expect(two.position()).toMatchObject({ sequence: 6 });
      await one.apply([priced(7, base.variants[0]!, 1700)]);
      expect(one.getVariants([sku])[0]!.price.minor).toBe(1700);
      expect(one.position().sequence).toBe(7);
      expect(one.exceptions(10)).toEqual([exception]);
      await vi.waitFor(() => expect(two.position().sequence).toBe(7));
      expect(two.getVariants([sku])[0]!.price.minor).toBe(1700);
      expect(two.exceptions(10)).toEqual([exception]);
    });

    it('applies each change at most once, even when two instances write the same batch at the same time', async () => {
      const prefix = redisServer.freshPrefix();
      const one = await open(a, prefix);
      const two = await open(b, prefix);
      const base = snapshotOf(1, 'old', 2);
      await one.replace(base);
      await vi.waitFor(() => expect(two.position().sequence).toBe(1));
      const variant = base.variants[0]!;
      // Same sequences, different content: whoever lands first wins, the other's are skipped inside Redis.
      await Promise.all([one.apply([priced(2, variant, 200), priced(3, variant, 300)]), two.apply([priced(2, variant, 222), priced(3, variant, 333), priced(4, variant, 444)])]);
      await vi.waitFor(() => expect([one.position().sequence, two.position().sequence]).toEqual([4, 4]));
      expect(one.getVariants([variant.sku])[0]!.price.minor).toBe(444);
      expect(two.getVariants([variant.sku])[0]!.price.minor).toBe(444);
      const log = await a.xrange(`${prefix}:{md}:log`, '-', '+');
      const sequences = log.flatMap(([, fields]) => (JSON.parse(fields[fields.indexOf('d') + 1]!) as MasterChange[]).map((c) => c.sequence));
      expect(sequences).toEqual([2, 3, 4]);
      await one.apply([priced(3, variant, 1)]);
      expect(await a.xlen(`${prefix}:{md}:log`)).toBe(log.length);
    });

    it('replaces atomically: readers of the writer and of a follower see the old model or the new, never a mix', async () => {
      const prefix = redisServer.freshPrefix();
      const one = await open(a, prefix);
      const two = await open(b, prefix);
      const old = snapshotOf(1, 'old', 200);
      const skus = old.variants.map((v) => v.sku);
      await one.replace(old);
      await vi.waitFor(() => expect(two.position().sequence).toBe(1));

      const seen = { one: [] as string[], two: [] as string[] };
      let done = false;
      const writing = one.replace(snapshotOf(2, 'new', 200)).then(() => vi.waitFor(() => expect(two.position().sequence).toBe(2)));
      void writing.finally(() => (done = true));
      while (!done) {
        seen.one.push(generationSeen(one, skus));
        seen.two.push(generationSeen(two, skus));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await writing;
      seen.one.push(generationSeen(one, skus));
      seen.two.push(generationSeen(two, skus));
      for (const list of [seen.one, seen.two]) {
        expect(list).not.toContain('MIXED');
        expect(list[0]).toBe('old');
        expect(list.at(-1)).toBe('new');
      }
    });

    it('restores a new instance from snapshot + log, and from a folded log after compaction', async () => {
      const prefix = redisServer.freshPrefix();
      const writer = await open(a, prefix, { compactAfter: 4 });
      const follower = await open(b, prefix);
      const base = snapshotOf(10, 'old', 3);
      await writer.replace(base);
      await writer.apply([priced(11, base.variants[0]!, 1100)]);
      await writer.apply([{ sequence: 12, at: AT, kind: 'STOCK_POLICY', policy: { ...base.policies[1]!, safetyStock: 7 } }]);
      const late = await open(b, prefix);
      expect(late.position()).toEqual(writer.position());
      expect(late.getVariants([base.variants[0]!.sku])[0]!.price.minor).toBe(1100);
      expect(late.getStockPolicies([base.policies[1]!])[0]!.safetyStock).toBe(7);
      const epoch = await a.get(`${prefix}:{md}:epoch`);

      // Two more log entries reach compactAfter: the log is folded into a snapshot, the position stays.
      await writer.recordException({ id: 'md-13', sequence: 13, at: AT, kind: 'VARIANT', key: 'X', reason: 'UNKNOWN_CURRENCY', message: 'XXX', recordedAt: AT });
      await writer.skip(13, AT);
      expect(Number(await a.get(`${prefix}:{md}:epoch`))).toBe(Number(epoch) + 1);
      expect(await a.xlen(`${prefix}:{md}:log`)).toBe(0);
      expect(writer.position().sequence).toBe(13);
      await vi.waitFor(() => expect(follower.position().sequence).toBe(13));
      const fresh = await open(b, prefix);
      for (const store of [follower, fresh]) {
        expect(store.position()).toEqual(writer.position());
        expect(store.getVariantsByProduct(base.products.map((p) => p.id))).toEqual(writer.getVariantsByProduct(base.products.map((p) => p.id)));
        expect(store.getStockPolicies(base.policies)).toEqual(writer.getStockPolicies(base.policies));
        expect(store.exceptions(10).map((e) => e.id)).toEqual(['md-13']);
      }
      await writer.apply([priced(14, base.variants[0]!, 1400)]);
      await vi.waitFor(() => expect(fresh.getVariants([base.variants[0]!.sku])[0]?.price.minor).toBe(1400));
    });

    it('never folds a never-synced log into a snapshot: the model stays never synced', async () => {
      const prefix = redisServer.freshPrefix();
      const store = await open(a, prefix, { compactAfter: 2 });
      for (const n of [1, 2, 3]) await store.recordException({ id: `md-s0-${n}`, sequence: 0, at: AT, kind: 'VARIANT', key: `K${n}`, reason: 'MALFORMED_SKU', message: 'no', recordedAt: AT });
      expect(await a.get(`${prefix}:{md}:snapshot`)).toBeNull();
      const again = await open(b, prefix);
      expect(again.position().sequence).toBeNull();
      expect(again.exceptions(10).map((e) => e.id)).toEqual(['md-s0-3', 'md-s0-2', 'md-s0-1']);
    });

    it('keeps serving its replica while Redis cannot be reached, and its writes fail', async () => {
      const prefix = redisServer.freshPrefix();
      const { createRedis, quitAll } = await import('../redis/connection.js');
      const client = createRedis(redisServer.url, { name: 'md-store-doomed', maxRetriesPerRequest: 0 });
      try {
        const store = await open(client, prefix);
        await store.replace(snapshotOf(1, 'old', 2));
        client.disconnect();
        await expect(store.apply([priced(2, snapshotOf(1, 'old', 2).variants[0]!, 5)])).rejects.toThrow();
        expect(store.getProducts(['prod-0001'])[0]?.name).toBe('old Shirt 1');
        expect(store.position().sequence).toBe(1);
      } finally {
        await quitAll([client]);
      }
    });
  });
});
