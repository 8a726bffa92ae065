import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createTokenVerifier, type TokenVerifier } from './common/auth/token-verifier.js';
import { SUBGRAPH_NAMES, type AppConfig, type SubgraphName } from './common/config.js';
import { InMemoryEventBackbone, type CanonicalEvent, type EventBackbone } from './common/events.js';
import { InMemoryIdempotencyStore, type IdempotencyStore } from './common/idempotency.js';
import { createRedis, quitAll } from './common/redis/connection.js';
import { RedisEventBackbone } from './common/redis/event-backbone.js';
import { RedisIdempotencyStore } from './common/redis/idempotency-store.js';
import { RedisStockBook, type RedisStockBookOptions } from './common/redis/stock-book.js';
import type { RedisClient } from './common/redis/connection.js';
import { JournaledEventBackbone, JournaledIdempotencyStore, JournaledWrites } from './common/durable.js';
import { Journal } from './common/journal.js';
import { EventOutbox } from './common/outbox/event-outbox.js';
import { JournaledEventOutboxStore, RedisEventOutboxStore } from './common/outbox/stores.js';
import { createLogger, type Logger } from './common/logger.js';
import { ResilienceRegistry } from './common/resilience.js';
import { Metrics } from './common/telemetry/metrics.js';
import { observeReplays } from './common/idempotent-mutation.js';
import { observedBackbone } from './common/telemetry/observed-backbone.js';
import { InMemoryMasterDataStore, JournaledMasterDataStore } from './common/master-data/memory-store.js';
import { RedisMasterDataStore } from './common/master-data/redis-store.js';
import { SandboxLocationDirectory } from './subgraphs/master-data/sandbox-locations.js';
import type { MasterDataStore } from './common/master-data/store.js';
import { MasterDataSync, RedisSyncLease, type MasterDataSource } from './common/master-data/sync.js';
import type { HttpService, LocalExecutor, LocalSubscriber } from './common/service.js';
import { DEFAULT_DOCUMENT_LIMITS } from './gateway/edge/limits.js';
import { MemoryRateLimiter, RedisRateLimiter } from './common/rate-limit.js';
import { explorerFor } from './gateway/explorer.js';
import { opsConsoleFor } from './gateway/ops-console.js';
import { createGateway, trustedDocumentsAt, type EdgeOptions, type GatewayService } from './gateway/gateway.js';
import { SandboxIdentityProvider, seededDirectory } from './sandbox/identity-provider.js';
import { createSandbox } from './sandbox/index.js';
import { remoteSystems } from './sandbox/remote.js';
import { generateSeedData, type SeedData } from './sandbox/seed.js';
import { SANDBOX_ODATA_CLIENT, SANDBOX_ODATA_PATH, SANDBOX_ODATA_TOKEN_PATH } from './sandbox/odata/service.js';
import { createSandboxServer } from './sandbox/server.js';
import type { SandboxSystems } from './sandbox/index.js';
import type { SubgraphEnvironment } from './subgraphs/environment.js';
import { createErpAdapters, type ErpAdapters, type ODataEndpoint } from './subgraphs/erp-adapters.js';
import { SUBGRAPHS } from './subgraphs/registry.js';

export interface StackOptions {
  config: AppConfig;
  logger?: Logger;
  /** Bind every service to port 0 (tests, benchmarks) instead of the configured ports. */
  ephemeralPorts?: boolean;
  /** Host to bind; default the config's. */
  host?: string;
  /** The process's series. @default a registry of its own */
  metrics?: Metrics | undefined;
}

/**
 * The whole graph in one process: sandbox systems and their control, five subgraphs, the gateway. With
 * `SANDBOX_URL` the systems are another process's (several stacks then share them); with `REDIS_URL` the event
 * backbone and idempotency records are Redis's.
 */
