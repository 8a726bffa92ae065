import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';

export type { Redis };

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
  /** Anything else, passed to ioredis as is (wins over the settings above). Default `{}`. */
  ioredis?: RedisOptions;
}

/** Prefix of every connection name, so that our clients stand out in `CLIENT LIST`. */
export const CONNECTION_NAME_PREFIX = 'retail-supergraph';

/**
 * A Redis client for `url` (`redis://[user:pass@]host:port[/db]`, or `rediss://` for TLS), connecting right away.
 * Commands issued before the connection is up are queued rather than rejected, so that startup code need not
 * wait for `ready`.
 */
export function createRedis(url: string, options: CreateRedisOptions = {}): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 3,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    ...(options.commandTimeoutMs !== undefined ? { commandTimeout: options.commandTimeoutMs } : {}),
    connectionName: `${CONNECTION_NAME_PREFIX}:${options.name ?? 'main'}`,
    // Capped backoff: quick to come back after a blip, no hammering of a Redis that is down for longer.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    // A peer that vanished without a FIN (a killed VM, a dropped NAT entry) is noticed in about a minute.
    keepAlive: 30_000,
    ...options.ioredis,
  });
  const logger = options.logger;
  if (logger) attachErrorLogger(redis, logger);
  return redis;
}

/**
 * Log a client's connection errors, once per distinct message until it is ready again: ioredis emits one per
 * reconnect attempt, and a Redis that is down for a minute must not flood the log.
 */
export function attachErrorLogger(redis: Redis, logger: Pick<Logger, 'warn'>): void {
  let last: string | undefined;
  redis.on('error', (error: Error) => {
    if (error.message === last) return;
    last = error.message;
    logger.warn({ err: error, redis: redis.options.connectionName }, 'redis connection error');
  });
  redis.on('ready', () => (last = undefined));
}

/**
 * Close clients gracefully (QUIT lets queued replies arrive), falling back to a hard disconnect after
 * `timeoutMs` (default 1000) — QUIT waits behind the offline queue, which never drains while Redis is down.
 * Never rejects: it runs during shutdown, where there is nobody left to handle an error.
 */
export async function quitAll(clients: Iterable<Redis | undefined>, timeoutMs = 1_000): Promise<void> {
  await Promise.all([...clients].map((client) => (client ? quitOne(client, timeoutMs) : undefined)));
}

async function quitOne(client: Redis, timeoutMs: number): Promise<void> {
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
export async function disconnectNow(client: Redis, timeoutMs = 1_000): Promise<void> {
  if (client.status === 'end') return;
  const closed = new Promise<void>((resolve) => client.once('end', resolve));
  client.disconnect();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}
