import { fromGlobalId } from '../common/global-id.js';
import { contractOperations } from '../scripts/contract.js';
import { measureErpAdapters } from './erp-adapters.js';
import { percentile, runLoad, type LoadResult } from './load.js';
import { bearerFrom, startStackProcess, type StackProcess } from './stack-process.js';

/*
 * The ERP off the hot path, measured: the storefront and checkout side by side with the ERP up, down and slow
 * (2 s a call), and a flash sale that piles postings onto an ERP that takes 20 calls a second.
 */

const ops = Object.fromEntries(contractOperations().map((o) => [o.name, o.document])) as Record<string, string>;
const product = (i: number) => `prod-${String((i % 500) + 1).padStart(4, '0')}`;
const WAREHOUSES = ['wh-01', 'wh-02', 'wh-03', 'wh-04', 'wh-05'];

/**
 * SKUs the warehouses hold at least `min` sellable units of, through the graph: shipped orders of them are
 * confirmed rather than OUT_OF_STOCK (a user error, which the load driver would not count as an error).
 */
async function stockedSkus(url: string, min: number): Promise<string[]> {
  const skus: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 10; page++) {
    const query = `query ($after: String) { products(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { variants { sku availability(locationIds: ${JSON.stringify(WAREHOUSES)}) { available } } } } } }`;
    const answer = (await json(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: { after } }) })) as any;
    const products = answer.data.products;
    for (const edge of products.edges) for (const v of edge.node.variants) if ((v.availability?.available ?? 0) >= min) skus.push(v.sku);
    if (!products.pageInfo.hasNextPage) break;
    after = products.pageInfo.endCursor;
  }
  if (skus.length === 0) throw new Error('no SKU has warehouse stock for the benchmark');
  return skus;
}
const SHOPPERS = 200;
const customer = (i: number) => `cust-${String((i % SHOPPERS) + 1).padStart(5, '0')}`;
/** The ERP's own background calls (the master-data sync, the outbox): not the request path's. */
const BACKGROUND = new Set(['getMasterDataChanges', 'getMasterDataSnapshot', 'postJournal', 'postJournalBatch', 'issueInvoice', 'getPostings', 'getPostingsByDate']);

async function json(url: string, init?: RequestInit): Promise<any> {
  return (await fetch(url, init)).json();
}

async function erpCalls(sandbox: string): Promise<{ requestPath: number; background: number }> {
  const calls = ((await json(`${sandbox}/sandbox/calls`)) as Record<string, Record<string, number>>).erp ?? {};
  let requestPath = 0;
  let background = 0;
  for (const [method, n] of Object.entries(calls)) {
    if (BACKGROUND.has(method)) background += n;
    else requestPath += n;
  }
  return { requestPath, background };
}

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

interface ErpRow {
  erp: string;
  name: string;
  result: LoadResult;
  erpCallsPerOp: number;
  backgroundCalls: number;
}

/** ProductPage and placeOrder with the ERP up, down and at 2 s a call, side by side in one stack. */
async function outageRows(concurrency: number, maxRequests: number, maxMs: number): Promise<ErpRow[]> {
  const stack = await startStackProcess({});
  try {
    const shoppers = await Promise.all(Array.from({ length: SHOPPERS }, (_, i) => bearerFrom(stack.sandbox, { role: 'shopper', customerId: customer(i), expiresInSeconds: 7200 })));
    const url = `${stack.gateway}/graphql`;
    const run = Date.now();
    const skus = await stockedSkus(url, 20);
    const skuOf = (i: number) => skus[i % skus.length]!;
    const scenarios = [
      { name: 'ProductPage (2 picked stores)', body: (i: number) => JSON.stringify({ query: ops.ProductPage, variables: { id: product(i), locationIds: ['store-001', 'store-002'] } }), authorization: () => undefined },
      {
        name: 'placeOrder (1 line, SHIPPING)',
        body: (i: number) => JSON.stringify({ query: ops.PlaceOrder, variables: { input: { idempotencyKey: `erp-bench-${run}-${i}-${Math.random()}`, channel: 'WEB', deliveryMethod: 'SHIPPING', lines: [{ sku: skuOf(i), quantity: 1 }] } } }),
        authorization: (i: number) => shoppers[i % SHOPPERS],
      },
    ];
    const modes: { erp: string; fault: Record<string, unknown> | null }[] = [
      { erp: 'up', fault: null },
      { erp: 'down', fault: { system: 'erp', down: true } },
      { erp: '2 s a call', fault: { system: 'erp', latencyMs: 2000 } },
    ];
    for (const scenario of scenarios) await runLoad({ url, concurrency, maxRequests: 300, maxMs: 5000, body: scenario.body, authorization: scenario.authorization });
    const rows: ErpRow[] = [];
    for (const scenario of scenarios) {
      for (const mode of modes) {
        await fetch(`${stack.sandbox}/sandbox/faults`, { method: 'DELETE' });
        if (mode.fault) await post(`${stack.sandbox}/sandbox/faults`, mode.fault);
        await fetch(`${stack.sandbox}/sandbox/calls`, { method: 'DELETE' });
        const result = await runLoad({ url, concurrency, maxRequests, maxMs, body: scenario.body, authorization: scenario.authorization });
        const calls = await erpCalls(stack.sandbox);
        rows.push({ erp: mode.erp, name: scenario.name, result, erpCallsPerOp: calls.requestPath / Math.max(1, result.requests), backgroundCalls: calls.background });
      }
    }
    await fetch(`${stack.sandbox}/sandbox/faults`, { method: 'DELETE' });
    return rows;
  } finally {
    await stack.stop();
  }
}

