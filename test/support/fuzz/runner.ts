import { Agent, request } from 'node:http';
import WebSocket from 'ws';
import type { SystemName } from '../../../common/resilience.js';
import { isWriteMethod } from '../../../common/systems/writes.js';
import { toGlobalId } from '../../../common/global-id.js';
import { contractOperations } from '../../../scripts/contract.js';
import type { Caller } from '../stack.js';
import { HTTP_CATEGORIES, mutationCase, STORE_LOCATION, type FuzzWorld, type HttpCase, type Who } from './cases.js';
import { hashSeed, Random } from './random.js';
import { loadApiSchema } from './schema.js';
import { WS_CATEGORIES, type WsCase } from './ws-cases.js';

/*
 * A fuzz campaign against a running stack: the seeded corpus over HTTP and WebSocket, each answer checked as it
 * comes, and the state of the graph compared before and after the defective mutations. Target-agnostic: the e2e
 * test runs it on startTestStack's stack, `npm run fuzz` on `node dist/main.js` in a child process.
 */

export interface FuzzTarget {
  /** The gateway's GraphQL URL (`http://host:port/graphql`). */
  graphql: string;
  /** The sandbox control's base URL (`http://host:port`). */
  sandbox: string;
  /** `Bearer <jwt>` for a caller, from the sandbox identity provider. */
  bearer(caller: Caller): Promise<string>;
}

export interface FuzzOptions {
  /** Cases in the campaign, every category together. @default 10000 */
  cases?: number | undefined;
  /** The corpus's seed: the same seed sends the same cases. @default 12 */
  seed?: number | undefined;
  /** Cases in flight at once. @default 16 */
  concurrency?: number | undefined;
  /** Share of the cases that are defective mutations (checked for writes in small rounds). @default 0.15 */
  mutationShare?: number | undefined;
  /** Share of the cases that are WebSocket sessions. @default 0.1 */
  wsShare?: number | undefined;
}

export interface Violation {
  category: string;
  index: number;
  what: string;
  /** The case, shortened, to find it again (with the seed and index it can be regenerated exactly). */
  sample: string;
}

export interface FuzzReport {
  seed: number;
  cases: number;
  elapsedMs: number;
  /** Cases by category, then by outcome (`200 ok`, `400 GRAPHQL_VALIDATION_FAILED`, `ws close 4400`...). */
  counts: Record<string, Record<string, number>>;
  violations: Violation[];
  /** Health probes made during the run, and how many failed. */
  health: { probes: number; failed: number };
  /** Writes at the systems of record and changes seen in the graph's state for rejected requests (part of violations too). */
  stateChecks: { writeRounds: number; snapshots: number; idempotencyProbes: number };
  /** The slowest cases, to see where a campaign's time goes. */
  slowest: { category: string; index: number; ms: number; outcome: string }[];
  /** Wall time of each phase, in ms. */
  phases: Record<string, number>;
  /** Time spent waiting for each category's answers, summed over its cases (in flight together), in ms. */
  msByCategory: Record<string, number>;
  /** The first case of each outcome that names an error of a subgraph or of the gateway itself: coded, yet worth a look. */
  examples: Record<string, string>;
}

/** HTTP statuses a refusal may have (each with a coded error): 408 and 431 are Node's parser's, answered by the gateway's clientError handler. */
const REFUSAL_STATUSES = new Set([400, 401, 403, 405, 408, 413, 415, 429, 431]);
/** Close codes a server may end a session with: graphql-ws's own and RFC 6455's frame-level ones. */
const CLOSE_CODES = new Set([1000, 1001, 1002, 1007, 1009, 4400, 4401, 4403, 4406, 4408, 4409, 4429, 4500]);

type Outcome = { outcome: string; violation?: string; rejected: boolean };

