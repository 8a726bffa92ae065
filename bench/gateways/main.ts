import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { composeServices } from '@apollo/composition';
import autocannon from 'autocannon';
import { parse } from 'graphql';
import { freePort } from '../../scripts/free-port.js';
import { dedupLabel, GATEWAYS, GATEWAY_KINDS, isGatewayKind, type GatewayKind } from './kinds.js';
import { ALL_CORES, CORES, GATEWAY_CORE, OTHER_CORES, PINNING, peakRssMb, spawnNode, stopChild, waitUntil, type SpawnedChild } from './processes.js';
import { directExecution } from './reference.js';
import { retailWorkloads, startRetailGraph, type RetailGraph } from './retail.js';
import { BENCH_SUBGRAPHS } from './subgraphs/index.js';
import { BENCH_WORKLOADS, requestBodies, type Workload } from './workloads.js';

/**
 * `npm run bench:gateways`, in two phases, each with its own subgraphs and its own gateway processes:
 * 1. the public gateway benchmark's four subgraphs (bench/gateways/subgraphs, one child process), composed here with
 *    @apollo/composition: workloads (a) `heavy` and (b) `light`;
 * 2. our own retail graph in multi-process mode (retail.ts: the sandbox and six subgraphs, each a process) serving
 *    the checked-in supergraph: workload (c), the contract's ProductPage, ProductListing and OrderTimeline.
 * In each, every gateway kind (kinds.ts) runs in its own child process, all pinned to the same core (when there
 * are two or more cores and `taskset` exists; the subgraphs and the load generator get the others); then, in rounds,
 * each workload against each gateway in turn with autocannon on 127.0.0.1. Every response is compared with the
 * workload's reference.
 *
 * BENCH_SECONDS (4) per gateway per workload per round, BENCH_ROUNDS (3), BENCH_CONNECTIONS (50, workloads a and b),
 * BENCH_RETAIL_CONNECTIONS (16, workload c), BENCH_WARMUP_SECONDS (2), BENCH_GATEWAYS (all kinds), BENCH_WORKLOADS
 * (all: heavy,light,ProductPage,ProductListing,OrderTimeline). Bounded: every load run stops by itself and every
 * child process is stopped at the end.
 */
const HERE = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const benchConnections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const retailConnections = Number(process.env.BENCH_RETAIL_CONNECTIONS ?? 16);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const wantedKinds = (process.env.BENCH_GATEWAYS ?? GATEWAY_KINDS.join(',')).split(',').map((k) => k.trim()).filter(isGatewayKind);
const wantedWorkloads = process.env.BENCH_WORKLOADS?.split(',').map((w) => w.trim());
const wantsWorkload = (w: Workload) => !wantedWorkloads || wantedWorkloads.includes(w.name);

const out = (text: string) => process.stdout.write(`${text}\n`);
/** Every child process still running, for the final cleanup (also after a failure). */
const live = new Set<SpawnedChild>();
const retailGraphs = new Set<RetailGraph>();

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, text: await response.text() };
}

type Check = 'identical bytes' | 'identical + trailing newline' | 'JSON-equal' | 'DIFFERS' | 'ERROR';

function compare(reference: string, status: number, body: string): Check {
  if (status !== 200) return 'ERROR';
  if (body === reference) return 'identical bytes';
  if (body.trimEnd() === reference) return 'identical + trailing newline';
  try {
    return JSON.stringify(JSON.parse(body)) === reference ? 'JSON-equal' : 'DIFFERS';
  } catch {
    return 'ERROR';
  }
}

/** `server-timing: subgraphs;dur=<ms>, gateway;dur=<ms>` (ours, outside production): the gateway's own share in ms. */
function gatewayShare(headers: Record<string, unknown>): number | undefined {
  let value: unknown;
  for (const key of Object.keys(headers)) if (key.toLowerCase() === 'server-timing') value = headers[key];
  const text = Array.isArray(value) ? value.join(', ') : typeof value === 'string' ? value : undefined;
  if (!text) return undefined;
  const gateway = /gateway;dur=([\d.]+)/.exec(text)?.[1];
  const subgraphs = /subgraphs;dur=([\d.]+)/.exec(text)?.[1];
  // Without `subgraphs` (the gateway did not time its fetches) there is no share to give: not reported.
  return gateway === undefined || subgraphs === undefined ? undefined : Number(gateway) - Number(subgraphs);
}

