import { createServer, type Server } from 'node:http';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { readBody, sendJson } from '../../common/http.js';
import { createLogger } from '../../common/logger.js';
import { closeServer, listenOn } from '../../common/service.js';
import { createGateway, type GatewayOptions, type GatewayService } from '../../gateway/gateway.js';

/** One small subgraph of a test's own graph. */
export interface SubgraphDef {
  name: string;
  /** Federation 2 SDL, with its `extend schema @link(url: "https://specs.apollo.dev/federation/v2.x", import: [...])`. */
  typeDefs: string;
  /** graphql-tools style resolvers, `__resolveReference` included, as `buildSubgraphSchema` takes them. */
  resolvers: Record<string, unknown>;
}

export type ExecutorName = NonNullable<GatewayOptions['executor']>;

export interface FederationResponse {
  status: number;
  body: any;
  headers: Headers;
}

export interface Federation {
  supergraphSdl: string;
  /** Requests received per subgraph so far (counted at the subgraph). */
  requests(): Record<string, number>;
  /** The bodies each subgraph received so far (query and variables), in order. */
  received(): Record<string, { query: string; variables?: Record<string, unknown> }[]>;
  /** POST to the gateway running `executor`; gateways are started lazily, one per executor. */
  query(executor: ExecutorName, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<FederationResponse>;
  /** The same request through both executors: both responses, for comparison. */
  both(query: string, variables?: Record<string, unknown>): Promise<{ compiled: { status: number; body: any }; apollo: { status: number; body: any } }>;
  /** Stop one subgraph's server: its port then refuses connections (a subgraph that is down). */
  stopSubgraph(name: string): Promise<void>;
  stop(): Promise<void>;
}

interface RunningSubgraph {
  name: string;
  server: Server;
  url: string;
  requests: number;
  received: { query: string; variables?: Record<string, unknown> }[];
}

/** A subgraph schema served as `POST /graphql` by graphql-js, with every request counted. */
async function serveSubgraph(def: SubgraphDef): Promise<RunningSubgraph> {
  const schema: GraphQLSchema = buildSubgraphSchema([{ typeDefs: parse(def.typeDefs), resolvers: def.resolvers as never }]);
  const documents = new Map<string, DocumentNode>();
  const running: RunningSubgraph = { name: def.name, server: undefined as never, url: '', requests: 0, received: [] };
  running.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    void (async () => {
      try {
        const body = JSON.parse(await readBody(req)) as { query: string; variables?: Record<string, unknown>; operationName?: string };
        running.requests++;
        running.received.push({ query: body.query, ...(body.variables ? { variables: body.variables } : {}) });
        let document = documents.get(body.query);
        if (!document) {
          document = parse(body.query);
          const errors = validate(schema, document);
          if (errors.length > 0) return sendJson(res, 400, { errors: errors.map((e) => e.toJSON()) });
          documents.set(body.query, document);
        }
        const result = await execute({ schema, document, variableValues: body.variables, operationName: body.operationName, contextValue: { headers: req.headers } });
        sendJson(res, 200, result);
      } catch (error) {
        sendJson(res, 400, { errors: [{ message: (error as Error).message }] });
      }
    })();
  });
  const port = await listenOn(running.server, 0, '127.0.0.1');
  running.url = `http://127.0.0.1:${port}/graphql`;
  return running;
}

/** Compose `subgraphs` (federation 2) into a supergraph, or throw with the composition errors. */
export function composeSupergraph(subgraphs: { name: string; url: string; typeDefs: string }[]): string {
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.typeDefs) })));
  if (result.errors) throw new Error(`composition failed:\n${result.errors.map((e) => `- ${e.message}`).join('\n')}`);
  return result.supergraphSdl;
}

/**
 * A small federated graph for tests: the subgraphs over real HTTP on free ports, composed, and a gateway per
 * executor (`createGateway`, the same one production runs) started on first use.
 */
export async function startFederation(subgraphs: SubgraphDef[], options: { gateway?: Partial<GatewayOptions> } = {}): Promise<Federation> {
  const running: RunningSubgraph[] = [];
  try {
    for (const def of subgraphs) running.push(await serveSubgraph(def));
  } catch (error) {
    await Promise.all(running.map((r) => closeServer(r.server)));
    throw error;
  }
  let supergraphSdl: string;
  try {
    supergraphSdl = composeSupergraph(subgraphs.map((def, i) => ({ name: def.name, url: running[i]!.url, typeDefs: def.typeDefs })));
  } catch (error) {
    await Promise.all(running.map((r) => closeServer(r.server)));
    throw error;
  }
  const logger = createLogger({ level: 'warn', name: 'federation-test' });
  const gateways = new Map<ExecutorName, Promise<{ service: GatewayService; url: string }>>();
  const gatewayFor = (executor: ExecutorName) => {
    let gateway = gateways.get(executor);
    if (!gateway) {
      gateway = (async () => {
        const service = await createGateway({ supergraphSdl, logger, ...options.gateway, executor });
        const url = await service.listen(0, '127.0.0.1');
        return { service, url };
      })();
      gateways.set(executor, gateway);
    }
    return gateway;
  };
  const query: Federation['query'] = async (executor, document, variables, headers = {}) => {
    const { url } = await gatewayFor(executor);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: document, ...(variables ? { variables } : {}) }),
    });
    return { status: response.status, body: await response.json(), headers: response.headers };
  };
  return {
    supergraphSdl,
    requests: () => Object.fromEntries(running.map((r) => [r.name, r.requests])),
    received: () => Object.fromEntries(running.map((r) => [r.name, [...r.received]])),
    query,
    async both(document, variables) {
      // One after the other: the subgraphs' request counts stay attributable to one executor at a time.
      const compiled = await query('compiled', document, variables);
      const apollo = await query('apollo', document, variables);
      return { compiled: { status: compiled.status, body: compiled.body }, apollo: { status: apollo.status, body: apollo.body } };
    },
    async stopSubgraph(name) {
      const subgraph = running.find((r) => r.name === name);
      if (!subgraph) throw new Error(`no subgraph ${name}`);
      await closeServer(subgraph.server);
    },
    async stop() {
      const started = await Promise.allSettled([...gateways.values()]);
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.service.stop() : undefined)));
      await Promise.all(running.map((r) => closeServer(r.server)));
    },
  };
}
