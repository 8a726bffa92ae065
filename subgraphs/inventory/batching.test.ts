import DataLoader from 'dataloader';
import { describe, expect, it } from 'vitest';
import { SystemUnavailableError } from '../../common/resilience.js';
import { listLocationsByKind, loadAll, loadLocations, loadStockLevels } from './batching.js';
import type { InventoryLocation, InventoryPorts, LocationKind, StockCount, StockKey, StockPolicy } from './ports.js';

const site = (id: string, kind: LocationKind): InventoryLocation => ({ id, name: id, kind, pickupEnabled: true, address: { line1: 'a', city: 'b', postalCode: 'c', country: 'DE' } });

/** In-memory ports that record every call, and can be told to fail like an unavailable system. */
function fakePorts(options: { down?: ('pos' | 'wms' | 'erp')[] } = {}) {
  const calls: string[] = [];
  const down = new Set(options.down ?? []);
  const sites: Record<LocationKind, InventoryLocation[]> = {
    STORE: [site('store-001', 'STORE'), site('store-002', 'STORE')],
    WAREHOUSE: [site('wh-01', 'WAREHOUSE')],
  };
  const counts = new Map<string, StockCount>([
    ['A@store-001', { sku: 'A', locationId: 'store-001', onHand: 10, committed: 1, reserved: 1, damaged: 0 }],
    ['A@wh-01', { sku: 'A', locationId: 'wh-01', onHand: 100, committed: 10, reserved: 0, damaged: 2 }],
    ['B@store-002', { sku: 'B', locationId: 'store-002', onHand: 3, committed: 0, reserved: 0, damaged: 0 }],
  ]);
  const policies = new Map<string, StockPolicy>([['A@wh-01', { sku: 'A', locationId: 'wh-01', safetyStock: 8, incoming: 40 }]]);
  const system = (kind: LocationKind) => (kind === 'STORE' ? 'pos' : 'wms');
  const enter = (name: 'pos' | 'wms' | 'erp', method: string) => {
    calls.push(`${name}.${method}`);
    if (down.has(name)) throw new SystemUnavailableError(name, 'test outage');
  };
  const directory = (kind: LocationKind) => ({
    async listLocations() {
      enter(system(kind), 'listLocations');
      return sites[kind];
    },
    async getLocations(ids: readonly string[]) {
      enter(system(kind), `getLocations(${ids.join(',')})`);
      return ids.map((id) => sites[kind].find((s) => s.id === id) ?? null);
    },
  });
  const stock = (kind: LocationKind) => ({
    async getStock(keys: readonly StockKey[]) {
      enter(system(kind), `getStock(${keys.length})`);
      return keys.map((k) => counts.get(`${k.sku}@${k.locationId}`) ?? null);
    },
  });
  const ports: InventoryPorts = {
    locations: { STORE: directory('STORE'), WAREHOUSE: directory('WAREHOUSE') },
    stock: { STORE: stock('STORE'), WAREHOUSE: stock('WAREHOUSE') },
    policies: {
      async getStockPolicies(keys) {
        enter('erp', `getStockPolicies(${keys.length})`);
        return keys.map((k) => policies.get(`${k.sku}@${k.locationId}`) ?? null);
      },
    },
  };
  return { ports, calls };
}

const key = (sku: string, locationId: string): StockKey => ({ sku, locationId });

describe('loadStockLevels', () => {
  it('makes one call per owning system and one ERP call, answering in key order', async () => {
    const { ports, calls } = fakePorts();
    const keys = [key('A', 'wh-01'), key('A', 'store-001'), key('Z', 'store-001'), key('B', 'store-002')];
    const levels = await loadStockLevels(ports, keys);
    expect(calls.sort()).toEqual(['erp.getStockPolicies(4)', 'pos.getStock(3)', 'wms.getStock(1)']);
    expect(levels.map((l) => (l && !(l instanceof Error) ? [l.sku, l.locationId, l.available] : l))).toEqual([
      ['A', 'wh-01', 80],
      ['A', 'store-001', 8],
      null,
      ['B', 'store-002', 3],
    ]);
    expect(levels[0]).toMatchObject({ safetyStock: 8, incoming: 40 });
  });

  it('calls only the systems that own a key', async () => {
    const { ports, calls } = fakePorts();
    await loadStockLevels(ports, [key('A', 'wh-01')]);
    expect(calls.sort()).toEqual(['erp.getStockPolicies(1)', 'wms.getStock(1)']);
  });

  it("fails only the keys of the system that is down", async () => {
    const { ports } = fakePorts({ down: ['wms'] });
    const [warehouse, store] = await loadStockLevels(ports, [key('A', 'wh-01'), key('A', 'store-001')]);
    expect(warehouse).toBeInstanceOf(SystemUnavailableError);
    expect((warehouse as SystemUnavailableError).extensions.code).toBe('WMS_UNAVAILABLE');
    expect(store).toMatchObject({ sku: 'A', available: 8 });
  });

  it('fails every key with a stock record when the ERP is down, and still reports missing records as null', async () => {
    const { ports } = fakePorts({ down: ['erp'] });
    const [known, unknown] = await loadStockLevels(ports, [key('A', 'store-001'), key('Z', 'store-001')]);
    expect((known as SystemUnavailableError).extensions.code).toBe('ERP_UNAVAILABLE');
    expect(unknown).toBeNull();
  });

  it('rejects an answer of the wrong length for those keys', async () => {
    const { ports } = fakePorts();
    ports.stock.STORE = { getStock: async () => [] };
    const [store] = await loadStockLevels(ports, [key('A', 'store-001')]);
    expect(store).toBeInstanceOf(Error);
  });
});

describe('location batches', () => {
  it('looks ids up in the system their prefix names, null for unknown ids', async () => {
    const { ports, calls } = fakePorts();
    const found = await loadLocations(ports, ['wh-01', 'store-002', 'nowhere', 'wh-99']);
    expect(found.map((l) => (l && !(l instanceof Error) ? l.id : l))).toEqual(['wh-01', 'store-002', null, null]);
    expect(calls.sort()).toEqual(['pos.getLocations(store-002,nowhere)', 'wms.getLocations(wh-01,wh-99)']);
  });

  it('lists each kind with one call to its system', async () => {
    const { ports, calls } = fakePorts();
    const [stores, warehouses] = await listLocationsByKind(ports, ['STORE', 'WAREHOUSE']);
    expect((stores as InventoryLocation[]).map((l) => l.id)).toEqual(['store-001', 'store-002']);
    expect((warehouses as InventoryLocation[]).map((l) => l.id)).toEqual(['wh-01']);
    expect(calls.sort()).toEqual(['pos.listLocations', 'wms.listLocations']);
  });
});

describe('loadAll', () => {
  it('rejects with the first failed key', async () => {
    const loader = new DataLoader<number, number>(async (keys) => keys.map((k) => (k === 2 ? new Error('two') : k)));
    await expect(loadAll(loader, [1, 2, 3])).rejects.toThrow('two');
    await expect(loadAll(loader, [1, 3])).resolves.toEqual([1, 3]);
  });
});
