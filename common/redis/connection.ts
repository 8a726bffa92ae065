import { Cluster, Redis, type ChainableCommander, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseRedisUrl } from '../config.js';
import type { Logger } from '../logger.js';
import { slotOf } from './keys.js';

export type { Cluster, Redis };

/**
 * A connection to one Redis server or to a Redis Cluster. Every command, script (`defineCommand`), pipeline and
 * MULTI the stores use exists on both; a cluster only adds that the keys of one script, MULTI or pipeline must
 * share a hash slot (see `keys.ts`). Take one from {@link createRedis}, and a second one, for blocking reads, from
 * {@link duplicateRedis}.
 */
export type RedisClient = Redis | Cluster;

export interface CreateRedisOptions {
  /**
   * Shown by `CLIENT LIST` as `retail-supergraph:<name>`, so that an operator can tell which service holds which
   * connection. Default `'main'`.
   */
  name?: string;
  /** Where connection errors go. Default: none (ioredis then prints them to stderr itself). */
  logger?: Pick<Logger, 'warn'>;
  /**
   * How many reconnect attempts a queued command waits through before it fails, so that a request fails
   * (and its caller can answer) instead of hanging while Redis is down. Default 3.
   */
  maxRetriesPerRequest?: number;
  /** How long one connection attempt may take, in ms. Default 5000. */
  connectTimeoutMs?: number;
  /**
   * Per-command client-side timeout, in ms. Default: none. Leave it unset on clients that run blocking
   * commands; {@link RedisEventBackbone} clears it on its own reader connection anyway.
   */
  commandTimeoutMs?: number;
  /** Anything else, passed to ioredis as is (wins over the settings above; a cluster's per-node options). Default `{}`. */
  ioredis?: RedisOptions;
  /** For a cluster URL: passed to ioredis's `Cluster` as is (wins over the settings above). Default `{}`. */
  cluster?: ClusterOptions;
}

/** Prefix of every connection name, so that our clients stand out in `CLIENT LIST`. */
export const CONNECTION_NAME_PREFIX = 'retail-supergraph';

// Capped backoff: quick to come back after a blip, no hammering of a Redis that is down for longer.
const retryStrategy = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2_000);

/**
 * A client for `url`, connecting right away: `redis://[user:pass@]host:port[/db]` (`rediss://` for TLS) gives one
 * server's `Redis`, `redis+cluster://[user:pass@]host:port,host:port` (`rediss+cluster://`) a `Cluster` that
 * finds the other nodes from these (see `parseRedisUrl` in `common/config.ts`). The one place that decides; every
 * Redis user takes its connection from here. Commands issued before the connection is up are queued rather than
 * rejected, so that startup code need not wait for `ready`.
 */
export function createRedis(url: string, options: CreateRedisOptions = {}): RedisClient {
  const target = parseRedisUrl(url);
  const common: RedisOptions = {
    enableOfflineQueue: true,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 3,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    ...(options.commandTimeoutMs !== undefined ? { commandTimeout: options.commandTimeoutMs } : {}),
    connectionName: `${CONNECTION_NAME_PREFIX}:${options.name ?? 'main'}`,
    // A peer that vanished without a FIN (a killed VM, a dropped NAT entry) is noticed in about a minute.
    keepAlive: 30_000,
  };
  let redis: RedisClient;
  if (target.kind === 'single') {
    redis = new Redis(target.url, { lazyConnect: false, ...common, retryStrategy, ...options.ioredis });
  } else {
    redis = new Cluster(target.nodes, {
      lazyConnect: false,
      enableOfflineQueue: true,
      clusterRetryStrategy: retryStrategy,
      // No auto-pipelining: with it, ioredis 5 put our scripts (key count given per call) of different nodes
      // into one batch, which then failed ("All keys in the pipeline should belong to the same slots allocation
      // group"). Batching is explicit instead, a pipeline per node (`pipelineBySlot`).
      enableAutoPipelining: false,
      redisOptions: {
        ...common,
        ...(target.username ? { username: target.username } : {}),
        ...(target.password ? { password: target.password } : {}),
        ...(target.tls ? { tls: {} } : {}),
        ...options.ioredis,
      },
      ...options.cluster,
    });
  }
  const logger = options.logger;
  if (logger) attachErrorLogger(redis, logger);
  return redis;
}

export interface DuplicateRedisOptions {
  /** Appended to the original's connection name (`<name>:<suffix>`), for `CLIENT LIST`. */
  suffix: string;
}

/**
 * A second client to the same server or cluster, for a blocking read (`XREAD BLOCK`, `XREADGROUP BLOCK`), which
 * holds its connection (on a cluster: the connection to the stream's node) for as long as it blocks. It has no
 * command timeout (that would cut the block) and no retry limit (through an outage the read waits for the
 * reconnect).
 */
