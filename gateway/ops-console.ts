import type { ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { Role } from '../common/auth/principal.js';
import type { ServiceObjectives } from '../common/config.js';
import { headerValue, type Authenticate, type Route } from '../common/http.js';
import type { Logger } from '../common/logger.js';
import { authorizeOps, METRICS_INSTANCE_HEADER } from '../common/telemetry/metrics-route.js';
import type { Metrics } from '../common/telemetry/metrics.js';
import { mergeExpositions, type OpsSample } from './ops-metrics.js';
import { loadWebBundle, renderPageShell, sendText, webAssetsDir } from './web-assets.js';

/*
 * The operations console at GET /ops: a page for service agents, finance and operations that shows the systems of
 * record, the queues, open orders, failures, postings and freshness live, against the service objectives. The page is
 * the bundle of web/ops (uPlot included, from npm): like the explorer it loads nothing but its own origin's files.
 * Its data are the graph itself (POST /graphql with the caller's token: systemStatus, openOrders, erpOutbox,
 * reconciliation, order timelines, which the subgraphs authorize field by field as for any client) and
 * GET /ops/api/summary, the metrics of every process merged. It stays on in production (it is for operators); it
 * exposes nothing beyond the metrics and what the caller's token may read from the graph.
 */

/** The console's configuration (see `opsConsoleFor`). */
export interface OpsConsoleOptions {
  /** The bundle `npm run build` wrote: `main.js` and `main.css`. @default OPS_CONSOLE_ASSETS_DIR (dist/web/ops) */
  assetsDir: string;
  /** What counts as a breach (`SLO_*`, config.telemetry.objectives): shown beside each figure they bound. */
  objectives: ServiceObjectives;
  /** How often the page polls, in s (`?every=<s>` in the page's URL overrides it for one tab, 1 s at least). @default 5 */
  pollSeconds?: number | undefined;
  /** Whether the sign-in form tells people about the sandbox's `POST /sandbox/tokens`. @default false */
  sandboxHint?: boolean | undefined;
}

export interface OpsConsoleRouteOptions extends OpsConsoleOptions {
  /** Verifies the caller's token, as for the graph. */
  authenticate: Authenticate;
  /** This process's registry, read in place of fetching its own /metrics. @default none: the subgraphs' alone */
  metrics?: Metrics | undefined;
  /** A bearer that may read operational data besides role tokens (`METRICS_TOKEN`). @default none */
  scrapeToken?: string | undefined;
  /** The subgraphs whose `/metrics` the summary merges (their `/graphql` URL, as the gateway routes to them). */
  subgraphs: readonly { name: string; url: string }[];
  /** How long the summary waits for one subgraph's `/metrics`, in ms. @default 2000 */
  fetchTimeoutMs?: number | undefined;
  logger: Logger;
}

/** dist/web/ops beside this file's dist/, whether the gateway runs from dist/ or from source (vitest). */
export const OPS_CONSOLE_ASSETS_DIR = webAssetsDir('ops');

/** Who may open the console and read its summary: besides operations, the service agents and finance it is for. */
export const OPS_CONSOLE_ROLES: readonly Role[] = ['ops', 'agent', 'finance'];

/** The console a configuration asks for: always on (production too), with the objectives configured. */
export function opsConsoleFor(config: { production: boolean; telemetry: { objectives: ServiceObjectives } }): OpsConsoleOptions {
  return { assetsDir: OPS_CONSOLE_ASSETS_DIR, objectives: config.telemetry.objectives, sandboxHint: !config.production };
}

/** Only the page's own origin, and no inline style or script at all: uPlot styles its elements through the DOM. */
export const OPS_CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** What GET /ops/api/summary answers (web/ops/main.ts reads this shape). */
export interface OpsSummary {
  /** When the samples were read (ISO 8601): the page computes rates between two of these. */
  at: string;
  objectives: ServiceObjectives;
  /**
   * Where the samples came from: this process (`gateway`) and each subgraph, `ok`, `same` (a registry already
   * counted: the all-in-one process serves one on every port), or `unavailable` / `refused` (not merged).
   */
  sources: { name: string; status: 'ok' | 'same' | 'unavailable' | 'refused' }[];
  samples: OpsSample[];
}

/** The page embeds this (web/ops/main.ts reads it). */
export interface OpsPageConfig {
  pollSeconds: number;
  sandboxHint: boolean;
  /** The page itself was asked for with a good Authorization header: the one who put it there adds it to the data calls too. */
  headerSignedIn: boolean;
}

/** `/ops` (the page), `/ops/main.js`, `/ops/main.css` and `/ops/api/summary`. */
export function createOpsConsoleRoutes(options: OpsConsoleRouteOptions): Record<string, Route> {
  const { logger } = options;
  const access = { authenticate: options.authenticate, scrapeToken: options.scrapeToken };
  const bundle = loadWebBundle(options.assetsDir, 'The operations console is not built: run `npm run build`.');
  if (!bundle.built) logger.warn({ assetsDir: options.assetsDir }, 'the operations console is not built (npm run build): GET /ops answers 503');
  const pollSeconds = options.pollSeconds ?? 5;
  const sandboxHint = options.sandboxHint ?? false;
  const timeoutMs = options.fetchTimeoutMs ?? 2000;
  const metricsUrls = options.subgraphs.map(({ name, url }) => ({ name, url: metricsUrlOf(url) }));
  // The subgraph URLs found serving this process's own registry (the all-in-one process), until when: each poll
  // would otherwise read that registry once per port, every gauge's reader (open orders, outboxes) run again each
  // time. Asked again after a minute, in case another process now answers there.
  const ownRegistryAt = new Map<string, number>();
  const OWN_REGISTRY_TTL_MS = 60_000;

  const page: Route = async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'text/plain; charset=utf-8', `${req.method} is not served\n`, { allow: 'GET, HEAD' });
    if (!bundle.built) return sendText(res, 503, 'text/plain; charset=utf-8', 'The operations console is not built: run `npm run build`.\n', { 'cache-control': 'no-store' });
    // Without a header the page is only its sign-in form: it holds no data. A header must be good, as for the graph.
    const headerSignedIn = headerValue(req, 'authorization') !== undefined;
    if (headerSignedIn && !(await authorizeOps(req, res, access, OPS_CONSOLE_ROLES))) return;
    // Node leaves the body out of an answer to HEAD by itself, its length still said.
    sendText(res, 200, 'text/html; charset=utf-8', renderPage({ pollSeconds, sandboxHint, headerSignedIn }), {
      'content-security-policy': OPS_CONSOLE_CSP,
      'cache-control': 'no-cache',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      vary: 'Authorization',
    });
  };

  const summary: Route = async (req, res) => {
    if (req.method !== 'GET') return sendText(res, 405, 'text/plain; charset=utf-8', `${req.method} is not served\n`, { allow: 'GET' });
    if (!(await authorizeOps(req, res, access, OPS_CONSOLE_ROLES))) return;
    // The gateway's scrape token when it has one (an agent's or finance's token does not read a subgraph's series);
    // else the caller's own, which a subgraph checks for itself.
    const authorization = options.scrapeToken ? `Bearer ${options.scrapeToken}` : headerValue(req, 'authorization');
    const sources: OpsSummary['sources'] = [];
    const texts: string[] = [];
    const seen = new Set<string>();
    if (options.metrics) {
      seen.add(options.metrics.instance);
      texts.push((await options.metrics.exposition()).body);
      sources.push({ name: 'gateway', status: 'ok' });
    }
    // A registry met again (the all-in-one process serves one on every port) is counted once.
    const now = Date.now();
    const fetched = await Promise.all(metricsUrls.map(({ url }) => ((ownRegistryAt.get(url) ?? 0) > now ? SAME : fetchMetrics(url, authorization, timeoutMs))));
    fetched.forEach((answer, i) => {
      const { name, url } = metricsUrls[i] ?? { name: `subgraph-${i}`, url: '' };
      if (answer.status === 'same') return sources.push({ name, status: 'same' });
      if (answer.status !== 'ok') {
        sources.push({ name, status: answer.status });
        if (answer.status === 'unavailable') logger.debug({ subgraph: name, reason: answer.reason }, 'the operations console could not read a subgraph’s metrics');
        return;
      }
      if (options.metrics && answer.instance === options.metrics.instance) ownRegistryAt.set(url, now + OWN_REGISTRY_TTL_MS);
      if (answer.instance && seen.has(answer.instance)) return sources.push({ name, status: 'same' });
      if (answer.instance) seen.add(answer.instance);
      texts.push(answer.text);
      sources.push({ name, status: 'ok' });
    });
    const body: OpsSummary = { at: new Date().toISOString(), objectives: options.objectives, sources, samples: mergeExpositions(texts) };
    sendSummary(headerValue(req, 'accept-encoding'), res, body);
  };

  return {
    '/ops': page,
    '/ops/main.js': bundle.route('main.js'),
    '/ops/main.css': bundle.route('main.css'),
    '/ops/api/summary': summary,
  };
}