export async function runFuzzCampaign(target: FuzzTarget, options: FuzzOptions = {}): Promise<FuzzReport> {
  const started = performance.now();
  const seed = options.seed ?? 12;
  const total = options.cases ?? 10_000;
  const concurrency = options.concurrency ?? 16;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency + 4 });
  const counts: Record<string, Record<string, number>> = {};
  const violations: Violation[] = [];
  const health = { probes: 0, failed: 0 };
  const stateChecks = { writeRounds: 0, snapshots: 0, idempotencyProbes: 0 };
  const slowest: FuzzReport['slowest'] = [];
  const phases: Record<string, number> = {};
  let phaseStart = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = Math.round(now - phaseStart);
    phaseStart = now;
  };
  const inFlight = new Map<string, number>();
  const watchdog = process.env.FUZZ_DEBUG
    ? setInterval(() => {
        const now = performance.now();
        const stuck = [...inFlight].filter(([, t]) => now - t > 5_000).map(([k, t]) => `${k} ${Math.round(now - t)} ms`);
        process.stderr.write(`fuzz: ${inFlight.size} in flight${stuck.length ? `; slow: ${stuck.join(', ')}` : ''}\n`);
      }, 5_000)
    : undefined;
  const msByCategory: Record<string, number> = {};
  const timed = (category: string, index: number, ms: number, outcome: string) => {
    msByCategory[category] = (msByCategory[category] ?? 0) + ms;
    slowest.push({ category, index, ms: Math.round(ms), outcome });
    if (slowest.length > 40) {
      slowest.sort((a, b) => b.ms - a.ms);
      slowest.length = 20;
    }
  };
  const tally = (category: string, outcome: string) => {
    const perCategory = (counts[category] ??= {});
    perCategory[outcome] = (perCategory[outcome] ?? 0) + 1;
  };
  const examples: Record<string, string> = {};
  const noteworthy = (category: string, outcome: string, sample: unknown) => {
    if (/DOWNSTREAM_SERVICE_ERROR|INTERNAL_SERVER_ERROR|_UNAVAILABLE/.test(outcome)) examples[`${category} ${outcome}`] ??= shorten(sample);
  };
  const violate = (category: string, index: number, what: string, sample: unknown) => violations.push({ category, index, what, sample: shorten(sample) });

  const bearerOf = async (who: Who): Promise<string | undefined> => {
    if (who === 'anonymous') return undefined;
    if ('garbage' in who) return who.garbage;
    return target.bearer(who);
  };
  const agentCaller: Caller = { role: 'agent' };
  const graph = async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await send(target.graphql, agent, { method: 'POST', headers: { 'content-type': 'application/json', authorization: await target.bearer(agentCaller) }, body: JSON.stringify({ query, variables }) });
    return JSON.parse(response.text) as { data?: any; errors?: unknown[] };
  };

  try {
    const world = await discoverWorld(graph, seed);
    const random = new Random(seed);
    const mutations = Math.round(total * (options.mutationShare ?? 0.15));
    const wsCases = Math.round(total * (options.wsShare ?? 0.1));
    const httpCases = total - mutations - wsCases;

    // Phase 1: defective mutations, in rounds, each round's writes at the systems of record looked up by the
    // correlation ids of its cases; the graph's state read before and after.
    phase('discover');
    const before = await snapshot(graph, world);
    stateChecks.snapshots++;
    const mutationRandom = random.fork(hashSeed('mutations', seed));
    const refusedKeys: { key: string; who: Who }[] = [];
    const ROUND = 40;
    for (let start = 0; start < mutations; start += ROUND) {
      const round = Array.from({ length: Math.min(ROUND, mutations - start) }, (_, i) => ({ index: start + i, test: mutationCase(mutationRandom, world, start + i) }));
      await fetch(`${target.sandbox}/sandbox/calls`, { method: 'DELETE' });
      const outcomes = new Map<string, { category: string; index: number; rejected: boolean; test: HttpCase }>();
      await pool(round, concurrency, async ({ index, test }) => {
        const correlationId = `fuzz-${seed}-m${index}`;
        const t0 = performance.now();
        inFlight.set(`${test.category}#m${index}`, t0);
        const result = await runHttp(test, target, agent, bearerOf, correlationId);
        inFlight.delete(`${test.category}#m${index}`);
        timed(test.category, index, performance.now() - t0, result.outcome);
        tally(test.category, result.outcome);
        noteworthy(test.category, result.outcome, test.body);
        if (result.violation) violate(test.category, index, result.violation, test.body);
        outcomes.set(correlationId, { category: test.category, index, rejected: result.rejected, test });
        const key = keyOf(test);
        if (key !== undefined && result.outcome.startsWith('400') && typeof test.who === 'object' && 'role' in test.who && test.who.role === 'store') refusedKeys.push({ key, who: test.who });
      });
      const recent = (await (await fetch(`${target.sandbox}/sandbox/calls/recent`)).json()) as { system: string; method: string; correlationId: string | null }[];
      stateChecks.writeRounds++;
      for (const call of recent) {
        const owner = call.correlationId ? outcomes.get(call.correlationId) : undefined;
        if (owner && isWriteMethod(call.system as SystemName, call.method)) {
          violate(owner.category, owner.index, `a rejected mutation wrote to ${call.system}.${call.method}`, owner.test.body);
        }
      }
    }
    // A request refused before it ran must hold no idempotency record: its key, sent again with an input of its
    // own (an unknown SKU, answered with a user error and nothing written), must not be IDEMPOTENCY_KEY_REUSED.
    for (const { key, who } of refusedKeys.slice(0, 25)) {
      stateChecks.idempotencyProbes++;
      const probe = {
        transport: 'http' as const,
        category: 'state.idempotency-probe',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        who,
        body: JSON.stringify({
          query: 'mutation P($input: AdjustInventoryInput!) { adjustInventory(input: $input) { level { sku } userErrors { code } } }',
          variables: { input: { idempotencyKey: key, locationId: STORE_LOCATION, sku: 'SKU-9999-9', reason: 'RECEIPT', delta: 1 } },
        }),
      };
      const response = await send(target.graphql, agent, { method: 'POST', headers: { ...probe.headers, authorization: (await bearerOf(who)) ?? '' }, body: probe.body });
      const codes = JSON.stringify(JSON.parse(response.text));
      tally(probe.category, /IDEMPOTENCY_KEY_(REUSED|IN_USE)/.test(codes) ? 'record kept' : 'no record');
      if (/IDEMPOTENCY_KEY_(REUSED|IN_USE)/.test(codes)) violate(probe.category, 0, 'a request refused at the edge left an idempotency record', key);
    }
    const after = await snapshot(graph, world);
    stateChecks.snapshots++;
    for (const difference of compareSnapshots(before, after)) violate('state.snapshot', 0, `rejected mutations changed the graph's state: ${difference}`, '');

    phase('mutations');
    // Phase 2: everything else, HTTP and WebSocket interleaved, the stack's /health probed as it goes.
    const restRandom = random.fork(hashSeed('rest', seed));
    const plan: ('http' | 'ws')[] = [...Array<'http'>(httpCases).fill('http'), ...Array<'ws'>(wsCases).fill('ws')];
    for (let i = plan.length - 1; i > 0; i--) {
      const j = restRandom.int(0, i);
      [plan[i], plan[j]] = [plan[j] as 'http' | 'ws', plan[i] as 'http' | 'ws'];
    }
    const httpWeights = HTTP_CATEGORIES.map((c) => [c.weight, c] as const);
    const wsWeights = WS_CATEGORIES.map((c) => [c.weight, c] as const);
    // Generated up front, from one generator, so that concurrency cannot change which case has which index.
    const cases: (HttpCase | WsCase)[] = plan.map((kind, n) => (kind === 'http' ? restRandom.weighted(httpWeights).make(restRandom, world, n) : restRandom.weighted(wsWeights).make(restRandom, world)));
    phase('generate');
    let done = 0;
    const run = async ({ test, index }: { test: HttpCase | WsCase; index: number }) => {
      const t0 = performance.now();
      inFlight.set(`${test.category}#${index}`, t0);
      const result = test.transport === 'http' ? await runHttp(test, target, agent, bearerOf, `fuzz-${seed}-${index}`) : await runWs(test, target, bearerOf);
      inFlight.delete(`${test.category}#${index}`);
      timed(test.category, index, performance.now() - t0, result.outcome);
      tally(test.category, result.outcome);
      noteworthy(test.category, result.outcome, test.transport === 'http' ? (test.body ?? test.search) : test.steps);
      if (result.violation) violate(test.category, index, result.violation, test.transport === 'http' ? (test.body ?? test.search) : { protocol: test.protocol, steps: test.steps });
      if (++done % 250 === 0) {
        health.probes++;
        if (!(await healthy(target))) {
          health.failed++;
          violate('health', index, '/health did not answer 200', '');
        }
      }
    };
    // WebSocket sessions mostly wait (for an ack, for a close, for the pong that proves the session alive): they get
    // their own pool beside the HTTP one, so that their waiting does not hold up the HTTP cases.
    const indexed = cases.map((test, index) => ({ test, index }));
    await Promise.all([
      pool(indexed.filter((c) => c.test.transport === 'http'), concurrency, run),
      pool(indexed.filter((c) => c.test.transport === 'ws'), concurrency, run),
    ]);
    phase('http+ws');
    health.probes++;
    if (!(await healthy(target))) {
      health.failed++;
      violate('health', total, '/health did not answer 200 at the end', '');
    }
    const end = await snapshot(graph, world);
    stateChecks.snapshots++;
    for (const difference of compareSnapshots(before, end)) violate('state.snapshot', total, `the campaign changed the graph's state: ${difference}`, '');
    slowest.sort((a, b) => b.ms - a.ms);
    return { seed, cases: mutations + cases.length, elapsedMs: performance.now() - started, counts, violations, health, stateChecks, slowest: slowest.slice(0, 10), phases, msByCategory, examples };
  } finally {
    clearInterval(watchdog);
    agent.destroy();
  }
}

