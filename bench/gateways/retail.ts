import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig, SUBGRAPH_NAMES, type SubgraphName } from '../../common/config.js';
import { withoutSecurityFeatures } from '../../gateway/edge/security-features.js';
import { generateSeedData } from '../../sandbox/seed.js';
import { ROOT } from '../../scripts/composition.js';
import { contractOperation } from '../../scripts/contract.js';
import { freePort } from '../../scripts/free-port.js';
import { BENCH_RATE_LIMITS } from '../stack-process.js';
import { OTHER_CORES, spawnNode, stopChild, waitUntil, type SpawnedChild } from './processes.js';
import type { Workload } from './workloads.js';

/**
 * Workload (c): the retail graph in multi-process mode, as README "Running the services separately" runs it: the
 * sandbox (`node dist/main.js sandbox`) and each subgraph in its own process (`node dist/main.js subgraph <name>`,
 * `SANDBOX_URL` at the sandbox), all off the gateway's core, over the seeded data.
 */

const MAIN = resolve(ROOT, 'dist/main.js');
/** Marks the one log line a subgraph writes per GraphQL HTTP request (`logRequest` in common/http.ts). */
const REQUEST_LINE = '"msg":"graphql request"';
/** Distinct request bodies per operation: enough that identical in-flight requests are not the norm, as in a shop. */
const DISTINCT = 32;

export interface RetailGraph {
  sandboxUrl: string;
  subgraphUrls: Record<SubgraphName, string>;
  /**
   * GraphQL requests the subgraphs have answered so far, counted from their request log (each writes one line per
   * request, at info): nothing sits between the gateway and a subgraph to count them.
   */
  requests(): Promise<number>;
  /** The gateway's environment for ours (`<NAME>_URL`, `SANDBOX_URL`, the rate limits out of the way). */
  oursEnv: Record<string, string>;
  /** The checked-in supergraph, for ours (its URLs overridden through `oursEnv`). */
  supergraphPath: string;
  /** A copy of the supergraph with the routing URLs rewritten to the subgraphs' ports, for the peers. */
  peerSupergraphPath: string;
  /** The same without the `for: SECURITY` features, which @apollo/gateway refuses to serve. */
  apolloSupergraphPath: string;
  /** `Bearer <token>` of a service agent from the sandbox's identity provider. */
  agentBearer: string;
  stop(): Promise<void>;
}

