import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { composeServices } from '@apollo/composition';
import autocannon from 'autocannon';
import { parse } from 'graphql';
import { freePort } from '../../scripts/free-port.js';
import { GATEWAY_KINDS, GATEWAY_LABELS, type GatewayKind } from './kinds.js';
import { directExecution } from './reference.js';
import { BENCH_SUBGRAPHS } from './subgraphs/index.js';
import { WORKLOADS, type Workload } from './workloads.js';

/**
 * `npm run bench:gateways`: the public gateway benchmark's four subgraphs (bench/gateways/subgraphs, one child
 * process), composed here with @apollo/composition; then each gateway in its own child process, all pinned to the
 * same core (when there are two or more cores and `taskset` exists; the subgraphs and the load generator get the
 * others); then, in rounds, each workload against each gateway in turn with autocannon on 127.0.0.1.
 *
 * BENCH_SECONDS (10) per gateway per workload per round, BENCH_ROUNDS (3), BENCH_CONNECTIONS (50),
 * BENCH_WARMUP_SECONDS (5), BENCH_GATEWAYS (all: ours,apollo,hive,hive-router), BENCH_HIVE_DEDUP (`on`, Hive's
 * default: identical in-flight subgraph requests shared; `off` to compare like with like). Bounded: every load run stops
 * by itself and every child process is stopped at the end.
 */
const HERE = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const hiveDedup = process.env.BENCH_HIVE_DEDUP === 'off' ? 'off' : 'on';
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const wanted = (process.env.BENCH_GATEWAYS ?? GATEWAY_KINDS.join(',')).split(',').filter((k): k is GatewayKind => (GATEWAY_KINDS as readonly string[]).includes(k));
/** The same V8 flags for every gateway (those of `npm start`), so none is favoured by its heap settings. */
const NODE_FLAGS = ['--max-semi-space-size=32'];

const cores = cpus().length;
const pinning = cores >= 2 && ['/usr/bin/taskset', '/bin/taskset'].some(existsSync);
const GATEWAY_CORE = String(cores - 1);
const OTHER_CORES = `0-${Math.max(0, cores - 2)}`;