function keyOf(test: HttpCase): string | undefined {
  try {
    const key = (JSON.parse(String(test.body)) as { variables?: { input?: { idempotencyKey?: unknown } } }).variables?.input?.idempotencyKey;
    return typeof key === 'string' && key.length >= 1 && key.length <= 255 ? key : undefined;
  } catch {
    return undefined;
  }
}

async function healthy(target: FuzzTarget): Promise<boolean> {
  const url = new URL('/health', target.graphql);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The world a campaign aims at, and the state it must not change
// ---------------------------------------------------------------------------------------------------------------

type Graph = (query: string, variables?: Record<string, unknown>) => Promise<{ data?: any; errors?: unknown[] }>;

const nativeId = (globalId: string): string => {
  const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? decoded.slice(colon + 1) : globalId;
};

/** Customers whose orders the campaign aims at and whose order counts it watches. */
const CUSTOMERS = Array.from({ length: 30 }, (_, i) => `cust-${String(i + 1).padStart(5, '0')}`).concat('cust-00042');
const WATCHED_SKUS = ['SKU-0001-1', 'SKU-0001-2', 'SKU-0042-1'];
const WATCHED_LOCATIONS = ['store-003', 'store-007', 'wh-01', 'wh-02', 'wh-03', 'wh-04', 'wh-05'];

async function discoverWorld(graph: Graph, seed: number): Promise<FuzzWorld> {
  const ordersByStatus: Record<string, string[]> = {};
  const orderOwners: FuzzWorld['orderOwners'] = {};
  const query = 'query W($ids: [ID!]!) { nodes(ids: $ids) { ... on Customer { id orders(first: 20) { edges { node { id status pickupLocation { id } } } } } } }';
  const answer = await graph(query, { ids: CUSTOMERS.map((c) => toGlobalId('Customer', c)) });
  if (!answer.data || answer.errors?.length) throw new Error(`the fuzz campaign could not read the seeded orders: ${JSON.stringify(answer.errors)}`);
  for (const customer of answer.data.nodes as ({ id: string; orders?: { edges: { node: { id: string; status: string; pickupLocation: { id: string } | null } }[] } } | null)[]) {
    if (!customer) continue;
    for (const { node } of customer.orders?.edges ?? []) {
      // At most 100 orders watched: one `nodes` page.
      if (Object.keys(orderOwners).length >= 100) break;
      const id = nativeId(node.id);
      (ordersByStatus[node.status] ??= []).push(id);
      orderOwners[id] = { customerId: nativeId(customer.id), pickupLocationId: node.pickupLocation ? nativeId(node.pickupLocation.id) : null };
    }
  }
  return { schema: loadApiSchema(), contract: contractOperations(), ordersByStatus, orderOwners, seed };
}

type Snapshot = Record<string, string>;

/** What a rejected request must leave as it was: stock levels, the customers' order counts, the aimed-at orders' statuses. */
async function snapshot(graph: Graph, world: FuzzWorld): Promise<Snapshot> {
  const query = `query S($locations: [ID!]!, $customers: [ID!]!, $orders: [ID!]!, $skus: [String!]!) {
    locations: nodes(ids: $locations) { id ... on Location { inventoryLevels(skus: $skus) { sku onHand committed reserved damaged available } } }
    customers: nodes(ids: $customers) { id ... on Customer { orders(first: 1) { totalCount } } }
    orders: nodes(ids: $orders) { id ... on Order { status returns { id status } refunds { id } } }
  }`;
  const answer = await graph(query, {
    skus: WATCHED_SKUS,
    locations: WATCHED_LOCATIONS.map((l) => toGlobalId('Location', l)),
    customers: CUSTOMERS.map((c) => toGlobalId('Customer', c)),
    orders: Object.keys(world.orderOwners).map((o) => toGlobalId('Order', o)),
  });
  if (!answer.data || answer.errors?.length) throw new Error(`the fuzz campaign could not read the state it watches: ${JSON.stringify(answer.errors)}`);
  const state: Snapshot = {};
  for (const list of ['locations', 'customers', 'orders']) {
    for (const node of answer.data[list] as ({ id: string } | null)[]) if (node) state[`${list} ${nativeId(node.id)}`] = JSON.stringify(node);
  }
  return state;
}

export function compareSnapshots(before: Snapshot, after: Snapshot): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => before[k] !== after[k]).map((k) => `${k}: ${before[k]} → ${after[k]}`);
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

