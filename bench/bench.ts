import { cpus } from 'node:os';
import { contractOperations } from '../scripts/contract.js';
import { startRedisServer } from '../scripts/redis-server.js';
import { runLoad, type LoadResult } from './load.js';
import { rssMb, startStackProcess } from './stack-process.js';

/**
 * `npm run bench`: starts the embedded stack (`node dist/main.js`, sandbox latency 0, default scale) in a child
 * process, drives fixed-concurrency load at contract queries from this process, and prints a table.
 * BENCH_CONCURRENCY (16), BENCH_REQUESTS (per row, 6000) and BENCH_SECONDS (per row, 12) bound the run.
 */
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const maxRequests = Number(process.env.BENCH_REQUESTS ?? 6000);
const maxMs = Number(process.env.BENCH_SECONDS ?? 12) * 1000;

interface Row {
  dispatch: string;
  name: string;
  result: LoadResult;
  callsPerOp: number;
  rss: number;
}

const ops = Object.fromEntries(contractOperations().map((o) => [o.name, o.document])) as Record<string, string>;
const product = (i: number) => `prod-${String((i % 500) + 1).padStart(4, '0')}`;
const scenarios: { name: string; body: (i: number) => string }[] = [
  { name: '{ __typename } (gateway only, baseline)', body: () => JSON.stringify({ query: '{ __typename }' }) },
  { name: 'ProductPage (2 picked stores)', body: (i) => JSON.stringify({ query: ops.ProductPage, variables: { id: product(i), locationIds: ['store-001', 'store-002'] } }) },
  { name: 'ProductPage (all 25 locations)', body: (i) => JSON.stringify({ query: ops.ProductPage, variables: { id: product(i) } }) },
  { name: 'ProductListing (first 20)', body: (i) => JSON.stringify({ query: ops.ProductListing, variables: { first: 20, category: ['shoes', 'apparel', 'home', 'toys'][i % 4] } }) },
  { name: 'OrderTimeline', body: (i) => JSON.stringify({ query: ops.OrderTimeline, variables: { orderId: `ord-w${String((i % 8000) + 1).padStart(6, '0')}` } }) },
];

/** Sandbox calls per operation since the counters were last reset. */
async function callsPerOp(sandbox: string, requests: number): Promise<number> {
  const calls = (await (await fetch(`${sandbox}/sandbox/calls`)).json()) as Record<string, Record<string, number>>;
  const total = Object.values(calls).reduce((sum, perSystem) => sum + Object.values(perSystem).reduce((a, b) => a + b, 0), 0);
  return total / Math.max(1, requests);
}

/** One embedded stack (`node dist/main.js`) in a child process, measured scenario by scenario. */
async function measure(dispatch: 'local' | 'http'): Promise<{ rows: Row[]; idleRss: number }> {
  const stack = await startStackProcess({ SUBGRAPH_DISPATCH: dispatch });
  try {
    const idleRss = rssMb(stack.pid);
    const rows: Row[] = [];
    for (const scenario of scenarios) {
      // Warm up (query plans, JIT), then measure.
      await runLoad({ url: `${stack.gateway}/graphql`, concurrency, maxRequests: 300, maxMs: 5000, body: scenario.body });
      await fetch(`${stack.sandbox}/sandbox/calls`, { method: 'DELETE' });
      const result = await runLoad({ url: `${stack.gateway}/graphql`, concurrency, maxRequests, maxMs, body: scenario.body });
      rows.push({ dispatch, name: scenario.name, result, callsPerOp: await callsPerOp(stack.sandbox, result.requests), rss: rssMb(stack.pid) });
    }
    return { rows, idleRss };
  } finally {
    await stack.stop();
  }
}

/**
 * Checkout throughput: shipped one-line orders (warehouse stock is deep enough for a whole run), in the embedded
 * default (journal fsync'd to a temp DATA_DIR) and in Redis mode; then the oversell scenario's figures.
 */
