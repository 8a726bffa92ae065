import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SUBGRAPH_NAMES, type SubgraphName } from '../../common/config.js';
import { fromGlobalId } from '../../common/global-id.js';
import { mulberry32 } from '../../common/seeded-random.js';
import type { OrderRecord, StockKey } from '../../common/systems/records.js';
import { generateSeedData } from '../../sandbox/seed.js';
import { ROOT } from '../../scripts/composition.js';
import { contractOperation } from '../../scripts/contract.js';
import { freePort } from '../../scripts/free-port.js';
import { BENCH_RATE_LIMITS } from '../stack-process.js';
import { AGENT, FINANCE, store, ChaosClient } from './client.js';
import { checkInvariants, conservationOff, formatDetails, formatTable, type Evidence, type Invariant } from './invariants.js';
import { Load, type World } from './load.js';
import { redisWithAof, serviceProcess, type ExitRecord, type ManagedProcess } from './processes.js';
import { keyOf, ordersOf, policiesOf, postingsOf, refundsOf, returnsOf, stockOf } from './sandbox-reads.js';
import { Subscribers } from './subscribers.js';

export interface ChaosOptions {
  /** Seconds of load under faults and restarts (`CHAOS_SECONDS`). @default 180 */
  seconds?: number;
  /** The longest wait, in seconds, for the system to settle once the load stopped (outbox empty, finance caught up). @default 120 */
  settleSeconds?: number;
  /** Subscribers in all: half StoreInventory (spread over the stores), half OrderTracking (two per order, the first orders placed). @default 200 */
  subscribers?: number;
  /** Seed of the load's choices. @default 12 */
  seed?: number;
  /** Progress lines, as they happen. @default discarded */
  log?: (line: string) => void;
  /**
   * The scripted faults: `full` kills instance A twice, restarts Redis twice (kill -9, SIGTERM) and two subgraphs
   * of B; `short` (npm test) kills A, Redis and B's orders subgraph once each. ERP/PSP flapping and latency spikes
   * run in both.
   * @default 'full'
   */
  timeline?: 'full' | 'short';
}

export interface ChaosReport {
  invariants: Invariant[];
  /** Every invariant held (a skipped one does not count against it). */
  ok: boolean;
  table: string;
  details: string;
  /** What the run did: load, faults, topology. */
  summary: string[];
  /** What the clients did and saw, for a closer look (`CHAOS_JSON`). */
  evidence: { checkouts: unknown[]; moves: unknown[]; followUps: unknown[]; subscribers: unknown[]; orders: unknown[]; stockStart: unknown; stockEnd: unknown; faults: string[] };
}

/** Settings of every service of the run: shared Redis, raised rate limits, retry and recovery fast enough to settle in the window. */
function sharedEnv(redisUrl: string, prefix: string): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    ...BENCH_RATE_LIMITS,
    // The defaults (5 s base, 15 min cap, 8 attempts) are for a real ERP's outages; these let a run settle in minutes.
    ERP_OUTBOX_BASE_MS: '250',
    ERP_OUTBOX_CAP_MS: '2000',
    ERP_OUTBOX_MAX_ATTEMPTS: '100000',
    // A checkout cut off by a kill -9 is recovered within the run, not two minutes later.
    CHECKOUT_STALE_MS: '15000',
    CHECKOUT_RECOVERY_INTERVAL_MS: '3000',
  };
}

/** Whether the supergraph has resumable subscriptions (issue 12 part 6): `after` on the root fields, `sequence` on the changes. */
export function graphHasResume(): boolean {
  const sdl = readFileSync(resolve(ROOT, 'supergraph.graphql'), 'utf8');
  const block = (name: string) => new RegExp(`\\ntype ${name}\\b[^{]*\\{([\\s\\S]*?)\\n\\}`).exec(sdl)?.[1] ?? '';
  return /\bafter\s*:\s*Int/.test(block('Subscription')) && /\bsequence\s*:/.test(block('InventoryChange')) && /\bsequence\s*:/.test(block('OrderStatusChange'));
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, Math.max(0, ms)));