/** The first place `body` departs from `reference`, with some context from both. */
function whereItDiffers(reference: string, body: string): string {
  let at = 0;
  while (at < reference.length && at < body.length && reference[at] === body[at]) at++;
  const from = Math.max(0, at - 120);
  return `at byte ${at} of ${body.length}: got …${body.slice(from, at + 160)}… expected …${reference.slice(from, at + 160)}…`;
}

/** What every response of a workload against one gateway looked like. */
class Tally {
  readonly checks = new Map<Check, number>();
  readonly shares: number[] = [];
  firstDiffering: string | undefined;

  record(reference: string, status: number, body: string, headers: Record<string, unknown>): void {
    const check = compare(reference, status, body);
    this.checks.set(check, (this.checks.get(check) ?? 0) + 1);
    if ((check === 'DIFFERS' || check === 'ERROR') && this.firstDiffering === undefined) this.firstDiffering = `HTTP ${status} ${whereItDiffers(reference, body)}`;
    const share = gatewayShare(headers);
    if (share !== undefined) this.shares.push(share);
  }

  summary(): string {
    const entries = [...this.checks.entries()];
    const total = entries.reduce((n, [, c]) => n + c, 0);
    if (entries.length === 1 && entries[0]) return `${entries[0][0]} (all ${total})`;
    return entries.map(([check, c]) => `${c} ${check}`).join(', ') || '-';
  }
}

/** The responses column: one verdict when every response before and under load had the same, else both tallies. */
function checkSummary(before: Tally | undefined, load: Tally | undefined): string {
  const b = [...(before?.checks.entries() ?? [])];
  const l = [...(load?.checks.entries() ?? [])];
  if (b.length === 1 && b[0] && (l.length === 0 || (l.length === 1 && l[0]?.[0] === b[0][0]))) return `${b[0][0]} (${b[0][1]} before, ${l[0]?.[1] ?? 0} under load)`;
  return `before: ${before?.summary() ?? '-'}; under load: ${load?.summary() ?? '-'}`;
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  sent: number;
  failures: number;
  fetches: number;
}

interface Target {
  kind: GatewayKind;
  url: string;
  child: SpawnedChild;
}

/** One graph (its subgraphs, references and gateway set-up) measured with its own gateway processes. */
interface Phase {
  title: string;
  workloads: Workload[];
  connections: number;
  /** The child-process environment of a kind's gateway on this graph. */
  gatewayEnv(kind: GatewayKind): Record<string, string>;
  /** GraphQL requests the subgraphs have answered so far. */
  requests(): Promise<number>;
  /** Per workload, the expected response body of each of its request bodies. */
  references: Map<string, string[]>;
  headers(workload: Workload): Record<string, string>;
  /** Said under the table: how the references were made, and any gateway served differently. */
  notes: string[];
}

/** Loopback ports for `count` gateways, distinct (freePort closes its probe, so two calls may hand out the same). */
async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/**
 * A gateway on `port`, ready, then pinned to `cpuList` with all its threads (`taskset -a`). It starts on every core
 * so that several gateways can start at once; pinning after start changes nothing the load measures.
 */
