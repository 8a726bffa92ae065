import type { ExecutionResult } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../common/auth/principal.js';
import { InMemoryEventBackbone } from '../../common/events.js';
import { fromGlobalId, toGlobalId } from '../../common/global-id.js';
import { InMemoryIdempotencyStore } from '../../common/idempotency.js';
import { createLogger } from '../../common/logger.js';
import { ResilienceRegistry } from '../../common/resilience.js';
import type { HttpService } from '../../common/service.js';
import { createSandbox, type Sandbox } from '../../sandbox/index.js';
import { createInventorySubgraph } from './index.js';
import { inventoryPortsFrom, inventoryWritesFrom } from './wiring.js';
import { testStore, testTokens } from '../../test/support/principals.js';
import { seededMasterData } from '../../test/support/master-data.js';

/*
 * The subgraph served over HTTP in process against the sandbox systems, counting the calls each system sees:
 * the routing, batching and outage behaviour that the unit tests of the pieces cannot show on their own.
 */

/*
 * Stock levels are for a location's own associates: those cases call as `store(<that location>)`, the rest (what a
 * storefront asks) anonymously. A test token names its principal; the service verifies it through `authenticate`.
 */
const store = testStore;
const { bearer, authenticate } = testTokens();

let sandbox: Sandbox;
let service: HttpService;
let url: string;

beforeAll(async () => {
  sandbox = createSandbox({ seed: 42, scale: 0.2 });
  const masterData = await seededMasterData(sandbox.systems);
  // No retries and a breaker that never opens, so an injected outage is seen once and forgotten after.
  const resilience = new ResilienceRegistry({ timeoutMs: 1000, retries: 0, breakerFailures: 1_000_000, breakerResetMs: 1000 });
  service = await createInventorySubgraph({
    ...inventoryPortsFrom({ systems: sandbox.systems, resilience, masterData }),
    lowStockThreshold: 5,
    writes: inventoryWritesFrom({ systems: sandbox.systems, resilience, idempotency: new InMemoryIdempotencyStore(), backbone: new InMemoryEventBackbone(), masterData }),
    logger: createLogger({ level: 'silent' }),
    security: { authenticate },
  });
  url = await service.listen(0);
});

afterAll(async () => {
  await service?.stop();
});

beforeEach(() => {
  sandbox.control.clearFaults();
  sandbox.control.resetCalls();
});

async function run(query: string, variables: Record<string, unknown> = {}, caller?: Principal): Promise<ExecutionResult<Record<string, unknown>>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(caller ? { authorization: bearer(caller) } : {}) };
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return (await response.json()) as ExecutionResult<Record<string, unknown>>;
}

const codes = (result: ExecutionResult) => (result.errors ?? []).map((e) => e.extensions?.code);

const VARIANT_AVAILABILITY = `query ($representations: [_Any!]!, $locationIds: [ID!]) {
  _entities(representations: $representations) {
    ... on ProductVariant { sku availability(locationIds: $locationIds) { available status locations { location { id } available status } } }
  }
}`;

type VariantResult = { sku: string; availability: { available: number; status: string; locations: { location: { id: string }; available: number; status: string }[] } | null };

const representationsOf = (count: number) => sandbox.data.variants.slice(0, count).map((v) => ({ __typename: 'ProductVariant', sku: v.sku }));

/** Expected `available` of a SKU at a location, straight from the seed data. */
function expectedAvailable(sku: string, locationId: string): number {
  const stock = sandbox.data.stock.find((s) => s.sku === sku && s.locationId === locationId)!;
  const policy = sandbox.data.policies.find((p) => p.sku === sku && p.locationId === locationId);
  return Math.max(0, stock.onHand - stock.committed - stock.reserved - (policy?.safetyStock ?? 0) - stock.damaged);
}