type Init = { method: string; headers: Record<string, string>; body?: string | Buffer | undefined; search?: string | undefined };

/**
 * One request on the keep-alive pool. A reused connection that the server closed as idle just as the request left
 * (a race every keep-alive client has) is retried once on a fresh one; any other failure is the answer.
 */
async function send(url: string, agent: Agent, init: Init): Promise<Answer> {
  try {
    return await sendOnce(url, agent, init);
  } catch (error) {
    if ((error as { reused?: boolean }).reused && (error as { code?: string }).code === 'ECONNRESET') return sendOnce(url, agent, init);
    throw error;
  }
}

function sendOnce(url: string, agent: Agent, init: Init): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = request(
      { host: target.hostname, port: target.port, path: `${target.pathname}${init.search ?? ''}`, method: init.method, headers: init.headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error('no answer within 20 s')));
    req.on('error', (error) => reject(Object.assign(error, { reused: req.reusedSocket })));
    req.end(init.body);
  });
}

async function runHttp(test: HttpCase, target: FuzzTarget, agent: Agent, bearerOf: (who: Who) => Promise<string | undefined>, correlationId: string): Promise<Outcome> {
  const authorization = await bearerOf(test.who);
  const headers: Record<string, string> = { 'x-correlation-id': correlationId, ...test.headers };
  if (authorization !== undefined) headers.authorization = authorization;
  let answer: Answer;
  try {
    answer = await send(target.graphql, agent, { method: test.method, headers, body: test.body, search: test.search });
  } catch (error) {
    const message = (error as Error).message;
    // A client-side refusal to send (an invalid header, say) is the generator's fault, not the server's.
    if ((error as { code?: string }).code === 'ERR_INVALID_CHAR' || (error as { code?: string }).code === 'ERR_INVALID_HTTP_TOKEN') return { outcome: 'not sent', rejected: true };
    return { outcome: 'no answer', violation: `no HTTP answer: ${message}`, rejected: true };
  }
  return judgeHttp(test, answer);
}