export async function runChaos(options: ChaosOptions = {}): Promise<ChaosReport> {
  const seconds = options.seconds ?? 180;
  const settleSeconds = options.settleSeconds ?? 120;
  const subscriberCount = options.subscribers ?? 200;
  const log = options.log ?? (() => undefined);
  const random = mulberry32(options.seed ?? 12);
  const runId = Date.now().toString(36);
  const dirs: string[] = [];
  const tmp = (name: string) => {
    const dir = mkdtempSync(join(tmpdir(), `chaos-${name}-`));
    dirs.push(dir);
    return dir;
  };
  const processes: ManagedProcess[] = [];
  const redisPort = await freePort();
  const redis = redisWithAof(redisPort);
  processes.push(redis.process);
  let subscribers: Subscribers | undefined;
  const finalExits = new Map<string, ExitRecord | undefined>();
  const began = Date.now();
  const at = () => `t+${((Date.now() - began) / 1000).toFixed(1)}s`;
  const say = (line: string) => log(`[chaos ${at()}] ${line}`);

  try {
    // --- topology: redis (AOF), the sandbox, instance A (everything in one process), instance B (gateway + six subgraph processes)
    const taken = new Set<number>([redisPort]);
    const port = async () => {
      let p = await freePort();
      while (taken.has(p)) p = await freePort();
      taken.add(p);
      return p;
    };
    const env = sharedEnv(redis.url, `chaos${runId}`);
    const sandboxPort = await port();
    const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
    const sandbox = serviceProcess('sandbox', ['sandbox'], { ...env, SANDBOX_PORT: String(sandboxPort), DATA_DIR: tmp('sandbox') }, `${sandboxUrl}/health`);
    const aPorts: Record<string, string> = { GATEWAY_PORT: String(await port()) };
    for (const name of SUBGRAPH_NAMES) aPorts[`${name.toUpperCase()}_PORT`] = String(await port());
    const gatewayA = `http://127.0.0.1:${aPorts.GATEWAY_PORT}`;
    const instanceA = serviceProcess('A (all-in-one)', [], { ...env, ...aPorts, SANDBOX_URL: sandboxUrl, DATA_DIR: tmp('a') }, `${gatewayA}/ready`);
    const bSubgraphs = {} as Record<SubgraphName, ManagedProcess>;
    const bUrls: Record<string, string> = {};
    for (const name of SUBGRAPH_NAMES) {
      const p = await port();
      bUrls[`${name.toUpperCase()}_URL`] = `http://127.0.0.1:${p}/graphql`;
      bSubgraphs[name] = serviceProcess(`B ${name}`, ['subgraph', name], { ...env, [`${name.toUpperCase()}_PORT`]: String(p), SANDBOX_URL: sandboxUrl, DATA_DIR: tmp(`b-${name}`) }, `http://127.0.0.1:${p}/health`);
    }
    const gatewayBPort = await port();
    const gatewayB = `http://127.0.0.1:${gatewayBPort}`;
    const instanceB = serviceProcess('B gateway', ['gateway'], { ...env, ...bUrls, GATEWAY_PORT: String(gatewayBPort), SANDBOX_URL: sandboxUrl, DATA_DIR: tmp('b-gateway') }, `${gatewayB}/ready`);
    processes.push(sandbox, instanceA, ...Object.values(bSubgraphs), instanceB);

    await redis.process.start();
    await sandbox.start();
    // A first: the first instance loads the seeded history into Redis; the others find it there.
    await instanceA.start(180_000);
    await Promise.all(Object.values(bSubgraphs).map((p) => p.start(180_000)));
    await instanceB.start();
    say(`topology up: redis :${redisPort} (AOF, appendfsync always), sandbox :${sandboxPort}, A ${gatewayA}, B ${gatewayB} + ${SUBGRAPH_NAMES.length} subgraph processes`);

    // --- the world: stores, SKUs, customers; low stock on the shelves so that the last units are contended
    const client = new ChaosClient({ gateways: [gatewayA, gatewayB], sandbox: sandboxUrl });
    const seed = generateSeedData({ seed: 42, scale: 1 });
    const stores = seed.stores.filter((s) => s.pickupEnabled).slice(0, 4).map((s) => s.id);
    const warehouses = seed.warehouses.map((w) => w.id);
    const skus: World['skus'] = [];
    for (const v of seed.variants.slice(40)) {
      if (skus.length >= 6) break;
      if (v.status !== 'ACTIVE' || v.currency !== 'EUR') continue;
      const levels = await stockOf(sandboxUrl, stores.map((locationId) => ({ sku: v.sku, locationId })), new Set());
      if ([...levels.values()].every((l) => l !== null)) skus.push({ sku: v.sku, productId: v.productId });
    }
    const customers = seed.customers.slice(500, 500 + Math.ceil(seconds * 3) + 50).map((c) => c.id);
    const world: World = { runId, stores, warehouses, skus, customers };
    const keys: StockKey[] = skus.flatMap(({ sku }) => [...stores, ...warehouses].map((locationId) => ({ sku, locationId })));
    const warehouseSet = new Set(warehouses);
    const before = await stockOf(sandboxUrl, keys, warehouseSet);
    const policies = await policiesOf(sandboxUrl, keys);
    for (const locationId of stores) {
      for (const { sku } of skus) {
        const level = before.get(keyOf({ sku, locationId }))!;
        const onHand = level.committed + level.reserved + level.damaged + (policies.get(keyOf({ sku, locationId }))?.safetyStock ?? 0) + 6;
        const answer = await client.untilDefinite(store(locationId), contractOperation('AdjustStock'), { input: { idempotencyKey: `chaos-${runId}-count-${sku}-${locationId}`, locationId, sku, reason: 'CYCLE_COUNT', onHand } }, (b) => b.data?.adjustInventory ?? undefined, Date.now() + 30_000);
        if (!answer.value || answer.value.userErrors?.length) throw new Error(`setup: the cycle count of ${sku} at ${locationId} failed: ${JSON.stringify(answer)}`);
      }
    }
    const stockStart = await stockOf(sandboxUrl, keys, warehouseSet);
    const ordersAtStart = await ordersOf(sandboxUrl, customers);
    say(`world: stores ${stores.join(', ')}; SKUs ${skus.map((s) => s.sku).join(', ')}; ${customers.length} customers; shelves counted down to 6 sellable units each`);

    // --- subscribers, then the load, then the faults on their timeline
    const resume = graphHasResume();
    subscribers = new Subscribers({ client, resume });
    const inventorySubscribers = Math.floor(subscriberCount / 2);
    for (let i = 0; i < inventorySubscribers; i++) subscribers.inventory(stores[i % stores.length]!, i);
    const load = new Load({ client, world, subscribers, orderSubscribers: subscriberCount - inventorySubscribers, random });
    const runStart = new Date(Date.now() - 1000).toISOString();
    load.start();
    const loadStart = Date.now();
    say(`load started (${resume ? 'resumable subscriptions: after/sequence' : 'subscriptions WITHOUT resume: the graph has no after/sequence yet'})`);

    const setFault = (system: string, fault: Record<string, unknown>) =>
      fetch(`${sandboxUrl}/sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ system, ...fault }), signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    const faultsFrom = loadStart + seconds * 100;
    const faultsUntil = loadStart + seconds * 800;
    const faultLog: string[] = [];
    const faultTimes: string[] = [];
    const failedStarts: string[] = [];
    const flap = async (system: string, periodMs: number) => {
      await sleep(faultsFrom - Date.now());
      let down = false;
      let flips = 0;
      while (Date.now() < faultsUntil) {
        down = !down;
        flips++;
        await setFault(system, down ? { down: true, errorRate: 0 } : { down: false, errorRate: 0.3 });
        await sleep(periodMs);
      }
      faultLog.push(`${system.toUpperCase()} flapped ${flips} times (down / up with 30 % errors, every ${periodMs / 1000} s)`);
    };
    const spikes = async () => {
      await sleep(faultsFrom - Date.now() + 1500);
      let n = 0;
      while (Date.now() < faultsUntil) {
        const system = ['pos', 'wms', 'ecom', 'crm'][n % 4]!;
        // Above the adapters' 1 s timeout: calls time out while the sandbox still applies them.
        await setFault(system, { latencyMs: 1200 });
        await sleep(1500);
        await setFault(system, { latencyMs: 0 });
        n++;
        await sleep(4500);
      }
      faultLog.push(`${n} latency spikes (1.2 s, above the 1 s adapter timeout) on POS, WMS, e-commerce, CRM in turn`);
    };
    const restart = async (what: string, p: ManagedProcess, how: 'kill' | 'term') => {
      say(`${how === 'kill' ? 'kill -9' : 'SIGTERM'} ${what}`);
      faultTimes.push(`${new Date().toISOString()} ${how === 'kill' ? 'kill -9' : 'SIGTERM'} ${what}`);
      if (how === 'kill') await p.kill();
      else await p.stop();
      const down = Date.now();
      try {
        await p.start(180_000);
      } catch (error) {
        // Not the end of the run: the load goes on against what is up, and invariant 6 reports it.
        failedStarts.push(`${what}: ${(error as Error).message.slice(0, 1500)}`);
        say(`${what} did NOT come back: ${(error as Error).message.split('\n')[0]}`);
        return;
      }
      faultLog.push(`${how === 'kill' ? 'kill -9' : 'SIGTERM'} ${what} at ${((down - loadStart) / 1000).toFixed(0)} s, back after ${((Date.now() - down) / 1000).toFixed(1)} s`);
      say(`${what} is back`);
    };
    // In order, each once the one before it is back (a restart under this load takes 15 to 30 s on two cores).
    const timeline: [number, () => Promise<void>][] =
      options.timeline === 'short'
        ? [
            [0.12, () => restart('instance A', instanceA, 'kill')],
            [0.4, () => restart('Redis', redis.process, 'kill')],
            [0.45, () => restart('B orders subgraph', bSubgraphs.orders, 'kill')],
          ]
        : [
            [0.15, () => restart('instance A', instanceA, 'kill')],
            [0.3, () => restart('Redis', redis.process, 'kill')],
            [0.42, () => restart('B orders subgraph', bSubgraphs.orders, 'kill')],
            [0.52, () => restart('Redis', redis.process, 'term')],
            [0.6, () => restart('B inventory subgraph', bSubgraphs.inventory, 'term')],
            [0.68, () => restart('instance A', instanceA, 'kill')],
          ];
    const scripted = (async () => {
      for (const [fraction, event] of timeline) {
        await sleep(loadStart + fraction * seconds * 1000 - Date.now());
        await event();
      }
    })();
    await Promise.all([flap('erp', 3000), flap('psp', 4000), spikes(), scripted]);
    await fetch(`${sandboxUrl}/sandbox/faults`, { method: 'DELETE' });
    say('faults cleared; load goes on without them');
    await sleep(loadStart + seconds * 1000 - Date.now());

    // --- stop the load; writes in flight keep retrying until the settle deadline
    const settleDeadline = Date.now() + settleSeconds * 1000;
    await load.stop(settleDeadline);
    say(`load stopped: ${load.checkouts.length} checkouts, ${load.moves.length} stock moves, ${load.followUps.length} order moves, ${load.stats.queries.ok + load.stats.queries.failed} queries`);
    // One last change per store, after everything else: every StoreInventory subscriber must get it.
    const markers = new Map<string, { sku: string; delta: number }>();
    for (const locationId of stores) {
      const marker = { sku: skus[0]!.sku, delta: 97 };
      const move = await load.adjust(locationId, marker.sku, 'RECEIPT', marker.delta);
      if (move.applied) markers.set(locationId, marker);
    }

    // --- settle: wait for the signals (bounded)
    const customersUsed = load.checkouts.map((c) => c.customerId);
    const window = () => ({ from: runStart, to: new Date(Date.now() + 60_000).toISOString() });
    const OUTBOX = `query ChaosOutbox($from: DateTime!, $to: DateTime!) { erpOutboxSummary(from: $from, to: $to) { pending failed deadLettered posted } }`;
    const outboxNow = async () => {
      const a = await client.query(FINANCE, OUTBOX, window());
      return a.ok ? ((a.body.data?.erpOutboxSummary ?? null) as Evidence['outbox']) : null;
    };
    const runOrdersNow = async () => {
      const all = await ordersOf(sandboxUrl, customersUsed);
      const out = new Map<string, OrderRecord[]>();
      for (const [customer, orders] of all) {
        const old = new Set((ordersAtStart.get(customer) ?? []).map((o) => o.id));
        out.set(customer, orders.filter((o) => !old.has(o.id)));
      }
      return out;
    };
    let settled = '';
    const settleStarted = Date.now();
    for (;;) {
      const outbox = await outboxNow().catch(() => null);
      const runOrders = await runOrdersNow();
      const orders = [...runOrders.values()].flat();
      const status = new Map(orders.map((o) => [o.id, o.status]));
      const postings = await postingsOf(sandboxUrl, orders.map((o) => o.id));
      const unbooked = orders.filter((o) => ['PICKED_UP', 'PARTIALLY_RETURNED', 'RETURNED'].includes(o.status) && !(postings.get(o.id) ?? []).some((p) => p.type === 'SALE' && p.status === 'POSTED')).length;
      // Without resume a tracker that subscribed after its order's last move never hears of it: nothing to wait for.
      const trackersBehind = resume ? subscribers.logs.filter((l) => l.kind === 'order' && l.events.at(-1)?.status !== status.get(fromGlobalId('Order', l.stream))).length : 0;
      const markersMissing = subscribers.logs.filter((l) => l.kind === 'inventory' && markers.has(l.stream) && !l.events.some((e) => e.delta === 97 && e.reason === 'RECEIPT')).length;
      // Checkout recovery gives back a commitment no order holds once it is CHECKOUT_STALE_MS old: wait for the levels too.
      const levelsOff = conservationOff({ moves: load.moves, runOrders, returns: await returnsOf(sandboxUrl, orders.map((o) => o.id)), stockStart, stockEnd: await stockOf(sandboxUrl, keys, warehouseSet) }).length;
      settled = `outbox ${outbox ? `pending ${outbox.pending} failed ${outbox.failed}` : 'no answer'}, ${unbooked} sales not booked, ${trackersBehind} OrderTracking subscribers behind, ${markersMissing} StoreInventory subscribers without the marker, ${levelsOff} stock levels off`;
      if (outbox && outbox.pending === 0 && outbox.failed === 0 && unbooked === 0 && trackersBehind === 0 && markersMissing === 0 && levelsOff === 0) break;
      if (Date.now() > settleDeadline) {
        settled = `NOT settled within ${settleSeconds} s: ${settled}`;
        break;
      }
      await sleep(1000);
    }
    settled = `${settled} (after ${((Date.now() - settleStarted) / 1000).toFixed(0)} s)`;
    say(`settled: ${settled}`);

    // --- read the outcome
    const runOrders = await runOrdersNow();
    const orderIds = [...runOrders.values()].flat().map((o) => o.id);
    const accepted = load.checkouts.filter((c) => c.outcome === 'order');
    const readable = new Set<string>();
    const TIMELINE = contractOperation('OrderTimeline');
    for (let i = 0; i < accepted.length; i += 8) {
      await Promise.all(
        accepted.slice(i, i + 8).map(async (c) => {
          for (let attempt = 0; attempt < 3; attempt++) {
            const a = await client.query(AGENT, TIMELINE, { orderId: c.globalId });
            if (a.ok && a.body.data?.order?.id === c.globalId) return void readable.add(c.orderId!);
          }
        }),
      );
    }
    const RECONCILIATION = contractOperation('Reconciliation');
    const rec = await client.query(FINANCE, RECONCILIATION, window());
    const evidenceBase = {
      checkouts: load.checkouts,
      moves: load.moves,
      stats: load.stats,
      runOrders,
      stockStart,
      stockEnd: await stockOf(sandboxUrl, keys, warehouseSet),
      readable,
      postings: await postingsOf(sandboxUrl, orderIds),
      returns: await returnsOf(sandboxUrl, orderIds),
      refunds: await refundsOf(sandboxUrl, orderIds),
      outbox: await outboxNow().catch(() => null),
      reconciliation: rec.ok ? (rec.body.data?.reconciliation ?? null) : null,
      resume,
      markers,
      processes,
    };
    const notRunningAtEnd = processes.filter((p) => !p.running).map((p) => p.name);
    const subscriberLogs = subscribers.logs;
    await subscribers.stop();
    subscribers = undefined;
    for (const p of [instanceB, instanceA, ...Object.values(bSubgraphs), sandbox, redis.process]) finalExits.set(p.name, await p.stop());
    const invariants = checkInvariants({ ...evidenceBase, subscribers: subscriberLogs, finalExits, notRunningAtEnd, failedStarts });

    const checkouts = load.checkouts;
    const byOutcome = (o: string) => checkouts.filter((c) => c.outcome === o).length;
    const codes = new Map<string, number>();
    for (const c of checkouts) for (const code of c.codes ?? []) codes.set(code, (codes.get(code) ?? 0) + 1);
    const followUps = new Map<string, number>();
    for (const f of load.followUps) followUps.set(`${f.step} ${f.outcome}`, (followUps.get(`${f.step} ${f.outcome}`) ?? 0) + 1);
    const summary = [
      `topology: redis-server (AOF, appendfsync always); sandbox process; instance A = \`main.js\` (gateway + 6 subgraphs in one process); instance B = \`main.js gateway\` + 6 \`main.js subgraph <name>\` processes; all on SANDBOX_URL and REDIS_URL`,
      `duration: ${seconds} s of load (faults from ${(seconds * 0.1).toFixed(0)} s to ${(seconds * 0.8).toFixed(0)} s), settle: ${settled}`,
      ...faultLog,
      `checkouts: ${checkouts.length} (${byOutcome('order')} accepted, ${byOutcome('rejected')} refused [${[...codes].map(([c, n]) => `${c} ${n}`).join(', ')}], ${byOutcome('unresolved')} unresolved); attempts ${checkouts.reduce((s, c) => s + c.attempts, 0)}`,
      `stock moves: ${load.moves.length} (${load.moves.filter((m) => m.applied).length} applied, ${load.moves.filter((m) => m.applied === false).length} refused)`,
      `order moves: ${[...followUps].map(([k, n]) => `${k} ${n}`).join(', ')}`,
      `queries: ${load.stats.queries.ok} ok, ${load.stats.queries.failed} failed (${Object.entries(load.stats.queries.byName).map(([k, v]) => `${k} ${v.ok}/${v.ok + v.failed}`).join(', ')})`,
      `retried attempts by reason: ${[...client.transient].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
    ];
    const ok = invariants.every((r) => r.ok !== false);
    const evidence = {
      checkouts: load.checkouts,
      moves: load.moves,
      followUps: load.followUps,
      subscribers: subscriberLogs.map((l) => ({ id: l.id, kind: l.kind, stream: l.stream, connections: l.connections, endings: l.endings, events: l.events })),
      orders: [...runOrders.values()].flat(),
      stockStart: Object.fromEntries(stockStart),
      stockEnd: Object.fromEntries(evidenceBase.stockEnd),
      faults: faultTimes,
    };
    return { invariants, ok, table: formatTable(invariants), details: formatDetails(invariants), summary, evidence };
  } finally {
    await subscribers?.stop().catch(() => undefined);
    // Whatever is still up (a failure on the way): stopped, then killed.
    for (const p of processes.slice().reverse()) if (p.running) await p.stop(5000).catch(() => p.kill());
    redis.removeDir();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}