async function measureCheckout(mode: 'embedded' | 'redis'): Promise<{ row: Row; race: { confirmed: number; outOfStock: number; ms: number } }> {
  const redis = mode === 'redis' ? await startRedisServer() : undefined;
  const stack = await startStackProcess(redis ? { REDIS_URL: redis.url } : {}).catch(async (error: unknown) => {
    await redis?.stop();
    throw error;
  });
  const { gateway, sandbox } = stack;
  const run = Date.now();
  const order = (i: number) =>
    JSON.stringify({
      query: ops.PlaceOrder,
      variables: { input: { idempotencyKey: `bench-${run}-${i}`, channel: 'WEB', deliveryMethod: 'SHIPPING', customerId: `cust-${String((i % 2000) + 1).padStart(5, '0')}`, lines: [{ sku: `SKU-${String((i % 500) + 1).padStart(4, '0')}-${(i % 3) + 1}`, quantity: 1 }] } },
    });
  try {
    await runLoad({ url: `${gateway}/graphql`, concurrency, maxRequests: 200, maxMs: 5000, body: (i) => order(1_000_000 + i) });
    await fetch(`${sandbox}/sandbox/calls`, { method: 'DELETE' });
    const result = await runLoad({ url: `${gateway}/graphql`, concurrency, maxRequests: Math.min(maxRequests, 3000), maxMs, body: order });
    const row: Row = { dispatch: mode, name: 'placeOrder (1 line, SHIPPING)', result, callsPerOp: await callsPerOp(sandbox, result.requests), rss: rssMb(stack.pid) };

    // The oversell race: 200 concurrent one-unit pickup orders for a SKU with exactly 20 sellable units.
    const sku = 'SKU-0042-2';
    const store = 'store-002';
    const stock = async () => ((await (await fetch(`${gateway}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: ops.StoreStock, variables: { locationId: store, skus: [sku] } }) })).json()) as any).data.location.inventoryLevels[0];
    const level = await stock();
    // Through the graph, so that the count lands wherever this mode keeps stock (the POS, or Redis).
    const counted = await fetch(`${gateway}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: ops.AdjustStock, variables: { input: { idempotencyKey: `count-${run}`, locationId: store, sku, reason: 'CYCLE_COUNT', onHand: level.onHand + 20 - level.available } } }),
    });
    const adjusted = ((await counted.json()) as any).data?.adjustInventory;
    if (adjusted?.level?.available !== 20) throw new Error(`could not set 20 sellable units of ${sku} at ${store}: ${JSON.stringify(adjusted)}`);
    const started = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const response = await fetch(`${gateway}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: ops.PlaceOrder, variables: { input: { idempotencyKey: `race-${run}-${i}`, channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: store, lines: [{ sku, quantity: 1 }] } } }) });
        return ((await response.json()) as any).data?.placeOrder;
      }),
    );
    const ms = performance.now() - started;
    return {
      row,
      race: { confirmed: outcomes.filter((o) => o?.order?.status === 'CONFIRMED').length, outOfStock: outcomes.filter((o) => o?.userErrors?.[0]?.code === 'OUT_OF_STOCK').length, ms },
    };
  } finally {
    await stack.stop();
    await redis?.stop();
  }
}

const runs = [await measure('local'), await measure('http')];
const checkouts = [await measureCheckout('embedded'), await measureCheckout('redis')];
const rows = [...runs.flatMap((r) => r.rows), ...checkouts.map((c) => c.row)];
const baseline = rows[0]!.result.rps;
const lines = [
  `| dispatch | operation (${concurrency} concurrent clients) | requests | errors | req/s | vs local baseline | p50 ms | p99 ms | sandbox calls/op | stack RSS MB |`,
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const { dispatch, name, result, callsPerOp, rss } of rows) {
  lines.push(`| ${dispatch} | ${name} | ${result.requests} | ${result.errors} | ${result.rps.toFixed(0)} | ${(result.rps / baseline).toFixed(2)} | ${result.p50.toFixed(1)} | ${result.p99.toFixed(1)} | ${callsPerOp.toFixed(1)} | ${rss.toFixed(0)} |`);
}
lines.push('', '| mode | oversell race: 200 concurrent one-unit orders, 20 sellable | confirmed | OUT_OF_STOCK | wall ms |', '|---|---|---:|---:|---:|');
for (const [i, c] of checkouts.entries()) lines.push(`| ${i === 0 ? 'embedded' : 'redis'} | pickup at store-002 | ${c.race.confirmed} | ${c.race.outOfStock} | ${c.race.ms.toFixed(0)} |`);
lines.push('', `stack RSS idle after start: local ${runs[0]!.idleRss.toFixed(0)} MB, http ${runs[1]!.idleRss.toFixed(0)} MB (node ${process.version}, ${cpus().length} CPUs, sandbox latency 0, default scale)`);
process.stdout.write(`${lines.join('\n')}\n`);
// Keep-alive sockets of this process's fetch client must not keep the benchmark alive.
process.exit(0);