export function duplicateRedis(client: RedisClient, options: DuplicateRedisOptions): RedisClient {
  const connectionName = `${connectionNameOf(client) ?? CONNECTION_NAME_PREFIX}:${options.suffix}`;
  const overrides = { connectionName, commandTimeout: undefined, maxRetriesPerRequest: null, enableOfflineQueue: true };
  if (client instanceof Cluster) {
    return client.duplicate([], { ...client.options, lazyConnect: false, redisOptions: { ...client.options.redisOptions, ...overrides } });
  }
  return client.duplicate({ ...overrides, lazyConnect: false });
}

/** The name a client shows in `CLIENT LIST` (on a cluster: every node connection's). */
export function connectionNameOf(client: RedisClient): string | undefined {
  return client instanceof Cluster ? client.options.redisOptions?.connectionName : client.options.connectionName;
}

/** Whether `client` talks to a cluster, where keys that one script or MULTI touches must share a slot. */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/**
 * Send one command per item in as few round trips as the topology allows: one pipeline on one server; on a
 * cluster, one pipeline per node (ioredis refuses a pipeline whose keys are on several nodes), the pipelines at
 * once. `keyOf` names the key of the item's command; `add` queues that command. The replies come back in item
 * order, each `[error, reply]`, as `pipeline.exec()` gives them. Not atomic: for a check-and-write use a script.
 */
export async function pipelineBySlot<T, P extends ChainableCommander = ChainableCommander>(
  client: RedisClient,
  items: readonly T[],
  keyOf: (item: T) => string,
  add: (pipeline: P, item: T) => void,
): Promise<[Error | null, unknown][]> {
  if (items.length === 0) return [];
  const groups = new Map<string, number[]>();
  if (client instanceof Cluster) {
    items.forEach((item, i) => {
      const slot = slotOf(keyOf(item));
      // Before the first slot map arrives, one group per slot: always allowed, just more round trips.
      const group = client.slots[slot]?.join(',') ?? `slot:${slot}`;
      const members = groups.get(group);
      if (members) members.push(i);
      else groups.set(group, [i]);
    });
  } else {
    groups.set('', items.map((_, i) => i));
  }
  const replies: [Error | null, unknown][] = new Array(items.length);
  await Promise.all(
    [...groups.values()].map(async (indexes) => {
      const pipeline = client.pipeline() as P;
      for (const i of indexes) add(pipeline, items[i]!);
      const results = (await pipeline.exec()) ?? [];
      indexes.forEach((itemIndex, j) => (replies[itemIndex] = results[j] ?? [new Error('no reply'), null]));
    }),
  );
  return replies;
}

/**
 * Log a client's connection errors, once per distinct message until it is ready again: ioredis emits one per
 * reconnect attempt, and a Redis that is down for a minute must not flood the log.
 */
export function attachErrorLogger(redis: RedisClient, logger: Pick<Logger, 'warn'>): void {
  let last: string | undefined;
  const log = (error: Error) => {
    if (error.message === last) return;
    last = error.message;
    logger.warn({ err: error, redis: connectionNameOf(redis) }, 'redis connection error');
  };
  redis.on('error', log);
  // A cluster reports a node's trouble (one master down, a failover) as 'node error', and 'error' only when it
  // gives up on the whole cluster.
  if (redis instanceof Cluster) redis.on('node error', log);
  redis.on('ready', () => (last = undefined));
}

/**
 * Close clients gracefully (QUIT lets queued replies arrive), falling back to a hard disconnect after
 * `timeoutMs` (default 1000) — QUIT waits behind the offline queue, which never drains while Redis is down.
 * Never rejects: it runs during shutdown, where there is nobody left to handle an error.
 */
export async function quitAll(clients: Iterable<RedisClient | undefined>, timeoutMs = 1_000): Promise<void> {
  await Promise.all([...clients].map((client) => (client ? quitOne(client, timeoutMs) : undefined)));
}

async function quitOne(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([client.quit(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  } catch {
    // Already closing or closed: the disconnect below settles it either way.
  } finally {
    clearTimeout(timer);
  }
  // QUIT's reply arrives before the socket closes; wait for the close so that no handle outlives the call.
  await disconnectNow(client, timeoutMs);
}

/**
 * Close a client at once: commands in flight are rejected (a blocking read, which QUIT would wait behind, ends
 * now). Resolves when the socket is closed, or after `timeoutMs` (default 1000): a client caught between
 * reconnect attempts has no socket left and never says 'end'.
 */
export async function disconnectNow(client: RedisClient, timeoutMs = 1_000): Promise<void> {
  if (client.status === 'end') return;
  const closed = new Promise<void>((resolve) => client.once('end', resolve));
  client.disconnect();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}