export interface Stack {
  urls: { gateway: string; sandbox: string; subgraphs: Record<SubgraphName, string> };
  /** The seeded data (the same in every process for one seed) and the systems as this stack's adapters see them. */
  sandbox: { data: SeedData; systems: SandboxSystems };
  backbone: EventBackbone;
  /** The read models of ERP master data and their sync. */
  masterData: MasterData;
  gateway: GatewayService;
  /** The one registry of the process's series, served at every service's `/metrics` (none with METRICS_ENABLED=false). */
  metrics: Metrics | undefined;
  stop(): Promise<void>;
}

/** The event backbone and idempotency records: in memory (embedded) or in Redis (several instances). */
export interface Infrastructure {
  backbone: EventBackbone;
  idempotency: IdempotencyStore;
  redis?: { client: RedisClient; prefix: string } | undefined;
  /**
   * With Redis: the stock counts and reservations every instance promises from. The embedded POS and WMS keep
   * their stock in it (`createSandbox`'s `stock`), below the sandbox's faults and call counters.
   */
  stock?: RedisStockBook | undefined;
  /**
   * Where every producer hands its events (common/outbox): recorded with the change's durability (memory, the
   * DATA_DIR journal, or Redis) and published from there with retries. Its relay runs from `start`.
   */
  outbox: EventOutbox;
  /** Start the outbox's relay (after the journal's replay, so that it sees what an earlier run left). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function createInfrastructure(
  config: AppConfig,
  logger: Logger,
  seed: Pick<SeedData, 'events' | 'stock'>,
  /** DATA_DIR's journal, not replayed yet: the backbone and the idempotency records register as its owners. */
  journal?: Journal,
  /** Where the backbone's and the outbox's traffic is counted. @default nowhere */
  metrics?: Metrics,
): Promise<Infrastructure> {
  const observed = (infrastructure: Infrastructure): Infrastructure => {
    if (!metrics) return infrastructure;
    const { outbox, idempotency } = infrastructure;
    observeReplays(idempotency, (operation) => metrics.idempotentReplays.inc({ operation }));
    metrics.read(metrics.outboxPending, (gauge) => gauge.set({ outbox: 'events' }, outbox.stats().inFlight));
    return infrastructure;
  };
  const observe = (backbone: EventBackbone): EventBackbone => (metrics ? observedBackbone(backbone, metrics) : backbone);
  if (config.redisUrl) {
    const redis = createRedis(config.redisUrl, { name: 'stack', logger });
    const redisBackbone = new RedisEventBackbone({ redis, prefix: config.redisPrefix, logger, retention: config.eventStreamRetention });
    const backbone = observe(redisBackbone);
    const tag = `seed-${config.sandbox.seed}-scale-${config.sandbox.scale}`;
    // The first instance loads the seeded history; the others wait for it and load nothing.
    await redisBackbone.load(seed.events, tag);
    const stock = await openStockBook(config, redis, seed.stock);
    const outbox = new EventOutbox({ backbone, store: new RedisEventOutboxStore(redis, config.redisPrefix), logger: outboxLogger(logger) });
    return observed({
      backbone,
      idempotency: new RedisIdempotencyStore({ redis, prefix: config.redisPrefix }),
      redis: { client: redis, prefix: config.redisPrefix },
      stock,
      outbox,
      start: () => outbox.start(),
      async close() {
        await outbox.stop();
        await redisBackbone.close();
        await quitAll([redis]);
      },
    });
  }
  const memory = new InMemoryEventBackbone({ retention: config.eventStreamRetention });
  memory.load(seed.events);
  const embedded = (inner: EventBackbone, idempotency: IdempotencyStore, store?: JournaledEventOutboxStore): Infrastructure => {
    const backbone = observe(inner);
    const outbox = new EventOutbox({ backbone, store, logger: outboxLogger(logger) });
    return observed({ backbone, idempotency, outbox, start: () => outbox.start(), close: () => outbox.stop() });
  };
  if (!journal) return embedded(memory, new InMemoryIdempotencyStore());
  return embedded(new JournaledEventBackbone(memory, journal), new JournaledIdempotencyStore(new InMemoryIdempotencyStore(), journal), new JournaledEventOutboxStore(journal));
}