type ErrorLike = { message?: unknown; extensions?: { code?: unknown } };

/** Why an error list breaks the rules (an error without a string code), or undefined. */
function uncoded(errors: unknown): string | undefined {
  if (!Array.isArray(errors)) return 'errors is not a list';
  for (const e of errors as ErrorLike[]) {
    if (typeof e !== 'object' || e === null || typeof e.message !== 'string') return `an error without a message: ${shorten(e)}`;
    if (typeof e.extensions?.code !== 'string' || e.extensions.code === '') return `an error without extensions.code: ${shorten(e)}`;
  }
  return undefined;
}

export function judgeHttp(test: Pick<HttpCase, 'method' | 'mutation' | 'category'>, answer: Answer): Outcome {
  const { status } = answer;
  if (status !== 200 && !REFUSAL_STATUSES.has(status)) return { outcome: `${status}`, violation: `HTTP ${status} is not a status the gateway may answer: ${shorten(answer.text)}`, rejected: true };
  if (test.method === 'HEAD') return { outcome: `${status} (HEAD)`, violation: status === 405 ? undefined : `HEAD answered ${status}`, rejected: true };
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return { outcome: `${status} not JSON`, violation: `HTTP ${status} with a body that is not JSON: ${shorten(answer.text)}`, rejected: true };
  }
  const results = Array.isArray(body) ? body : [body];
  if (Array.isArray(body) && status !== 200) return { outcome: `${status} list`, violation: `a list answered with HTTP ${status}`, rejected: true };
  const codes: string[] = [];
  let rejected = status !== 200;
  for (const result of results as { data?: unknown; errors?: unknown }[]) {
    if (typeof result !== 'object' || result === null) return { outcome: `${status} odd`, violation: `a result that is not an object: ${shorten(result)}`, rejected: true };
    if (result.errors !== undefined) {
      const broken = uncoded(result.errors);
      if (broken) return { outcome: `${status} uncoded`, violation: broken, rejected: true };
      codes.push(...(result.errors as ErrorLike[]).map((e) => String(e.extensions?.code)));
      // A mutation with any error did not do what was asked (its root field is null, or part of its payload is).
      if (!result.data || (test.mutation && (result.errors as unknown[]).length > 0)) rejected = true;
    } else if (status !== 200) {
      return { outcome: `${status} no errors`, violation: `HTTP ${status} without errors`, rejected: true };
    }
    // A mutation payload's user errors: a business refusal.
    for (const payload of Object.values((result.data ?? {}) as Record<string, unknown>)) {
      const userErrors = (payload as { userErrors?: { code?: unknown }[] } | null)?.userErrors;
      if (Array.isArray(userErrors) && userErrors.length) {
        rejected = true;
        for (const e of userErrors) {
          if (typeof e.code !== 'string') return { outcome: `${status} userError uncoded`, violation: `a user error without a code: ${shorten(e)}`, rejected: true };
          codes.push(`userError:${e.code}`);
        }
      }
    }
    if (test.mutation && result.data && Object.values(result.data as Record<string, unknown>).some((p) => p === null) && !result.errors) {
      return { outcome: `${status} null payload`, violation: 'a mutation answered a null payload without an error', rejected: true };
    }
  }
  const outcome = `${status} ${codes.length ? [...new Set(codes)].sort().slice(0, 2).join('+') : 'ok'}`;
  if (test.mutation && !rejected) return { outcome: `${outcome} (accepted)`, violation: 'a defective mutation was accepted', rejected };
  return { outcome, rejected };
}