function spawnNode(script: string, args: string[], env: Record<string, string>, cpuList: string | undefined): ChildProcess {
  const command = [...NODE_FLAGS, join(HERE, script), ...args];
  const options = { env: { ...process.env, LOG_LEVEL: 'warn', APOLLO_TELEMETRY_DISABLED: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'] };
  // taskset execs the command, so the child's pid is the gateway's own (its /proc entry gives its RSS).
  return cpuList && pinning ? spawn('taskset', ['-c', cpuList, process.execPath, ...command], options) : spawn(process.execPath, command, options);
}

/** Peak resident set size of a process so far (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((done) => setTimeout(done, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, text: await response.text() };
}

async function subgraphRequests(urls: Record<string, string>): Promise<number> {
  let total = 0;
  for (const url of Object.values(urls)) {
    const stats = (await (await fetch(url.replace(/\/graphql$/, '/stats'))).json()) as { requests: number };
    total += stats.requests;
  }
  return total;
}

interface RunningGateway {
  kind: GatewayKind;
  url: string;
  child: ChildProcess;
  stderr: string[];
}

async function startGateway(kind: GatewayKind, supergraphPath: string): Promise<RunningGateway> {
  const port = await freePort();
  const child = spawnNode('gateway-process.js', [kind], { SUPERGRAPH_PATH: supergraphPath, PORT: String(port), HIVE_DEDUPLICATE: hiveDedup === 'on' ? 'true' : 'false' }, GATEWAY_CORE);
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  child.stdout?.resume();
  const url = `http://127.0.0.1:${port}/graphql`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${stderr.join('').slice(-600)}`);
    const ok = await post(url, JSON.stringify({ query: '{ __typename }' })).then((r) => r.status === 200, () => false);
    if (ok) return { kind, url, child, stderr };
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`not ready within 60 s: ${stderr.join('').slice(-600)}`);
    }
    await new Promise((done) => setTimeout(done, 200));
  }
}

type Check = 'identical bytes' | 'identical + trailing newline' | 'JSON-equal' | 'DIFFERS' | 'ERROR';

function compare(reference: string, body: string): Check {
  if (body === reference) return 'identical bytes';
  if (body.trimEnd() === reference) return 'identical + trailing newline';
  try {
    return JSON.stringify(JSON.parse(body)) === reference ? 'JSON-equal' : 'DIFFERS';
  } catch {
    return 'ERROR';
  }
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  sent: number;
  failures: number;
  fetches: number;
}

/**
 * Waits until the subgraphs have seen no new request for two polls in a row: requests a gateway still had queued
 * when the load stopped are then done, and neither count nor slow the next run.
 */
async function quiesce(urls: Record<string, string>): Promise<number> {
  let last = await subgraphRequests(urls);
  for (let still = 0; still < 2; ) {
    await new Promise((done) => setTimeout(done, 100));
    const now = await subgraphRequests(urls);
    still = now === last ? still + 1 : 0;
    last = now;
  }
  return last;
}

async function load(url: string, body: string, duration: number): Promise<autocannon.Result> {
  return autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, duration });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return 0;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const out = (text: string) => process.stdout.write(`${text}\n`);
const children: ChildProcess[] = [];

async function main(): Promise<void> {
  if (pinning) execFileSync('taskset', ['-pc', OTHER_CORES, String(process.pid)], { stdio: 'ignore' });
  out(`bench:gateways: ${cores} cores; ${pinning ? `gateways pinned to core ${GATEWAY_CORE}, subgraphs and load on ${OTHER_CORES}` : 'no pinning (one core or no taskset)'}; ${rounds} rounds × ${seconds} s, ${connections} connections; Hive's in-flight subgraph deduplication ${hiveDedup}`);

  const subgraphs = spawnNode('subgraphs-process.js', [], {}, OTHER_CORES);
  children.push(subgraphs);
  const urls = await new Promise<Record<string, string>>((done, fail) => {
    subgraphs.once('exit', (code) => fail(new Error(`subgraphs exited ${code}`)));
    createInterface({ input: subgraphs.stdout! }).once('line', (line) => done(JSON.parse(line) as Record<string, string>));
  });
  const composed = composeServices(BENCH_SUBGRAPHS.map((s) => ({ name: s.name, typeDefs: parse(s.typeDefs), url: urls[s.name] ?? '' })));
  if (composed.errors) throw new Error(`composition failed: ${composed.errors.map((e) => e.message).join('; ')}`);
  const supergraphPath = join(mkdtempSync(join(tmpdir(), 'bench-gateways-')), 'supergraph.graphql');
  writeFileSync(supergraphPath, composed.supergraphSdl);

  const gateways: RunningGateway[] = [];
  const unavailable: string[] = [];
  for (const kind of wanted) {
    try {
      const gateway = await startGateway(kind, supergraphPath);
      gateways.push(gateway);
      children.push(gateway.child);
    } catch (error) {
      unavailable.push(`${GATEWAY_LABELS[kind]}: ${(error as Error).message}`);
    }
  }

  // Correctness first: one request per gateway per workload, against the direct execution, and its fetch count.
  const checks = new Map<string, { check: Check; fetchesOnce: number; body: string }>();
  const bodies = new Map<string, string>();
  for (const workload of WORKLOADS) {
    const reference = await directExecution(workload.query, workload.operationName);
    const body = JSON.stringify({ query: workload.query, operationName: workload.operationName });
    bodies.set(workload.name, body);
    out(`workload ${workload.name}: direct execution ${reference.length} bytes`);
    for (const gateway of gateways) {
      const before = await subgraphRequests(urls);
      const answer = await post(gateway.url, body).catch((error: Error) => ({ status: 0, text: error.message }));
      const fetchesOnce = (await subgraphRequests(urls)) - before;
      const check = answer.status === 200 ? compare(reference, answer.text) : 'ERROR';
      checks.set(`${workload.name}/${gateway.kind}`, { check, fetchesOnce, body: answer.text });
      if (check === 'DIFFERS' || check === 'ERROR') out(`  ${gateway.kind}: ${check} (HTTP ${answer.status}) ${answer.text.slice(0, 300)}`);
    }
  }

  // Warm-up (JIT, plan caches, connection pools), not measured.
  for (const workload of WORKLOADS) for (const gateway of gateways) await load(gateway.url, bodies.get(workload.name) ?? '', warmupSeconds);
  await quiesce(urls);

  const samples = new Map<string, Sample[]>();
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round, so no gateway always runs first (or right after the heaviest).
    const order = gateways.map((_, i) => gateways[(i + round) % gateways.length] as RunningGateway);
    for (const workload of WORKLOADS) {
      for (const gateway of order) {
        const key = `${workload.name}/${gateway.kind}`;
        const before = await subgraphRequests(urls);
        const result = await load(gateway.url, bodies.get(workload.name) ?? '', seconds);
        // After quiesce every request sent has been served, those still queued when the load stopped too: their
        // fetches are counted, so they are divided by requests sent, not by responses received in the window.
        const fetches = (await quiesce(urls)) - before;
        const requests = result.requests.total;
        const sample: Sample = {
          rps: requests / result.duration,
          p50: result.latency.p50,
          p99: result.latency.p99,
          requests,
          sent: result.requests.sent,
          failures: result.errors + result.non2xx + result.mismatches,
          fetches,
        };
        samples.set(key, [...(samples.get(key) ?? []), sample]);
        out(`  round ${round + 1} ${workload.name} ${gateway.kind}: ${sample.rps.toFixed(0)} req/s, p50 ${sample.p50} ms, p99 ${sample.p99} ms${sample.failures ? `, ${sample.failures} failed (${result.timeouts} timeouts, ${result.non2xx} non-2xx)` : ''}`);
      }
    }
  }

  // The same request again after the load: still the same body as before it.
  for (const workload of WORKLOADS) {
    for (const gateway of gateways) {
      const key = `${workload.name}/${gateway.kind}`;
      const first = checks.get(key);
      const again = await post(gateway.url, bodies.get(workload.name) ?? '').catch((error: Error) => ({ status: 0, text: error.message }));
      if (first && again.text !== first.body) checks.set(key, { ...first, check: 'DIFFERS' });
    }
  }

  const rss = new Map(gateways.map((g) => [g.kind, g.child.pid ? peakRssMb(g.child.pid) : 0]));
  out('');
  for (const workload of WORKLOADS) {
    out(`### ${workload.name} (${rounds} rounds × ${seconds} s, ${connections} connections; medians of the rounds)`);
    const ours = samples.get(`${workload.name}/ours`);
    const oursRps = ours ? median(ours.map((s) => s.rps)) : undefined;
    const oursP99 = ours ? median(ours.map((s) => s.p99)) : undefined;
    const rows = gateways.map((gateway) => {
      const list = samples.get(`${workload.name}/${gateway.kind}`) ?? [];
      const rps = median(list.map((s) => s.rps));
      const p99 = median(list.map((s) => s.p99));
      const totalSent = list.reduce((n, s) => n + s.sent, 0);
      const totalFetches = list.reduce((n, s) => n + s.fetches, 0);
      const failures = list.reduce((n, s) => n + s.failures, 0);
      const check = checks.get(`${workload.name}/${gateway.kind}`);
      return [
        GATEWAY_LABELS[gateway.kind],
        rps.toFixed(0),
        median(list.map((s) => s.p50)).toFixed(0),
        p99.toFixed(0),
        totalSent ? (totalFetches / totalSent).toFixed(2) : '-',
        String(check?.fetchesOnce ?? '-'),
        (rss.get(gateway.kind) ?? 0).toFixed(0),
        `${check?.check ?? '-'}${failures ? `, ${failures} failed` : ''}`,
        gateway.kind === 'ours' || oursRps === undefined || !rps ? '-' : `${(oursRps / rps).toFixed(2)}×`,
        gateway.kind === 'ours' || oursP99 === undefined || !p99 ? '-' : `${(oursP99 / p99).toFixed(2)}×`,
      ];
    });
    out(table(['gateway', 'req/s', 'p50 ms', 'p99 ms', 'fetches/op (load)', 'fetches (1 op)', 'peak RSS MB', 'response vs direct', 'req/s ours÷peer (>1: ours faster)', 'p99 ours÷peer (<1: ours lower)'], rows));
    out('');
  }
  out('peak RSS: the gateway process\'s VmHWM over the whole run (all workloads). fetches: requests counted at the subgraphs.');
  for (const line of unavailable) out(`not run: ${line}`);
}

async function cleanup(): Promise<void> {
  await Promise.all(children.map(stopChild));
}

main().then(cleanup, async (error: unknown) => {
  process.stderr.write(`bench:gateways failed: ${(error as Error).stack ?? String(error)}\n`);
  await cleanup();
  process.exitCode = 1;
});