const outboxLogger = (logger: Logger) => logger.child({ component: 'event-outbox' });

/** Redis's shared stock book, seeded once per seed and scale. */
async function openStockBook(config: AppConfig, redis: RedisStockBookOptions['redis'], records: SeedData['stock']): Promise<RedisStockBook> {
  const stock = new RedisStockBook({ redis, prefix: config.redisPrefix });
  // Seeded counts are written only where Redis has no record yet, so a restart never undoes a sale.
  await stock.load(records, `seed-${config.sandbox.seed}-scale-${config.sandbox.scale}`);
  return stock;
}

/**
 * The token verifier of one process: the gateway and every subgraph in it check tokens against the identity
 * provider's JWKS (`AUTH_JWKS_URL`; by default the sandbox's, exactly as they would a real provider's).
 */
export function tokenVerifierFor(config: AppConfig, sandboxUrl: string): TokenVerifier {
  const { auth } = config;
  return createTokenVerifier({
    jwksUrl: auth.jwksUrl ?? `${sandboxUrl.replace(/\/$/, '')}/sandbox/.well-known/jwks.json`,
    issuer: auth.issuer,
    audience: auth.audience,
    clockToleranceSeconds: auth.clockToleranceSeconds,
    jwksCooldownMs: auth.jwksCooldownMs,
    claimNames: { role: auth.roleClaim, location: auth.locationClaim },
  });
}

/** Where a lone gateway or subgraph finds the sandbox when no URL is configured: its default port on this host. */
const defaultSandboxUrl = (config: AppConfig): string => config.sandboxUrl ?? `http://127.0.0.1:${config.sandboxPort}`;

/** Production runs against real systems and a real identity provider: refuse what only development may do. */
export function checkProductionConfig(config: AppConfig, mode: 'all' | 'gateway' | 'subgraph' | 'sandbox'): void {
  if (!config.production) return;
  if (mode === 'sandbox' || mode === 'all') throw new Error('NODE_ENV=production: the sandbox systems and their control port do not start in production');
  if (!config.auth.jwksUrl) throw new Error('NODE_ENV=production needs AUTH_JWKS_URL: the identity provider whose tokens the graph accepts');
  if (config.erp.adapter === 'odata' && !config.erp.url && mode !== 'gateway') throw new Error('NODE_ENV=production with ERP_ADAPTER=odata needs ERP_URL: there is no sandbox to default to');
}

/** The gateway's hardened edge from configuration; rate-limit buckets in Redis when instances share one. */
export function edgeFor(config: AppConfig, redis: Infrastructure['redis']): EdgeOptions {
  const { edge } = config;
  return {
    limits: { ...DEFAULT_DOCUMENT_LIMITS, ...edge.limits },
    maxBatch: edge.maxBatch,
    trustedDocuments: edge.trustedDocuments,
    documents: trustedDocumentsAt(resolve(edge.persistedDocumentsPath)),
    rateLimiter: redis ? new RedisRateLimiter({ redis: redis.client, prefix: redis.prefix }) : new MemoryRateLimiter(),
    rateLimit: edge.rateLimit,
    checkoutRateLimit: edge.checkoutRateLimit,
    corsOrigins: edge.corsOrigins,
  };
}

/** The sandbox's control port with its development identity provider (the seeded customers and locations sign in). */
async function sandboxServerFor(sandbox: { data: SeedData } & Parameters<typeof createSandboxServer>[0], config: AppConfig, logger: Logger): Promise<HttpService> {
  const identity = await SandboxIdentityProvider.create({ issuer: config.auth.issuer, audience: config.auth.audience, ...seededDirectory(sandbox.data) });
  return createSandboxServer(sandbox, logger, identity);
}

/**
 * What the gateway reaches, without a gateway: the sandbox, the subgraphs on their ports, the read models. The
 * launcher's primary process runs this when gateway workers (GATEWAY_WORKERS > 1) serve the gateway port.
 */
