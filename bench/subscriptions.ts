import { cpus } from 'node:os';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { contractOperation } from '../scripts/contract.js';
import { percentile } from './load.js';
import { bearerFrom, rssMb, startStackProcess, type StackProcess } from './stack-process.js';

/**
 * `npm run bench:subscriptions`: the embedded stack in a child process; this process opens N WebSocket
 * subscribers (StoreInventory, spread evenly over the 20 stores, all SKUs of the store), drives stock changes
 * at a fixed rate through the gateway (adjustInventory), and measures delivery from change to client.
 *
 * - latency: arrival at the client minus the event's `occurredAt` (stamped by the stack when the change was
 *   made; same machine, same clock);
 * - lost: deliveries expected (every change reaches every subscriber of its store) minus those received;
 * - out of order: a subscriber seeing a change to a SKU older than one it already saw for that SKU;
 * - RSS per connection: the stack's RSS with the N sockets open and idle, less its RSS before, over N.
 *
 * BENCH_SUBSCRIBERS (comma-separated runs, default "200,2000"), BENCH_CHANGES_PER_SECOND (100),
 * BENCH_SECONDS (10) bound the run. Loopback only; every socket is closed and the stack stopped at the end.
 */
const runs = (process.env.BENCH_SUBSCRIBERS ?? '200,2000').split(',').map(Number);
const rate = Number(process.env.BENCH_CHANGES_PER_SECOND ?? 100);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const STORES = 20;
const ADJUST = contractOperation('AdjustStock');
const SKUS_PER_STORE = 10;

interface Subscriber {
  client: Client;
  store: string;
  seen: Set<string>;
  duplicates: number;
  outOfOrder: number;
  lastBySku: Map<string, number>;
  /** Saw a warm-up change: the subscription is live. */
  warm: boolean;
}

interface Result {
  subscribers: number;
  changesSent: number;
  changeErrors: number;
  achievedRate: number;
  expected: number;
  received: number;
  duplicates: number;
  outOfOrder: number;
  latencies: number[];
  rssIdleMb: number;
  rssConnectedMb: number;
  rssAfterMb: number;
}

const storeId = (i: number) => `store-${String((i % STORES) + 1).padStart(3, '0')}`;
const skuOf = (i: number) => `SKU-${String((i % 500) + 1).padStart(4, '0')}-1`;

/** Each store's associates sign in once: their store's tokens drive its stock and follow its changes. */
const associates = new Map<string, string>();
async function signInStores(sandbox: string): Promise<void> {
  for (let i = 0; i < STORES; i++) associates.set(storeId(i), await bearerFrom(sandbox, { role: 'store', locationId: storeId(i), expiresInSeconds: 7200 }));
}
const associateOf = (store: string): string => {
  const token = associates.get(store);
  if (!token) throw new Error(`no associate signed in at ${store}`);
  return token;
};