describe('ProductVariant.availability', () => {
  it('costs the same sandbox calls for 150 variants as for 15 (stock policies come from the read model: no ERP call)', async () => {
    const expected = { pos: { listStores: 1, getStock: 1 }, wms: { listWarehouses: 1, getStock: 1 } };
    for (const count of [15, 150]) {
      sandbox.control.resetCalls();
      const result = await run(VARIANT_AVAILABILITY, { representations: representationsOf(count) });
      expect(result.errors).toBeUndefined();
      expect((result.data?._entities as VariantResult[]).every((v) => v.availability !== null)).toBe(true);
      expect(sandbox.control.calls()).toEqual(expected);
    }
  });

  it('sums every location when no locationIds are given, listing them stores first', async () => {
    const result = await run(VARIANT_AVAILABILITY, { representations: representationsOf(1) });
    const [variant] = result.data?._entities as VariantResult[];
    const ids = variant!.availability!.locations.map((l) => fromGlobalId('Location', l.location.id));
    expect(ids).toHaveLength(25);
    expect(ids.slice(0, 2)).toEqual(['store-001', 'store-002']);
    expect(ids.slice(-5)).toEqual(['wh-01', 'wh-02', 'wh-03', 'wh-04', 'wh-05']);
    const total = ids.reduce((sum, id) => sum + expectedAvailable(variant!.sku, id), 0);
    expect(variant!.availability!.available).toBe(total);
  });

  it('considers only the given known locations, asks only their systems, and ignores unknown ids', async () => {
    const result = await run(VARIANT_AVAILABILITY, { representations: representationsOf(2), locationIds: ['wh-02', 'store-003', 'store-999', 'nowhere'] });
    expect(result.errors).toBeUndefined();
    const [variant] = result.data?._entities as VariantResult[];
    expect(variant!.availability!.locations.map((l) => fromGlobalId('Location', l.location.id))).toEqual(['store-003', 'wh-02']);
    expect(variant!.availability!.available).toBe(expectedAvailable(variant!.sku, 'store-003') + expectedAvailable(variant!.sku, 'wh-02'));
    expect(sandbox.control.calls()).toEqual({ pos: { getStores: 1, getStock: 1 }, wms: { getWarehouses: 1, getStock: 1 } });
  });

  it('is out of stock over no locations, without calling anything', async () => {
    const result = await run(VARIANT_AVAILABILITY, { representations: representationsOf(1), locationIds: [] });
    expect((result.data?._entities as VariantResult[])[0]!.availability).toEqual({ available: 0, status: 'OUT_OF_STOCK', locations: [] });
    expect(sandbox.control.calls()).toEqual({});
  });

  it('is null with the located system error when a system is down, and only there', async () => {
    sandbox.control.setFault('wms', { down: true });
    const result = await run(`query ($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on ProductVariant { sku all: availability { available } stores: availability(locationIds: ["store-001"]) { available } } }
    }`, { representations: representationsOf(1) });
    const [variant] = result.data?._entities as { sku: string; all: unknown; stores: { available: number } | null }[];
    expect(variant!.all).toBeNull();
    expect(variant!.stores).not.toBeNull();
    expect(codes(result)).toEqual(['WMS_UNAVAILABLE']);
    expect(result.errors?.[0]?.path).toEqual(['_entities', 0, 'all']);
  });

  it('refuses more than 100 locationIds', async () => {
    const locationIds = Array.from({ length: 101 }, (_, i) => `store-${i}`);
    const result = await run(VARIANT_AVAILABILITY, { representations: representationsOf(1), locationIds });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('locations', () => {
  it('lists stores then warehouses, filtered by pickup', async () => {
    const result = await run('{ all: locations { id type } pickup: locations(pickupEnabled: true) { id pickupEnabled } }');
    const all = result.data?.all as { id: string; type: string }[];
    expect(all).toHaveLength(25);
    expect(all[0]).toEqual({ id: toGlobalId('Location', 'store-001'), type: 'STORE' });
    expect(all[24]).toEqual({ id: toGlobalId('Location', 'wh-05'), type: 'WAREHOUSE' });
    const pickup = result.data?.pickup as { id: string; pickupEnabled: boolean }[];
    expect(pickup.length).toBeGreaterThan(0);
    expect(pickup.every((l) => l.pickupEnabled && fromGlobalId('Location', l.id).startsWith('store-'))).toBe(true);
    expect(sandbox.control.calls()).toEqual({ pos: { listStores: 1 }, wms: { listWarehouses: 1 } });
  });

  it('calls only the system of the type asked for', async () => {
    const result = await run('{ locations(type: WAREHOUSE) { id address { city country } } }');
    expect((result.data?.locations as { id: string }[]).map((l) => fromGlobalId('Location', l.id))).toEqual(['wh-01', 'wh-02', 'wh-03', 'wh-04', 'wh-05']);
    expect(sandbox.control.calls()).toEqual({ wms: { listWarehouses: 1 } });
  });
});

describe('location', () => {
  it('looks a warehouse up in the WMS only, and answers null for unknown ids', async () => {
    const result = await run('{ wh: location(id: "wh-02") { id name type pickupEnabled } none: location(id: "wh-77") { id } other: location(id: "nope") { id } }');
    expect(result.errors).toBeUndefined();
    expect(result.data?.wh).toMatchObject({ id: toGlobalId('Location', 'wh-02'), type: 'WAREHOUSE', pickupEnabled: false });
    expect(result.data?.none).toBeNull();
    expect(result.data?.other).toBeNull();
    expect(sandbox.control.calls()).toEqual({ wms: { getWarehouses: 1 }, pos: { getStores: 1 } });
  });

  it('refuses an id longer than 200 characters', async () => {
    const result = await run('query ($id: ID!) { location(id: $id) { id } }', { id: 'x'.repeat(201) });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
  });

  it('gives inventory levels in skus order, leaving out SKUs without a record, without extra location calls', async () => {
    const [a, b] = sandbox.data.variants.map((v) => v.sku);
    const result = await run(
      `query ($skus: [String!]!) { location(id: "store-004") { inventoryLevels(skus: $skus) {
        sku locationId onHand committed reserved safetyStock damaged incoming available status location { id } variant { sku } } } }`,
      { skus: [b, 'NO-SUCH-SKU', a] },
      store('store-004'),
    );
    expect(result.errors).toBeUndefined();
    const levels = (result.data?.location as { inventoryLevels: { sku: string; available: number; status: string; location: { id: string }; variant: { sku: string } }[] }).inventoryLevels;
    expect(levels.map((l) => l.sku)).toEqual([b, a]);
    expect(levels[0]).toMatchObject({ locationId: 'store-004', location: { id: toGlobalId('Location', 'store-004') }, variant: { sku: b }, available: expectedAvailable(b!, 'store-004') });
    expect(sandbox.control.calls()).toEqual({ pos: { getStores: 1, getStock: 1 } });
  });

  it('keeps answering inventoryLevels when the ERP is down: stock policies come from the read model', async () => {
    sandbox.control.setFault('erp', { down: true });
    const result = await run('{ location(id: "store-001") { id name inventoryLevels(skus: ["x"]) { sku } } }', {}, store('store-001'));
    // "x" has no stock record: no level, and no error either.
    expect(result.errors).toBeUndefined();
    expect(result.data?.location).toMatchObject({ id: toGlobalId('Location', 'store-001'), inventoryLevels: [] });
    // A SKU whose policy at store-001 holds back safety stock (or brings stock in), so the policy visibly applies.
    const policy = sandbox.data.policies.find((p) => p.locationId === 'store-001' && (p.safetyStock > 0 || p.incoming > 0)
      && sandbox.data.stock.some((s) => s.sku === p.sku && s.locationId === 'store-001'))!;
    expect(policy).toBeDefined();
    const answered = await run(`{ location(id: "store-001") { id name inventoryLevels(skus: ["${policy.sku}"]) { sku safetyStock incoming available } } }`, {}, store('store-001'));
    expect(answered.errors).toBeUndefined();
    expect(answered.data?.location).toMatchObject({
      id: toGlobalId('Location', 'store-001'),
      inventoryLevels: [{ sku: policy.sku, safetyStock: policy.safetyStock, incoming: policy.incoming, available: expectedAvailable(policy.sku, 'store-001') }],
    });
    expect(sandbox.control.calls().erp).toBeUndefined();
  });

  it('refuses more than 100 skus', async () => {
    const skus = Array.from({ length: 101 }, (_, i) => `SKU-${i}`);
    const result = await run('query ($skus: [String!]!) { location(id: "store-001") { id inventoryLevels(skus: $skus) { sku } } }', { skus }, store('store-001'));
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.data?.location).toMatchObject({ id: toGlobalId('Location', 'store-001'), inventoryLevels: null });
  });

  it("refuses another location's inventory levels (FORBIDDEN) and an anonymous caller's (UNAUTHENTICATED), before any stock call", async () => {
    const sku = sandbox.data.variants[0]!.sku;
    const query = `{ location(id: "store-004") { id inventoryLevels(skus: ["${sku}"]) { sku } } }`;
    const other = await run(query, {}, store('store-001'));
    expect(other.data?.location).toEqual({ id: toGlobalId('Location', 'store-004'), inventoryLevels: null });
    expect((other.errors ?? []).map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([['location.inventoryLevels', 'FORBIDDEN']]);
    const anonymous = await run(query);
    expect(anonymous.data?.location).toEqual({ id: toGlobalId('Location', 'store-004'), inventoryLevels: null });
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
    expect(sandbox.control.calls().pos?.getStock).toBeUndefined();
  });

  it('resolves entity references through the location loader in one call per system', async () => {
    const representations = ['store-001', 'wh-01', 'store-404', 'store-002'].map((id) => ({ __typename: 'Location', id }));
    const result = await run('query ($r: [_Any!]!) { _entities(representations: $r) { ... on Location { id type } } }', { r: representations });
    expect(result.data?._entities).toEqual([{ id: toGlobalId('Location', 'store-001'), type: 'STORE' }, { id: toGlobalId('Location', 'wh-01'), type: 'WAREHOUSE' }, null, { id: toGlobalId('Location', 'store-002'), type: 'STORE' }]);
    expect(sandbox.control.calls()).toEqual({ pos: { getStores: 1 }, wms: { getWarehouses: 1 } });
  });
});
