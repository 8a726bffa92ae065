import { cpus } from 'node:os';
import { contractOperations } from '../scripts/contract.js';
import { startRedisServer } from '../scripts/redis-server.js';
import { mergeRounds, runLoad, type LoadResult } from './load.js';
import { loadConfig } from '../common/config.js';
import { tokenVerifierFor } from '../stack.js';
import { measureErp } from './erp.js';
import { measureTelemetry, telemetryTable } from './telemetry.js';
import { bearerFrom, rssMb, startStackProcess } from './stack-process.js';

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
const customer = (i: number) => `cust-${String((i % SHOPPERS) + 1).padStart(5, '0')}`;
/** Signed-in shoppers the benchmark speaks for (each with a token of their own, as real shoppers are). */
const SHOPPERS = 200;
/** Rounds in which the anonymous and the signed-in ProductPage alternate, so that the machine's drift hits both alike. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 4);

/** Who sends a scenario's requests: nobody (anonymous), the i-th shopper, or a service agent. */
type Who = 'anonymous' | 'shopper' | 'agent';
interface Scenario {
  name: string;
  who: Who;
  body: (i: number) => string;
  /** Requests are refused by design (the edge's limits): their errors are the point, not a failure. */
  refused?: boolean;
}

/** The attack: one request with 300 aliases of a product listing. */
const ALIASES_300 = `{ ${Array.from({ length: 300 }, (_, i) => `p${i}: products(first: 20) { edges { node { id name brand variants { sku price { amount currencyCode } availability { available status } } } } }`).join(' ')} }`;

const productPage = (i: number) => JSON.stringify({ query: ops.ProductPage, variables: { id: product(i), locationIds: ['store-001', 'store-002'] } });
const scenarios: Scenario[] = [
  { name: '{ __typename } (gateway only, baseline)', who: 'anonymous', body: () => JSON.stringify({ query: '{ __typename }' }) },
  { name: 'ProductPage (2 picked stores)', who: 'anonymous', body: productPage },
  { name: 'ProductPage (2 picked stores), shopper token', who: 'shopper', body: productPage },
  { name: 'ProductPage (all 25 locations)', who: 'anonymous', body: (i) => JSON.stringify({ query: ops.ProductPage, variables: { id: product(i) } }) },
  { name: 'ProductListing (first 20)', who: 'anonymous', body: (i) => JSON.stringify({ query: ops.ProductListing, variables: { first: 20, category: ['shoes', 'apparel', 'home', 'toys'][i % 4] } }) },
  { name: 'MyAccount (shopper token)', who: 'shopper', body: () => JSON.stringify({ query: ops.MyAccount }) },
  { name: 'OrderTimeline (agent token)', who: 'agent', body: (i) => JSON.stringify({ query: ops.OrderTimeline, variables: { orderId: `ord-w${String((i % 8000) + 1).padStart(6, '0')}` } }) },
  { name: '300 aliases of ProductListing (refused at the edge)', who: 'anonymous', body: () => JSON.stringify({ query: ALIASES_300 }), refused: true },
];

/** Tokens for the callers a scenario speaks for, from the stack's own identity provider. */
async function signIn(sandbox: string): Promise<(who: Who) => (i: number) => string | undefined> {
  const shoppers = await Promise.all(Array.from({ length: SHOPPERS }, (_, i) => bearerFrom(sandbox, { role: 'shopper', customerId: customer(i), expiresInSeconds: 7200 })));
  const agent = await bearerFrom(sandbox, { role: 'agent', expiresInSeconds: 7200 });
  return (who) => {
    switch (who) {
      case 'anonymous':
        return () => undefined;
      case 'shopper':
        return (i) => shoppers[i % SHOPPERS];
      case 'agent':
        return () => agent;
      default: {
        const never: never = who;
        throw new Error(`no caller ${String(never)}`);
      }
    }
  };
}

/** Sandbox calls per operation since the counters were last reset (per `requests`; 1 gives the total). */
async function callsPerOp(sandbox: string, requests: number): Promise<number> {
  const calls = (await (await fetch(`${sandbox}/sandbox/calls`)).json()) as Record<string, Record<string, number>>;
  const total = Object.values(calls).reduce((sum, perSystem) => sum + Object.values(perSystem).reduce((a, b) => a + b, 0), 0);
  return total / Math.max(1, requests);
}


/** One embedded stack (`node dist/main.js`) in a child process, measured scenario by scenario. */
interface Verification {
  /** A token's first verification (ES256 signature, claims), in µs, averaged over distinct tokens. */
  firstUs: number;
  /** A verified token again (the cache), in µs. */
  cachedUs: number;
}

/**
 * What verifying a token costs, measured directly: the same verifier the stack builds, against the stack's own
 * JWKS, in this process (the end-to-end ratio above it is the same figure seen through the noise of a whole stack).
 */