async function startGateway(kind: GatewayKind, env: Record<string, string>, port: number, cpuList: string | undefined): Promise<Target> {
  const setup = GATEWAYS[kind];
  const child = spawnNode(join(HERE, 'gateway-process.js'), [kind], {
    ...env,
    PORT: String(port),
    // Ours reads these from its options here; the environment says the same for anything that reads config.
    ...(setup.base === 'ours' ? { GATEWAY_EXECUTOR: setup.executor ?? 'compiled', GATEWAY_DEDUPLICATE: String(setup.dedup ?? true) } : {}),
  }, ALL_CORES);
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.stdout?.resume();
  const url = `http://127.0.0.1:${port}/graphql`;
  try {
    await waitUntil(kind, child, async () => (await post(url, JSON.stringify({ query: '{ __typename }' }))).status === 200);
    if (cpuList && PINNING && child.pid) execFileSync('taskset', ['-a', '-pc', cpuList, String(child.pid)], { stdio: 'ignore' });
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return { kind, url, child };
}

/** Polls (100 ms apart) without a new subgraph request before the subgraphs count as idle. */
const QUIET_POLLS = 5;

/**
 * Waits until the subgraphs have seen no new request for {@link QUIET_POLLS} polls in a row: requests a gateway
 * still had queued when the load stopped are then done, and neither count nor slow the next run. Half a second:
 * a gateway working through a queue of multi-stage plans may fetch nothing for a few hundred ms on a busy core.
 */
async function quiesce(requests: () => Promise<number>, polls = QUIET_POLLS): Promise<number> {
  let last = await requests();
  for (let still = 0; still < polls; ) {
    await new Promise((done) => setTimeout(done, 100));
    const now = await requests();
    still = now === last ? still + 1 : 0;
    last = now;
  }
  return last;
}

/** `connections` clients for `duration` s, each sending the workload's bodies in turn; every response goes to `tally`. */
async function load(target: Target, phase: Phase, workload: Workload, bodies: readonly string[], duration: number, tally?: Tally): Promise<autocannon.Result> {
  const references = phase.references.get(workload.name) ?? [];
  let next = 0;
  interface Context {
    index?: number;
  }
  return autocannon({
    url: target.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...phase.headers(workload) },
    connections: phase.connections,
    duration,
    requests: [
      {
        setupRequest: (request, context: Context) => {
          // autocannon keeps one request in flight per connection: the index is the response's until the next.
          const index = next++ % bodies.length;
          context.index = index;
          return { ...request, body: bodies[index] };
        },
        onResponse: (status, body, context: Context, headers) => tally?.record(references[context.index ?? 0] ?? '', status, body, headers as Record<string, unknown>),
      },
    ],
  });
}

const median = (values: number[]) => percentile(values, 0.5);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  if (p === 0.5 && sorted.length % 2 === 0) return ((sorted[sorted.length / 2 - 1] as number) + (sorted[sorted.length / 2] as number)) / 2;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Which of our kinds a row is compared with: ours with the same deduplication (none counts as off). */
function oursFor(kind: GatewayKind, ran: ReadonlySet<GatewayKind>): GatewayKind | undefined {
  if (kind === 'ours' || kind === 'ours-nodedup') return undefined;
  const same: GatewayKind = kind === 'ours-apollo' || GATEWAYS[kind].dedup === true ? 'ours' : 'ours-nodedup';
  if (ran.has(same)) return same;
  return ran.has('ours') ? 'ours' : undefined;
}

