import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { createRedis, quitAll } from '../../common/redis/connection.js';
import { startRedisServer, type RedisServerHandle } from '../../scripts/redis-server.js';

export { startRedisServer, type RedisServerHandle, type StartRedisServerOptions } from '../../scripts/redis-server.js';

/**
 * A real redis-server for one test file, started before its tests and stopped after them, with one client per
 * name (two names: two instances' worth) and a fresh key prefix per call, so that tests share the server
 * without sharing records. Call it at the top of the file: its hooks wrap the file's own.
 */
export function useRedisServer(names: readonly string[]) {
  let server: RedisServerHandle | undefined;
  let clients: Redis[] = [];
  let prefixes = 0;
  beforeAll(async () => {
    server = await startRedisServer();
    clients = names.map((name) => createRedis(server!.url, { name }));
  });
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
    get clients(): readonly Redis[] {
      return clients;
    },
    freshPrefix: () => `test${++prefixes}`,
  };
}
