import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Principal } from '../../../common/auth/principal.js';
import { toGlobalId } from '../../../common/global-id.js';
import { InMemoryIdempotencyStore } from '../../../common/idempotency.js';
import { createLogger } from '../../../common/logger.js';
import { ResilienceRegistry } from '../../../common/resilience.js';
import type { SubgraphService } from '../../../common/service.js';
import { createSandbox, type Sandbox } from '../../../sandbox/index.js';
import { createInventorySubgraph } from '../index.js';
import { inventoryPortsFrom, inventoryWritesFrom } from '../wiring.js';
import { CountingBackbone } from '../../../test/support/counting-backbone.js';
import { TEST_AGENT, testStore, testTokens } from '../../../test/support/principals.js';
import { seededMasterData } from '../../../test/support/master-data.js';

/*
 * `inventoryChanged` end to end on a real socket: the inventory subgraph served on port 0 over the sandbox, a
 * graphql-ws client, a stock movement made through the subgraph's own mutation.
 */

/*
 * Callers as a real client would be: the store app of the location followed (StoreInventory), which also makes the
 * movements; a service agent for the ids no store has. A test token names its principal; the service verifies it
 * through `authenticate`, once per socket (connection_init's `authorization`).
 */
const AGENT = TEST_AGENT;
const storeAssociate = testStore;
const { bearer, authenticate } = testTokens();

let sandbox: Sandbox;
let backbone: CountingBackbone;
let service: SubgraphService;
let url: string;
/** One socket per caller (a socket's token is its connection_init's); `null` is the anonymous one. */
const clients = new Map<string, Client>();
function clientOf(caller: Principal | null): Client {
  const key = caller ? JSON.stringify(caller) : 'anonymous';
  let client = clients.get(key);
  if (!client) {
    const connectionParams = { correlationId: 'store-app-1', ...(caller ? { authorization: bearer(caller) } : {}) };
    client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams });
    clients.set(key, client);
  }
  return client;
}

beforeAll(async () => {
  sandbox = createSandbox({ seed: 42, scale: 0.2 });
  const masterData = await seededMasterData(sandbox.systems);
  backbone = new CountingBackbone();
  const resilience = new ResilienceRegistry({ timeoutMs: 1000, retries: 0, breakerFailures: 1_000_000, breakerResetMs: 1000 });
  service = await createInventorySubgraph({
    ...inventoryPortsFrom({ systems: sandbox.systems, resilience, masterData }),
    lowStockThreshold: 5,
    writes: inventoryWritesFrom({ systems: sandbox.systems, resilience, idempotency: new InMemoryIdempotencyStore(), backbone, masterData }),
    logger: createLogger({ level: 'silent' }),
    security: { authenticate },
  });
  url = await service.listen(0);
});

afterAll(async () => {
  await Promise.all([...clients.values()].map((client) => client.dispose()));
  await service?.stop();
});

beforeEach(() => sandbox.control.clearFaults());

const STORE_INVENTORY = `subscription ($locationId: ID!, $skus: [String!]) {
  inventoryChanged(locationId: $locationId, skus: $skus) {
    eventId sku locationId reason delta occurredAt correlationId
    level { sku onHand committed reserved safetyStock damaged incoming available status }
    location { id name type }
    variant { sku }
  }
}`;

function subscribe(caller: Principal | null, variables: Record<string, unknown>) {
  const client = clientOf(caller);
  const results: FormattedExecutionResult<Record<string, any>, unknown>[] = [];
  let settle!: (outcome: { error?: unknown }) => void;
  const ended = new Promise<{ error?: unknown }>((resolve) => (settle = resolve));
  const unsubscribe = client.subscribe({ query: STORE_INVENTORY, variables }, { next: (r) => results.push(r), error: (error) => settle({ error }), complete: () => settle({}) });
  return { results, ended, unsubscribe };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function adjust(input: Record<string, unknown>): Promise<any> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-correlation-id': `adjust-${String(input.idempotencyKey)}`, authorization: bearer(storeAssociate(String(input.locationId))) },
    body: JSON.stringify({ query: 'mutation ($input: AdjustInventoryInput!) { adjustInventory(input: $input) { level { onHand available } userErrors { code } } }', variables: { input } }),
  });
  const body = (await response.json()) as { data: { adjustInventory: any } };
  expect(body.data.adjustInventory.userErrors).toEqual([]);
  return body.data.adjustInventory.level;
}