/** Runs one phase: starts its gateways, checks, warms up, measures in rounds, stops its gateways; returns its tables. */
async function runPhase(phase: Phase): Promise<string[]> {
  const targets: Target[] = [];
  const unavailable = new Map<GatewayKind, string>();
  const ports = await distinctPorts(wantedKinds.length);
  const started = performance.now();
  // All at once: starting is most of the set-up time, and nothing is measured until every one is up.
  const outcomes = await Promise.allSettled(wantedKinds.map((kind, i) => startGateway(kind, phase.gatewayEnv(kind), ports[i] as number, GATEWAY_CORE)));
  for (const [i, outcome] of outcomes.entries()) {
    const kind = wantedKinds[i] as GatewayKind;
    if (outcome.status === 'fulfilled') targets.push(outcome.value);
    else unavailable.set(kind, ((outcome.reason as Error).message ?? String(outcome.reason)).replace(/\s+/g, ' ').slice(0, 200));
  }
  out(`  ${targets.length} gateway(s) ready in ${((performance.now() - started) / 1000).toFixed(1)} s${unavailable.size ? `; not started: ${[...unavailable.keys()].join(', ')}` : ''}`);
  const bodies = new Map(phase.workloads.map((w) => [w.name, requestBodies(w)]));

  // Correctness first: each distinct request once per gateway, and the subgraph fetches of one lone operation.
  const before = new Map<string, Tally>();
  const fetchesOnce = new Map<string, number>();
  for (const workload of phase.workloads) {
    const list = bodies.get(workload.name) ?? [];
    const references = phase.references.get(workload.name) ?? [];
    for (const target of targets) {
      const tally = new Tally();
      const key = `${workload.name}/${target.kind}`;
      for (const [i, body] of list.entries()) {
        // No load here: a lone operation's fetches are over once the log has been still for 200 ms.
        const start = i === 0 ? await quiesce(() => phase.requests(), 2) : 0;
        const answer = await post(target.url, body, phase.headers(workload)).catch((error: Error) => ({ status: 0, text: error.message }));
        if (i === 0) fetchesOnce.set(key, (await quiesce(() => phase.requests(), 2)) - start);
        tally.record(references[i] ?? '', answer.status, answer.text, {});
      }
      before.set(key, tally);
      if (tally.firstDiffering) out(`  ${workload.name} ${target.kind}: ${tally.summary()}; first: ${tally.firstDiffering}`);
    }
  }

  // Warm-up (JIT, plan caches, connection pools), not measured.
  for (const workload of phase.workloads) for (const target of targets) await load(target, phase, workload, bodies.get(workload.name) ?? [], warmupSeconds);
  await quiesce(() => phase.requests());

  const samples = new Map<string, Sample[]>();
  const tallies = new Map<string, Tally>();
  const reported = new Set<string>();
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round, so no gateway always runs first (or right after the heaviest).
    const order = targets.map((_, i) => targets[(i + round) % targets.length] as Target);
    for (const workload of phase.workloads) {
      for (const target of order) {
        const key = `${workload.name}/${target.kind}`;
        const tally = tallies.get(key) ?? new Tally();
        tallies.set(key, tally);
        const start = await phase.requests();
        const result = await load(target, phase, workload, bodies.get(workload.name) ?? [], seconds, tally);
        // After quiesce every request sent has been served, those still queued when the load stopped too: their
        // fetches are counted, so they are divided by requests sent, not by responses received in the window.
        const fetches = (await quiesce(() => phase.requests())) - start;
        const sample: Sample = {
          rps: result.requests.total / result.duration,
          p50: result.latency.p50,
          p99: result.latency.p99,
          sent: result.requests.sent,
          failures: result.errors + result.non2xx,
          fetches,
        };
        samples.set(key, [...(samples.get(key) ?? []), sample]);
        if (tally.firstDiffering && !reported.has(key)) {
          reported.add(key);
          out(`  ${workload.name} ${target.kind} under load: ${tally.summary()}; first: ${tally.firstDiffering}`);
        }
        out(`  round ${round + 1} ${workload.name} ${target.kind}: ${sample.rps.toFixed(0)} req/s, p50 ${sample.p50} ms, p99 ${sample.p99} ms${sample.failures ? `, ${sample.failures} failed (${result.timeouts} timeouts, ${result.non2xx} non-2xx)` : ''}`);
      }
    }
  }

  const rss = new Map(targets.map((t) => [t.kind, t.child.pid ? peakRssMb(t.child.pid) : 0]));
  await Promise.all(targets.map((t) => stopChild(t.child)));

  const ran = new Set(targets.map((t) => t.kind));
  const tables: string[] = [];
  for (const workload of phase.workloads) {
    const stat = (kind: GatewayKind, pick: (s: Sample) => number) => median((samples.get(`${workload.name}/${kind}`) ?? []).map(pick));
    const rows = wantedKinds.map((kind) => {
      const reason = unavailable.get(kind);
      if (reason !== undefined) return [GATEWAYS[kind].label, dedupLabel(kind), `n/a: ${reason}`];
      const key = `${workload.name}/${kind}`;
      const list = samples.get(key) ?? [];
      const rps = stat(kind, (s) => s.rps);
      const p99 = stat(kind, (s) => s.p99);
      const sent = list.reduce((n, s) => n + s.sent, 0);
      const fetches = list.reduce((n, s) => n + s.fetches, 0);
      const failures = list.reduce((n, s) => n + s.failures, 0);
      const tally = tallies.get(key);
      const shares = tally?.shares ?? [];
      const versus = oursFor(kind, ran);
      const ratio = (mine: number, theirs: number) => (versus && mine && theirs ? `${(mine / theirs).toFixed(2)}× vs ${versus}` : '-');
      return [
        GATEWAYS[kind].label,
        dedupLabel(kind),
        rps.toFixed(0),
        stat(kind, (s) => s.p50).toFixed(1),
        p99.toFixed(1),
        shares.length ? `${percentile(shares, 0.5).toFixed(2)} / ${percentile(shares, 0.99).toFixed(2)}` : 'not reported',
        sent ? (fetches / sent).toFixed(2) : '-',
        String(fetchesOnce.get(key) ?? '-'),
        (rss.get(kind) ?? 0).toFixed(0),
        `${checkSummary(before.get(key), tally)}${failures ? `; ${failures} failed` : ''}`,
        versus ? ratio(stat(versus, (s) => s.rps), rps) : '-',
        versus ? ratio(stat(versus, (s) => s.p99), p99) : '-',
      ];
    });
    tables.push(
      [
        `### ${workload.name} (${phase.title}; ${rounds} rounds × ${seconds} s, ${phase.connections} connections, ${bodies.get(workload.name)?.length ?? 0} distinct request(s); medians of the rounds)`,
        table(
          ['gateway', 'dedup', 'req/s', 'p50 ms', 'p99 ms', "gateway's own ms p50 / p99 (server-timing)", 'fetches/op (load)', 'fetches (1 op)', 'peak RSS MB', 'responses vs reference', 'req/s ours÷peer (>1: ours faster)', 'p99 ours÷peer (<1: ours lower)'],
          rows,
        ),
        '',
      ].join('\n'),
    );
  }
  tables.push(...phase.notes.map((n) => `- ${n}`), '');
  return tables;
}