/** Starts the sandbox and the six subgraphs, each its own process, and waits until each answers `/health`. */
export async function startRetailGraph(): Promise<RetailGraph> {
  const children: SpawnedChild[] = [];
  const stop = async () => {
    // The subgraphs first (they call the sandbox), then the sandbox.
    await Promise.all(children.slice(1).map(stopChild));
    if (children[0]) await stopChild(children[0]);
  };
  try {
    const sandboxPort = await freePort();
    const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
    // Development, as `npm start`: production refuses the sandbox and its identity provider.
    const common = { NODE_ENV: 'development', HOST: '127.0.0.1', SANDBOX_HOST: '127.0.0.1', LOG_FORMAT: 'json', DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-gateways-retail-')) };
    const sandbox = spawnNode(MAIN, ['sandbox'], { ...common, SANDBOX_PORT: String(sandboxPort) }, OTHER_CORES);
    sandbox.stdout?.resume();
    children.push(sandbox);
    await waitUntil('sandbox', sandbox, async () => (await fetch(`${sandboxUrl}/health`)).ok);

    let count = 0;
    const subgraphUrls = {} as Record<SubgraphName, string>;
    const taken = new Set<number>([sandboxPort]);
    for (const name of SUBGRAPH_NAMES) {
      let port = await freePort();
      while (taken.has(port)) port = await freePort();
      taken.add(port);
      // At info each subgraph logs its requests (the count); nothing else it logs at info is per request.
      const child = spawnNode(MAIN, ['subgraph', name], { ...common, LOG_LEVEL: 'info', SANDBOX_URL: sandboxUrl, [`${name.toUpperCase()}_PORT`]: String(port) }, OTHER_CORES);
      children.push(child);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.includes(REQUEST_LINE)) count++;
      });
      subgraphUrls[name] = `http://127.0.0.1:${port}/graphql`;
    }
    for (const [i, name] of SUBGRAPH_NAMES.entries()) {
      await waitUntil(`subgraph ${name}`, children[i + 1] as SpawnedChild, async () => (await fetch(subgraphUrls[name].replace(/\/graphql$/, '/health'))).ok);
    }

    const supergraphPath = resolve(ROOT, 'supergraph.graphql');
    const sdl = readFileSync(supergraphPath, 'utf8');
    const rewritten = sdl.replace(/@join__graph\(name: "([^"]+)", url: "[^"]*"\)/g, (whole, name: string) => {
      const url = subgraphUrls[name as SubgraphName];
      if (!url) throw new Error(`supergraph.graphql routes to ${name}, which the benchmark does not start`);
      return `@join__graph(name: "${name}", url: "${url}")`;
    });
    const dir = mkdtempSync(join(tmpdir(), 'bench-gateways-supergraph-'));
    const peerSupergraphPath = join(dir, 'supergraph.graphql');
    writeFileSync(peerSupergraphPath, rewritten);
    const apolloSupergraphPath = join(dir, 'supergraph-without-security.graphql');
    writeFileSync(apolloSupergraphPath, withoutSecurityFeatures(rewritten));

    const response = await fetch(`${sandboxUrl}/sandbox/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'agent', expiresInSeconds: 7200 }) });
    const token = ((await response.json()) as { token?: string }).token;
    if (!token) throw new Error(`the sandbox issued no agent token (HTTP ${response.status})`);

    const oursEnv: Record<string, string> = { ...common, ...BENCH_RATE_LIMITS, SANDBOX_URL: sandboxUrl, SUPERGRAPH_PATH: supergraphPath };
    for (const name of SUBGRAPH_NAMES) oursEnv[`${name.toUpperCase()}_URL`] = subgraphUrls[name];
    return { sandboxUrl, subgraphUrls, requests: async () => count, oursEnv, supergraphPath, peerSupergraphPath, apolloSupergraphPath, agentBearer: `Bearer ${token}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `count` items of `list`, evenly spread over it. */
function spread<T>(list: readonly T[], count: number): T[] {
  if (list.length <= count) return [...list];
  return Array.from({ length: count }, (_, i) => list[Math.floor((i * list.length) / count)] as T);
}

/**
 * The retail contract's ProductPage, ProductListing and OrderTimeline (as `contract/*.graphql` writes them), each
 * over {@link DISTINCT} ids from the seed the sandbox starts with (`SANDBOX_SEED`, `SANDBOX_SCALE`).
 */
export function retailWorkloads(): Workload[] {
  const { sandbox } = loadConfig(process.env);
  const seed = generateSeedData({ seed: sandbox.seed, scale: sandbox.scale });
  const stores = seed.stores.slice(0, 2).map((s) => s.id);
  const products = spread(seed.products, DISTINCT);
  const categories = [...new Set(seed.products.map((p) => p.category))];
  const orders = spread(seed.orders.filter((o) => o.id.startsWith('ord-w')), DISTINCT);
  return [
    { name: 'ProductPage', graph: 'retail', query: contractOperation('ProductPage'), operationName: 'ProductPage', variables: products.map((p) => ({ id: p.id, locationIds: stores })), caller: 'anonymous' },
    { name: 'ProductListing', graph: 'retail', query: contractOperation('ProductListing'), operationName: 'ProductListing', variables: categories.map((category) => ({ category, first: 20 })), caller: 'anonymous' },
    { name: 'OrderTimeline', graph: 'retail', query: contractOperation('OrderTimeline'), operationName: 'OrderTimeline', variables: orders.map((o) => ({ orderId: o.id })), caller: 'agent' },
  ];
}
