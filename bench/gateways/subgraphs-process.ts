import { BENCH_SUBGRAPHS } from './subgraphs/index.js';
import { serveSubgraph } from './subgraphs/serve.js';

/**
 * Child-process entry: the four benchmark subgraphs on free loopback ports, in one process (off the gateway's
 * core). Writes one JSON line, `{"accounts":"http://…/graphql",…}`, when all listen; stops on SIGTERM.
 */
const served = await Promise.all(BENCH_SUBGRAPHS.map((subgraph) => serveSubgraph(subgraph, 0)));
process.stdout.write(`${JSON.stringify(Object.fromEntries(served.map((s) => [s.name, s.url])))}\n`);
process.on('SIGTERM', () => {
  for (const s of served) s.server.close();
  for (const s of served) s.server.closeAllConnections();
});
