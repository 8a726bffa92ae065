import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { GatewayOptions } from '../../gateway/gateway.js';
import { GATEWAYS, GATEWAY_KINDS, isGatewayKind, type GatewaySetup } from './kinds.js';

/**
 * Child-process entry: one gateway of the side-by-side benchmark, `node gateway-process.js <kind>`, serving
 * `SUPERGRAPH_PATH` on 127.0.0.1:`PORT` at /graphql. Each is set up as its own documentation sets it up, with
 * logging at warn and nothing that phones home.
 *
 * `BENCH_GRAPH=retail` (workload c): the retail graph over our own subgraphs. Ours then starts as `node dist/main.js
 * gateway` does (token verification against the sandbox's identity provider, the edge from configuration); the
 * peers forward the client's `Authorization` to every subgraph, each in the way its documentation gives, because
 * our subgraphs authorize every request again.
 */

/**
 * Our edge's document limits are sized for the retail contract; the public benchmark's heavy query (a list of
 * lists five levels deep) costs more than `maxCost` allows, so the benchmark raises that one limit. The check
 * still runs on every request, so its cost is in the figures.
 */
const BENCH_EDGE_MAX_COST = 1_000_000;

/** `GATEWAY_EXECUTOR` and `GATEWAY_DEDUPLICATE` of the kind, stated explicitly rather than left to the defaults. */
const executorOptions = (setup: GatewaySetup): Pick<GatewayOptions, 'executor' | 'deduplicate'> => ({ executor: setup.executor ?? 'compiled', deduplicate: setup.dedup ?? true });

async function startOursBench(setup: GatewaySetup, supergraphSdl: string, port: number): Promise<void> {
  const { createGateway } = await import('../../gateway/gateway.js');
  const { DEFAULT_DOCUMENT_LIMITS } = await import('../../gateway/edge/limits.js');
  const { createLogger } = await import('../../common/logger.js');
  const options: GatewayOptions = {
    supergraphSdl,
    logger: createLogger({ level: 'warn', format: 'json' }),
    // No authenticate: every caller is anonymous, and the bench graph has no authorization directives.
    edge: { limits: { ...DEFAULT_DOCUMENT_LIMITS, maxCost: BENCH_EDGE_MAX_COST } },
    ...executorOptions(setup),
  };
  const gateway = await createGateway(options);
  await gateway.listen(port, '127.0.0.1');
}

/** The retail graph: the gateway as `startGatewayOnly` (stack.ts) builds it from the environment, executor options explicit. */
async function startOursRetail(setup: GatewaySetup, supergraphSdl: string, port: number): Promise<void> {
  const { createGateway } = await import('../../gateway/gateway.js');
  const { loadConfig } = await import('../../common/config.js');
  const { createLogger } = await import('../../common/logger.js');
  const { edgeFor, tokenVerifierFor } = await import('../../stack.js');
  const config = loadConfig(process.env);
  const sandboxUrl = config.sandboxUrl;
  if (!sandboxUrl) throw new Error('BENCH_GRAPH=retail needs SANDBOX_URL (the identity provider)');
  const verifier = tokenVerifierFor(config, sandboxUrl);
  const options: GatewayOptions = {
    supergraphSdl,
    subgraphUrls: config.subgraphUrls,
    authenticate: (authorization) => verifier.authenticate(authorization),
    edge: edgeFor(config, undefined),
    production: config.production,
    logger: createLogger({ level: 'warn', format: 'json' }),
    ...executorOptions(setup),
  };
  const gateway = await createGateway(options);
  await gateway.listen(port, '127.0.0.1');
}

async function startApollo(supergraphSdl: string, port: number, forwardAuthorization: boolean): Promise<void> {
  const { ApolloGateway, RemoteGraphQLDataSource } = await import('@apollo/gateway');
  const { ApolloServer } = await import('@apollo/server');
  const { startStandaloneServer } = await import('@apollo/server/standalone');
  interface Context {
    authorization?: string | undefined;
  }
  // As Apollo's docs set it up: the default data sources (make-fetch-happen) and default plugins; for the retail
  // graph, the data source of Apollo's "Sharing context with subgraphs" page, which copies a header into each fetch.
  const gateway = new ApolloGateway({
    supergraphSdl,
    ...(forwardAuthorization
      ? {
          buildService: ({ url }: { url?: string }) =>
            new RemoteGraphQLDataSource<Context>({
              url,
              willSendRequest({ request, context }) {
                if (context.authorization) request.http?.headers.set('authorization', context.authorization);
              },
            }),
        }
      : {}),
  });
  const server = new ApolloServer<Context>({ gateway });
  await startStandaloneServer(server, { listen: { port, host: '127.0.0.1' }, context: async ({ req }) => ({ authorization: req.headers.authorization }) });
}

async function startHive(setup: GatewaySetup, supergraphPath: string, port: number, forwardAuthorization: boolean): Promise<void> {
  const { createGatewayRuntime } = await import('@graphql-hive/gateway-runtime');
  const unifiedGraphHandler = setup.base === 'hive-router' ? (await import('@graphql-hive/router-runtime')).unifiedGraphHandler : undefined;
  // Hive deduplicates identical in-flight subgraph requests by default; the `-nodedup` kinds turn that off, to
  // compare like with like against gateways that do not.
  const transportEntries = setup.dedup === false ? { '*': { options: { deduplicateInflightRequests: false } } } : undefined;
  const gateway = createGatewayRuntime({
    supergraph: supergraphPath,
    logging: 'warn',
    ...(unifiedGraphHandler ? { unifiedGraphHandler } : {}),
    ...(transportEntries ? { transportEntries } : {}),
    // Hive's documented header propagation ("Propagate headers from the client to the subgraphs").
    ...(forwardAuthorization ? { propagateHeaders: { fromClientToSubgraphs: ({ request }: { request: Request }) => ({ authorization: request.headers.get('authorization') }) } } : {}),
  });
  const server = createServer(gateway);
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
}

const kind = process.argv[2];
const path = process.env.SUPERGRAPH_PATH;
const port = Number(process.env.PORT);
const retail = process.env.BENCH_GRAPH === 'retail';
if (!kind || !isGatewayKind(kind) || !path || !port) {
  process.stderr.write(`usage: SUPERGRAPH_PATH=… PORT=… [BENCH_GRAPH=retail] node gateway-process.js ${GATEWAY_KINDS.join('|')}\n`);
  process.exit(2);
}
// No gateway here may probe cloud metadata or export usage (loopback only); @apollo/gateway reads this at construction.
process.env.APOLLO_TELEMETRY_DISABLED = 'true';
const setup = GATEWAYS[kind];
const sdl = readFileSync(path, 'utf8');
if (setup.base === 'ours') await (retail ? startOursRetail(setup, sdl, port) : startOursBench(setup, sdl, port));
else if (setup.base === 'apollo') await startApollo(sdl, port, retail);
else await startHive(setup, path, port, retail);
process.on('SIGTERM', () => process.exit(0));
