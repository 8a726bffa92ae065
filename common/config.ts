/**
 * Configuration read from the environment. Every variable is documented in README.md; this is the only
 * module that reads `process.env`, so a service's configuration is one value that tests can build by hand.
 */

export const SUBGRAPH_NAMES = ['catalog', 'inventory', 'orders', 'customers', 'finance', 'nodes'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

export function isSubgraphName(value: string): value is SubgraphName {
  return (SUBGRAPH_NAMES as readonly string[]).includes(value);
}

export interface AdapterConfig {
  /** Timeout for one call to a system of record, in ms. Default 1000 (`ADAPTER_TIMEOUT_MS`). */
  timeoutMs: number;
  /** Extra attempts for a failed read (never for a timed-out one). Default 2 (`ADAPTER_RETRIES`). */
  retries: number;
  /** Consecutive failures that open a system's circuit. Default 5 (`BREAKER_FAILURES`). */
  breakerFailures: number;
  /** How long an open circuit fails fast before a trial call, in ms. Default 5000 (`BREAKER_RESET_MS`). */
  breakerResetMs: number;
}

export interface SandboxConfig {
  /** Seed of the deterministic demo data. Default 42 (`SANDBOX_SEED`). */
  seed: number;
  /** Multiplier of the default data volume (500 products, 2,000 customers, 10,000 orders). Default 1 (`SANDBOX_SCALE`). */
  scale: number;
}

/** Which ERP adapters the graph uses (see README "Connecting a real ERP (OData v4)"). */
export interface ErpConfig {
  /** `sandbox`: the sandbox ERP's own API (in process or over SANDBOX_URL); `odata`: the OData v4 connector (`ERP_ADAPTER`). @default 'sandbox' */
  adapter: 'sandbox' | 'odata';
  /** The OData service root (`ERP_URL`). Unset with `odata`: the sandbox's OData service. @default undefined */
  url: string | undefined;
  /** The OAuth2 token endpoint (`ERP_TOKEN_URL`); required with ERP_URL. @default the sandbox's, without ERP_URL */
  tokenUrl: string | undefined;
  /** OAuth2 client id (`ERP_CLIENT_ID`). @default the sandbox's client, without ERP_URL */
  clientId: string | undefined;
  /** OAuth2 client secret (`ERP_CLIENT_SECRET`). @default the sandbox's, without ERP_URL */
  clientSecret: string | undefined;
  /** OAuth2 scope asked for (`ERP_SCOPE`). @default none */
  scope: string | undefined;
  /** Entities per page the connector asks for (`ERP_PAGE_SIZE`, `Prefer: odata.maxpagesize`). @default 5000 */
  pageSize: number;
}

function erpAdapter(raw: string | undefined): 'sandbox' | 'odata' {
  if (raw === undefined || raw === '' || raw === 'sandbox') return 'sandbox';
  if (raw === 'odata') return 'odata';
  throw new Error(`ERP_ADAPTER must be sandbox or odata, got "${raw}"`);
}

/** How callers' tokens are verified (see README "Sign-in"). */
export interface AuthConfig {
  /**
   * The identity provider's JWKS (`AUTH_JWKS_URL`). Unset: the sandbox identity provider's
   * (`<sandbox>/sandbox/.well-known/jwks.json`), which production refuses.
   */
  jwksUrl: string | undefined;
  /** Required `iss` (`AUTH_ISSUER`). @default 'retail-sandbox-idp' */
  issuer: string;
  /** Required `aud` (`AUTH_AUDIENCE`). @default 'retail-supergraph' */
  audience: string;
  /** Clock skew allowed on `exp`/`nbf`, in seconds (`AUTH_CLOCK_TOLERANCE_S`). @default 30 */
  clockToleranceSeconds: number;
  /** Least time between two JWKS fetches, in ms (`AUTH_JWKS_COOLDOWN_MS`); an unknown `kid` refetches after it. @default 30000 */
  jwksCooldownMs: number;
  /** Claim naming the role (`AUTH_ROLE_CLAIM`). @default 'role' */
  roleClaim: string;
  /** Claim naming a store associate's location (`AUTH_LOCATION_CLAIM`). @default 'location_id' */
  locationClaim: string;
}

/** One token bucket: sustained requests per second and the burst above it. */
export interface BucketConfig {
  ratePerSecond: number;
  burst: number;
}

/** The gateway's hardened edge (see README "Limits"). */
export interface EdgeConfig {
  /** Overrides of the document limits (`MAX_QUERY_DEPTH`, `MAX_ALIASES`, `MAX_QUERY_TOKENS`, `MAX_QUERY_COST`, `MAX_QUERY_FIELDS`); unset keep the defaults. */
  limits: Partial<{ maxDepth: number; maxAliases: number; maxTokens: number; maxCost: number; maxFields: number }>;
  /** Operations in one batched HTTP request (a JSON array) at most (`MAX_BATCH_OPERATIONS`). @default 10 */
  maxBatch: number;
  /** `allow` any document, or `enforce`: anonymous and shopper callers may send only the manifest's (`TRUSTED_DOCUMENTS`). @default 'allow' */
  trustedDocuments: 'allow' | 'enforce';
  /** The persisted-documents manifest (`PERSISTED_DOCUMENTS_PATH`). @default 'persisted-documents.json' */
  persistedDocumentsPath: string;
  /** Every caller's bucket (`RATE_LIMIT_RPS`, `RATE_LIMIT_BURST`; a rate of 0 switches rate limiting off). @default 50 per second, burst 100 */
  rateLimit: BucketConfig;
  /** Each caller's checkout bucket, on top (`CHECKOUT_RATE_LIMIT_RPS`, `CHECKOUT_RATE_LIMIT_BURST`). @default 0.5 per second, burst 5 */
  checkoutRateLimit: BucketConfig;
  /** Origins allowed by CORS (`CORS_ORIGINS`, comma-separated; `*` for any). @default none: same-origin only */
  corsOrigins: string[];
}

export interface AppConfig {
  host: string;
  /** `NODE_ENV=production`: introspection off, errors masked, no sandbox, a real identity provider required. */
  production: boolean;
  /** Bind address of the sandbox control port (`SANDBOX_HOST`). @default '127.0.0.1' */
  sandboxHost: string;
  auth: AuthConfig;
  edge: EdgeConfig;
  gatewayPort: number;
  sandboxPort: number;
  subgraphPorts: Record<SubgraphName, number>;
  /** Routing URL override per subgraph for multi-process runs; empty means the supergraph file's URL. */
  subgraphUrls: Partial<Record<SubgraphName, string>>;
  supergraphPath: string;
  /** The client contract's folder (`CONTRACT_DIR`), whose operations the explorer offers. @default 'contract' */
  contractDir: string;
  /** When set, subgraphs reach the sandbox systems over HTTP at this URL instead of in process. */
  sandboxUrl: string | undefined;
  sandbox: SandboxConfig;
  adapter: AdapterConfig;
  /** The ERP adapter set and the OData connector's settings. */
  erp: ErpConfig;
  /** `available` at or under this is LOW_STOCK. Default 5 (`LOW_STOCK_THRESHOLD`). */
  lowStockThreshold: number;
  logLevel: string;
  /**
   * How the embedded gateway reaches the subgraphs of its own process: `local` (default: in process, no HTTP
   * round trip to itself) or `http` (the path a multi-process deployment takes). `SUBGRAPH_DISPATCH`. The
   * subgraphs listen on their ports either way.
   */
  subgraphDispatch: 'http' | 'local';
  /**
   * With `REDIS_URL` (or `REDIS_CLUSTER_NODES`), the event backbone and idempotency records live in Redis, shared by
   * every instance. A cluster is given as `redis+cluster://[user:pass@]host:port,host:port` (`rediss+cluster://` for
   * TLS); `REDIS_CLUSTER_NODES=host:port,host:port` is turned into that form here. Validated ({@link parseRedisUrl}).
   * @default undefined
   */
  redisUrl: string | undefined;
  /**
   * Key prefix in Redis, so that several graphs (or test runs) can share one server (`REDIS_PREFIX`). No `{` or `}`:
   * those would change every key's cluster hash slot.
   * @default 'retail'
   */
  redisPrefix: string;
  /**
   * Changes each resumable subscription stream retains (`EVENT_STREAM_RETENTION`): per location for stock changes,
   * per order for status moves. A subscriber resuming with `after` further back gets RESUME_TOO_OLD.
   * @default 10000
   */
  eventStreamRetention: number;
  /**
   * Where the embedded default keeps its journal (sandbox writes, events, idempotency records), so that what a
   * mutation returned survives a crash. Default `./data` (`DATA_DIR`).
   */
  dataDir: string;
  /**
   * When DATA_DIR's journals fold their entries into a snapshot (common/journal.ts): after
   * `JOURNAL_COMPACT_ENTRIES` entries (default 200000) or `JOURNAL_COMPACT_BYTES` bytes (default 134217728) since
   * the last one, and at a clean shutdown unless `JOURNAL_COMPACT_ON_CLOSE=false`.
   */
  journal: Partial<{ compactAfterEntries: number; compactAfterBytes: number }> & { compactOnClose: boolean };
  /**
   * How finance's ERP outbox retries (unset values keep the defaults: base 5000 ms, cap 900000 ms, 8 attempts,
   * poll 1000 ms): `ERP_OUTBOX_BASE_MS`, `ERP_OUTBOX_CAP_MS`, `ERP_OUTBOX_MAX_ATTEMPTS`, `ERP_OUTBOX_POLL_MS`; and how
   * hard it may press the ERP: `ERP_MAX_CALLS_PER_SECOND` (default 20, shared by every instance through Redis) and
   * `ERP_POSTING_BATCH_SIZE` (default 20 postings per ERP call).
   */
  erpOutbox: Partial<{ baseMs: number; capMs: number; maxAttempts: number; pollMs: number; maxCallsPerSecond: number; batchSize: number }>;
  /**
   * The read models of ERP master data and their sync from the ERP's change feed (unset values keep the defaults:
   * poll 500 ms, backoff from 500 ms up to 30 000 ms while the ERP fails): `MASTER_DATA_POLL_MS`,
   * `MASTER_DATA_BACKOFF_BASE_MS`, `MASTER_DATA_BACKOFF_CAP_MS`.
   */
  masterData: Partial<{ pollMs: number; backoffBaseMs: number; backoffCapMs: number }>;
  /**
   * The gateway's WebSocket subscriptions: open sockets at most (`WS_MAX_CONNECTIONS`, default 10 000) and the
   * keep-alive ping interval in ms (`WS_KEEPALIVE_MS`, default 12 000; a socket silent for two is dropped).
   */
  subscriptions: { maxConnections: number; keepAliveMs: number };
  /**
   * A PLACED order older than `staleMs` is a checkout that never finished (its process died): it is cancelled and
   * its stock and payment given back, looked for every `intervalMs` (`CHECKOUT_STALE_MS`, default 120 000;
   * `CHECKOUT_RECOVERY_INTERVAL_MS`, default 30 000).
   */
  checkoutRecovery: { staleMs: number; intervalMs: number };
  /**
   * Checkout's tax outage policy (see README "Tax from a tax engine"): the default rate per country in basis points
   * when the tax engine is out and no recent quote is known (`TAX_DEFAULT_RATES`, e.g. `DE:1900,AT:2000`; unset: the
   * built-in table), and how long a quote's rate is the last known rate (`TAX_LAST_RATE_MAX_AGE_MS`).
   * @default built-in rates, 86 400 000 ms (24 h)
   */
  tax: { defaultRatesBp?: Record<string, number> | undefined; lastRateMaxAgeMs: number };
  /** The marketplace connector (README "Marketplace orders"). */
  marketplace: MarketplaceConfig;
  /**
   * The default channel rule's settings (README "Channel-aware availability"), the same for availability and
   * checkout: units held back from the marketplace per SKU and location (`MARKETPLACE_BUFFER`), where it sells from
   * (`MARKETPLACE_LOCATIONS`: `WAREHOUSE` or `ALL`), stores not sold online (`ONLINE_EXCLUDED_STORES`, comma-separated).
   * @default 2, WAREHOUSE, none
   */
  channels: { marketplaceBuffer: number; marketplaceLocations: 'WAREHOUSE' | 'ALL'; onlineExcludedStores: string[] };
  /**
   * Gateway processes serving the one gateway port (`GATEWAY_WORKERS`, an integer from 1 to 64). Above 1 the
   * launcher's process forks that many workers through node:cluster, each with its own gateway; at 1 there is no
   * cluster at all. See gateway/cluster.ts.
   * @default 1
   */
  gatewayWorkers: number;
  /**
   * Who runs the gateway's query plans (`GATEWAY_EXECUTOR`): `compiled`, ours, or `apollo`, @apollo/gateway's
   * `executeQueryPlan` (the reference ours is tested against). See README "The gateway's executor".
   * @default 'compiled'
   */
  gatewayExecutor: 'compiled' | 'apollo';
  /** Share identical in-flight query fetches to a subgraph (`GATEWAY_DEDUPLICATE`, true or false). @default true */
  gatewayDeduplicate: boolean;
  /** Metrics, traces and the service objectives the operations console and the alert rules measure against. */
  telemetry: TelemetryConfig;
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got "${raw}"`);
  return value;
}

/** `TAX_DEFAULT_RATES`: `CC:basisPoints` pairs, comma-separated (`DE:1900,AT:2000`); unset or empty: none given. */
export function taxRates(raw: string | undefined): Record<string, number> | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const rates: Record<string, number> = {};
  for (const pair of raw.split(',')) {
    const match = /^\s*([A-Za-z]{2})\s*:\s*(\d{1,5})\s*$/.exec(pair);
    if (!match || Number(match[2]) > 10_000) throw new Error(`TAX_DEFAULT_RATES must be CC:basisPoints pairs (0 to 10000), e.g. DE:1900,AT:2000; got "${pair}"`);
    rates[match[1]!.toUpperCase()] = Number(match[2]);
  }
  return rates;
}

export const DEFAULT_PORTS: Record<SubgraphName | 'gateway' | 'sandbox', number> = {
  gateway: 4000,
  catalog: 4001,
  inventory: 4002,
  orders: 4003,
  customers: 4004,
  finance: 4005,
  nodes: 4006,
  sandbox: 4010,
};

function num(env: Env, name: string, fallback: number, min = 0): number {
  const value = int(env, name, fallback);
  if (value < min) throw new Error(`${name} must be at least ${min}, got ${value}`);
  return value;
}

function integerIn(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = int(env, name, fallback);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got "${env[name]}"`);
  return value;
}