async function adjust(gateway: string, store: string, sku: string, correlationId: string): Promise<boolean> {
  const response = await fetch(`${gateway}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId, authorization: associateOf(store) },
    body: JSON.stringify({ query: ADJUST, variables: { input: { idempotencyKey: correlationId, locationId: store, sku, reason: 'RECEIPT', delta: 1 } } }),
  });
  const body = (await response.json()) as { data?: { adjustInventory?: { userErrors: unknown[] } } };
  return response.ok && body.data?.adjustInventory?.userErrors.length === 0;
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function run(stack: StackProcess, count: number, runId: string): Promise<Result> {
  const rssIdleMb = rssMb(stack.pid);
  const latencies: number[] = [];
  const url = stack.gateway.replace(/^http/, 'ws') + '/graphql';
  const query = contractOperation('StoreInventory');
  const subscribers: Subscriber[] = [];
  for (let i = 0; i < count; i++) {
    const subscriber: Subscriber = {
      client: createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, keepAlive: 0, onNonLazyError: () => undefined, connectionParams: { authorization: associateOf(storeId(i)) } }),
      store: storeId(i),
      seen: new Set(),
      duplicates: 0,
      outOfOrder: 0,
      lastBySku: new Map(),
      warm: false,
    };
    subscriber.client.subscribe(
      { query, variables: { locationId: subscriber.store } },
      {
        next: (value) => {
          const change = (value.data as { inventoryChanged?: { correlationId: string; occurredAt: string; sku: string } } | null)?.inventoryChanged;
          if (!change) return;
          if (!change.correlationId.startsWith(runId)) {
            subscriber.warm = true;
            return;
          }
          latencies.push(Date.now() - Date.parse(change.occurredAt));
          if (subscriber.seen.has(change.correlationId)) subscriber.duplicates++;
          subscriber.seen.add(change.correlationId);
          const sequence = Number(change.correlationId.slice(runId.length + 1));
          if ((subscriber.lastBySku.get(change.sku) ?? -1) > sequence) subscriber.outOfOrder++;
          subscriber.lastBySku.set(change.sku, sequence);
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
    subscribers.push(subscriber);
    // Connect in small bursts, as real clients would, rather than 2,000 handshakes at once.
    if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // A subscription is live once a change at its store reached it (graphql-ws acknowledges no subscription):
  // change stock at every store with a subscriber still cold, until none is.
  const deadline = Date.now() + 60_000;
  for (let round = 0; subscribers.some((s) => !s.warm); round++) {
    if (Date.now() > deadline) throw new Error(`${subscribers.filter((s) => !s.warm).length} subscriptions not live after 60 s`);
    const cold = new Set(subscribers.filter((s) => !s.warm).map((s) => s.store));
    for (const store of cold) await adjust(stack.gateway, store, skuOf(0), `warm-${runId}-${store}-${round}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const rssConnectedMb = rssMb(stack.pid);

  // Drive `rate` changes per second, each at the next store, for `seconds`.
  const total = Math.round(rate * seconds);
  const perStore = new Map<string, number>();
  let sent = 0;
  let errors = 0;
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    while (sent < due) {
      const k = sent++;
      const store = storeId(k);
      perStore.set(store, (perStore.get(store) ?? 0) + 1);
      inFlight.push(adjust(stack.gateway, store, skuOf((k % STORES) * SKUS_PER_STORE + (Math.floor(k / STORES) % SKUS_PER_STORE)), `${runId}-${k}`).then((ok) => void (ok || errors++), () => void errors++));
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(inFlight);
  const achievedRate = total / ((performance.now() - started) / 1000);
  const expected = subscribers.reduce((sum, s) => sum + (perStore.get(s.store) ?? 0), 0) - errors * (count / STORES);
  const received = () => subscribers.reduce((sum, s) => sum + s.seen.size, 0);
  await waitUntil(() => received() >= expected, 10_000, 'deliveries').catch(() => undefined);
  const rssAfterMb = rssMb(stack.pid);
  await Promise.all(subscribers.map((s) => s.client.dispose()));
  return {
    subscribers: count,
    changesSent: total,
    changeErrors: errors,
    achievedRate,
    expected,
    received: received(),
    duplicates: subscribers.reduce((sum, s) => sum + s.duplicates, 0),
    outOfOrder: subscribers.reduce((sum, s) => sum + s.outOfOrder, 0),
    latencies: latencies.sort((a, b) => a - b),
    rssIdleMb,
    rssConnectedMb,
    rssAfterMb,
  };
}

const stack = await startStackProcess({});
await signInStores(stack.sandbox);
const results: Result[] = [];
try {
  for (const [i, count] of runs.entries()) {
    results.push(await run(stack, count, `bench${Date.now()}r${i}`));
    // Let the closed sockets go before the next run's idle measurement.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  }
} finally {
  await stack.stop();
}

const lines = [
  `| subscribers (${STORES} stores) | changes sent | changes/s | deliveries expected | received | lost | duplicates | out of order | p50 ms | p99 ms | max ms | stack RSS idle MB | with sockets MB | KB per idle connection | RSS after run MB |`,
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const r of results) {
  lines.push(
    `| ${r.subscribers} | ${r.changesSent - r.changeErrors} | ${r.achievedRate.toFixed(0)} | ${r.expected} | ${r.received} | ${Math.max(0, r.expected - r.received)} | ${r.duplicates} | ${r.outOfOrder} | ${percentile(r.latencies, 50).toFixed(0)} | ${percentile(r.latencies, 99).toFixed(0)} | ${(r.latencies.at(-1) ?? 0).toFixed(0)} | ${r.rssIdleMb.toFixed(0)} | ${r.rssConnectedMb.toFixed(0)} | ${(((r.rssConnectedMb - r.rssIdleMb) * 1024) / r.subscribers).toFixed(1)} | ${r.rssAfterMb.toFixed(0)} |`,
  );
}
lines.push('', `target ${rate} changes/s for ${seconds} s; node ${process.version}, ${cpus().length} CPUs; stack and clients on one machine (loopback)`);
process.stdout.write(`${lines.join('\n')}\n`);
process.exit(0);