export type Backend = Omit<Stack, 'gateway' | 'urls'> & { urls: Omit<Stack['urls'], 'gateway'> };

export function startStack(options: StackOptions): Promise<Stack> {
  return launch(options, true) as Promise<Stack>;
}

/** {@link startStack} without its gateway: the gateway workers reach these subgraphs over HTTP at their URLs. */
export function startBackend(options: StackOptions): Promise<Backend> {
  return launch(options, false);
}

async function launch(options: StackOptions, withGateway: boolean): Promise<Stack | Backend> {
  const { config } = options;
  checkProductionConfig(config, 'all');
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const host = options.host ?? config.host;
  const port = (configured: number) => (options.ephemeralPorts ? 0 : configured);
  const metrics = config.telemetry.metrics ? (options.metrics ?? new Metrics()) : undefined;
  const started: HttpService[] = [];
  let infrastructure: Infrastructure | undefined;
  let masterData: MasterData | undefined;
  let journal: Journal | undefined;
  try {
    let sandbox: Stack['sandbox'];
    let durable: { masterData?: JournaledMasterDataStore | undefined } | undefined;
    let sandboxUrl: string;
    const data = generateSeedData({ seed: config.sandbox.seed, scale: config.sandbox.scale });
    if (config.sandboxUrl) {
      // The systems, their stock book included, are the sandbox process's: its faults and counters apply to every call.
      sandbox = { data, systems: remoteSystems(config.sandboxUrl) };
      sandboxUrl = config.sandboxUrl.replace(/\/$/, '');
      infrastructure = await createInfrastructure(config, logger, data, undefined, metrics);
      await infrastructure.start();
    } else {
      // The embedded systems of record journal their writes, so a restart (even after kill -9) finds them. Every
      // owner of the journal's entries registers before it is replayed (its last snapshot, then what came after).
      journal = await Journal.create(config.dataDir, { ...config.journal, logger: logger.child({ component: 'journal' }) });
      const writes = new JournaledWrites(journal);
      // Before the sandbox: with Redis, the POS and WMS keep their stock in its shared book.
      infrastructure = await createInfrastructure(config, logger, data, journal, metrics);
      durable = { masterData: config.redisUrl ? undefined : JournaledMasterDataStore.attach(journal) };
      const replayStarted = performance.now();
      // Before the replay: the snapshot's state and each later write go straight into the systems, none kept aside.
      const local = createSandbox(config.sandbox, {
        data,
        ...(infrastructure.stock ? { stock: infrastructure.stock } : {}),
        onWrite: (write) => writes.record(write),
      });
      writes.attach(local.journaled);
      const replayed = await journal.replay();
      await infrastructure.start();
      logger.info({ dataDir: config.dataDir, replayed: replayed.entries, snapshotRecords: replayed.snapshotRecords, replayMs: Math.round(performance.now() - replayStarted), owners: replayed.owners }, 'journal opened');
      sandbox = local;
      const sandboxServer = await sandboxServerFor(local, config, logger.child({ service: 'sandbox' }));
      // The control port is a development tool: loopback only unless SANDBOX_HOST says otherwise.
      sandboxUrl = await sandboxServer.listen(port(config.sandboxPort), options.host ?? config.sandboxHost);
      started.push(sandboxServer);
    }
    const { backbone, idempotency, redis, outbox } = infrastructure;
    // One verifier for the whole process: the gateway and the five subgraphs share its cache of verified tokens.
    const verifier = tokenVerifierFor(config, sandboxUrl);
    const authenticate = (authorization: string | undefined) => verifier.authenticate(authorization);
    const resilience = new ResilienceRegistry(config.adapter, logger, metrics);
    const erp = erpAdaptersFor(config, sandbox.systems, resilience, sandboxUrl);
    masterData = await startMasterData(config, logger, { systems: sandbox.systems, source: erp.masterData, resilience, backbone, redis, durable, metrics });

    const env: SubgraphEnvironment = { config, systems: sandbox.systems, backbone, outbox, idempotency, redis, resilience, logger, authenticate, masterData, erp, metrics };
    const subgraphUrls = {} as Record<SubgraphName, string>;
    const localSubgraphs: Partial<Record<SubgraphName, LocalExecutor>> = {};
    const localSubscribers: Partial<Record<SubgraphName, LocalSubscriber>> = {};
    for (const name of SUBGRAPH_NAMES) {
      const service = await SUBGRAPHS[name].create(env);
      subgraphUrls[name] = await service.listen(port(config.subgraphPorts[name]), host);
      if (config.subgraphDispatch === 'local') {
        localSubgraphs[name] = service.executeLocal;
        localSubscribers[name] = service.subscribeLocal;
      }
      started.push(service);
    }
    // Gateway first, so that in-flight requests drain while the subgraphs still answer them.
    const stop = async () => {
      await stopAll(started.slice().reverse());
      await masterData?.stop();
      await infrastructure?.close();
      await journal?.close();
    };
    if (!withGateway) return { urls: { sandbox: sandboxUrl, subgraphs: subgraphUrls }, sandbox, backbone, masterData, metrics, stop };

    const gateway = await createGateway({
      supergraphSdl: await readFile(resolve(config.supergraphPath), 'utf8'),
      subgraphUrls,
      localSubgraphs,
      localSubscribers,
      subscriptions: config.subscriptions,
      authenticate,
      edge: edgeFor(config, redis),
      production: config.production,
      executor: config.gatewayExecutor,
      deduplicate: config.gatewayDeduplicate,
      explorer: explorerFor(config),
      opsConsole: opsConsoleFor(config),
      metrics: metrics ? { registry: metrics, scrapeToken: config.telemetry.metricsToken } : undefined,
      logger: logger.child({ service: 'gateway' }),
    });
    const gatewayUrl = await gateway.listen(port(config.gatewayPort), host);
    started.push(gateway);

    return {
      urls: { gateway: gatewayUrl, sandbox: sandboxUrl, subgraphs: subgraphUrls },
      sandbox,
      backbone,
      masterData,
      gateway,
      metrics,
      stop,
    };
  } catch (error) {
    await stopAll(started.slice().reverse());
    await masterData?.stop();
    await infrastructure?.close();
    await journal?.close();
    throw error;
  }
}