async function verificationCost(sandbox: string, bearers: readonly string[]): Promise<Verification> {
  const config = loadConfig({});
  const verifier = tokenVerifierFor(config, sandbox);
  let started = performance.now();
  for (const bearer of bearers) if (!(await verifier.authenticate(bearer)).ok) throw new Error('a benchmark token did not verify');
  const firstUs = ((performance.now() - started) * 1000) / bearers.length;
  const calls = 200_000;
  started = performance.now();
  for (let i = 0; i < calls; i++) await verifier.authenticate(bearers[i % bearers.length]);
  return { firstUs, cachedUs: ((performance.now() - started) * 1000) / calls };
}

async function measure(dispatch: 'local' | 'http'): Promise<{ rows: Row[]; idleRss: number; tokenRatio: number; roundRatios: number[]; alone: { refused: LoadResult; baseline: LoadResult }; verification: Verification }> {
  const stack = await startStackProcess({ SUBGRAPH_DISPATCH: dispatch });
  try {
    const idleRss = rssMb(stack.pid);
    const as = await signIn(stack.sandbox);
    const url = `${stack.gateway}/graphql`;
    const results = new Map<Scenario, LoadResult[]>();
    const calls = new Map<Scenario, number>();
    const rss = new Map<Scenario, number>();
    const run = async (scenario: Scenario, requests: number, ms: number) => {
      await fetch(`${stack.sandbox}/sandbox/calls`, { method: 'DELETE' });
      const result = await runLoad({ url, concurrency, maxRequests: requests, maxMs: ms, body: scenario.body, authorization: as(scenario.who) });
      results.set(scenario, [...(results.get(scenario) ?? []), result]);
      calls.set(scenario, (calls.get(scenario) ?? 0) + (await callsPerOp(stack.sandbox, 1)));
      rss.set(scenario, Math.max(rss.get(scenario) ?? 0, rssMb(stack.pid)));
    };
    // Warm up every scenario (query plans, JIT, the token cache), then measure.
    for (const scenario of scenarios) await runLoad({ url, concurrency, maxRequests: 300, maxMs: 5000, body: scenario.body, authorization: as(scenario.who) });
    // The anonymous and signed-in ProductPage side by side, alternating: their ratio is the cost of tokens.
    const [anonymousPage, shopperPage] = [scenarios[1]!, scenarios[2]!];
    for (let r = 0; r < rounds; r++) {
      // ABBA: whichever goes second in a round runs on a warmer process, so the order alternates too.
      const pair = r % 2 === 0 ? [anonymousPage, shopperPage] : [shopperPage, anonymousPage];
      for (const scenario of pair) await run(scenario, Math.ceil(maxRequests / rounds), maxMs / rounds);
    }
    // Each round's own ratio: the pair ran back to back, so the machine's drift between rounds cancels out.
    const roundRatios = (results.get(shopperPage) ?? []).map((shopper, r) => shopper.rps / (results.get(anonymousPage)?.[r]?.rps ?? shopper.rps)).sort((a, b) => a - b);
    for (const scenario of scenarios) if (scenario !== anonymousPage && scenario !== shopperPage) await run(scenario, maxRequests, maxMs);
    const rows = scenarios.map((scenario): Row => {
      const merged = mergeRounds(results.get(scenario) ?? []);
      return { dispatch, name: scenario.name, result: merged, callsPerOp: (calls.get(scenario) ?? 0) / Math.max(1, merged.requests), rss: rss.get(scenario) ?? 0 };
    });
    const tokenRatio = mergeRounds(results.get(shopperPage) ?? []).rps / mergeRounds(results.get(anonymousPage) ?? []).rps;
    // How long the edge takes to refuse the attack, one request at a time (under load, the 16 clients' queueing
    // on two cores is most of any latency), beside the gateway's cheapest answer measured the same way.
    const alone = (scenario: Scenario) => runLoad({ url, concurrency: 1, maxRequests: 500, maxMs: 10_000, body: scenario.body, authorization: as(scenario.who) });
    const refused = await alone(scenarios.find((x) => x.refused)!);
    const baseline = await alone(scenarios[0]!);
    const bearers = Array.from({ length: SHOPPERS }, (_, i) => as('shopper')(i)!);
    return { rows, idleRss, tokenRatio, roundRatios, alone: { refused, baseline }, verification: await verificationCost(stack.sandbox, bearers) };
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
  // Each shopper orders for themselves: the order's customer is the token's.
  const order = (i: number) =>
    JSON.stringify({
      query: ops.PlaceOrder,
      variables: { input: { idempotencyKey: `bench-${run}-${i}`, channel: 'WEB', deliveryMethod: 'SHIPPING', lines: [{ sku: `SKU-${String((i % 500) + 1).padStart(4, '0')}-${(i % 3) + 1}`, quantity: 1 }] } },
    });
  try {
    const as = await signIn(sandbox);
    const shopperOf = as('shopper');
    const associate = await bearerFrom(sandbox, { role: 'store', locationId: 'store-002', expiresInSeconds: 7200 });
    await runLoad({ url: `${gateway}/graphql`, concurrency, maxRequests: 200, maxMs: 5000, body: (i) => order(1_000_000 + i), authorization: shopperOf });
    await fetch(`${sandbox}/sandbox/calls`, { method: 'DELETE' });
    const result = await runLoad({ url: `${gateway}/graphql`, concurrency, maxRequests: Math.min(maxRequests, 3000), maxMs, body: order, authorization: shopperOf });
    const row: Row = { dispatch: mode, name: 'placeOrder (1 line, SHIPPING)', result, callsPerOp: await callsPerOp(sandbox, result.requests), rss: rssMb(stack.pid) };

    // The oversell race: 200 concurrent one-unit pickup orders for a SKU with exactly 20 sellable units.
    const sku = 'SKU-0042-2';
    const store = 'store-002';
    const asAssociate = { 'content-type': 'application/json', authorization: associate };
    const stock = async () => ((await (await fetch(`${gateway}/graphql`, { method: 'POST', headers: asAssociate, body: JSON.stringify({ query: ops.StoreStock, variables: { locationId: store, skus: [sku] } }) })).json()) as any).data.location.inventoryLevels[0];
    const level = await stock();
    // Through the graph, so that the count lands wherever this mode keeps stock (the POS, or Redis).
    const counted = await fetch(`${gateway}/graphql`, {
      method: 'POST',
      headers: asAssociate,
      body: JSON.stringify({ query: ops.AdjustStock, variables: { input: { idempotencyKey: `count-${run}`, locationId: store, sku, reason: 'CYCLE_COUNT', onHand: level.onHand + 20 - level.available } } }),
    });
    const adjusted = ((await counted.json()) as any).data?.adjustInventory;
    if (adjusted?.level?.available !== 20) throw new Error(`could not set 20 sellable units of ${sku} at ${store}: ${JSON.stringify(adjusted)}`);
    const started = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const headers = { 'content-type': 'application/json', authorization: shopperOf(i)! };
        const response = await fetch(`${gateway}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query: ops.PlaceOrder, variables: { input: { idempotencyKey: `race-${run}-${i}`, channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: store, lines: [{ sku, quantity: 1 }] } } }) });
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
const erp = await measureErp({ concurrency, maxRequests: Math.min(maxRequests, 3000), maxMs });
const telemetry = await measureTelemetry({ concurrency, maxRequests, maxMs, rounds });
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
lines.push(
  '',
  '| dispatch | signed-in ÷ anonymous ProductPage req/s (goal ≥ 0.95): all rounds; median round [min–max] | a token verified: first / cached µs | 300-alias request alone: p50 / p99 ms (goal < 5) | `{ __typename }` alone: p50 / p99 ms | 300-alias sandbox calls per request |',
  '|---|---:|---:|---:|---:|---:|',
);
for (const r of runs) {
  const refused = r.rows.find((row) => row.name.startsWith('300 aliases'))!;
  const { alone } = r;
  lines.push(
    `| ${r.rows[0]!.dispatch} | ${r.tokenRatio.toFixed(3)}; ${(r.roundRatios[Math.floor(r.roundRatios.length / 2)] ?? 0).toFixed(3)} [${(r.roundRatios[0] ?? 0).toFixed(3)}–${(r.roundRatios[r.roundRatios.length - 1] ?? 0).toFixed(3)}] | ${r.verification.firstUs.toFixed(0)} / ${r.verification.cachedUs.toFixed(2)} | ${alone.refused.p50.toFixed(2)} / ${alone.refused.p99.toFixed(2)} (${alone.refused.errors} of ${alone.refused.requests} refused) | ${alone.baseline.p50.toFixed(2)} / ${alone.baseline.p99.toFixed(2)} | ${refused.callsPerOp.toFixed(1)} |`,
  );
}
lines.push('', ...erp);
lines.push('', ...telemetryTable(telemetry, concurrency));
lines.push('', `stack RSS idle after start: local ${runs[0]!.idleRss.toFixed(0)} MB, http ${runs[1]!.idleRss.toFixed(0)} MB (node ${process.version}, ${cpus().length} CPUs, sandbox latency 0, default scale)`);
process.stdout.write(`${lines.join('\n')}\n`);
// Keep-alive sockets of this process's fetch client must not keep the benchmark alive.
process.exit(0);