// ---------------------------------------------------------------------------------------------------------------
// WebSocket
// ---------------------------------------------------------------------------------------------------------------

async function runWs(test: WsCase, target: FuzzTarget, bearerOf: (who: Who) => Promise<string | undefined>): Promise<Outcome> {
  const authorization = (await bearerOf(test.who)) ?? '';
  const url = target.graphql.replace(/^http/, 'ws');
  const protocol = test.protocol === undefined ? 'graphql-transport-ws' : test.protocol;
  return new Promise<Outcome>((resolve) => {
    const socket = new WebSocket(url, protocol === null ? [] : [protocol], { maxPayload: 64 * 1024 * 1024, handshakeTimeout: 10_000 });
    const inbox: unknown[] = [];
    let wake: (() => void) | undefined;
    let problem: string | undefined;
    let serverClose: number | undefined;
    let closed = false;
    let clientClosing = false;
    let settled = false;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(overall);
      if (!closed) socket.terminate();
      resolve(outcome);
    };
    const overall = setTimeout(() => finish({ outcome: 'ws stuck', violation: 'the session neither ended nor answered within 30 s', rejected: true }), 30_000);
    const next = (ms: number) =>
      new Promise<boolean>((done) => {
        if (inbox.length || closed) return done(true);
        const timer = setTimeout(() => {
          wake = undefined;
          done(false);
        }, ms);
        wake = () => {
          clearTimeout(timer);
          wake = undefined;
          done(true);
        };
      });
    socket.on('unexpected-response', (req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      req.destroy();
      closed = true;
      finish({ outcome: `ws upgrade ${status}`, violation: [400, 401, 403, 404, 426, 503].includes(status) ? undefined : `upgrade refused with HTTP ${status}`, rejected: true });
    });
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      let message: { type?: unknown; payload?: unknown };
      try {
        message = JSON.parse(data.toString('utf8'));
      } catch {
        problem ??= `a server message that is not JSON${isBinary ? ' (binary)' : ''}`;
        return;
      }
      if (message.type === 'error') problem ??= uncoded(message.payload);
      if (message.type === 'next') {
        const errors = (message.payload as { errors?: unknown } | null)?.errors;
        if (errors !== undefined) problem ??= uncoded(errors);
      }
      inbox.push(message);
      wake?.();
    });
    socket.on('close', (code, reason) => {
      closed = true;
      if (!clientClosing) serverClose = code;
      // An internal error is a documented close, and still a finding: no client input should cause one.
      if (code === 4500) problem ??= `closed with 4500: ${reason.toString()}`;
      wake?.();
      settle();
    });
    let subprotocolRefused = false;
    socket.on('error', (error) => {
      // The server answered the upgrade without the subprotocol asked for (it serves graphql-transport-ws only):
      // an RFC 6455 client then fails the connection itself, so no close code comes from the server.
      if (/Server sent (no|an invalid) subprotocol/.test(error.message)) subprotocolRefused = true;
      // Writing into a socket the server just closed is no failure of the server's.
      if (!closed && !/EPIPE|ECONNRESET/.test(String((error as { code?: string }).code ?? error.message))) problem ??= `socket error: ${error.message}`;
    });
    const settle = () => {
      if (subprotocolRefused) return finish({ outcome: 'ws subprotocol refused', violation: protocol === 'graphql-transport-ws' ? 'the server refused graphql-transport-ws' : undefined, rejected: true });
      if (serverClose !== undefined && !CLOSE_CODES.has(serverClose)) return finish({ outcome: `ws close ${serverClose}`, violation: `closed with ${serverClose}, not a documented close code`, rejected: true });
      const outcome = serverClose !== undefined ? `ws close ${serverClose}` : `ws open (${inbox.length ? 'answered' : 'silent'})`;
      finish({ outcome, violation: problem, rejected: true });
    };
    socket.on('open', async () => {
      for (const step of test.steps) {
        if (closed) break;
        if ('await' in step) {
          inbox.length = 0;
          await next(500);
          continue;
        }
        const frame = typeof step.send === 'string' ? step.send.replaceAll('{{AUTH}}', JSON.stringify(authorization).slice(1, -1)) : step.send;
        socket.send(frame, { binary: typeof frame !== 'string' });
      }
      if (closed) return;
      // Still open: the session must still be alive (a ping is answered with a pong in every state).
      inbox.length = 0;
      socket.send(JSON.stringify({ type: 'ping' }));
      const deadline = Date.now() + 5_000;
      while (!closed && Date.now() < deadline) {
        if (inbox.some((m) => (m as { type?: unknown }).type === 'pong')) break;
        inbox.length = 0;
        await next(deadline - Date.now());
      }
      if (closed) return;
      if (!inbox.some((m) => (m as { type?: unknown }).type === 'pong')) problem ??= 'an open session did not answer a ping';
      clientClosing = true;
      socket.close(1000);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------

/** Run `work` over `items`, at most `concurrency` at once. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

function shorten(value: unknown): string {
  const text = typeof value === 'string' ? value : Buffer.isBuffer(value) ? `<${value.length} bytes>` : (JSON.stringify(value) ?? String(value));
  return text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
}

/** The report as a table: cases by category and outcome, then the violations. */
export function formatFuzzReport(report: FuzzReport): string {
  const lines: string[] = [];
  lines.push(`fuzz: seed ${report.seed}, ${report.cases} cases in ${(report.elapsedMs / 1000).toFixed(1)} s, ${report.violations.length} violations, health ${report.health.probes - report.health.failed}/${report.health.probes}`);
  lines.push(`phases (ms): ${Object.entries(report.phases).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push(`state checks: ${report.stateChecks.writeRounds} write rounds, ${report.stateChecks.snapshots} snapshots, ${report.stateChecks.idempotencyProbes} idempotency probes`);
  lines.push('');
  const rows: [string, string, string][] = [['category', 'outcome', 'cases']];
  for (const category of Object.keys(report.counts).sort()) {
    const outcomes = Object.entries(report.counts[category] ?? {}).sort((a, b) => b[1] - a[1]);
    const sum = outcomes.reduce((n, [, c]) => n + c, 0);
    const ms = report.msByCategory[category];
    rows.push([category, ms === undefined ? '(all)' : `(all; ${(ms / sum).toFixed(0)} ms a case)`, String(sum)]);
    for (const [outcome, n] of outcomes) rows.push(['', outcome, String(n)]);
  }
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows) lines.push(`${row[0].padEnd(widths[0]!)}  ${row[1].padEnd(widths[1]!)}  ${row[2].padStart(widths[2]!)}`);
  lines.push('', `slowest: ${report.slowest.map((c) => `${c.category} #${c.index} ${c.ms} ms (${c.outcome})`).join('; ')}`);
  const examples = Object.entries(report.examples);
  if (examples.length) {
    lines.push('', 'coded errors of a subgraph or the gateway itself (first case of each):');
    for (const [outcome, sample] of examples) lines.push(`  [${outcome}]\n      ${sample}`);
  }
  if (report.violations.length) {
    lines.push('', 'violations:');
    for (const v of report.violations.slice(0, 50)) lines.push(`  [${v.category} #${v.index}] ${v.what}\n      ${v.sample}`);
    if (report.violations.length > 50) lines.push(`  … and ${report.violations.length - 50} more`);
  }
  return lines.join('\n');
}