/**
 * Where the OData connector talks, as whom: ERP_URL with its token endpoint and client credentials, or, without
 * ERP_URL (development), the OData service of the sandbox at `sandboxUrl` with the sandbox's client unless
 * ERP_CLIENT_ID / ERP_CLIENT_SECRET say otherwise.
 */
export function odataEndpointFor(config: AppConfig, sandboxUrl: string): ODataEndpoint {
  const { erp } = config;
  if (erp.url) {
    const missing = (['tokenUrl', 'clientId', 'clientSecret'] as const).filter((k) => !erp[k]);
    if (missing.length) throw new Error(`ERP_URL needs ${missing.map((k) => ({ tokenUrl: 'ERP_TOKEN_URL', clientId: 'ERP_CLIENT_ID', clientSecret: 'ERP_CLIENT_SECRET' })[k]).join(', ')}`);
    return { serviceUrl: erp.url, tokenUrl: erp.tokenUrl!, clientId: erp.clientId!, clientSecret: erp.clientSecret!, scope: erp.scope };
  }
  const base = sandboxUrl.replace(/\/$/, '');
  return {
    serviceUrl: `${base}${SANDBOX_ODATA_PATH}`,
    tokenUrl: erp.tokenUrl ?? `${base}${SANDBOX_ODATA_TOKEN_PATH}`,
    clientId: erp.clientId ?? SANDBOX_ODATA_CLIENT.clientId,
    clientSecret: erp.clientSecret ?? SANDBOX_ODATA_CLIENT.clientSecret,
    scope: erp.scope,
  };
}

