import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../common/global-id.js';
import { contractOperation } from './support/contract.js';
import { pollUntil } from './support/poll.js';
import { ALL_PORTS, assertBuilt, bearer, exitOf, jsonLines, killStarted, ports, start, waitFor } from './support/processes.js';
import { AGENT, store } from './support/stack.js';
import { collect, wsClientAs } from './support/subscriptions.js';

// GATEWAY_WORKERS=2 with the embedded default: the primary runs the sandbox and the subgraphs, two worker processes
// run a gateway each on the one gateway port, reaching the subgraphs over HTTP and WebSocket.
beforeAll(assertBuilt);
afterEach(killStarted);

interface Answer {
  status: number;
  /** The pid of the worker that answered (x-gateway-worker). */
  worker: string | undefined;
  body: any;
}

/**
 * A request on a connection of its own (no keep-alive pool): the cluster's primary hands each new connection to
 * the next worker, while a pooled connection would stay with the worker that took it first.
 */
function fresh(url: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', agent: false, headers: { 'content-type': 'application/json', ...init.headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const worker = res.headers['x-gateway-worker'];
        resolve({ status: res.statusCode ?? 0, worker: typeof worker === 'string' ? worker : undefined, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    // A connection handed to a worker in the instant it was killed is never answered.
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.end(init.body === undefined ? undefined : JSON.stringify(init.body));
  });
}

async function startWorkers() {
  const env = await ports(ALL_PORTS);
  // debug: the gateways' per-socket lines, which name the subscriber's correlation id (and, as every line, the pid).
  const child = start([], { ...env, GATEWAY_WORKERS: '2', LOG_LEVEL: 'debug' });
  const gateway = `http://127.0.0.1:${env.GATEWAY_PORT}`;
  const sandbox = `http://127.0.0.1:${env.SANDBOX_PORT}`;
  await waitFor(`${gateway}/ready`, 120_000);
  // The first worker to listen answers /ready; the banner comes once every worker listens.
  await pollUntil(async () => child.output(), (output) => output.includes(`Gateway    ${gateway}/graphql (2 workers)`), 'the banner', 120_000, 100);
  const graphqlAs = async (caller: Parameters<typeof bearer>[1], query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) =>
    fresh(`${gateway}/graphql`, { method: 'POST', body: { query, variables }, headers: { authorization: await bearer(sandbox, caller), ...headers } });
  /** Ask on fresh connections until `count` distinct workers have answered `probe`'s way; returns their answers. */
  const fromWorkers = async (count: number, probe: () => Promise<Answer>, what: string, accept: (a: Answer) => boolean = () => true) => {
    const seen = new Map<string, Answer>();
    await pollUntil(
      async () => {
        // A connection handed to a worker as it died is reset: ask again.
        const answer = await probe().catch(() => undefined);
        if (answer?.worker && accept(answer)) seen.set(answer.worker, answer);
        return [...seen.keys()];
      },
      (workers) => workers.length >= count,
      what,
      30_000,
      0,
    );
    return seen;
  };
  return { env, child, gateway, sandbox, graphqlAs, fromWorkers };
}

