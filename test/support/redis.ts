import { afterAll, beforeAll } from 'vitest';
import { createRedis, isCluster, quitAll, type RedisClient } from '../../common/redis/connection.js';
import { startRedisServer } from '../../scripts/redis-server.js';
import { startRedisCluster } from './redis-cluster.js';

export { startRedisServer, type RedisServerHandle, type StartRedisServerOptions } from '../../scripts/redis-server.js';
export { startRedisCluster, type RedisClusterHandle, type StartRedisClusterOptions } from './redis-cluster.js';

/**
 * The shapes of Redis the Redis tests run on: one server, and a real three-master cluster (where every script and
 * MULTI must keep to one slot). Use with `describe.each(REDIS_TOPOLOGIES)`.
 */
export const REDIS_TOPOLOGIES = ['single', 'cluster'] as const;
export type RedisTopology = (typeof REDIS_TOPOLOGIES)[number];

/** A started server or cluster: its `REDIS_URL` and how to stop it. */
export interface RedisTarget {
  url: string;
  stop(): Promise<void>;
}

/** Start a throwaway redis-server, or a three-master cluster, on free loopback ports. */
export async function startRedis(topology: RedisTopology = 'single'): Promise<RedisTarget> {
  return topology === 'cluster' ? startRedisCluster() : startRedisServer();
}

/**
 * A real redis-server (or, with `topology: 'cluster'`, a real three-master cluster) for one test file or describe
 * block, started before its tests and stopped after them, with one client per name (two names: two instances'
 * worth) and a fresh key prefix per call, so that tests share the server without sharing records. Call it at the
 * top of the file or block: its hooks wrap the block's own.
 */
export function useRedisServer(names: readonly string[], options: { topology?: RedisTopology } = {}) {
  let server: RedisTarget | undefined;
  let clients: RedisClient[] = [];
  let prefixes = 0;
  // A cluster takes a few seconds to form (redis-cli waits for the nodes to agree): more than a unit hook's default.
  beforeAll(async () => {
    server = await startRedis(options.topology);
    clients = names.map((name) => createRedis(server!.url, { name }));
  }, 60_000);
  afterAll(async () => {
    await quitAll(clients);
    await server?.stop();
  });
  return {
    get url(): string {
      if (!server) throw new Error('the redis-server is not started yet (use it inside tests or hooks)');
      return server.url;
    },
    /** The clients, in the order of `names`. */
    get clients(): readonly RedisClient[] {
      return clients;
    },
    freshPrefix: () => `test${++prefixes}`,
  };
}

/** `KEYS pattern` over the whole keyspace: on a cluster, every master's share (KEYS asks one node). Tests only. */
export async function keysOf(client: RedisClient, pattern: string): Promise<string[]> {
  if (!isCluster(client)) return client.keys(pattern);
  const perNode = await Promise.all(client.nodes('master').map((node) => node.keys(pattern)));
  return perNode.flat();
}
