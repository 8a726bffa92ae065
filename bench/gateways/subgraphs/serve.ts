import { createServer, type Server } from 'node:http';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';

export interface BenchSubgraph {
  name: string;
  /** Federation 2 subgraph SDL. */
  typeDefs: string;
  resolvers: Record<string, Record<string, unknown>>;
}

export interface ServedSubgraph {
  name: string;
  url: string;
  server: Server;
  /** POST /graphql requests answered so far (every gateway fetch is one). */
  requests(): number;
}

/**
 * One subgraph on node:http, executing with graphql-js directly. Its data never changes, so each distinct
 * request body is executed once and its response kept (up to {@link MAX_CACHED} bodies): a subgraph then costs
 * about what the public benchmark's Rust subgraphs cost, and the gateway under test, not graphql-js on the
 * subgraphs' core, is what the figures measure. Every request is still counted: `GET /stats` reports the count,
 * the benchmark's "subgraph fetches per operation".
 */
const MAX_CACHED = 10_000;

export async function serveSubgraph(subgraph: BenchSubgraph, port: number, host = '127.0.0.1'): Promise<ServedSubgraph> {
  const schema: GraphQLSchema = buildSubgraphSchema({ typeDefs: parse(subgraph.typeDefs), resolvers: subgraph.resolvers as never });
  const documents = new Map<string, DocumentNode>();
  const answers = new Map<string, string>();
  let count = 0;
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (req.method === 'GET' && req.url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ requests: count }));
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      count++;
      const raw = Buffer.concat(chunks).toString('utf8');
      const cached = answers.get(raw);
      if (cached !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(cached) }).end(cached);
        return;
      }
      void (async () => {
        let body: string;
        try {
          const request = JSON.parse(raw) as { query?: string; variables?: Record<string, unknown>; operationName?: string };
          const query = request.query ?? '';
          let document = documents.get(query);
          if (!document) {
            document = parse(query);
            const errors = validate(schema, document);
            if (errors.length) throw new Error(errors.map((e) => e.message).join('; '));
            documents.set(query, document);
          }
          const result = await execute({ schema, document, variableValues: request.variables, operationName: request.operationName });
          body = JSON.stringify(result);
          if (answers.size < MAX_CACHED) answers.set(raw, body);
        } catch (error) {
          body = JSON.stringify({ errors: [{ message: (error as Error).message }] });
        }
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      })();
    });
  });
  await new Promise<void>((done) => server.listen(port, host, done));
  const bound = (server.address() as { port: number }).port;
  return { name: subgraph.name, url: `http://${host}:${bound}/graphql`, server, requests: () => count };
}