function trusted(raw: string | undefined): 'allow' | 'enforce' {
  if (raw === undefined || raw === '' || raw === 'allow') return 'allow';
  if (raw === 'enforce') return 'enforce';
  throw new Error(`TRUSTED_DOCUMENTS must be allow or enforce, got "${raw}"`);
}

function optionalInts<K extends string>(env: Env, names: Record<K, string>): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const [key, name] of Object.entries(names) as [K, string][]) if (env[name]) out[key] = int(env, name, 0);
  return out;
}

function executorKind(raw: string | undefined): 'compiled' | 'apollo' {
  if (raw === undefined || raw === '' || raw === 'compiled') return 'compiled';
  if (raw === 'apollo') return 'apollo';
  throw new Error(`GATEWAY_EXECUTOR must be compiled or apollo, got "${raw}"`);
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
}

function dispatch(raw: string | undefined): 'http' | 'local' {
  if (raw === undefined || raw === '' || raw === 'local') return 'local';
  if (raw === 'http') return 'http';
  throw new Error(`SUBGRAPH_DISPATCH must be http or local, got "${raw}"`);
}

export function loadConfig(env: Env = process.env): AppConfig {
  const subgraphPorts = {} as Record<SubgraphName, number>;
  const subgraphUrls: Partial<Record<SubgraphName, string>> = {};
  for (const name of SUBGRAPH_NAMES) {
    const upper = name.toUpperCase();
    subgraphPorts[name] = int(env, `${upper}_PORT`, DEFAULT_PORTS[name]);
    const url = env[`${upper}_URL`];
    if (url) subgraphUrls[name] = url;
  }
  return {
    host: env.HOST ?? '0.0.0.0',
    production: env.NODE_ENV === 'production',
    sandboxHost: env.SANDBOX_HOST || '127.0.0.1',
    auth: {
      jwksUrl: env.AUTH_JWKS_URL || undefined,
      issuer: env.AUTH_ISSUER || 'retail-sandbox-idp',
      audience: env.AUTH_AUDIENCE || 'retail-supergraph',
      clockToleranceSeconds: num(env, 'AUTH_CLOCK_TOLERANCE_S', 30),
      jwksCooldownMs: num(env, 'AUTH_JWKS_COOLDOWN_MS', 30_000),
      roleClaim: env.AUTH_ROLE_CLAIM || 'role',
      locationClaim: env.AUTH_LOCATION_CLAIM || 'location_id',
    },
    edge: {
      limits: optionalInts(env, { maxDepth: 'MAX_QUERY_DEPTH', maxAliases: 'MAX_ALIASES', maxTokens: 'MAX_QUERY_TOKENS', maxCost: 'MAX_QUERY_COST', maxFields: 'MAX_QUERY_FIELDS' }),
      maxBatch: num(env, 'MAX_BATCH_OPERATIONS', 10, 1),
      trustedDocuments: trusted(env.TRUSTED_DOCUMENTS),
      persistedDocumentsPath: env.PERSISTED_DOCUMENTS_PATH || 'persisted-documents.json',
      rateLimit: { ratePerSecond: num(env, 'RATE_LIMIT_RPS', 50), burst: num(env, 'RATE_LIMIT_BURST', 100, 1) },
      checkoutRateLimit: { ratePerSecond: num(env, 'CHECKOUT_RATE_LIMIT_RPS', 0.5), burst: num(env, 'CHECKOUT_RATE_LIMIT_BURST', 5, 1) },
      corsOrigins: (env.CORS_ORIGINS ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    },
    gatewayPort: int(env, 'GATEWAY_PORT', int(env, 'PORT', DEFAULT_PORTS.gateway)),
    sandboxPort: int(env, 'SANDBOX_PORT', DEFAULT_PORTS.sandbox),
    subgraphPorts,
    subgraphUrls,
    supergraphPath: env.SUPERGRAPH_PATH ?? 'supergraph.graphql',
    contractDir: env.CONTRACT_DIR || 'contract',
    sandboxUrl: env.SANDBOX_URL || undefined,
    sandbox: { seed: int(env, 'SANDBOX_SEED', 42), scale: int(env, 'SANDBOX_SCALE', 1) },
    adapter: {
      timeoutMs: int(env, 'ADAPTER_TIMEOUT_MS', 1000),
      retries: int(env, 'ADAPTER_RETRIES', 2),
      breakerFailures: int(env, 'BREAKER_FAILURES', 5),
      breakerResetMs: int(env, 'BREAKER_RESET_MS', 5000),
    },
    erp: {
      adapter: erpAdapter(env.ERP_ADAPTER),
      url: env.ERP_URL || undefined,
      tokenUrl: env.ERP_TOKEN_URL || undefined,
      clientId: env.ERP_CLIENT_ID || undefined,
      clientSecret: env.ERP_CLIENT_SECRET || undefined,
      scope: env.ERP_SCOPE || undefined,
      pageSize: num(env, 'ERP_PAGE_SIZE', 5000, 1),
    },
    lowStockThreshold: int(env, 'LOW_STOCK_THRESHOLD', 5),
    logLevel: env.LOG_LEVEL ?? 'info',
    subgraphDispatch: dispatch(env.SUBGRAPH_DISPATCH),
    redisUrl: redisUrlOf(env),
    redisPrefix: redisPrefixOf(env.REDIS_PREFIX),
    eventStreamRetention: integerIn(env, 'EVENT_STREAM_RETENTION', 10_000, 1, 100_000_000),
    dataDir: env.DATA_DIR || './data',
    journal: {
      ...optionalInts(env, { compactAfterEntries: 'JOURNAL_COMPACT_ENTRIES', compactAfterBytes: 'JOURNAL_COMPACT_BYTES' }),
      compactOnClose: flag(env, 'JOURNAL_COMPACT_ON_CLOSE', true),
    },
    erpOutbox: optionalInts(env, {
      baseMs: 'ERP_OUTBOX_BASE_MS',
      capMs: 'ERP_OUTBOX_CAP_MS',
      maxAttempts: 'ERP_OUTBOX_MAX_ATTEMPTS',
      pollMs: 'ERP_OUTBOX_POLL_MS',
      maxCallsPerSecond: 'ERP_MAX_CALLS_PER_SECOND',
      batchSize: 'ERP_POSTING_BATCH_SIZE',
    }),
    masterData: optionalInts(env, { pollMs: 'MASTER_DATA_POLL_MS', backoffBaseMs: 'MASTER_DATA_BACKOFF_BASE_MS', backoffCapMs: 'MASTER_DATA_BACKOFF_CAP_MS' }),
    subscriptions: { maxConnections: int(env, 'WS_MAX_CONNECTIONS', 10_000), keepAliveMs: int(env, 'WS_KEEPALIVE_MS', 12_000) },
    checkoutRecovery: { staleMs: int(env, 'CHECKOUT_STALE_MS', 120_000), intervalMs: int(env, 'CHECKOUT_RECOVERY_INTERVAL_MS', 30_000) },
    tax: { defaultRatesBp: taxRates(env.TAX_DEFAULT_RATES), lastRateMaxAgeMs: int(env, 'TAX_LAST_RATE_MAX_AGE_MS', 86_400_000) },
    channels: {
      marketplaceBuffer: integerIn(env, 'MARKETPLACE_BUFFER', 2, 0, 1_000_000),
      marketplaceLocations: marketplaceLocationsOf(env.MARKETPLACE_LOCATIONS),
      onlineExcludedStores: (env.ONLINE_EXCLUDED_STORES ?? '')
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    },
    marketplace: {
      // Outside production the sandbox marketplace's secret, so that the embedded default takes its orders as shipped.
      webhookSecret: env.MARKETPLACE_WEBHOOK_SECRET || (env.NODE_ENV === 'production' ? undefined : SANDBOX_MARKETPLACE_SECRET),
      ackWindowMs: integerIn(env, 'MARKETPLACE_ACK_WINDOW_MS', 900_000, 1, 7 * 86_400_000),
      sweepMs: integerIn(env, 'MARKETPLACE_ACK_SWEEP_MS', 5_000, 1, 3_600_000),
    },
    gatewayWorkers: integerIn(env, 'GATEWAY_WORKERS', 1, 1, 64),
    gatewayExecutor: executorKind(env.GATEWAY_EXECUTOR),
    gatewayDeduplicate: flag(env, 'GATEWAY_DEDUPLICATE', true),
    telemetry: {
      metrics: flag(env, 'METRICS_ENABLED', true),
      metricsToken: env.METRICS_TOKEN || undefined,
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
      sampleRatio: ratio(env, 'OTEL_TRACES_SAMPLER_ARG', 1),
      serviceName: env.OTEL_SERVICE_NAME || undefined,
      objectives: {
        orderAcknowledgementSeconds: num(env, 'SLO_ORDER_ACK_SECONDS', 5, 0),
        postingSeconds: num(env, 'SLO_POSTING_SECONDS', 900, 0),
        inventoryFreshnessSeconds: num(env, 'SLO_INVENTORY_FRESHNESS_SECONDS', 900, 0),
      },
    },
  };
}

/** `MARKETPLACE_LOCATIONS`: WAREHOUSE (default) or ALL; anything else refuses to start. */
function marketplaceLocationsOf(raw: string | undefined): 'WAREHOUSE' | 'ALL' {
  if (raw === undefined || raw === '' || raw === 'WAREHOUSE') return 'WAREHOUSE';
  if (raw === 'ALL') return 'ALL';
  throw new Error(`MARKETPLACE_LOCATIONS must be WAREHOUSE or ALL, got "${raw}"`);
}

/** The secret the sandbox marketplace signs its notifications with (never a production secret: production has none by default). */
export const SANDBOX_MARKETPLACE_SECRET = 'sandbox-marketplace-webhook-secret';

export interface MarketplaceConfig {
  /**
   * The secret the marketplace signs its notifications with (`MARKETPLACE_WEBHOOK_SECRET`). Without one (production
   * when it is unset) the webhook answers 503 MARKETPLACE_NOT_CONFIGURED and takes nothing.
   * @default the sandbox marketplace's secret, outside production
   */
  webhookSecret: string | undefined;
  /** How long after its notification a marketplace order must be acknowledged, in ms (`MARKETPLACE_ACK_WINDOW_MS`). @default 900 000 (15 min) */
  ackWindowMs: number;
  /** How often the connector looks for acknowledgements past their window, in ms (`MARKETPLACE_ACK_SWEEP_MS`). @default 5 000 */
  sweepMs: number;
}

/** The service objectives (README "Operations console"): what counts as a breach. */
export interface ServiceObjectives {
  /** A checkout's order placed within this, in s. @default 5 */
  orderAcknowledgementSeconds: number;
  /** A sale or refund posted in the ERP within this of the event, in s. @default 900 */
  postingSeconds: number;
  /** Every location's newest stock event no older than this, in s. @default 900 */
  inventoryFreshnessSeconds: number;
}

export interface TelemetryConfig {
  /** Count and serve `/metrics` (`METRICS_ENABLED`; false only to measure what they cost). @default true */
  metrics: boolean;
  /** A bearer token that may read `/metrics` besides ops-role tokens (Prometheus's). @default none */
  metricsToken: string | undefined;
  /** Where spans go by OTLP/HTTP (`OTEL_EXPORTER_OTLP_ENDPOINT`). @default none: tracing off */
  otlpEndpoint: string | undefined;
  /** The share of new traces sampled (parent-based: a sampled caller's trace is always followed). @default 1 */
  sampleRatio: number;
  /** The service name of this process's spans. @default `retail-<mode>` */
  serviceName: string | undefined;
  objectives: ServiceObjectives;
}

function ratio(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`${name} must be a number from 0 to 1, got "${raw}"`);
  return value;
}

