import { pathToFileURL } from 'node:url';
import { contractOperations } from '../scripts/contract.js';
import { runLoad, type LoadResult } from './load.js';
import { bearerFrom, startStackProcess, type StackProcess } from './stack-process.js';

/*
 * The OData connector beside the in-process sandbox ERP adapter: two stacks, one per ERP_ADAPTER, measured in
 * interleaved rounds (sandbox, odata, odata, sandbox, ...) so that drift of the machine falls on both alike. For
 * ProductPage and placeOrder: requests per second, the ratio odata / sandbox, and the ERP calls per operation on
 * the request path (the goal is 0 for both: channels read the read models) and in the background (the master-data
 * sync polling the change feed, the outbox). 127.0.0.1 only; bounded by BENCH_REQUESTS / BENCH_SECONDS.
 */

const ops = Object.fromEntries(contractOperations().map((o) => [o.name, o.document])) as Record<string, string>;
const ADAPTERS = ['sandbox', 'odata'] as const;
type Adapter = (typeof ADAPTERS)[number];
/** What the sync and the outbox call; anything else would be the request path's. */
const BACKGROUND = new Set(['getMasterDataChanges', 'getMasterDataSnapshot', 'postJournal', 'postJournalBatch', 'issueInvoice', 'getPostings', 'getPostingsByDate']);
const SHOPPERS = 100;
const customer = (i: number) => `cust-${String((i % SHOPPERS) + 1).padStart(5, '0')}`;
const product = (i: number) => `prod-${String((i % 500) + 1).padStart(4, '0')}`;

async function erpCalls(sandbox: string): Promise<{ requestPath: number; background: number }> {
  const calls = (((await (await fetch(`${sandbox}/sandbox/calls`)).json()) as Record<string, Record<string, number>>).erp ?? {}) as Record<string, number>;
  let requestPath = 0;
  let background = 0;
  for (const [method, n] of Object.entries(calls)) (BACKGROUND.has(method) ? (background += n) : (requestPath += n));
  return { requestPath, background };
}

interface Tally {
  requests: number;
  errors: number;
  seconds: number;
  requestPath: number;
  background: number;
  latencies: number[];
}

export async function measureErpAdapters(options: { concurrency: number; maxRequests: number; maxMs: number; rounds?: number }): Promise<string[]> {
  const rounds = options.rounds ?? 4;
  const stacks = {} as Record<Adapter, StackProcess>;
  try {
    for (const adapter of ADAPTERS) stacks[adapter] = await startStackProcess({ ERP_ADAPTER: adapter });
    const shoppers = {} as Record<Adapter, string[]>;
    for (const adapter of ADAPTERS) shoppers[adapter] = await Promise.all(Array.from({ length: SHOPPERS }, (_, i) => bearerFrom(stacks[adapter].sandbox, { role: 'shopper', customerId: customer(i), expiresInSeconds: 7200 })));
    const run = Date.now();
    // SKUs of the first products with warehouse stock in the seed are many; a shipped order of a sold-out SKU is a
    // user error (OUT_OF_STOCK), which the driver does not count as an error, so any SKU is a fair load.
    const sku = (i: number) => `SKU-${String((i % 500) + 1).padStart(4, '0')}-1`;
    const scenarios = [
      { name: 'ProductPage (2 picked stores)', body: (i: number) => JSON.stringify({ query: ops.ProductPage, variables: { id: product(i), locationIds: ['store-001', 'store-002'] } }), signedIn: false },
      {
        name: 'placeOrder (1 line, SHIPPING)',
        body: (i: number) => JSON.stringify({ query: ops.PlaceOrder, variables: { input: { idempotencyKey: `erp-adapters-${run}-${i}-${Math.random()}`, channel: 'WEB', deliveryMethod: 'SHIPPING', lines: [{ sku: sku(i), quantity: 1 }] } } }),
        signedIn: true,
      },
    ];
    const tallies = new Map<string, Tally>();
    const perRound = Math.max(1, Math.floor(options.maxRequests / rounds));
    const msPerRound = Math.max(500, Math.floor(options.maxMs / rounds));
    // Warm-up: both stacks, both scenarios, not counted.
    for (const adapter of ADAPTERS) {
      for (const s of scenarios) {
        await runLoad({ url: `${stacks[adapter].gateway}/graphql`, concurrency: options.concurrency, maxRequests: 200, maxMs: 3000, body: s.body, authorization: s.signedIn ? (i) => shoppers[adapter][i % SHOPPERS] : undefined });
      }
    }
    for (let round = 0; round < rounds; round++) {
      const order: readonly Adapter[] = round % 2 === 0 ? ADAPTERS : [...ADAPTERS].reverse();
      for (const s of scenarios) {
        for (const adapter of order) {
          const stack = stacks[adapter];
          await fetch(`${stack.sandbox}/sandbox/calls`, { method: 'DELETE' });
          const result: LoadResult = await runLoad({
            url: `${stack.gateway}/graphql`,
            concurrency: options.concurrency,
            maxRequests: perRound,
            maxMs: msPerRound,
            body: (i) => s.body(round * perRound + i),
            authorization: s.signedIn ? (i) => shoppers[adapter][i % SHOPPERS] : undefined,
          });
          const calls = await erpCalls(stack.sandbox);
          const key = `${s.name}|${adapter}`;
          const t = tallies.get(key) ?? { requests: 0, errors: 0, seconds: 0, requestPath: 0, background: 0, latencies: [] };
          t.requests += result.requests;
          t.errors += result.errors;
          t.seconds += result.seconds;
          t.requestPath += calls.requestPath;
          t.background += calls.background;
          t.latencies.push(result.p50);
          tallies.set(key, t);
        }
      }
    }
    const lines = [
      `| operation (${options.concurrency} concurrent clients, ${rounds} interleaved rounds) | ERP adapter | requests | errors | req/s | odata ÷ sandbox | median round p50 ms | ERP calls/op on the request path | ERP calls in the background per second |`,
      '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const s of scenarios) {
      const sandbox = tallies.get(`${s.name}|sandbox`)!;
      for (const adapter of ADAPTERS) {
        const t = tallies.get(`${s.name}|${adapter}`)!;
        const rps = t.requests / t.seconds;
        const p50s = t.latencies.slice().sort((a, b) => a - b);
        lines.push(
          `| ${s.name} | ${adapter} | ${t.requests} | ${t.errors} | ${rps.toFixed(0)} | ${adapter === 'sandbox' ? '1.00' : (rps / (sandbox.requests / sandbox.seconds)).toFixed(2)} | ${(p50s[Math.floor(p50s.length / 2)] ?? 0).toFixed(1)} | ${(t.requestPath / Math.max(1, t.requests)).toFixed(3)} | ${(t.background / t.seconds).toFixed(1)} |`,
        );
      }
    }
    return lines;
  } finally {
    for (const adapter of ADAPTERS) await stacks[adapter]?.stop();
  }
}

// `node dist/bench/erp-adapters.js`: this table alone.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const lines = await measureErpAdapters({
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 16),
    maxRequests: Number(process.env.BENCH_REQUESTS ?? 2000),
    maxMs: Number(process.env.BENCH_SECONDS ?? 12) * 1000,
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exit(0);
}
