import { Agent, request } from 'node:http';
import { mulberry32 } from '../common/seeded-random.js';
import { cpus } from 'node:os';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { fromGlobalId } from '../common/global-id.js';
import { contractOperations } from '../scripts/contract.js';
import { percentile } from './load.js';
import { EXIT_MARKER } from './memory-probe.js';
import { createProbeClient, handlesOf, slope, type Handles } from './soak-probe-client.js';
import { bearerFrom, rssMb, startStackProcess, type StackProcess } from './stack-process.js';
import { startRedisServer, type RedisServerHandle } from '../scripts/redis-server.js';
import { freePort } from '../scripts/free-port.js';
import { serviceProcess, type ManagedProcess } from './chaos/processes.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `npm run soak`: the embedded stack (`node dist/main.js`, as `npm start` runs it, on free loopback ports with a
 * temp DATA_DIR) under steady mixed load for SOAK_MINUTES (10): contract queries, checkouts with idempotency keys
 * (some sent twice), stock moves, whole pickups (receipt, order, ready, hand-over, each tracked by a fresh
 * graphql-ws subscriber) and long-lived subscribers. Every SOAK_SAMPLE_SECONDS (60) it prints the stack's RSS
 * (`/proc/<pid>/status`), its live heap (after a full GC, from a probe preloaded with `--import`: see
 * bench/memory-probe.ts) and its open descriptors; at the end the slope after warm-up (SOAK_WARMUP_MINUTES, 2)
 * against the goal (< 1 MB/min), the handles before and after the load, and how the stack exited on SIGTERM.
 *
 * Bounded: SOAK_RATE operations a second (30), at most SOAK_CONCURRENCY in flight (16; a tick finding them all
 * busy sheds its operations and counts them), SOAK_SUBSCRIBERS long-lived sockets (40). Loopback only.
 * SOAK_MIX=reads leaves the writes out (queries and subscribers only), so that no stored state grows; SOAK_SEED (1)
 * seeds the mix. Exit code 0 when the goal is met and the stack exited cleanly, 1 otherwise.
 *
 * SOAK_TOPOLOGY says where the state lives, and so what a slope means:
 * - `shared` (default), the production shape: the stack keeps its state in a redis-server (REDIS_URL: events,
 *   streams, idempotency records, the outbox, stock) and calls the systems of record in a sandbox process of their
 *   own (SANDBOX_URL), as it calls a real ERP, POS or PSP. What the measured process keeps is then caches and
 *   connections only, so the goal is a leak test under writes. The sandbox's RSS is printed beside it (it holds
 *   every order, payment and posting: not judged).
 * - `embedded`: `npm start`'s single process, whose systems of record, events and idempotency records live in its
 *   own heap; its slope is mostly the state the writes leave (the KB per write it prints), which SOAK_MIX=reads
 *   leaves out.
 */
const minutes = Number(process.env.SOAK_MINUTES ?? 10);
const rate = Number(process.env.SOAK_RATE ?? 30);
const concurrency = Number(process.env.SOAK_CONCURRENCY ?? 16);
const subscriberCount = Number(process.env.SOAK_SUBSCRIBERS ?? 40);
const sampleSeconds = Number(process.env.SOAK_SAMPLE_SECONDS ?? 60);
const warmupMinutes = Number(process.env.SOAK_WARMUP_MINUTES ?? 2);
/** `all` (default) or `reads`: queries and subscribers only, so that stored state cannot grow and any slope is a leak. */
const mix = process.env.SOAK_MIX ?? 'all';
if (mix !== 'all' && mix !== 'reads') throw new Error(`SOAK_MIX must be all or reads, not ${mix}`);
const topology = process.env.SOAK_TOPOLOGY ?? 'shared';
if (topology !== 'shared' && topology !== 'embedded') throw new Error(`SOAK_TOPOLOGY must be shared or embedded, not ${topology}`);
/** MB per minute, RSS and live heap alike. */
const GOAL = 1;

const ops = Object.fromEntries(contractOperations().map((o) => [o.name, o.document])) as Record<string, string>;
const MUTATIONS = new Set(contractOperations().filter((o) => o.kind === 'mutation').map((o) => o.name));
/** Mutations the stack answered without a GraphQL error: each may leave state behind (an order, events, an idempotency record). */
let writes = 0;
const pad = (n: number, width: number) => String(n).padStart(width, '0');
const STORES = Array.from({ length: 20 }, (_, i) => `store-${pad(i + 1, 3)}`);
const SHOPPERS = Array.from({ length: 50 }, (_, i) => `cust-${pad(i + 1, 5)}`);
const CATEGORIES = ['shoes', 'apparel', 'home', 'toys'];

