import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { GATEWAY_KINDS, type GatewayKind } from './kinds.js';

/**
 * Child-process entry: one gateway of the side-by-side benchmark, `node gateway-process.js <kind>`, serving
 * `SUPERGRAPH_PATH` on 127.0.0.1:`PORT` at /graphql. Each is set up as its own documentation sets it up, with
 * logging at warn and nothing that phones home.
 */

/**
 * Our edge's document limits are sized for the retail contract; the public benchmark's heavy query (a list of
 * lists five levels deep) costs more than `maxCost` allows, so the benchmark raises that one limit. The check
 * still runs on every request, so its cost is in the figures.
 */
const BENCH_EDGE_MAX_COST = 1_000_000;

async function startOurs(supergraphSdl: string, port: number): Promise<void> {
  const { createGateway } = await import('../../gateway/gateway.js');
  const { DEFAULT_DOCUMENT_LIMITS } = await import('../../gateway/edge/limits.js');
  const { createLogger } = await import('../../common/logger.js');
  const gateway = await createGateway({
    supergraphSdl,
    logger: createLogger({ level: 'warn', format: 'json' }),
    // No authenticate: every caller is anonymous, and the bench graph has no authorization directives.
    edge: { limits: { ...DEFAULT_DOCUMENT_LIMITS, maxCost: BENCH_EDGE_MAX_COST } },
  });
  await gateway.listen(port, '127.0.0.1');
}

async function startApollo(supergraphSdl: string, port: number): Promise<void> {
  const { ApolloGateway } = await import('@apollo/gateway');
  const { ApolloServer } = await import('@apollo/server');
  const { startStandaloneServer } = await import('@apollo/server/standalone');
  // As Apollo's docs set it up: the default data sources (make-fetch-happen) and default plugins.
  const server = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl }) });
  await startStandaloneServer(server, { listen: { port, host: '127.0.0.1' } });
}

async function startHive(supergraphPath: string, port: number, rustPlanner: boolean): Promise<void> {
  const { createGatewayRuntime } = await import('@graphql-hive/gateway-runtime');
  const unifiedGraphHandler = rustPlanner ? (await import('@graphql-hive/router-runtime')).unifiedGraphHandler : undefined;
  // Hive deduplicates identical in-flight subgraph requests by default; HIVE_DEDUPLICATE=false turns that off, to
  // compare like with like against gateways that do not.
  const transportEntries = process.env.HIVE_DEDUPLICATE === 'false' ? { '*': { options: { deduplicateInflightRequests: false } } } : undefined;
  const gateway = createGatewayRuntime({
    supergraph: supergraphPath,
    logging: 'warn',
    ...(unifiedGraphHandler ? { unifiedGraphHandler } : {}),
    ...(transportEntries ? { transportEntries } : {}),
  });
  const server = createServer(gateway);
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
}

const kind = process.argv[2] as GatewayKind | undefined;
const path = process.env.SUPERGRAPH_PATH;
const port = Number(process.env.PORT);
if (!kind || !GATEWAY_KINDS.includes(kind) || !path || !port) {
  process.stderr.write(`usage: SUPERGRAPH_PATH=… PORT=… node gateway-process.js ${GATEWAY_KINDS.join('|')}\n`);
  process.exit(2);
}
// No gateway here may probe cloud metadata or export usage (loopback only); @apollo/gateway reads this at construction.
process.env.APOLLO_TELEMETRY_DISABLED = 'true';
const sdl = readFileSync(path, 'utf8');
if (kind === 'ours') await startOurs(sdl, port);
else if (kind === 'apollo') await startApollo(sdl, port);
else await startHive(path, port, kind === 'hive-router');
process.on('SIGTERM', () => process.exit(0));