/** The ERP adapter family of this process (ERP_ADAPTER): one set of ports for the sync and for finance. */
export function erpAdaptersFor(config: AppConfig, systems: SandboxSystems, resilience: ResilienceRegistry, sandboxUrl: string): ErpAdapters {
  return createErpAdapters(config, { systems, resilience, odata: config.erp.adapter === 'odata' ? odataEndpointFor(config, sandboxUrl) : undefined });
}

/** The read models of ERP master data and the worker that keeps them in sync with the ERP's change feed. */
export interface MasterData {
  store: MasterDataStore;
  sync: MasterDataSync;
  stop(): Promise<void>;
}

/**
 * The read models every channel read and every checkout use instead of the ERP: in Redis when instances share one
 * (one instance at a time syncs, by lease), journaled in DATA_DIR in the embedded default, in memory otherwise. The
 * first sync round (a snapshot on a first start, the changes since the stored position after a restart) is done
 * before this resolves, unless the ERP cannot be reached: then the worker keeps trying and the models answer what
 * they held.
 */
export async function startMasterData(
  config: AppConfig,
  logger: Logger,
  deps: {
    systems: SandboxSystems;
    /** The ERP's change feed, from the chosen adapter family ({@link erpAdaptersFor}). */
    source: MasterDataSource;
    resilience: ResilienceRegistry;
    backbone: EventBackbone;
    redis?: Infrastructure['redis'];
    /** DATA_DIR's journaled store (already replayed). */
    durable?: { masterData?: JournaledMasterDataStore | undefined } | undefined;
    /** Where the sync's lag is read. @default nowhere */
    metrics?: Metrics | undefined;
  },
): Promise<MasterData> {
  const { redis, durable } = deps;
  const store: MasterDataStore = redis
    ? await RedisMasterDataStore.open({ redis: redis.client, prefix: redis.prefix, logger })
    : (durable?.masterData ?? new InMemoryMasterDataStore());
  const sync = new MasterDataSync({
    source: deps.source,
    store,
    backbone: deps.backbone,
    logger: logger.child({ component: 'master-data-sync' }),
    locations: new SandboxLocationDirectory(deps.systems, deps.resilience),
    lease: redis ? new RedisSyncLease({ redis: redis.client, prefix: redis.prefix }) : undefined,
    pollMs: config.masterData.pollMs,
    backoffBaseMs: config.masterData.backoffBaseMs,
    backoffCapMs: config.masterData.backoffCapMs,
  });
  await sync.start();
  deps.metrics?.read(deps.metrics.masterDataLag, (gauge) => {
    const { lastPollAt } = sync.status();
    if (lastPollAt) gauge.set(Math.max(0, Date.now() - Date.parse(lastPollAt)) / 1000);
  });
  return {
    store,
    sync,
    async stop() {
      await sync.stop();
      await store.close();
    },
  };
}

async function stopAll(services: HttpService[]): Promise<void> {
  for (const service of services) await service.stop();
}