// Seeded: two soaks with the same settings send the same mix.
const random = mulberry32(Number(process.env.SOAK_SEED ?? 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const sku = () => `SKU-${pad(Math.floor(random() * 500) + 1, 4)}-${Math.floor(random() * 3) + 1}`;

interface GraphQLAnswer {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** What the soak saw, per operation. */
interface OpStats {
  count: number;
  failed: number;
  userErrors: Map<string, number>;
  latencies: number[];
}
const stats = new Map<string, OpStats>();
const failures = new Map<string, number>();
function statsOf(name: string): OpStats {
  let entry = stats.get(name);
  if (!entry) stats.set(name, (entry = { count: 0, failed: 0, userErrors: new Map(), latencies: [] }));
  return entry;
}

class OperationFailed extends Error {}

/**
 * The soak's own keep-alive connections, on an agent it can close: fetch's pool keeps a connection as long as the
 * server's `Keep-Alive: timeout=65` allows and cannot be closed from outside, which would leave the stack's
 * sockets after the load looking like a leak.
 */
const agent = new Agent({ keepAlive: true, maxSockets: concurrency + 4 });
function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One request through the gateway; a transport error, a non-200 or a GraphQL error fails the operation. */
async function gql(stack: StackProcess, name: string, variables: Record<string, unknown>, authorization?: string): Promise<Record<string, any>> {
  const document = ops[name];
  if (!document) throw new Error(`the contract has no operation ${name}`);
  const response = await post(`${stack.gateway}/graphql`, JSON.stringify({ query: document, variables }), authorization ? { authorization } : {});
  const body = JSON.parse(response.text) as GraphQLAnswer;
  if (response.status !== 200 || body.errors?.length || !body.data) {
    const why = `${name}: ${response.status} ${body.errors?.[0]?.extensions?.code ?? ''} ${body.errors?.[0]?.message ?? ''}`.trim();
    failures.set(why, (failures.get(why) ?? 0) + 1);
    throw new OperationFailed(why);
  }
  if (MUTATIONS.has(name)) writes++;
  return body.data;
}

/** A user error is a business outcome (OUT_OF_STOCK, ...), counted, not a failure. */
function userErrorOf(payload: { userErrors?: { code?: string }[] } | null | undefined): string | undefined {
  return payload?.userErrors?.[0]?.code ?? undefined;
}

interface Callers {
  shopper: (customerId: string) => string;
  associate: (store: string) => string;
  agent: string;
}

async function signIn(sandbox: string): Promise<Callers> {
  const shoppers = new Map<string, string>();
  for (const customerId of SHOPPERS) shoppers.set(customerId, await bearerFrom(sandbox, { role: 'shopper', customerId, expiresInSeconds: 4 * 3600 }));
  const associates = new Map<string, string>();
  for (const locationId of STORES) associates.set(locationId, await bearerFrom(sandbox, { role: 'store', locationId, expiresInSeconds: 4 * 3600 }));
  const agent = await bearerFrom(sandbox, { role: 'agent', expiresInSeconds: 4 * 3600 });
  const of = (tokens: Map<string, string>, key: string) => {
    const token = tokens.get(key);
    if (!token) throw new Error(`nobody signed in as ${key}`);
    return token;
  };
  return { shopper: (id) => of(shoppers, id), associate: (id) => of(associates, id), agent };
}

/** Subscribers: long-lived ones count what they receive; pickups open (and close) one each to track their order. */
const subscriptions = { longLived: 0, longLivedEvents: 0, longLivedErrors: 0, tracking: 0, trackingEvents: 0, trackingErrors: 0, churned: 0 };

function wsClient(stack: StackProcess, authorization: string): Client {
  return createClient({ url: `${stack.gateway.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, keepAlive: 0, onNonLazyError: () => undefined, connectionParams: { authorization } });
}

function openLongLived(stack: StackProcess, callers: Callers, pickupStores: readonly string[]): Client[] {
  const clients: Client[] = [];
  for (let i = 0; i < subscriberCount; i++) {
    const inventory = i % 2 === 0;
    const location = inventory ? (STORES[i % STORES.length] as string) : (pickupStores[i % pickupStores.length] as string);
    const client = wsClient(stack, callers.associate(location));
    subscriptions.longLived++;
    client.subscribe(
      { query: inventory ? (ops.StoreInventory as string) : (ops.PickupFeed as string), variables: { locationId: location } },
      { next: () => void subscriptions.longLivedEvents++, error: () => void subscriptions.longLivedErrors++, complete: () => undefined },
    );
    clients.push(client);
  }
  return clients;
}

const orderIds: string[] = [];
const placed: { customerId: string; input: Record<string, unknown>; orderId: string }[] = [];
let replays = 0;
let replayMismatches = 0;
let pickupsCompleted = 0;
let checkoutSeq = 0;
const runId = `soak-${Date.now()}`;

type Operation = (stack: StackProcess, callers: Callers, pickupStores: readonly string[]) => Promise<string | undefined>;

const allOperations: { name: string; weight: number; writes?: true; run: Operation }[] = [
  { name: 'ProductPage', weight: 26, run: async (stack) => void (await gql(stack, 'ProductPage', { id: `prod-${pad(Math.floor(random() * 500) + 1, 4)}`, locationIds: [pick(STORES), pick(STORES)] })) },
  { name: 'ProductListing', weight: 12, run: async (stack) => void (await gql(stack, 'ProductListing', { first: 20, category: pick(CATEGORIES) })) },
  { name: 'MyAccount', weight: 8, run: async (stack, callers) => void (await gql(stack, 'MyAccount', {}, callers.shopper(pick(SHOPPERS)))) },
  {
    name: 'OrderTimeline',
    weight: 8,
    // Seeded orders and the ones this soak placed (whose timelines grow with every move).
    run: async (stack, callers) => void (await gql(stack, 'OrderTimeline', { orderId: orderIds.length > 0 && random() < 0.5 ? pick(orderIds) : `ord-w${pad(Math.floor(random() * 8000) + 1, 6)}` }, callers.agent)),
  },
  {
    name: 'StoreStock',
    weight: 8,
    run: async (stack, callers) => {
      const location = pick(STORES);
      await gql(stack, 'StoreStock', { locationId: location, skus: [sku(), sku(), sku()] }, callers.associate(location));
      return undefined;
    },
  },
  {
    name: 'PickupQueue',
    weight: 4,
    run: async (stack, callers) => {
      const location = pick(STORES);
      await gql(stack, 'PickupQueue', { locationId: location }, callers.associate(location));
      return undefined;
    },
  },
  {
    name: 'PlaceOrder (shipping)',
    weight: 10,
    writes: true,
    run: async (stack, callers) => {
      // One in five checkouts sends an earlier one's key and input again, as a client retrying would: the same order back.
      const earlier = placed.length > 0 && random() < 0.2 ? pick(placed) : undefined;
      const customerId = earlier?.customerId ?? pick(SHOPPERS);
      const input = earlier?.input ?? { idempotencyKey: `${runId}-${++checkoutSeq}`, channel: 'WEB', deliveryMethod: 'SHIPPING', lines: [{ sku: sku(), quantity: 1 }] };
      const payload = (await gql(stack, 'PlaceOrder', { input }, callers.shopper(customerId))).placeOrder;
      const orderId = payload?.order?.id as string | undefined;
      if (earlier) {
        replays++;
        if (orderId !== earlier.orderId) replayMismatches++;
      } else if (orderId) {
        placed.push({ customerId, input, orderId });
        orderIds.push(orderId);
        // Bounded: the soak remembers a window of orders, not all of them (its own memory is not the stack's, but stays flat).
        if (placed.length > 500) placed.shift();
        if (orderIds.length > 1000) orderIds.shift();
      }
      return userErrorOf(payload);
    },
  },
  {
    name: 'AdjustStock',
    weight: 10,
    writes: true,
    run: async (stack, callers) => {
      const location = pick(STORES);
      const receipt = random() < 0.7;
      const input = { idempotencyKey: `${runId}-adj-${++checkoutSeq}`, locationId: location, sku: sku(), reason: receipt ? 'RECEIPT' : 'SALE', delta: receipt ? 2 : -1 };
      return userErrorOf((await gql(stack, 'AdjustStock', { input }, callers.associate(location))).adjustInventory);
    },
  },
  {
    name: 'pickup (receipt, order, ready, hand-over)',
    weight: 6,
    writes: true,
    run: async (stack, callers, pickupStores) => {
      const location = pick(pickupStores);
      const customerId = pick(SHOPPERS);
      const unit = sku();
      const associate = callers.associate(location);
      const received = (await gql(stack, 'AdjustStock', { input: { idempotencyKey: `${runId}-rcv-${++checkoutSeq}`, locationId: location, sku: unit, reason: 'RECEIPT', delta: 1 } }, associate)).adjustInventory;
      if (userErrorOf(received)) return `receipt ${userErrorOf(received)}`;
      const input = { idempotencyKey: `${runId}-pickup-${++checkoutSeq}`, channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: location, lines: [{ sku: unit, quantity: 1 }] };
      const order = (await gql(stack, 'PlaceOrder', { input }, callers.shopper(customerId))).placeOrder;
      const orderId = order?.order?.id as string | undefined;
      if (!orderId || order?.order?.status !== 'CONFIRMED') return `order ${userErrorOf(order) ?? order?.order?.status}`;
      orderIds.push(orderId);
      // The shopper's app follows the order on a socket of its own, opened for this order and closed after it.
      const tracker = wsClient(stack, callers.shopper(customerId));
      subscriptions.tracking++;
      let seen = 0;
      const done = new Promise<void>((resolve) => {
        tracker.subscribe(
          { query: ops.OrderTracking as string, variables: { orderId } },
          {
            next: (value) => {
              subscriptions.trackingEvents++;
              if ((value.data as { orderStatusChanged?: { status?: string } } | null)?.orderStatusChanged?.status === 'PICKED_UP' || ++seen >= 2) resolve();
            },
            error: () => {
              subscriptions.trackingErrors++;
              resolve();
            },
            complete: resolve,
          },
        );
      });
      try {
        const ready = (await gql(stack, 'ReadyForPickup', { orderId }, associate)).markReadyForPickup;
        if (userErrorOf(ready)) return `ready ${userErrorOf(ready)}`;
        const handed = (await gql(stack, 'HandOver', { orderId }, associate)).confirmPickup;
        if (userErrorOf(handed)) return `hand-over ${userErrorOf(handed)}`;
        pickupsCompleted++;
        // The tracker's events may still be on their way; it waits for them a little, not for ever.
        await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 2_000))]);
        return undefined;
      } finally {
        await tracker.dispose();
      }
    },
  },
  {
    name: 'subscribe and leave (StoreInventory, own socket)',
    weight: 3,
    // A store app that connects, subscribes and goes away: what a leak of per-socket or per-subscription state needs.
    run: async (stack, callers) => {
      const location = pick(STORES);
      const client = wsClient(stack, callers.associate(location));
      subscriptions.churned++;
      try {
        await new Promise<void>((resolve, reject) => {
          const off = client.on('connected', () => {
            off();
            resolve();
          });
          const offClosed = client.on('closed', (event) => {
            offClosed();
            reject(new Error(`the socket closed before it was acknowledged: ${JSON.stringify(event)}`));
          });
          client.subscribe({ query: ops.StoreInventory as string, variables: { locationId: location } }, { next: () => undefined, error: () => undefined, complete: () => undefined });
        });
        return undefined;
      } finally {
        await client.dispose();
      }
    },
  },
];
const operations = allOperations.filter((o) => mix === 'all' || !o.writes);
const totalWeight = operations.reduce((sum, o) => sum + o.weight, 0);
function chooseOperation(): (typeof operations)[number] {
  let roll = random() * totalWeight;
  for (const operation of operations) if ((roll -= operation.weight) < 0) return operation;
  return operations[0]!;
}

interface Row {
  minute: number;
  operations: number;
  writes: number;
  failed: number;
  shed: number;
  rss: number;
  /** The sandbox process's RSS (shared topology). */
  sandboxRss?: number | undefined;
  heapUsed: number;
  heapTotal: number;
  external: number;
  handles: Handles;
  resources: Record<string, number>;
}

const mb = (bytes: number) => bytes / 1024 / 1024;
const fixed = (n: number, digits = 1) => n.toFixed(digits);

/** The stack's output: warnings and errors counted (pino JSON levels), the probe's exit line kept, the tail for a crash. */
const output = { warnings: 0, errors: 0, firstProblems: [] as string[], tail: [] as string[], exitLine: undefined as string | undefined, partial: '' };
function onOutput(chunk: string): void {
  const lines = (output.partial + chunk).split('\n');
  output.partial = lines.pop() ?? '';
  for (const line of lines) {
    if (line.startsWith(EXIT_MARKER)) {
      output.exitLine = line.slice(EXIT_MARKER.length);
      continue;
    }
    output.tail.push(line);
    if (output.tail.length > 30) output.tail.shift();
    const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
    if (level >= 50) output.errors++;
    else if (level >= 40) output.warnings++;
    if (level >= 40 && output.firstProblems.length < 5) output.firstProblems.push(line.slice(0, 300));
  }
}

const print = (line = '') => process.stdout.write(`${line}\n`);
const handlesCell = (h: Handles) => `${h.fds} | ${h.sockets} | ${h.tcpListen} | ${h.tcpEstablished} | ${h.tcpToPeer} | ${h.tcpEstablished - h.tcpToPeer} | ${h.tcpOther}`;
const HANDLE_COLUMNS = 'fds | sockets | tcp listen | tcp established | of which to the soak | of which inside the stack | tcp other';
const resourcesCell = (r: Record<string, number>) =>
  Object.entries(r)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');

/** `shared`: the redis-server and the sandbox process the stack is pointed at (see SOAK_TOPOLOGY). */
let redis: RedisServerHandle | undefined;
let systems: { process: ManagedProcess; url: string; dir: string } | undefined;
async function startShared(): Promise<Record<string, string>> {
  redis = await startRedisServer();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'soak-sandbox-'));
  systems = { process: serviceProcess('sandbox', ['sandbox'], { SANDBOX_PORT: String(port), DATA_DIR: dir }, `${url}/health`), url, dir };
  await systems.process.start();
  return { REDIS_URL: redis.url, SANDBOX_URL: url };
}
async function stopShared(): Promise<void> {
  await systems?.process.stop();
  if (systems) rmSync(systems.dir, { recursive: true, force: true });
  await redis?.stop();
}

const stack: StackProcess = await (async () => {
  const env = topology === 'shared' ? await startShared() : {};
  const started = await startStackProcess(env, { nodeFlags: ['--expose-gc', '--import', new URL('./memory-probe.js', import.meta.url).href], ipc: true, output: onOutput });
  // The identity provider is the sandbox's: in its own process when shared.
  return systems ? { ...started, sandbox: systems.url } : started;
})().catch(async (error: unknown) => {
  print(`soak: the stack did not start: ${String(error)}`);
  for (const line of [...output.tail, output.partial]) print(`  ${line}`);
  await stopShared().catch(() => undefined);
  process.exit(1);
});
const probe = createProbeClient(stack.child);
let exitCode = 0;
try {
  const sample = async (minute: number, done: number, failed: number, shed: number): Promise<Row> => {
    const memory = await probe();
    const sandboxPid = systems?.process.pid;
    return { minute, operations: done, writes, failed, shed, rss: rssMb(stack.pid), sandboxRss: sandboxPid === undefined ? undefined : rssMb(sandboxPid), heapUsed: mb(memory.memory.heapUsed), heapTotal: mb(memory.memory.heapTotal), external: mb(memory.memory.external), handles: handlesOf(stack.pid, process.pid), resources: memory.resources };
  };
  const callers = await signIn(stack.sandbox);
  const pickupStores = ((await gql(stack, 'PickupStores', {})).locations as { id: string }[]).map((l) => fromGlobalId('Location', l.id)).filter((id) => STORES.includes(id));
  if (pickupStores.length === 0) throw new Error('no pickup-enabled store to soak pickups at');
  // After the sign-in, whose keep-alive connections (fetch, in bench/stack-process.ts) are then in both counts.
  const idle = await sample(0, 0, 0, 0);
  const longLived = openLongLived(stack, callers, pickupStores);

  print(`soak (${mix === 'all' ? 'mixed reads and writes' : 'reads and subscribers only'}, ${topology === 'shared' ? 'shared topology: state in redis-server, systems of record in a sandbox process' : 'embedded: one process holds everything'}): ${minutes} min, ${rate} operations/s, at most ${concurrency} in flight, ${subscriberCount} long-lived subscribers; node ${process.version}, ${cpus().length} CPUs; stack pid ${stack.pid}`);
  print();
  print(`| minute | operations | writes | failed | shed | RSS MB | heap used MB (after GC) | heap total MB | external MB | ${HANDLE_COLUMNS} |${systems ? ' sandbox RSS MB (not judged) |' : ''}`);
  print(`|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|${systems ? '---:|' : ''}`);
  const printRow = (r: Row) => print(`| ${fixed(r.minute, 2)} | ${r.operations} | ${r.writes} | ${r.failed} | ${r.shed} | ${fixed(r.rss)} | ${fixed(r.heapUsed)} | ${fixed(r.heapTotal)} | ${fixed(r.external)} | ${handlesCell(r.handles)} |${r.sandboxRss === undefined ? '' : ` ${fixed(r.sandboxRss)} |`}`);
  const rows: Row[] = [await sample(0, 0, 0, 0)];
  printRow(rows[0]!);

  let done = 0;
  let failed = 0;
  let shed = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const launch = () => {
    const operation = chooseOperation();
    const entry = statsOf(operation.name);
    inFlight++;
    const started = performance.now();
    const promise = operation
      .run(stack, callers, pickupStores)
      .then(
        (userError) => {
          if (userError) entry.userErrors.set(userError, (entry.userErrors.get(userError) ?? 0) + 1);
        },
        (error: unknown) => {
          entry.failed++;
          failed++;
          if (!(error instanceof OperationFailed)) failures.set(`${operation.name}: ${String(error)}`, (failures.get(`${operation.name}: ${String(error)}`) ?? 0) + 1);
        },
      )
      .finally(() => {
        entry.count++;
        done++;
        inFlight--;
        entry.latencies.push(performance.now() - started);
        // Latencies of a 10-minute run: keep the most recent 20,000 per operation, enough for p99.
        if (entry.latencies.length > 20_000) entry.latencies.shift();
        pending.delete(promise);
      });
    pending.add(promise);
  };

  // An open-loop schedule: `rate` operations a second whatever the answers take, never more than `concurrency` at once.
  const TICK_MS = 100;
  let credit = 0;
  const ticker = setInterval(() => {
    credit += (rate * TICK_MS) / 1000;
    while (credit >= 1) {
      credit--;
      if (inFlight < concurrency) launch();
      else shed++;
    }
  }, TICK_MS);
  const started = performance.now();
  const end = started + minutes * 60_000;
  for (let k = 1; performance.now() < end - 1; k++) {
    const at = Math.min(end, started + k * sampleSeconds * 1000);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));
    const row = await sample((performance.now() - started) / 60_000, done, failed, shed);
    rows.push(row);
    printRow(row);
  }
  clearInterval(ticker);
  await Promise.all(pending);
  await Promise.all(longLived.map((client) => client.dispose()));
  agent.destroy();

  // After the load: every client socket closed, then the stack's connections should go back to where they were.
  // Closing is asynchronous on the stack's side too: give it until the sockets to the soak are back to the idle count.
  const settleDeadline = performance.now() + 30_000;
  let after = handlesOf(stack.pid, process.pid);
  while (after.tcpToPeer > idle.handles.tcpToPeer && performance.now() < settleDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    after = handlesOf(stack.pid, process.pid);
  }
  const afterResources = (await probe()).resources;

  print();
  print('| operation | count | failed | user errors | p50 ms | p99 ms |');
  print('|---|---:|---:|---|---:|---:|');
  for (const operation of operations) {
    const entry = stats.get(operation.name);
    if (!entry) continue;
    const sorted = [...entry.latencies].sort((a, b) => a - b);
    const userErrors = [...entry.userErrors].map(([code, n]) => `${code} ${n}`).join(', ') || '-';
    print(`| ${operation.name} | ${entry.count} | ${entry.failed} | ${userErrors} | ${fixed(percentile(sorted, 50))} | ${fixed(percentile(sorted, 99))} |`);
  }
  if (failures.size > 0) {
    print();
    print('failures (first 10 kinds):');
    for (const [why, n] of [...failures].slice(0, 10)) print(`  ${n} × ${why}`);
  }
  print();
  print(`checkout replays (same key, same input): ${replays}, answered with another order: ${replayMismatches}; pickups handed over: ${pickupsCompleted}`);
  print(
    `subscriptions: ${subscriptions.longLived} long-lived received ${subscriptions.longLivedEvents} events (${subscriptions.longLivedErrors} errors); ${subscriptions.tracking} tracking subscribers opened and closed, ${subscriptions.trackingEvents} events (${subscriptions.trackingErrors} errors); ${subscriptions.churned} sockets connected, subscribed and left`,
  );
  print(`stack log lines at warn: ${output.warnings}, at error or fatal: ${output.errors}`);
  for (const line of output.firstProblems) print(`  ${line}`);

  const steady = rows.filter((r) => r.minute >= warmupMinutes - 1e-6);
  const rssSlope = slope(steady.map((r) => ({ x: r.minute, y: r.rss })));
  const heapSlope = slope(steady.map((r) => ({ x: r.minute, y: r.heapUsed })));
  const met = steady.length >= 2 && rssSlope < GOAL && heapSlope < GOAL;
  const writeRate = slope(steady.map((r) => ({ x: r.minute, y: r.writes })));
  print();
  print(`slope after warm-up (minutes ≥ ${warmupMinutes}, ${steady.length} samples, least squares): RSS ${rssSlope >= 0 ? '+' : ''}${fixed(rssSlope, 2)} MB/min, live heap ${heapSlope >= 0 ? '+' : ''}${fixed(heapSlope, 2)} MB/min`);
  if (writeRate > 0) {
    // Embedded, orders, their events, idempotency records (kept 24 h) and journal entries are state the stack is meant
    // to keep (the sandbox's systems of record live in the same process): growth per write tells state from a leak.
    const why = topology === 'embedded' ? 'includes the state a write leaves: orders, events, idempotency records; SOAK_MIX=reads measures without it' : 'the state is in redis-server and the sandbox process: what is left here is not state';
    print(`writes after warm-up: ${fixed(writeRate, 0)}/min; live heap per write: ${fixed((heapSlope * 1024) / writeRate, 2)} KB (${why})`);
    if (systems) {
      const sandboxSlope = slope(steady.filter((r) => r.sandboxRss !== undefined).map((r) => ({ x: r.minute, y: r.sandboxRss as number })));
      print(`sandbox process (the systems of record, holding every order, payment and posting; not judged): RSS ${sandboxSlope >= 0 ? '+' : ''}${fixed(sandboxSlope, 2)} MB/min`);
    }
  }
  print(`goal: under ${GOAL} MB/min for both: ${steady.length < 2 ? 'NOT JUDGED (fewer than two samples after warm-up: run longer)' : met ? 'met' : 'NOT met'}`);
  if (!met) exitCode = 1;

  print();
  print(`| open handles of the stack | ${HANDLE_COLUMNS} | active resources (process.getActiveResourcesInfo) |`);
  print('|---|---:|---:|---:|---:|---:|---:|---:|---|');
  print(`| idle, before load | ${handlesCell(idle.handles)} | ${resourcesCell(idle.resources)} |`);
  print(`| after load, clients closed | ${handlesCell(after)} | ${resourcesCell(afterResources)} |`);
} catch (error) {
  exitCode = 1;
  print(`soak failed: ${error instanceof Error ? error.stack : String(error)}`);
  print('last lines of the stack:');
  for (const line of output.tail) print(`  ${line}`);
} finally {
  const signalled = performance.now();
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  // 'close' comes after the child's stdio is drained: the probe's exit line is in by then.
  const closed = new Promise((resolve) => stack.child.once('close', resolve));
  if (stack.child.exitCode === null && stack.child.signalCode === null) {
    stack.child.kill('SIGTERM');
    exited = await Promise.race([stack.exited, new Promise<undefined>((resolve) => setTimeout(resolve, 30_000))]);
  } else exited = { code: stack.child.exitCode, signal: stack.child.signalCode };
  const ms = performance.now() - signalled;
  if (!exited) stack.child.kill('SIGKILL');
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
  const clean = exited?.code === 0 && exited.signal === null;
  print();
  print(`SIGTERM: ${exited ? `exited with code ${exited.code}${exited.signal ? `, signal ${exited.signal}` : ''} after ${fixed(ms, 0)} ms` : 'still running after 30 s (killed)'}: ${clean ? 'clean' : 'NOT clean'}`);
  if (output.exitLine) {
    const { resources } = JSON.parse(output.exitLine) as { resources: Record<string, number> };
    print(`  still active when the launcher's stop() had finished and it called process.exit: ${resourcesCell(resources) || 'nothing'}`);
  }
  if (!clean) exitCode = 1;
  await stopShared().catch((error: unknown) => print(`stopping the redis-server and the sandbox: ${String(error)}`));
}
// Keep-alive sockets of this process's fetch client must not keep the soak alive.
process.exit(exitCode);