describe('inventoryChanged over graphql-ws', () => {
  it('delivers an adjustment with the level after it and a variant reference; complete removes the listener', async () => {
    const [target, other] = sandbox.data.stock.filter((s) => s.locationId === 'store-002');
    if (!target || !other) throw new Error('no stock at store-002');
    const store = sandbox.data.stores.find((s) => s.id === 'store-002')!;
    const sub = subscribe(storeAssociate('store-002'), { locationId: 'store-002', skus: [target.sku] });
    await until(() => backbone.live === 1, 'the feed to listen');

    // A change of another SKU at the store is not for this subscriber; the next two are, in order.
    await adjust({ idempotencyKey: 'k-other', locationId: 'store-002', sku: other.sku, reason: 'RECEIPT', delta: 1 });
    const first = await adjust({ idempotencyKey: 'k-1', locationId: 'store-002', sku: target.sku, reason: 'RECEIPT', delta: 5 });
    const second = await adjust({ idempotencyKey: 'k-2', locationId: 'store-002', sku: target.sku, reason: 'SALE', delta: -2 });
    await until(() => sub.results.length === 2, 'two changes');

    const [a, b] = sub.results.map((r) => {
      expect(r.errors).toBeUndefined();
      return r.data!.inventoryChanged;
    });
    expect(a).toMatchObject({ sku: target.sku, locationId: 'store-002', reason: 'RECEIPT', delta: 5, correlationId: 'adjust-k-1', location: { id: toGlobalId('Location', 'store-002'), name: store.name, type: 'STORE' }, variant: { sku: target.sku } });
    expect(b).toMatchObject({ reason: 'SALE', delta: -2, correlationId: 'adjust-k-2', variant: { sku: target.sku } });
    expect(a.eventId).not.toBe(b.eventId);
    // The level is read when the change is delivered: the second change shows the level after it.
    expect(b.level).toMatchObject({ sku: target.sku, onHand: second.onHand, available: second.available });
    expect(first.onHand - 2).toBe(second.onHand);

    sub.unsubscribe();
    expect(await sub.ended).toEqual({});
    await until(() => backbone.live === 0, 'the listener to be removed');
  });

  it('reads the level for each event when it is delivered, not from a cache of an earlier one', async () => {
    const target = sandbox.data.stock.filter((s) => s.locationId === 'store-004')[0]!;
    const sub = subscribe(storeAssociate('store-004'), { locationId: 'store-004' });
    await until(() => backbone.live === 1, 'the feed to listen');
    const onHands: number[] = [];
    for (const [i, delta] of [3, 4].entries()) {
      onHands.push((await adjust({ idempotencyKey: `fresh-${i}`, locationId: 'store-004', sku: target.sku, reason: 'RECEIPT', delta })).onHand);
      await until(() => sub.results.length === i + 1, `change ${i + 1}`);
    }
    expect(sub.results.map((r) => r.data!.inventoryChanged.level.onHand)).toEqual(onHands);
    sub.unsubscribe();
    await until(() => backbone.live === 0, 'the listener to be removed');
  });

  it('keeps delivering while the ERP is down: the change is there, and so is the level (its policy from the read model)', async () => {
    const target = sandbox.data.stock.filter((s) => s.locationId === 'store-005')[0]!;
    const policy = sandbox.data.policies.find((p) => p.sku === target.sku && p.locationId === 'store-005');
    const safetyStock = policy?.safetyStock ?? 0;
    const sub = subscribe(storeAssociate('store-005'), { locationId: 'store-005' });
    await until(() => backbone.live === 1, 'the feed to listen');
    sandbox.control.setFault('erp', { down: true });
    await backbone.publish({ id: 'evt-erp-down', type: 'INVENTORY_RELEASED', source: 'POS', occurredAt: new Date().toISOString(), correlationId: 'sweeper-1', sku: target.sku, locationId: 'store-005', data: { quantity: 2 } });
    await until(() => sub.results.length === 1, 'the change');
    const [result] = sub.results;
    expect(result!.errors).toBeUndefined();
    expect(result!.data!.inventoryChanged).toMatchObject({
      reason: 'RELEASED',
      delta: -2,
      level: {
        sku: target.sku,
        onHand: target.onHand,
        safetyStock,
        incoming: policy?.incoming ?? 0,
        available: Math.max(0, target.onHand - target.committed - target.reserved - safetyStock - target.damaged),
      },
      location: { id: toGlobalId('Location', 'store-005') },
      variant: { sku: target.sku },
    });
    sub.unsubscribe();
    await until(() => backbone.live === 0, 'the listener to be removed');
  });

  it('refuses an unknown location and too many SKUs with BAD_USER_INPUT, leaving no listener behind', async () => {
    // No store has the unknown or over-long location: a service agent asks for those.
    const unknown = subscribe(AGENT, { locationId: 'store-999' });
    const tooMany = subscribe(storeAssociate('store-001'), { locationId: 'store-001', skus: Array.from({ length: 101 }, (_, i) => `SKU-${i}`) });
    const empty = subscribe(storeAssociate('store-001'), { locationId: 'store-001', skus: [] });
    const overLong = subscribe(storeAssociate('store-001'), { locationId: 'store-001', skus: ['x'.repeat(201)] });
    const overLongLocation = subscribe(AGENT, { locationId: 's'.repeat(201) });
    for (const sub of [unknown, tooMany, empty, overLong, overLongLocation]) {
      expect(await sub.ended).toEqual({});
      expect(sub.results).toHaveLength(1);
      expect(sub.results[0]!.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    }
    expect(unknown.results[0]!.errors?.[0]?.extensions).toMatchObject({ field: 'locationId' });
    expect(backbone.live).toBe(0);
  });

  it("refuses another location's feed (FORBIDDEN) and an anonymous subscriber (UNAUTHENTICATED), leaving no listener behind", async () => {
    const other = subscribe(storeAssociate('store-001'), { locationId: 'store-002' });
    const anonymous = subscribe(null, { locationId: 'store-002' });
    for (const [sub, code] of [[other, 'FORBIDDEN'], [anonymous, 'UNAUTHENTICATED']] as const) {
      expect(await sub.ended).toEqual({});
      expect(sub.results).toHaveLength(1);
      expect(sub.results[0]!.errors?.map((e) => e.extensions?.code)).toEqual([code]);
    }
    expect(backbone.live).toBe(0);
  });
});