/** One subgraph in its own process (multi-process deployment). */
export async function startSubgraph(name: SubgraphName, config: AppConfig, logger: Logger): Promise<{ url: string; service: HttpService }> {
  checkProductionConfig(config, 'subgraph');
  const alone = SUBGRAPHS[name].createAlone;
  if (alone) {
    const verifier = tokenVerifierFor(config, defaultSandboxUrl(config));
    const metrics = config.telemetry.metrics ? new Metrics({ processMetrics: true }) : undefined;
    const service = await alone({ config, logger, authenticate: (authorization) => verifier.authenticate(authorization), metrics });
    return { url: await service.listen(config.subgraphPorts[name], config.host), service };
  }
  // With SANDBOX_URL the systems live in the sandbox process (shared faults and counters); without it this
  // process embeds its own copy, which is the same data because the seed is deterministic.
  // With REDIS_URL the embedded POS and WMS keep their stock in Redis's shared book, as every instance does.
  const data = generateSeedData({ seed: config.sandbox.seed, scale: config.sandbox.scale });
  const metrics = config.telemetry.metrics ? new Metrics({ processMetrics: true }) : undefined;
  const infrastructure = await createInfrastructure(config, logger, data, undefined, metrics);
  await infrastructure.start();
  const systems = config.sandboxUrl ? remoteSystems(config.sandboxUrl) : createSandbox(config.sandbox, { data, ...(infrastructure.stock ? { stock: infrastructure.stock } : {}) }).systems;
  const verifier = tokenVerifierFor(config, defaultSandboxUrl(config));
  const resilience = new ResilienceRegistry(config.adapter, logger, metrics);
  const erp = erpAdaptersFor(config, systems, resilience, defaultSandboxUrl(config));
  // A lone subgraph keeps its own read models (in Redis, shared with every instance, when REDIS_URL is set).
  const masterData = await startMasterData(config, logger, { systems, source: erp.masterData, resilience, backbone: infrastructure.backbone, redis: infrastructure.redis, metrics });
  const env: SubgraphEnvironment = {
    config,
    systems,
    backbone: infrastructure.backbone,
    outbox: infrastructure.outbox,
    idempotency: infrastructure.idempotency,
    redis: infrastructure.redis,
    resilience,
    logger,
    authenticate: (authorization) => verifier.authenticate(authorization),
    masterData,
    erp,
    metrics,
  };
  const service = await SUBGRAPHS[name].create(env);
  const url = await service.listen(config.subgraphPorts[name], config.host);
  return {
    url,
    service: stoppingAlso(service, async () => {
      await masterData.stop();
      await infrastructure.close();
    }),
  };
}

/** The service, and `after` once it has stopped (what it alone used: its infrastructure, its Redis client). */
function stoppingAlso<S extends HttpService>(service: S, after: () => Promise<void>): S {
  return {
    ...service,
    stop: async () => {
      await service.stop();
      await after();
    },
  };
}

export async function startGatewayOnly(config: AppConfig, logger: Logger): Promise<{ url: string; service: GatewayService }> {
  checkProductionConfig(config, 'gateway');
  // Instances of the gateway share their rate-limit buckets through Redis.
  const redis = config.redisUrl ? { client: createRedis(config.redisUrl, { name: 'gateway', logger }), prefix: config.redisPrefix } : undefined;
  const verifier = tokenVerifierFor(config, defaultSandboxUrl(config));
  const service = await createGateway({
    supergraphSdl: await readFile(resolve(config.supergraphPath), 'utf8'),
    subgraphUrls: config.subgraphUrls,
    subscriptions: config.subscriptions,
    authenticate: (authorization) => verifier.authenticate(authorization),
    edge: edgeFor(config, redis),
    production: config.production,
    executor: config.gatewayExecutor,
    deduplicate: config.gatewayDeduplicate,
    explorer: explorerFor(config),
    opsConsole: opsConsoleFor(config),
    metrics: config.telemetry.metrics ? { registry: new Metrics({ processMetrics: true }), scrapeToken: config.telemetry.metricsToken } : undefined,
    logger,
  });
  const url = await service.listen(config.gatewayPort, config.host);
  return { url, service: stoppingAlso(service, async () => (redis ? quitAll([redis.client]) : undefined)) };
}

export async function startSandboxOnly(config: AppConfig, logger: Logger): Promise<{ url: string; service: HttpService }> {
  checkProductionConfig(config, 'sandbox');
  const data = generateSeedData({ seed: config.sandbox.seed, scale: config.sandbox.scale });
  // With REDIS_URL the POS and WMS keep their stock in Redis's shared book, as the embedded ones of every instance do.
  const redis = config.redisUrl ? createRedis(config.redisUrl, { name: 'sandbox', logger }) : undefined;
  try {
    const stock = redis ? await openStockBook(config, redis, data.stock) : undefined;
    const service = await sandboxServerFor(createSandbox(config.sandbox, { data, ...(stock ? { stock } : {}) }), config, logger);
    const url = await service.listen(config.sandboxPort, config.sandboxHost);
    return { url, service: redis ? stoppingAlso(service, () => quitAll([redis])) : service };
  } catch (error) {
    if (redis) await quitAll([redis]);
    throw error;
  }
}