export interface FlashSale {
  orders: number;
  placed: number;
  shipped: number;
  seconds: number;
  checkoutP50: number;
  checkoutP99: number;
  erpLimit: number;
  erpPeakPerSecond: number;
  erpAccepted: number;
  erpRefused: number;
  backlogPeak: number;
  drainSeconds: number;
  lost: number;
  doubled: number;
  deadLettered: number;
}

/**
 * A flash sale: `orders` orders in `seconds` (open loop), each shipped from its warehouse as soon as it is placed,
 * so every one owes the ERP a SALE posting and an invoice, against an ERP that accepts `limit` calls a second and an
 * outbox paced to the same limit. It ends when the backlog has drained (or after `drainLimitMs`).
 */
async function flashSale(orders: number, seconds: number, limit: number, drainLimitMs: number): Promise<FlashSale> {
  const stack: StackProcess = await startStackProcess({ ERP_MAX_CALLS_PER_SECOND: String(limit), ERP_OUTBOX_POLL_MS: '200', ERP_OUTBOX_MAX_ATTEMPTS: '1000' });
  try {
    const url = `${stack.gateway}/graphql`;
    const skus = await stockedSkus(url, 10);
    const skuOf = (i: number) => skus[i % skus.length]!;
    const shoppers = await Promise.all(Array.from({ length: SHOPPERS }, (_, i) => bearerFrom(stack.sandbox, { role: 'shopper', customerId: customer(i), expiresInSeconds: 7200 })));
    const warehouses = new Map<string, string>();
    for (const w of WAREHOUSES) warehouses.set(w, await bearerFrom(stack.sandbox, { role: 'store', locationId: w, expiresInSeconds: 7200 }));
    const finance = await bearerFrom(stack.sandbox, { role: 'finance', expiresInSeconds: 7200 });
    await post(`${stack.sandbox}/sandbox/faults`, { system: 'erp', rateLimitPerSecond: limit });
    await fetch(`${stack.sandbox}/sandbox/calls`, { method: 'DELETE' });
    const from = new Date(Date.now() - 1000).toISOString();
    const summaryQuery = JSON.stringify({ query: `{ erpOutboxSummary(from: "${from}", to: "${new Date(Date.now() + 3_600_000).toISOString()}") { pending failed deadLettered posted } }` });
    const summary = async () => ((await json(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: finance }, body: summaryQuery })) as any).data.erpOutboxSummary as { pending: number; failed: number; deadLettered: number; posted: number };
    let backlogPeak = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const s = await summary();
        backlogPeak = Math.max(backlogPeak, s.pending + s.failed);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();

    const run = Date.now();
    const latencies: number[] = [];
    const orderIds: string[] = [];
    let shipped = 0;
    const sale = async (i: number) => {
      const started = performance.now();
      const response = await json(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: shoppers[i % SHOPPERS]! },
        body: JSON.stringify({
          query: 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id fulfillmentLocation { id } } userErrors { code } } }',
          variables: { input: { idempotencyKey: `flash-${run}-${i}`, channel: 'WEB', deliveryMethod: 'SHIPPING', lines: [{ sku: skuOf(i), quantity: 1 }] } },
        }),
      });
      latencies.push(performance.now() - started);
      const order = response.data?.placeOrder?.order as { id: string; fulfillmentLocation: { id: string } } | null;
      if (!order) return;
      // The sandbox ERP is asked below by native order id; the graph answers the global one.
      orderIds.push(fromGlobalId('Order', order.id));
      const shippedAnswer = await json(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: warehouses.get(fromGlobalId('Location', order.fulfillmentLocation.id))! },
        body: JSON.stringify({ query: 'mutation ($input: ShipOrderInput!) { shipOrder(input: $input) { order { status } userErrors { code } } }', variables: { input: { idempotencyKey: `flash-ship-${run}-${i}`, orderId: order.id, carrier: 'DHL', trackingNumber: `T${i}` } } }),
      });
      if (shippedAnswer.data?.shipOrder?.order?.status === 'SHIPPED') shipped++;
    };
    const saleStarted = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < orders; i++) {
      const due = saleStarted + (i * seconds * 1000) / orders;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(sale(i).catch(() => undefined));
    }
    await Promise.all(inFlight);
    const saleSeconds = (performance.now() - saleStarted) / 1000;
    // Drained: every shipped order's sale booked.
    const deadline = Date.now() + drainLimitMs;
    let last = await summary();
    while (last.pending + last.failed > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      last = await summary();
    }
    const drainSeconds = (performance.now() - saleStarted) / 1000 - saleSeconds;
    watching = false;
    await watcher;
    const rates = ((await json(`${stack.sandbox}/sandbox/calls/rates`)) as Record<string, { accepted: number; refused: number; peakPerSecond: number }>).erp!;
    await fetch(`${stack.sandbox}/sandbox/faults`, { method: 'DELETE' });
    // What the ERP booked, order by order: exactly one SALE each.
    let lost = 0;
    let doubled = 0;
    for (let k = 0; k < orderIds.length; k += 200) {
      const batch = orderIds.slice(k, k + 200);
      const answer = (await json(`${stack.sandbox}/sandbox/rpc/erp/getPostingsByOrder`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ args: [batch] }) })) as { result: { type: string; status: string }[][] };
      for (const postings of answer.result) {
        const sales = postings.filter((p) => p.type === 'SALE' && p.status === 'POSTED').length;
        if (sales === 0) lost++;
        if (sales > 1) doubled++;
      }
    }
    latencies.sort((a, b) => a - b);
    return {
      orders,
      placed: orderIds.length,
      shipped,
      seconds: saleSeconds,
      checkoutP50: percentile(latencies, 50),
      checkoutP99: percentile(latencies, 99),
      erpLimit: limit,
      erpPeakPerSecond: rates.peakPerSecond,
      erpAccepted: rates.accepted,
      erpRefused: rates.refused,
      backlogPeak,
      drainSeconds,
      lost,
      doubled,
      deadLettered: last.deadLettered,
    };
  } finally {
    await stack.stop();
  }
}