/** Phase 1: the public benchmark's graph (workloads a and b). */
async function benchPhase(): Promise<string[]> {
  const workloads = BENCH_WORKLOADS.filter(wantsWorkload);
  if (!workloads.length) return [];
  const subgraphs = spawnNode(join(HERE, 'subgraphs-process.js'), [], {}, OTHER_CORES);
  live.add(subgraphs);
  try {
    const urls = await new Promise<Record<string, string>>((done, fail) => {
      subgraphs.once('exit', (code) => fail(new Error(`subgraphs exited ${code}: ${subgraphs.stderrTail()}`)));
      createInterface({ input: subgraphs.stdout! }).once('line', (line) => done(JSON.parse(line) as Record<string, string>));
    });
    const composed = composeServices(BENCH_SUBGRAPHS.map((s) => ({ name: s.name, typeDefs: parse(s.typeDefs), url: urls[s.name] ?? '' })));
    if (composed.errors) throw new Error(`composition failed: ${composed.errors.map((e) => e.message).join('; ')}`);
    const supergraphPath = join(mkdtempSync(join(tmpdir(), 'bench-gateways-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
    const references = new Map<string, string[]>();
    for (const workload of workloads) {
      const expected = await Promise.all(workload.variables.map(() => directExecution(workload.query, workload.operationName)));
      references.set(workload.name, expected);
      out(`workload ${workload.name}: direct execution ${expected[0]?.length ?? 0} bytes`);
    }
    const requests = async () => {
      let total = 0;
      for (const url of Object.values(urls)) total += ((await (await fetch(url.replace(/\/graphql$/, '/stats'))).json()) as { requests: number }).requests;
      return total;
    };
    return await runPhase({
      title: 'public benchmark graph',
      workloads,
      connections: benchConnections,
      gatewayEnv: () => ({ SUPERGRAPH_PATH: supergraphPath }),
      requests,
      references,
      headers: () => ({}),
      notes: ['reference: a direct graphql-js execution of the query over the same data (bench/gateways/reference.ts).'],
    });
  } finally {
    await stopChild(subgraphs);
  }
}

/**
 * Phase 2: workload (c) over our own subgraphs. The reference is our gateway with `GATEWAY_EXECUTOR=apollo`
 * (@apollo/gateway's executor behind our edge, the execution the gateway had before the compiled executor),
 * one request per distinct body, before any gateway under test starts.
 */
async function retailPhase(): Promise<string[]> {
  const workloads = retailWorkloads().filter(wantsWorkload);
  if (!workloads.length) return [];
  const graph = await startRetailGraph();
  retailGraphs.add(graph);
  try {
    const headers = (workload: Workload): Record<string, string> => (workload.caller === 'agent' ? { authorization: graph.agentBearer } : {});
    const gatewayEnv = (kind: GatewayKind): Record<string, string> => {
      const base = GATEWAYS[kind].base;
      if (base === 'ours') return { ...graph.oursEnv, BENCH_GRAPH: 'retail' };
      return { BENCH_GRAPH: 'retail', SUPERGRAPH_PATH: base === 'apollo' ? graph.apolloSupergraphPath : graph.peerSupergraphPath };
    };
    const references = new Map<string, string[]>();
    const [referencePort] = await distinctPorts(1);
    const reference = await startGateway('ours-apollo', gatewayEnv('ours-apollo'), referencePort as number, OTHER_CORES);
    try {
      for (const workload of workloads) {
        const expected: string[] = [];
        for (const body of requestBodies(workload)) {
          const answer = await post(reference.url, body, headers(workload));
          const parsed = JSON.parse(answer.text) as { errors?: unknown };
          if (answer.status !== 200 || parsed.errors) throw new Error(`the reference answered ${workload.name} with HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
          expected.push(answer.text);
        }
        references.set(workload.name, expected);
        out(`workload ${workload.name}: ${expected.length} reference responses, ${Math.round(expected.reduce((n, e) => n + e.length, 0) / expected.length)} bytes on average`);
      }
    } finally {
      await stopChild(reference.child);
    }
    return await runPhase({
      title: 'retail graph, multi-process',
      workloads,
      connections: retailConnections,
      gatewayEnv,
      requests: () => graph.requests(),
      references,
      headers,
      notes: [
        'reference: our gateway with GATEWAY_EXECUTOR=apollo (Apollo\'s executor behind our edge), one request per distinct body before the load.',
        ...(workloads.some((w) => w.caller === 'agent') ? ["OrderTimeline is sent with a service agent's token from the sandbox's identity provider; every gateway forwards Authorization to the subgraphs, which authorize again."] : []),
        ...(wantedKinds.includes('apollo') ? ['@apollo/gateway refuses a supergraph that links `for: SECURITY` features (@authenticated, @requiresScopes, @policy); it is served the same supergraph without them, as ours hands Apollo\'s planner (gateway/edge/security-features.ts). The subgraphs still enforce them.'] : []),
        'fetches: GraphQL requests counted from the subgraphs\' own request log (one line each, at info).',
      ],
    });
  } finally {
    await graph.stop();
    retailGraphs.delete(graph);
  }
}

async function main(): Promise<void> {
  if (PINNING) execFileSync('taskset', ['-a', '-pc', OTHER_CORES, String(process.pid)], { stdio: 'ignore' });
  out(
    `bench:gateways: ${CORES} cores; ${PINNING ? `gateways pinned to core ${GATEWAY_CORE}, subgraphs and load on ${OTHER_CORES}` : 'no pinning (one core or no taskset)'}; ${rounds} rounds × ${seconds} s; gateways ${wantedKinds.join(', ')}`,
  );
  const tables = [...(await benchPhase()), ...(await retailPhase())];
  out('');
  for (const text of tables) out(text);
  out("peak RSS: the gateway process's VmHWM over its phase (all workloads of that graph). fetches: requests counted at the subgraphs, per request sent under load, and for one lone operation.");
  out("gateway's own ms: per response, server-timing's gateway minus subgraphs (total time minus the critical path of subgraph calls); only ours with its compiled executor reports it.");
}

async function cleanup(): Promise<void> {
  await Promise.all([...live].map(stopChild));
  await Promise.all([...retailGraphs].map((g) => g.stop()));
}

main().then(cleanup, async (error: unknown) => {
  process.stderr.write(`bench:gateways failed: ${(error as Error).stack ?? String(error)}\n`);
  await cleanup();
  process.exitCode = 1;
});