describe('GATEWAY_WORKERS=2 (the embedded default)', () => {
  it('both workers answer on the one port; a subscriber on one hears a change made through the other; SIGTERM drains both and exits 0', async () => {
    const { child, gateway, sandbox, graphqlAs, fromWorkers } = await startWorkers();

    // Queries: two distinct worker processes (neither the primary) answer, with the same, correct data.
    const order = 'ord-w000001';
    const timelines = await fromWorkers(2, () => graphqlAs(AGENT, contractOperation('OrderTimeline'), { orderId: order }), 'OrderTimeline answered by two workers');
    expect([...timelines.keys()]).not.toContain(String(child.pid));
    const [first, second] = [...timelines.values()];
    expect(first!.status).toBe(200);
    expect(first!.body.errors ?? []).toEqual([]);
    expect(first!.body.data.order.number).toBe('W1000001');
    expect(second!.body).toEqual(first!.body);
    // Each worker's /ready is 200: it loaded the supergraph and reaches every subgraph.
    const ready = await fromWorkers(2, () => fresh(`${gateway}/ready`), '/ready from two workers');
    for (const answer of ready.values()) expect(answer).toMatchObject({ status: 200, body: { status: 'ready' } });

    // A subscriber, on whichever worker its socket landed: that worker's log lines name its correlation id.
    const location = 'store-001';
    const sku = 'SKU-0002-1';
    const feed = collect(wsClientAs(`${gateway}/graphql`, () => bearer(sandbox, store(location)), { connectionParams: { correlationId: 'workers-subscriber' } }), contractOperation('StoreInventory'), { locationId: location, skus: [sku] });
    const subscriberLine = await pollUntil(async () => jsonLines(child.output()).find((l) => l.service === 'gateway' && l.correlationId === 'workers-subscriber'), Boolean, 'the subscriber worker’s log line');
    const subscriberWorker = String(subscriberLine!.pid);
    // Stock movements until the subscriber hears one made through the other worker (each names its correlation id).
    const servedBy = new Map<string, string>();
    let n = 0;
    const heard = await pollUntil(
      async () => {
        const correlationId = `workers-move-${++n}`;
        const moved = await graphqlAs(store(location), contractOperation('AdjustStock'), { input: { idempotencyKey: correlationId, locationId: location, sku, reason: 'RECEIPT', delta: 1 } }, { 'x-correlation-id': correlationId });
        expect(moved.body.data?.adjustInventory?.userErrors).toEqual([]);
        servedBy.set(correlationId, moved.worker ?? '');
        return feed.results.find((r) => servedBy.get(r.data?.inventoryChanged?.correlationId) !== subscriberWorker);
      },
      (event) => event !== undefined,
      'an event from a change made through the other worker',
      30_000,
      50,
    );
    const cause = heard!.data.inventoryChanged.correlationId as string;
    expect(servedBy.get(cause)).toMatch(/^\d+$/);
    expect(servedBy.get(cause)).not.toBe(subscriberWorker);
    expect(heard!.data.inventoryChanged).toMatchObject({ sku, reason: 'RECEIPT', delta: 1 });

    // SIGTERM to the primary while a request is in flight (the order system made slow): it is answered, the
    // subscriber's socket is closed with 1001, the workers stop, then the subgraphs, and the process exits 0.
    await fresh(`${sandbox}/sandbox/faults`, { method: 'POST', body: { system: 'ecom', latencyMs: 500 } });
    const inFlight = graphqlAs(AGENT, contractOperation('OrderTimeline'), { orderId: order }, { 'x-correlation-id': 'workers-in-flight' });
    await pollUntil(async () => (await fresh(`${sandbox}/sandbox/calls/recent`)).body as { correlationId: string | null }[], (calls) => calls.some((c) => c.correlationId === 'workers-in-flight'), 'the in-flight request reaching the order system');
    child.kill('SIGTERM');
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(answered.body.data.order.id).toBe(toGlobalId('Order', order));
    await feed.ended(15_000);
    expect((feed.error as { code?: number } | undefined)?.code).toBe(1001);
    expect(await exitOf(child)).toBe(0);

    const lines = jsonLines(child.output());
    const workerPids = new Set([...timelines.keys()].map(Number));
    // A clean log: nothing at warn or above, and every process said it stopped (the primary last).
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    const stopped = lines.filter((l) => l.msg === 'stopped').map((l) => l.pid as number);
    expect(new Set(stopped)).toEqual(new Set([...workerPids, child.pid]));
    expect(stopped.at(-1)).toBe(child.pid);
    expect(lines.some((l) => l.msg === 'graphql request' && l.correlationId === 'workers-in-flight' && l.status === 200 && workerPids.has(l.pid))).toBe(true);
  }, 240_000);

  it('a worker that dies is restarted by the primary, and the port keeps answering', async () => {
    const { child, gateway, fromWorkers } = await startWorkers();
    const before = await fromWorkers(2, () => fresh(`${gateway}/health`), 'two workers');
    const [victim, survivor] = [...before.keys()];
    process.kill(Number(victim), 'SIGKILL');
    // The replacement (a new pid) answers beside the survivor.
    const after = await fromWorkers(2, () => fresh(`${gateway}/health`), 'the survivor and a replacement', (a) => a.status === 200 && a.worker !== victim);
    expect([...after.keys()]).toContain(survivor);
    const lines = jsonLines(child.output());
    expect(lines.find((l) => l.msg === 'gateway worker died; restarting it')).toMatchObject({ pid: child.pid, workerPid: Number(victim), signal: 'SIGKILL', failures: 1 });
    expect(lines.some((l) => l.msg === 'gateway worker restarted' && after.has(String(l.workerPid)))).toBe(true);
    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
  }, 240_000);

  it('a worker that cannot listen fails the start: exit 1, the reason logged, DATA_DIR released', async () => {
    const env = await ports(ALL_PORTS);
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(Number(env.GATEWAY_PORT), '127.0.0.1', resolve));
    try {
      const child = start([], { ...env, GATEWAY_WORKERS: '2' });
      expect(await exitOf(child)).toBe(1);
      const lines = jsonLines(child.output());
      expect(lines.some((l) => l.level === 60 && l.msg === 'failed to start' && l.pid !== child.pid && /EADDRINUSE/.test(l.err?.message))).toBe(true);
      expect(lines.some((l) => l.level === 60 && l.msg === 'failed to start' && l.pid === child.pid)).toBe(true);
      // The primary closed its journals before it left: nothing holds the directory (npm run reset may empty it).
      expect(readdirSync(env.DATA_DIR!).filter((f) => f.endsWith('.lock'))).toEqual([]);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 240_000);
});

describe('GATEWAY_WORKERS=2 with `node dist/main.js gateway`', () => {
  it('the primary runs no gateway; two workers answer on the port, reaching the subgraphs at their URLs; SIGTERM drains them', async () => {
    // The subgraphs and the sandbox of an all-in-one process (one gateway of its own, on another port).
    const env = await ports([...ALL_PORTS, 'WORKERS_PORT']);
    const backend = start([], env);
    const sandbox = `http://127.0.0.1:${env.SANDBOX_PORT}`;
    await waitFor(`http://127.0.0.1:${env.GATEWAY_PORT}/ready`, 120_000);
    const urls = Object.fromEntries(['catalog', 'inventory', 'orders', 'customers', 'finance', 'nodes'].map((n) => [`${n.toUpperCase()}_URL`, `http://127.0.0.1:${env[`${n.toUpperCase()}_PORT`]}/graphql`]));
    const child = start(['gateway'], { ...urls, SANDBOX_URL: sandbox, GATEWAY_PORT: env.WORKERS_PORT!, GATEWAY_WORKERS: '2' });
    const gateway = `http://127.0.0.1:${env.WORKERS_PORT}`;
    await pollUntil(async () => jsonLines(child.output()), (lines) => lines.some((l) => l.msg === 'gateway ready' && l.pid === child.pid), 'the primary’s gateway ready', 120_000, 100);
    const seen = new Map<string, Answer>();
    const authorization = await bearer(sandbox, AGENT);
    await pollUntil(
      async () => {
        const answer = await fresh(`${gateway}/graphql`, { method: 'POST', body: { query: contractOperation('OrderTimeline'), variables: { orderId: 'ord-w000001' } }, headers: { authorization } });
        if (answer.worker) seen.set(answer.worker, answer);
        return seen.size;
      },
      (size) => size >= 2,
      'two workers',
      30_000,
      0,
    );
    expect(seen.has(String(child.pid))).toBe(false);
    for (const answer of seen.values()) expect(answer.body.data.order.number).toBe('W1000001');
    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
    const lines = jsonLines(child.output());
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    expect(new Set(lines.filter((l) => l.msg === 'stopped').map((l) => l.pid))).toEqual(new Set([...[...seen.keys()].map(Number), child.pid]));
    backend.kill('SIGTERM');
    expect(await exitOf(backend)).toBe(0);
  }, 240_000);
});