/** The tables of the ERP's part of `npm run bench`. */
export async function measureErp(options: { concurrency: number; maxRequests: number; maxMs: number }): Promise<string[]> {
  const rows = await outageRows(options.concurrency, options.maxRequests, options.maxMs);
  const upRps = new Map(rows.filter((r) => r.erp === 'up').map((r) => [r.name, r.result.rps]));
  const lines = [
    `| operation (${options.concurrency} concurrent clients) | ERP | requests | errors | req/s | vs ERP up (goal ≥ 0.90) | p50 ms | p99 ms | ERP calls/op on the request path (goal 0) | ERP calls by the sync and outbox meanwhile |`,
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.erp} | ${r.result.requests} | ${r.result.errors} | ${r.result.rps.toFixed(0)} | ${(r.result.rps / (upRps.get(r.name) ?? r.result.rps)).toFixed(2)} | ${r.result.p50.toFixed(1)} | ${r.result.p99.toFixed(1)} | ${r.erpCallsPerOp.toFixed(3)} | ${r.backgroundCalls} |`,
    );
  }
  const orders = Number(process.env.BENCH_FLASH_ORDERS ?? 2000);
  const seconds = Number(process.env.BENCH_FLASH_SECONDS ?? 20);
  const sale = await flashSale(orders, seconds, 20, Number(process.env.BENCH_DRAIN_LIMIT_SECONDS ?? 300) * 1000);
  lines.push(
    '',
    '| flash sale | orders placed / shipped | in s | checkout p50 / p99 ms | ERP limit calls/s | ERP peak accepted calls/s | ERP calls accepted / refused | backlog peak (postings waiting) | drain after the sale, s | lost / doubled SALE postings | dead-lettered |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${sale.orders} orders in ${seconds} s, each shipped at once | ${sale.placed} / ${sale.shipped} | ${sale.seconds.toFixed(1)} | ${sale.checkoutP50.toFixed(1)} / ${sale.checkoutP99.toFixed(1)} | ${sale.erpLimit} | ${sale.erpPeakPerSecond} | ${sale.erpAccepted} / ${sale.erpRefused} | ${sale.backlogPeak} | ${sale.drainSeconds.toFixed(1)} | ${sale.lost} / ${sale.doubled} | ${sale.deadLettered} |`,
  );
  // The OData connector beside the in-process sandbox adapter (ERP_ADAPTER), in interleaved rounds.
  lines.push('', ...(await measureErpAdapters(options)));
  return lines;
}