/** A subgraph's `/metrics` beside its `/graphql`. */
export function metricsUrlOf(graphqlUrl: string): string {
  const url = new URL(graphqlUrl);
  url.pathname = /\/graphql\/?$/.test(url.pathname) ? url.pathname.replace(/\/graphql\/?$/, '/metrics') : '/metrics';
  url.search = '';
  return url.href;
}

type Fetched = { status: 'ok'; text: string; instance: string | undefined } | { status: 'unavailable'; reason: string } | { status: 'refused' } | { status: 'same' };
const SAME: Fetched = { status: 'same' };

async function fetchMetrics(url: string, authorization: string | undefined, timeoutMs: number): Promise<Fetched> {
  try {
    const response = await fetch(url, { headers: authorization ? { authorization } : {}, signal: AbortSignal.timeout(timeoutMs) });
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      return { status: 'refused' };
    }
    if (!response.ok) {
      await response.body?.cancel();
      return { status: 'unavailable', reason: `HTTP ${response.status}` };
    }
    return { status: 'ok', text: await response.text(), instance: response.headers.get(METRICS_INSTANCE_HEADER) ?? undefined };
  } catch (error) {
    return { status: 'unavailable', reason: (error as Error).message };
  }
}

function sendSummary(acceptEncoding: string | undefined, res: ServerResponse, body: OpsSummary): void {
  const text = Buffer.from(JSON.stringify(body));
  // Polled every few seconds by every open console: never cached, by the browser or anyone between; gzipped, as
  // label-heavy JSON shrinks to a tenth.
  const gzip = /\bgzip\b/.test(acceptEncoding ?? '');
  const payload = gzip ? gzipSync(text) : text;
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    vary: 'Accept-Encoding',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    'content-length': payload.length,
  });
  res.end(payload);
}

function renderPage(config: OpsPageConfig): string {
  return renderPageShell({
    title: 'Operations console · Retail supergraph',
    base: '/ops',
    dataId: 'ops-config',
    data: config,
    rootId: 'ops-root',
    noscript: 'The operations console needs JavaScript. Its data are GET /ops/api/summary and POST /graphql, with a bearer token.',
  });
}
