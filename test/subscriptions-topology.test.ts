import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.js';
import { toGlobalId } from '../common/global-id.js';
import { createLogger } from '../common/logger.js';
import { freePort } from '../scripts/free-port.js';
import { startGatewayOnly, startSandboxOnly, startSubgraph } from '../stack.js';
import { contractOperation } from './support/contract.js';
import { REDIS_TOPOLOGIES, startRedis, type RedisTarget } from './support/redis.js';
import { AGENT, startTestStack, store, type Caller, type TestStack } from './support/stack.js';
import { collect, until, wsClientAs, type Collected } from './support/subscriptions.js';

// Subscriptions across process boundaries: the gateway reaching a subgraph over graphql-ws (and surviving its
// restart), and a change made through one stack reaching a subscriber of another over the Redis backbone.
// StoreInventory is the store's: the subscriber and the stock movements sign in as an associate of that store.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

let n = 0;
const key = () => `topo-${Date.now()}-${++n}`;
const ADJUST = contractOperation('AdjustStock');

/** A token from the sandbox identity provider at `sandboxUrl` (the one the services verify against). */
async function tokenFrom(sandboxUrl: string, caller: Caller): Promise<string> {
  const response = await fetch(`${sandboxUrl}/sandbox/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(caller) });
  const body = (await response.json()) as { token?: string };
  if (response.status !== 200 || !body.token) throw new Error(`the sandbox refused a token for ${JSON.stringify(caller)}: ${JSON.stringify(body)}`);
  return `Bearer ${body.token}`;
}

/** A stock movement by an associate of the location (`authorization` is their `Bearer <jwt>`). */
async function adjustThrough(gateway: string, authorization: string, locationId: string, sku: string, delta: number) {
  const response = await fetch(gateway, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ query: ADJUST, variables: { input: { idempotencyKey: key(), locationId, sku, reason: 'RECEIPT', delta } } }),
  });
  const body = (await response.json()) as any;
  expect(body.data?.adjustInventory?.userErrors).toEqual([]);
}

/**
 * Make changes until the subscriber sees one (the subscription becomes live at some point after the client sent
 * it; graphql-ws has no acknowledgement per subscription). Returns the number of results seen.
 */
async function pokeUntilSeen(feed: Collected, poke: () => Promise<void>, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const before = feed.results.length;
  while (feed.results.length === before) {
    if (Date.now() > deadline) throw new Error(`no event within ${timeoutMs} ms: ${JSON.stringify(feed.error)}`);
    await poke();
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  return feed.results.length;
}

describe('gateway and inventory in separate services, over graphql-ws', () => {
  it('re-subscribes by itself when the inventory subgraph restarts, and the client subscription never ends', async () => {
    const [sandboxPort, inventoryPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
    const config = loadConfig({
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SANDBOX_PORT: String(sandboxPort),
      INVENTORY_PORT: String(inventoryPort),
      GATEWAY_PORT: String(gatewayPort),
      SANDBOX_URL: `http://127.0.0.1:${sandboxPort}`,
      INVENTORY_URL: `http://127.0.0.1:${inventoryPort}/graphql`,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'retail-topo-')),
    });
    const logger = createLogger({ level: 'warn' });
    const sandbox = await startSandboxOnly(config, logger);
    cleanups.push(() => sandbox.service.stop());
    let inventory = await startSubgraph('inventory', config, logger);
    cleanups.push(() => inventory.service.stop());
    const gateway = await startGatewayOnly(config, logger);
    cleanups.push(() => gateway.service.stop());

    const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
    const associate = await tokenFrom(sandboxUrl, store('store-003'));
    const client = wsClientAs(gateway.url, associate);
    cleanups.push(async () => client.dispose());
    // A subscription the subgraph refuses is an error message for that subscription, over the socket too. (No
    // store has the unknown location: a service agent asks, whom the gateway lets through to the subgraph.)
    const agentClient = wsClientAs(gateway.url, await tokenFrom(sandboxUrl, AGENT));
    cleanups.push(async () => agentClient.dispose());
    const refused = collect(agentClient, 'subscription { inventoryChanged(locationId: "store-999") { sku } }');
    await refused.ended();
    expect(JSON.stringify(refused.error)).toContain('BAD_USER_INPUT');
    const sku = 'SKU-0101-1';
    const feed = collect(client, 'subscription S($sku: String!) { inventoryChanged(locationId: "store-003", skus: [$sku]) { sku delta reason location { name } } }', { sku });
    await pokeUntilSeen(feed, () => adjustThrough(gateway.url, associate, 'store-003', sku, 1));
    expect(feed.results.at(-1)!.data.inventoryChanged).toMatchObject({ sku, reason: 'RECEIPT', location: { name: expect.any(String) } });
    expect(gateway.service.subscriptionStats().upstreams).toBe(1);

    // The subgraph goes away (its sockets close with 1001) and comes back on the same port.
    await inventory.service.stop();
    inventory = await startSubgraph('inventory', config, logger);
    // The upstream socket the gateway opens again signs in with the subscriber's token as the first one did.
    await pokeUntilSeen(feed, () => adjustThrough(gateway.url, associate, 'store-003', sku, 2));
    expect(feed.results.at(-1)!.data.inventoryChanged).toMatchObject({ sku, delta: 2 });
    expect(feed.error).toBeUndefined();
    expect(feed.completed).toBe(false);
    feed.unsubscribe();
  });
});

// On one redis-server, and on a real three-master Redis Cluster.
describe.each(REDIS_TOPOLOGIES)('Redis mode (%s): across instances', (topology) => {
  let redis: RedisTarget | undefined;
  afterAll(async () => {
    await redis?.stop();
  });

  it('a change made through stack A reaches a StoreInventory subscriber connected to stack B', async () => {
    redis = await startRedis(topology);
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: `s${Date.now()}` };
    const a: TestStack = await startTestStack({}, env);
    cleanups.push(() => a.stop());
    const b: TestStack = await startTestStack({}, env);
    cleanups.push(() => b.stop());
    const location = a.sandbox.data.stores[4]!;
    const v = a.sandbox.data.variants[40]!;
    // Each stack's sandbox issues the tokens its own services verify: the same associate, signed in at each.
    const client = wsClientAs(b.urls.gateway, await b.bearer(store(location.id)));
    cleanups.push(async () => client.dispose());
    const atA = await a.bearer(store(location.id));
    const feed = collect(client, contractOperation('StoreInventory'), { locationId: location.id, skus: [v.sku] });
    const seen = await pokeUntilSeen(feed, () => adjustThrough(a.urls.gateway, atA, location.id, v.sku, 1));
    // Live now: the next changes through A arrive at B once each, in order.
    // A fourth, delta 6, marks the end: the stream is ordered, so a duplicate of 3, 4 or 5 would come before it.
    for (const delta of [3, 4, 5, 6]) await adjustThrough(a.urls.gateway, atA, location.id, v.sku, delta);
    await until(() => feed.results.some((r) => r.data?.inventoryChanged?.delta === 6), 10_000, 'the marker change (delta 6) at B');
    const results = feed.results;
    // (A late echo of a poke, delta 1, may still come in: the changes that follow must arrive once each, in order.)
    expect(results.slice(seen).map((r) => r.data.inventoryChanged.delta).filter((d: number) => d >= 3)).toEqual([3, 4, 5, 6]);
    expect(results.at(-1)!.data.inventoryChanged).toMatchObject({ sku: v.sku, location: { id: toGlobalId('Location', location.id) }, variant: { name: v.name } });
    feed.unsubscribe();
  });
});