/** A setting that cannot be used, named by `code` so that a launcher (or a test) can tell which one. */
export class ConfigError extends Error {
  constructor(
    readonly code: 'REDIS_URL_INVALID' | 'REDIS_CLUSTER_NODES_INVALID' | 'REDIS_CONFIG_CONFLICT' | 'REDIS_PREFIX_INVALID',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** Where Redis is: one server (`redis://`, `rediss://`, passed to ioredis as is) or a cluster's seed nodes. */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: { host: string; port: number }[]; tls: boolean; username?: string; password?: string };

const CLUSTER_SCHEMES = ['redis+cluster:', 'rediss+cluster:'];

/**
 * Read a `REDIS_URL`: `redis://[user:pass@]host[:port][/db]`, `rediss://...` (TLS), or a cluster,
 * `redis+cluster://[user:pass@]host:port[,host:port...]` (`rediss+cluster://` for TLS). Any other form throws a
 * {@link ConfigError} (`REDIS_URL_INVALID`), so a typo fails the start instead of the first request.
 */
export function parseRedisUrl(raw: string, name = 'REDIS_URL'): RedisTarget {
  const scheme = /^([a-z+]+:)\/\//i.exec(raw)?.[1]?.toLowerCase();
  if (scheme === 'redis:' || scheme === 'rediss:') {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError('REDIS_URL_INVALID', `${name} is not a URL: "${raw}"`);
    }
    if (!url.hostname) throw new ConfigError('REDIS_URL_INVALID', `${name} names no host: "${raw}"`);
    if (url.port && !validPort(url.port)) throw new ConfigError('REDIS_URL_INVALID', `${name} has a bad port: "${raw}"`);
    return { kind: 'single', url: raw };
  }
  if (!scheme || !CLUSTER_SCHEMES.includes(scheme)) {
    throw new ConfigError('REDIS_URL_INVALID', `${name} must start with redis://, rediss://, redis+cluster:// or rediss+cluster://, got "${raw}"`);
  }
  let rest = raw.slice(scheme.length + 2);
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const credentials = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = credentials.indexOf(':');
    const user = decodeURIComponent(colon >= 0 ? credentials.slice(0, colon) : credentials);
    const pass = colon >= 0 ? decodeURIComponent(credentials.slice(colon + 1)) : undefined;
    // `redis://:secret@host` is a password alone (the `default` user), as ioredis reads it.
    if (user) username = user;
    if (pass) password = pass;
  }
  // A cluster has only database 0 and no options in the URL: anything after the nodes would be silently ignored.
  const slash = rest.search(/[/?#]/);
  if (slash >= 0) {
    const tail = rest.slice(slash);
    if (tail !== '/' && tail !== '/0') throw new ConfigError('REDIS_URL_INVALID', `${name}: a cluster URL takes no database or options, got "${tail}"`);
    rest = rest.slice(0, slash);
  }
  const nodes = parseClusterNodes(rest, name, 'REDIS_URL_INVALID');
  return { kind: 'cluster', nodes, tls: scheme === 'rediss+cluster:', ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

/** `host:port,host:port` (IPv6 as `[::1]:7000`), at least one, each port 1-65535; repeats are dropped. */
function parseClusterNodes(raw: string, name: string, code: 'REDIS_URL_INVALID' | 'REDIS_CLUSTER_NODES_INVALID'): { host: string; port: number }[] {
  const nodes: { host: string; port: number }[] = [];
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.every((p) => p === '')) throw new ConfigError(code, `${name} names no cluster node: "${raw}"`);
  for (const part of parts) {
    const match = /^(\[[0-9a-f:.]+\]|[^:[\]\s]+):(\d+)$/i.exec(part);
    if (!match || !validPort(match[2]!)) throw new ConfigError(code, `${name}: "${part}" is not host:port (in "${raw}")`);
    const host = match[1]!.replace(/^\[(.*)\]$/, '$1');
    const port = Number(match[2]);
    if (!nodes.some((n) => n.host === host && n.port === port)) nodes.push({ host, port });
  }
  return nodes;
}

function validPort(raw: string): boolean {
  const port = Number(raw);
  return /^\d+$/.test(raw) && port >= 1 && port <= 65_535;
}

/** `REDIS_URL` as given (validated), or `REDIS_CLUSTER_NODES` as a `redis+cluster://` URL; never both. */
function redisUrlOf(env: Env): string | undefined {
  const url = env.REDIS_URL || undefined;
  const nodes = env.REDIS_CLUSTER_NODES || undefined;
  if (url && nodes) throw new ConfigError('REDIS_CONFIG_CONFLICT', 'set REDIS_URL or REDIS_CLUSTER_NODES, not both (credentials go in REDIS_URL=redis+cluster://user:pass@host:port,...)');
  if (url) {
    parseRedisUrl(url);
    return url;
  }
  if (!nodes) return undefined;
  const parsed = parseClusterNodes(nodes, 'REDIS_CLUSTER_NODES', 'REDIS_CLUSTER_NODES_INVALID');
  return `redis+cluster://${parsed.map((n) => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`).join(',')}`;
}

function redisPrefixOf(raw: string | undefined): string {
  if (raw === undefined || raw === '') return 'retail';
  // A brace in the prefix would become (part of) every key's hash tag: a cluster would then see keys that must
  // share a slot land on different ones, and scripts fail with CROSSSLOT.
  if (/[{}]/.test(raw)) throw new ConfigError('REDIS_PREFIX_INVALID', `REDIS_PREFIX must not contain { or }, got "${raw}"`);
  return raw;
}
