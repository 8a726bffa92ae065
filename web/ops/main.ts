import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './ops.css';

/*
 * The operations console (served by gateway/ops-console.ts at /ops). It polls two things with the caller's token:
 * GET /ops/api/summary (every process's metrics, merged) and POST /graphql (systemStatus, openOrders, the ERP outbox's
 * dead letters, today's reconciliation), and renders them. Rates, error ratios and quantiles are computed here from
 * two consecutive summaries, as Prometheus's rate() and histogram_quantile() would over the poll interval. Plain DOM
 * and uPlot: the page is one small script and one stylesheet, and it writes text with textContent only.
 */

// ---------------------------------------------------------------------------------------------------------------
// What the server sends

interface PageConfig {
  pollSeconds: number;
  sandboxHint: boolean;
  headerSignedIn: boolean;
}

interface Objectives {
  orderAcknowledgementSeconds: number;
  postingSeconds: number;
  inventoryFreshnessSeconds: number;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Summary {
  at: string;
  objectives: Objectives;
  sources: { name: string; status: string }[];
  samples: Sample[];
}

interface GraphQLError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string };
}

interface GraphQLResult<T> {
  data?: T | null;
  errors?: GraphQLError[];
}

interface Money {
  amount: string;
  currencyCode: string;
}

interface SystemHealth {
  system: string;
  state: 'UP' | 'DEGRADED' | 'DOWN';
  detail: string | null;
}

interface OpenOrders {
  statuses: { status: string; count: number; oldestPlacedAt: string | null }[];
  oldest: { id: string; number: string; status: string; placedAt: string; channel: string }[];
}

interface Posting {
  id: string;
  orderId: string;
  type: string;
  status: string;
  attempts: number;
  amount: Money;
  lastError: string | null;
  createdAt: string;
}

interface OutboxSummary {
  pending: number;
  failed: number;
  deadLettered: number;
  posted: number;
  oldestWaitingSince: string | null;
}

interface Reconciliation {
  sourceTotal: Money;
  erpTotal: Money;
  sourceItems: number;
  pendingPostings: number;
  failedPostings: number;
  mismatches: { orderId: string; type: string; reason: string; expected: Money | null; posted: Money | null; occurredAt: string }[];
}

interface TimelineOrder {
  id: string;
  number: string;
  status: string;
  timeline: { type: string; occurredAt: string; source: string; correlationId: string; summary: string }[] | null;
}

/** One panel's answer from the graph: its data, or why not (a role that may not read it, a system down). */
type Answer<T> = { ok: true; value: T } | { ok: false; denied: boolean; message: string };

// ---------------------------------------------------------------------------------------------------------------
// Configuration, token, requests

const config: PageConfig = (() => {
  const fallback: PageConfig = { pollSeconds: 5, sandboxHint: false, headerSignedIn: false };
  try {
    return { ...fallback, ...(JSON.parse(document.getElementById('ops-config')?.textContent ?? '{}') as Partial<PageConfig>) };
  } catch {
    return fallback;
  }
})();

/** `?every=2` polls every 2 s in this tab (1 s at least): for a wall screen, or a test that cannot wait. */
const pollMs = (() => {
  const every = Number(new URLSearchParams(window.location.search).get('every'));
  return Math.max(1, Number.isFinite(every) && every > 0 ? every : config.pollSeconds) * 1000;
})();

/** How often today's reconciliation runs again: it asks the ERP, which the console must not press. */
const RECONCILE_EVERY_MS = 30_000;
const TOKEN_KEY = 'ops.token';

/** Session storage can be refused (a locked-down profile): the token then lasts as long as the page. */
function storedToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

function storeToken(value: string): void {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Kept in memory only.
  }
}

/** People paste the whole header value as often as the token alone. */
const normalizeToken = (raw: string): string => raw.trim().replace(/^bearer\s+/i, '');

let token = normalizeToken(storedToken());

/** A token refused (401) or a role not let in (403): back to the sign-in form. */
class SignInError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function authHeaders(): Record<string, string> {
  // Signed in by a header on the page itself: whoever put it there (a proxy) puts it on these requests too.
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function refusal(response: Response): Promise<SignInError> {
  let message = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { errors?: { message?: string }[] };
    message = body.errors?.[0]?.message ?? message;
  } catch {
    // Not JSON: the status says enough.
  }
  return new SignInError(response.status, message);
}

async function fetchSummary(): Promise<Summary> {
  const response = await fetch('/ops/api/summary', { headers: authHeaders(), cache: 'no-store' });
  if (response.status === 401 || response.status === 403) throw await refusal(response);
  if (!response.ok) throw new Error(`the summary answered HTTP ${response.status}`);
  return (await response.json()) as Summary;
}

interface Operation {
  query: string;
  variables?: Record<string, unknown>;
}

/** Operations in one request (a batch: each is validated and authorized on its own, so one refusal spoils no other). */
async function graphql(operations: readonly Operation[]): Promise<GraphQLResult<Record<string, unknown>>[]> {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...authHeaders() },
    body: JSON.stringify(operations),
  });
  if (response.status === 401) throw await refusal(response);
  const body = (await response.json()) as GraphQLResult<Record<string, unknown>>[] | GraphQLResult<Record<string, unknown>>;
  return Array.isArray(body) ? body : operations.map(() => body);
}

/** The field `field` of a result, or why it is missing. */
function answerOf<T>(result: GraphQLResult<Record<string, unknown>> | undefined, field: string): Answer<T> {
  const errors = (result?.errors ?? []).filter((e) => !e.path || e.path[0] === field);
  const value = result?.data?.[field];
  if (value !== undefined && value !== null && errors.length === 0) return { ok: true, value: value as T };
  const denied = errors.some((e) => e.extensions?.code === 'FORBIDDEN' || e.extensions?.code === 'UNAUTHENTICATED');
  if (denied) return { ok: false, denied, message: 'Not for your role.' };
  if (value !== undefined && value !== null) return { ok: true, value: value as T };
  return { ok: false, denied, message: errors[0]?.message ?? 'No answer (a system of record is unavailable).' };
}

const SYSTEM_STATUS = 'query OpsSystemStatus { systemStatus { systems { system state detail } readModels { name lagSeconds syncState } } }';
const OPEN_ORDERS = 'query OpsOpenOrders { openOrders(first: 10) { statuses { status count oldestPlacedAt } oldest { id number status placedAt channel } } }';
const DEAD_LETTERS = 'query OpsDeadLetters { erpOutbox(statuses: [DEAD_LETTER], first: 20) { id orderId type status attempts amount { amount currencyCode } lastError createdAt } }';
const OUTBOX_TODAY = 'query OpsOutboxToday($from: DateTime!, $to: DateTime!) { erpOutboxSummary(from: $from, to: $to) { pending failed deadLettered posted oldestWaitingSince } }';
const RECONCILIATION =
  'query OpsReconciliation($from: DateTime!, $to: DateTime!) { reconciliation(from: $from, to: $to) { sourceTotal { amount currencyCode } erpTotal { amount currencyCode } sourceItems pendingPostings failedPostings mismatches { orderId type reason expected { amount currencyCode } posted { amount currencyCode } occurredAt } } }';
const REPLAY = 'mutation OpsReplayPostings($ids: [ID!]!, $idempotencyKey: String) { replayPostings(ids: $ids, idempotencyKey: $idempotencyKey) { postings { id status } userErrors { field message code } } }';
const ORDER_TIMELINE = 'query OpsOrderTimeline($id: ID!) { order(id: $id) { id number status timeline { type occurredAt source correlationId summary } } }';

/** Today in UTC, from 00:00 to now: the window finance closes. */
function today(): { from: string; to: string } {
  const now = new Date();
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return { from: from.toISOString(), to: now.toISOString() };
}

// ---------------------------------------------------------------------------------------------------------------
// DOM

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

/** An element with attributes, listeners (`on…`) and children; text goes in as text, never as markup. */
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(key.slice(2), value);
    else if (key === 'class') element.className = String(value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child instanceof Node ? child : String(child));
  return element;
}

const number = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const percent = (ratio: number | null): string => (ratio === null ? '–' : `${number(ratio * 100, 1)} %`);
const money = (m: Money | null | undefined): string => (m ? `${m.amount} ${m.currencyCode}` : '–');

function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 1) return `${number(seconds * 1000, seconds < 0.01 ? 1 : 0)} ms`;
  if (seconds < 120) return `${number(seconds, seconds < 10 ? 1 : 0)} s`;
  if (seconds < 7200) return `${number(seconds / 60, 0)} min`;
  if (seconds < 172_800) return `${number(seconds / 3600, 1)} h`;
  return `${number(seconds / 86_400, 0)} d`;
}

const ageOf = (iso: string | null | undefined, now: number): number | null => (iso ? Math.max(0, (now - Date.parse(iso)) / 1000) : null);

function table(headers: readonly (string | [string, 'num'])[], rows: readonly HTMLTableRowElement[], empty: string): HTMLElement {
  if (rows.length === 0) return h('div', { class: 'ops-empty' }, empty);
  const head = h('tr', {}, ...headers.map((c) => (typeof c === 'string' ? h('th', {}, c) : h('th', { class: 'num' }, c[0]))));
  return h('table', {}, h('thead', {}, head), h('tbody', {}, ...rows));
}

function tile(key: string, label: string, figure: string, value: number | string | null, note: string, tone?: 'ok' | 'warn' | 'bad'): HTMLElement {
  return h(
    'div',
    { class: 'ops-tile', 'data-tile': key },
    h('div', { class: 'ops-label' }, label),
    h('div', { class: `ops-figure${tone ? ` ops-${tone}` : ''}`, 'data-figure': key, 'data-value': value === null ? undefined : String(value) }, figure),
    h('div', { class: 'ops-note' }, note),
  );
}

function panel(key: string, title: string, wide = false): { section: HTMLElement; body: HTMLElement } {
  const body = h('div', { class: 'ops-panel-body' });
  const section = h('section', { class: `ops-panel${wide ? ' ops-wide' : ''}`, 'data-panel': key }, h('h2', {}, title), body);
  return { section, body };
}

const unavailable = (answer: Extract<Answer<unknown>, { ok: false }>): HTMLElement => h('div', { class: `ops-empty${answer.denied ? ' ops-denied' : ''}` }, answer.message);

// ---------------------------------------------------------------------------------------------------------------
// Metrics arithmetic

const matches = (labels: Record<string, string>, match: Record<string, string>): boolean => Object.entries(match).every(([k, v]) => labels[k] === v);

function total(summary: Summary | undefined, name: string, match: Record<string, string> = {}, except?: [string, string]): number {
  let sum = 0;
  for (const s of summary?.samples ?? []) if (s.name === name && matches(s.labels, match) && !(except && s.labels[except[0]] === except[1])) sum += s.value;
  return sum;
}

function groupBy(summary: Summary | undefined, name: string, label: string, match: Record<string, string> = {}): Map<string, number> {
  const groups = new Map<string, number>();
  for (const s of summary?.samples ?? []) {
    if (s.name !== name || !matches(s.labels, match)) continue;
    const key = s.labels[label];
    if (key !== undefined) groups.set(key, (groups.get(key) ?? 0) + s.value);
  }
  return groups;
}

/** Cumulative bucket counts by upper bound, ascending (+Inf last), summed over the other labels. */
interface Histogram {
  buckets: [number, number][];
  count: number;
  sum: number;
}

function histogram(summary: Summary | undefined, base: string, match: Record<string, string> = {}): Histogram {
  const byBound = new Map<number, number>();
  for (const s of summary?.samples ?? []) {
    if (s.name !== `${base}_bucket` || !matches(s.labels, match)) continue;
    const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
    byBound.set(le, (byBound.get(le) ?? 0) + s.value);
  }
  return { buckets: [...byBound.entries()].sort((a, b) => a[0] - b[0]), count: total(summary, `${base}_count`, match), sum: total(summary, `${base}_sum`, match) };
}

/** What happened between two readings; a reading lower than before is a process that restarted and counts afresh. */
function since(now: Histogram, before: Histogram | undefined): Histogram {
  if (!before || now.count < before.count) return now;
  const earlier = new Map(before.buckets);
  return { buckets: now.buckets.map(([le, n]) => [le, Math.max(0, n - (earlier.get(le) ?? 0))]), count: now.count - before.count, sum: now.sum - before.sum };
}

/** histogram_quantile: linear within the bucket the rank falls in; the highest finite bound when it is in +Inf. */
function quantile(q: number, hist: Histogram): number | null {
  const last = hist.buckets.at(-1);
  if (!last || last[1] <= 0) return null;
  const rank = q * last[1];
  let lower = 0;
  let below = 0;
  for (const [le, count] of hist.buckets) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return lower;
      return count === below ? le : lower + ((le - lower) * (rank - below)) / (count - below);
    }
    lower = Number.isFinite(le) ? le : lower;
    below = count;
  }
  return lower;
}

/**
 * How many observations exceeded `bound`: all but those in buckets up to the largest bound not above it. When the
 * objective falls between two bounds this counts some observations under it too: "at least", never fewer.
 */
function over(hist: Histogram, bound: number): { over: number; of: number; exact: boolean } {
  let within = 0;
  let exact = false;
  for (const [le, count] of hist.buckets) {
    if (le > bound) break;
    within = count;
    exact = le === bound;
  }
  return { over: Math.max(0, hist.count - within), of: hist.count, exact };
}

function delta(now: number, before: number | undefined): number {
  if (before === undefined) return 0;
  return now >= before ? now - before : now;
}

// ---------------------------------------------------------------------------------------------------------------
// Charts: calls per second and p99 latency per system, over the last minutes

const SYSTEM_ORDER = ['erp', 'pos', 'wms', 'crm', 'psp', 'ecom', 'tax'];
const SYSTEM_COLORS: Record<string, string> = { erp: '#d9480f', pos: '#1c7ed6', wms: '#2f9e44', crm: '#ae3ec9', psp: '#f08c00', ecom: '#0c8599', tax: '#5c7cfa' };
const HISTORY_POINTS = 180;

interface Trend {
  times: number[];
  values: Map<string, (number | null)[]>;
}

const rateTrend: Trend = { times: [], values: new Map() };
const p99Trend: Trend = { times: [], values: new Map() };

function pushTrend(trend: Trend, t: number, bySystem: Map<string, number | null>, systems: readonly string[]): void {
  trend.times.push(t);
  for (const system of systems) {
    let values = trend.values.get(system);
    if (!values) trend.values.set(system, (values = trend.times.slice(0, -1).map(() => null)));
    values.push(bySystem.get(system) ?? null);
  }
  for (const values of trend.values.values()) while (values.length < trend.times.length) values.push(null);
  if (trend.times.length > HISTORY_POINTS) {
    trend.times.shift();
    for (const values of trend.values.values()) values.shift();
  }
}

class TrendChart {
  private plot: uPlot | undefined;
  private systems: string[] = [];
  readonly element = h('div', { class: 'ops-chart' });

  constructor(
    private readonly title: string,
    private readonly unit: (v: number) => string,
    private readonly key: string,
  ) {
    this.element.setAttribute('data-chart', key);
  }

  update(trend: Trend): void {
    const systems = [...trend.values.keys()].sort(bySystemOrder);
    const data: uPlot.AlignedData = [trend.times, ...systems.map((s) => trend.values.get(s) ?? [])];
    if (!this.plot || systems.join() !== this.systems.join()) {
      this.plot?.destroy();
      this.systems = systems;
      const width = Math.max(320, this.element.clientWidth || 600);
      const format = this.unit;
      this.plot = new uPlot(
        {
          title: this.title,
          width,
          height: 190,
          cursor: { drag: { x: false, y: false } },
          scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
          axes: [{}, { size: 64, values: (_u, splits) => splits.map((v) => format(v)) }],
          series: [{}, ...systems.map((system) => ({ label: system, stroke: SYSTEM_COLORS[system] ?? '#555', width: 1.5, spanGaps: false, value: (_u: uPlot, v: number | null) => (v === null ? '–' : format(v)) }))],
        },
        data,
        this.element,
      );
      return;
    }
    this.plot.setData(data);
  }

  resize(): void {
    if (this.plot) this.plot.setSize({ width: Math.max(320, this.element.clientWidth || 600), height: 190 });
  }
}

function bySystemOrder(a: string, b: string): number {
  const ia = SYSTEM_ORDER.indexOf(a);
  const ib = SYSTEM_ORDER.indexOf(b);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
}

// ---------------------------------------------------------------------------------------------------------------
// The dashboard

interface Snapshot {
  summary: Summary;
  systemStatus: Answer<{ systems: SystemHealth[] }>;
  openOrders: Answer<OpenOrders>;
  deadLetters: Answer<Posting[]>;
  outboxToday: Answer<OutboxSummary>;
}

const BREAKER_STATES = ['closed', 'half-open', 'open'] as const;

class Dashboard {
  readonly element: HTMLElement;
  private readonly tiles = h('div', { class: 'ops-tiles ops-wide', 'data-panel': 'tiles' });
  private readonly systems = panel('systems', 'Systems of record: calls, errors, p99 latency and breakers', true);
  private readonly queues = panel('queues', 'Queues: outboxes and the event backbone');
  private readonly orders = panel('orders', 'Open orders by status and age');
  private readonly deadLetters = panel('dead-letters', 'ERP dead letters');
  private readonly failures = panel('failures', 'Reservation and checkout failures by location');
  private readonly finance = panel('finance', 'ERP posting delay and today’s reconciliation');
  private readonly freshness = panel('freshness', 'Stock freshness by location');
  private readonly objectivesPanel = panel('objectives', 'Service objectives', true);
  private readonly systemsTable = h('div');
  private readonly rateChart = new TrendChart('Calls per second', (v) => number(v, v < 10 ? 1 : 0), 'rate');
  private readonly p99Chart = new TrendChart('p99 latency', (v) => duration(v), 'p99');
  private readonly status = h('span', { class: 'ops-meta', 'data-status': '' }, 'Loading…');
  private readonly drawer = h('aside', { class: 'ops-drawer', hidden: true, 'data-panel': 'order' });
  private previous: Summary | undefined;
  private latest: Snapshot | undefined;
  private reconciliation: Answer<Reconciliation> | undefined;
  private reconciledAt = 0;
  private replayMessage: HTMLElement | undefined;
  private timer: number | undefined;
  private stopped = false;
  private rendered = false;
  /** What each panel last showed: a panel whose input is unchanged is left alone, so a button or link in it stays
   * put under the pointer instead of being replaced at every poll. */
  private readonly painted = new Map<string, string>();

  constructor(private readonly signOut: (message?: string) => void) {
    const bar = h(
      'header',
      { class: 'ops-bar' },
      h('h1', {}, 'Operations console'),
      this.status,
      h('span', { class: 'ops-spacer' }),
      h('span', { class: 'ops-meta' }, `every ${number(pollMs / 1000, pollMs % 1000 ? 1 : 0)} s`),
      config.headerSignedIn && !token ? null : h('button', { type: 'button', 'data-action': 'sign-out', onclick: () => this.signOut() }, 'Sign out'),
    );
    this.systems.body.append(this.systemsTable, h('div', { class: 'ops-row' }, this.rateChart.element, this.p99Chart.element));
    const main = h('main', { class: 'ops-main' }, this.tiles, this.objectivesPanel.section, this.systems.section, this.orders.section, this.queues.section, this.deadLetters.section, this.failures.section, this.finance.section, this.freshness.section);
    this.element = h('div', { class: 'ops-dashboard' }, bar, main, this.drawer);
    window.addEventListener('hashchange', () => void this.showOrderFromHash());
    window.addEventListener('resize', () => {
      this.rateChart.resize();
      this.p99Chart.resize();
    });
  }

  start(): void {
    void this.showOrderFromHash();
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) window.clearTimeout(this.timer);
  }

  /** Run `render` unless `key` (everything the panel shows) is what it showed last time. */
  private paint(panelKey: string, key: unknown, render: () => void): void {
    const text = JSON.stringify(key);
    if (this.painted.get(panelKey) === text) return;
    this.painted.set(panelKey, text);
    render();
  }

  private async tick(): Promise<void> {
    try {
      await this.poll();
    } catch (error) {
      if (error instanceof SignInError) return this.signOut(error.status === 403 ? `This token may not open the console: ${error.message}` : `Signed out: ${error.message}`);
      this.status.textContent = `Last poll failed (${(error as Error).message}); showing ${this.latest ? `data of ${new Date(this.latest.summary.at).toLocaleTimeString()}` : 'nothing yet'}.`;
      this.status.className = 'ops-meta ops-bad';
    }
    if (!this.stopped) this.timer = window.setTimeout(() => void this.tick(), pollMs);
  }

  private async poll(): Promise<void> {
    const day = today();
    const reconcile = Date.now() - this.reconciledAt >= RECONCILE_EVERY_MS;
    const operations: Operation[] = [{ query: SYSTEM_STATUS }, { query: OPEN_ORDERS }, { query: DEAD_LETTERS }, { query: OUTBOX_TODAY, variables: day }];
    if (reconcile) operations.push({ query: RECONCILIATION, variables: day });
    const [summary, results] = await Promise.all([fetchSummary(), graphql(operations)]);
    if (reconcile) {
      this.reconciliation = answerOf<Reconciliation>(results[4], 'reconciliation');
      this.reconciledAt = Date.now();
    }
    const snapshot: Snapshot = {
      summary,
      systemStatus: answerOf(results[0], 'systemStatus'),
      openOrders: answerOf(results[1], 'openOrders'),
      deadLetters: answerOf(results[2], 'erpOutbox'),
      outboxToday: answerOf(results[3], 'erpOutboxSummary'),
    };
    this.render(snapshot);
    this.previous = summary;
    this.latest = snapshot;
  }

  private render(snap: Snapshot): void {
    const { summary } = snap;
    const previous = this.previous;
    const now = Date.parse(summary.at);
    const seconds = previous ? Math.max(0.001, (now - Date.parse(previous.at)) / 1000) : undefined;
    const objectives = summary.objectives;

    // Systems: rate, error ratio and p99 over the interval since the previous poll.
    const systems = new Set<string>([...groupBy(summary, 'retail_system_calls_total', 'system').keys(), ...groupBy(summary, 'retail_circuit_breaker_state', 'system').keys()]);
    if (snap.systemStatus.ok) for (const s of snap.systemStatus.value.systems) systems.add(s.system);
    const ordered = [...systems].sort(bySystemOrder);
    const rates = new Map<string, number | null>();
    const p99s = new Map<string, number | null>();
    const rows = ordered.map((system) => {
      const calls = total(summary, 'retail_system_calls_total', { system });
      const failed = total(summary, 'retail_system_calls_total', { system }, ['outcome', 'ok']);
      const callsThen = previous ? total(previous, 'retail_system_calls_total', { system }) : undefined;
      const failedThen = previous ? total(previous, 'retail_system_calls_total', { system }, ['outcome', 'ok']) : undefined;
      const interval = delta(calls, callsThen);
      const rate = seconds === undefined ? null : interval / seconds;
      const errorRatio = seconds === undefined || interval === 0 ? null : delta(failed, failedThen) / interval;
      const hist = histogram(summary, 'retail_system_call_duration_seconds', { system });
      const p99 = seconds === undefined ? null : quantile(0.99, since(hist, previous ? histogram(previous, 'retail_system_call_duration_seconds', { system }) : undefined));
      rates.set(system, rate);
      p99s.set(system, p99);
      const breakerValue = groupBy(summary, 'retail_circuit_breaker_state', 'system').get(system);
      const breaker = breakerValue === undefined ? 'closed' : (BREAKER_STATES[breakerValue] ?? 'open');
      const health = snap.systemStatus.ok ? snap.systemStatus.value.systems.find((s) => s.system === system) : undefined;
      return h(
        'tr',
        { 'data-system': system },
        h('td', {}, system.toUpperCase()),
        h('td', { class: health ? `state-${health.state}` : '', 'data-field': 'state' }, health?.state ?? (snap.systemStatus.ok ? '–' : '?')),
        h('td', { class: `state-${breaker}`, 'data-field': 'breaker', 'data-value': breakerValue === undefined ? undefined : String(breakerValue) }, breaker),
        h('td', { class: 'num', 'data-field': 'rate' }, rate === null ? '–' : number(rate, 2)),
        h('td', { class: `num${errorRatio && errorRatio > 0.05 ? ' ops-bad' : ''}`, 'data-field': 'errors' }, percent(errorRatio)),
        h('td', { class: 'num', 'data-field': 'p99' }, duration(p99)),
        h('td', { class: 'num', 'data-field': 'calls', 'data-value': String(calls) }, number(calls)),
        h('td', { class: 'num', 'data-field': 'failed', 'data-value': String(failed) }, number(failed)),
        h('td', { 'data-field': 'detail' }, health?.detail ?? ''),
      );
    });
    const tableHead: (string | [string, 'num'])[] = ['System', 'State', 'Breaker', ['Calls/s', 'num'], ['Errors', 'num'], ['p99', 'num'], ['Calls', 'num'], ['Failed', 'num'], 'Detail'];
    this.systemsTable.replaceChildren(table(tableHead, rows, 'No calls to a system of record yet.'), snap.systemStatus.ok ? '' : unavailable(snap.systemStatus));
    // A rate needs two readings: the first poll draws empty charts.
    if (seconds !== undefined) {
      pushTrend(rateTrend, now / 1000, rates, ordered);
      pushTrend(p99Trend, now / 1000, p99s, ordered);
    }
    this.rateChart.update(rateTrend);
    this.p99Chart.update(p99Trend);

    // Tiles and objectives.
    const placed = total(summary, 'retail_orders_placed_total');
    const placedRate = seconds === undefined ? null : (delta(placed, previous ? total(previous, 'retail_orders_placed_total') : undefined) / seconds) * 60;
    const openCount = snap.openOrders.ok ? snap.openOrders.value.statuses.reduce((n, s) => n + s.count, 0) : null;
    const dead = total(summary, 'retail_outbox_dead_letters', { outbox: 'erp' });
    const openBreakers = ordered.filter((s) => (groupBy(summary, 'retail_circuit_breaker_state', 'system').get(s) ?? 0) >= 2);
    const requests = total(summary, 'retail_graphql_requests_total');
    const requestRate = seconds === undefined ? null : delta(requests, previous ? total(previous, 'retail_graphql_requests_total') : undefined) / seconds;
    const ack = over(histogram(summary, 'retail_order_acknowledgement_seconds'), objectives.orderAcknowledgementSeconds);
    const posting = over(histogram(summary, 'retail_erp_posting_lag_seconds'), objectives.postingSeconds);
    const freshness = groupBy(summary, 'retail_inventory_freshness_seconds', 'location');
    const stale = [...freshness.entries()].filter(([, age]) => age > objectives.inventoryFreshnessSeconds);
    const byChannel = groupBy(summary, 'retail_orders_placed_total', 'channel');
    this.tiles.replaceChildren(
      tile('orders-placed', 'Orders placed', number(placed), placed, `${placedRate === null ? '–' : number(placedRate, 1)}/min · ${[...byChannel].map(([c, n]) => `${c} ${number(n)}`).join(' · ') || 'since start'}`),
      tile('open-orders', 'Open orders', openCount === null ? '–' : number(openCount), openCount, snap.openOrders.ok ? `${snap.openOrders.value.statuses.length} statuses` : snap.openOrders.message),
      tile('dead-letters', 'ERP dead letters', number(dead), dead, 'waiting for a replay', dead > 0 ? 'bad' : 'ok'),
      tile('breakers-open', 'Breakers open', number(openBreakers.length), openBreakers.length, openBreakers.map((s) => s.toUpperCase()).join(', ') || 'all closed', openBreakers.length > 0 ? 'bad' : 'ok'),
      tile('requests', 'GraphQL requests/s', requestRate === null ? '–' : number(requestRate, 1), requestRate === null ? null : requestRate.toFixed(3), `${number(requests)} since start`),
      tile('ack-breaches', `Checkouts over ${duration(objectives.orderAcknowledgementSeconds)}`, number(ack.over), ack.over, `of ${number(ack.of)} acknowledged`, ack.over > 0 ? 'warn' : 'ok'),
      tile('stale-locations', `Locations staler than ${duration(objectives.inventoryFreshnessSeconds)}`, number(stale.length), stale.length, `of ${number(freshness.size)} reporting`, stale.length > 0 ? 'warn' : 'ok'),
    );
    const objectiveRow = (key: string, what: string, objective: string, measured: string, breaches: number, of: string) =>
      h('tr', { 'data-objective': key }, h('td', {}, what), h('td', {}, objective), h('td', {}, measured), h('td', { class: `num ${breaches > 0 ? 'ops-bad' : 'ops-ok'}`, 'data-field': 'breaches', 'data-value': String(breaches) }, number(breaches)), h('td', {}, of));
    const waitingAge = snap.outboxToday.ok ? ageOf(snap.outboxToday.value.oldestWaitingSince, now) : null;
    const waitingLate = waitingAge !== null && waitingAge > objectives.postingSeconds ? 1 : 0;
    this.objectivesPanel.body.replaceChildren(
      table(
        ['Objective', 'Target', 'Measured', ['Breaches', 'num'], 'Of'],
        [
          objectiveRow('order-acknowledgement', 'Order acknowledged (checkout to order placed)', `≤ ${duration(objectives.orderAcknowledgementSeconds)} · SLO_ORDER_ACK_SECONDS`, `p99 ${duration(quantile(0.99, histogram(summary, 'retail_order_acknowledgement_seconds')))}`, ack.over, `${number(ack.of)} checkouts${ack.exact ? '' : ' (at least)'}`),
          objectiveRow('posting', 'Sale or refund posted in the ERP', `≤ ${duration(objectives.postingSeconds)} · SLO_POSTING_SECONDS`, `p99 ${duration(quantile(0.99, histogram(summary, 'retail_erp_posting_lag_seconds')))}; oldest waiting ${duration(waitingAge)}`, posting.over + waitingLate + dead, `${number(posting.of)} booked, ${number(dead)} dead-lettered`),
          objectiveRow('inventory-freshness', 'Newest stock event per location', `≤ ${duration(objectives.inventoryFreshnessSeconds)} · SLO_INVENTORY_FRESHNESS_SECONDS`, `stalest ${duration(Math.max(0, ...freshness.values()))}`, stale.length, `${number(freshness.size)} locations`),
        ],
        '',
      ),
    );

    this.renderQueues(summary, previous, seconds);
    // Ages shown to the minute at best: the key changes when what is shown does.
    this.paint('orders', [snap.openOrders, Math.floor(now / 60_000)], () => this.renderOrders(snap.openOrders, now));
    this.paint('dead-letters', [snap.deadLetters, dead], () => this.renderDeadLetters(snap.deadLetters, dead));
    this.renderFailures(summary);
    const lag = histogram(summary, 'retail_erp_posting_lag_seconds');
    this.paint('finance', [this.reconciliation, snap.outboxToday, lag.count, lag.sum, Math.floor(now / 60_000)], () => this.renderFinance(summary, snap.outboxToday, now));
    this.renderFreshness(freshness, objectives.inventoryFreshnessSeconds);

    const sources = summary.sources;
    const merged = sources.filter((s) => s.status === 'ok').length;
    const missing = sources.filter((s) => s.status === 'unavailable' || s.status === 'refused');
    this.status.textContent = `Updated ${new Date(now).toLocaleTimeString()} · ${merged} registr${merged === 1 ? 'y' : 'ies'} merged${missing.length ? ` · not read: ${missing.map((s) => `${s.name} (${s.status})`).join(', ')}` : ''}`;
    this.status.className = 'ops-meta';
    this.element.setAttribute('data-updated-at', summary.at);
    if (!this.rendered) {
      this.rendered = true;
      // The moment a person sees figures: what the page's load time is measured to.
      performance.mark('ops:first-data');
      document.body.setAttribute('data-ready', 'true');
    }
  }

  private renderQueues(summary: Summary, previous: Summary | undefined, seconds: number | undefined): void {
    const pending = groupBy(summary, 'retail_outbox_pending', 'outbox');
    const dead = groupBy(summary, 'retail_outbox_dead_letters', 'outbox');
    const outboxes = [...new Set([...pending.keys(), ...dead.keys()])].sort();
    const outboxRows = outboxes.map((outbox) =>
      h(
        'tr',
        { 'data-outbox': outbox },
        h('td', {}, outbox),
        h('td', { class: 'num', 'data-field': 'pending', 'data-value': String(pending.get(outbox) ?? 0) }, number(pending.get(outbox) ?? 0)),
        h('td', { class: `num${(dead.get(outbox) ?? 0) > 0 ? ' ops-bad' : ''}`, 'data-field': 'dead', 'data-value': String(dead.get(outbox) ?? 0) }, number(dead.get(outbox) ?? 0)),
      ),
    );
    const groups = [...groupBy(summary, 'retail_event_consume_lag_seconds_count', 'group').keys()].sort();
    const groupRows = groups.map((group) => {
      const hist = histogram(summary, 'retail_event_consume_lag_seconds', { group });
      const recent = since(hist, previous ? histogram(previous, 'retail_event_consume_lag_seconds', { group }) : undefined);
      const consumed = total(summary, 'retail_events_consumed_total', { group });
      const errors = total(summary, 'retail_events_consumed_total', { group, outcome: 'error' });
      const rate = seconds === undefined || !previous ? null : delta(consumed, total(previous, 'retail_events_consumed_total', { group })) / seconds;
      return h(
        'tr',
        { 'data-group': group },
        h('td', {}, group),
        h('td', { class: 'num' }, rate === null ? '–' : number(rate, 2)),
        h('td', { class: 'num', 'data-field': 'lag-recent' }, recent.count > 0 && previous ? duration(quantile(0.99, recent)) : '–'),
        h('td', { class: 'num', 'data-field': 'lag' }, duration(quantile(0.99, hist))),
        h('td', { class: 'num' }, duration(hist.count > 0 ? hist.sum / hist.count : null)),
        h('td', { class: `num${errors > 0 ? ' ops-warn' : ''}` }, number(errors)),
      );
    });
    this.queues.body.replaceChildren(
      table(['Outbox', ['Pending', 'num'], ['Dead letters', 'num']], outboxRows, 'No outbox reports yet.'),
      h('h3', {}, 'Backbone lag (event occurred → consumer group handled it)'),
      table(['Consumer group', ['Events/s', 'num'], ['p99 now', 'num'], ['p99 since start', 'num'], ['Mean', 'num'], ['Errors', 'num']], groupRows, 'No events consumed yet.'),
    );
  }

  private renderOrders(answer: Answer<OpenOrders>, now: number): void {
    if (!answer.ok) return this.orders.body.replaceChildren(unavailable(answer));
    const { statuses, oldest } = answer.value;
    const statusRows = statuses.map((s) =>
      h('tr', { 'data-open-status': s.status }, h('td', {}, s.status), h('td', { class: 'num', 'data-field': 'count', 'data-value': String(s.count) }, number(s.count)), h('td', { class: 'num' }, duration(ageOf(s.oldestPlacedAt, now)))),
    );
    const oldestRows = oldest.map((o) =>
      h(
        'tr',
        { 'data-order': o.id },
        h('td', {}, h('a', { href: `#order/${encodeURIComponent(o.id)}`, 'data-action': 'timeline' }, o.number)),
        h('td', {}, o.status),
        h('td', {}, o.channel),
        h('td', { class: 'num' }, duration(ageOf(o.placedAt, now))),
      ),
    );
    this.orders.body.replaceChildren(
      h('div', { class: 'ops-row' }, table(['Status', ['Orders', 'num'], ['Oldest', 'num']], statusRows, 'No open orders.'), table(['Oldest open orders', 'Status', 'Channel', ['Age', 'num']], oldestRows, 'No open orders.')),
    );
  }

  private renderDeadLetters(answer: Answer<Posting[]>, gauge: number): void {
    const intro = h('div', {}, `${number(gauge)} dead-lettered posting${gauge === 1 ? '' : 's'} in the ERP outbox (retries exhausted). A replay queues them for the outbox again.`);
    if (!answer.ok) return this.deadLetters.body.replaceChildren(intro, unavailable(answer));
    const postings = answer.value;
    const rows = postings.map((p) =>
      h(
        'tr',
        { 'data-posting': p.id },
        h('td', { title: p.id }, p.id),
        h('td', {}, h('a', { href: `#order/${encodeURIComponent(p.orderId)}` }, p.orderId)),
        h('td', {}, p.type),
        h('td', { class: 'num' }, money(p.amount)),
        h('td', { class: 'num' }, number(p.attempts)),
        h('td', { title: p.lastError ?? '' }, p.lastError ?? ''),
        h('td', {}, h('button', { type: 'button', 'data-action': 'replay', onclick: (e) => void this.replay([p], e.currentTarget as HTMLButtonElement) }, 'Replay')),
      ),
    );
    const all = postings.length > 1 ? h('button', { type: 'button', 'data-action': 'replay-all', onclick: (e) => void this.replay(postings, e.currentTarget as HTMLButtonElement) }, `Replay all ${postings.length}`) : null;
    this.deadLetters.body.replaceChildren(intro, table(['Posting', 'Order', 'Type', ['Amount', 'num'], ['Attempts', 'num'], 'Last error', ''], rows, 'No dead letters.'), all ?? '', this.replayMessage ?? '');
  }

  private async replay(postings: readonly Posting[], button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    const ids = postings.map((p) => p.id);
    // The same postings at the same attempt count make the same key: a second click, or a retry after a lost answer,
    // is answered with the first result instead of queueing twice. A posting that died again has more attempts.
    const idempotencyKey = `ops-replay-${hash(postings.map((p) => `${p.id}:${p.attempts}`).join(','))}`;
    let message: HTMLElement;
    try {
      const [result] = await graphql([{ query: REPLAY, variables: { ids, idempotencyKey } }]);
      const answer = answerOf<{ postings: { id: string; status: string }[]; userErrors: { field: string | null; message: string; code: string }[] }>(result, 'replayPostings');
      if (!answer.ok) message = h('div', { class: 'ops-message ops-bad', 'data-replay': 'failed' }, `Replay refused: ${answer.message}`);
      else {
        const queued = answer.value.postings.filter((p) => p.status === 'PENDING').length;
        const problems = answer.value.userErrors.map((e) => `${e.code}: ${e.message}`).join('; ');
        message = h('div', { class: `ops-message ${problems ? 'ops-warn' : 'ops-ok'}`, 'data-replay': 'done', 'data-value': String(queued) }, `Queued ${queued} of ${ids.length} for posting.${problems ? ` ${problems}` : ''}`);
      }
    } catch (error) {
      if (error instanceof SignInError) return this.signOut(error.message);
      message = h('div', { class: 'ops-message ops-bad', 'data-replay': 'failed' }, `Replay failed: ${(error as Error).message}`);
    }
    this.replayMessage = message;
    button.disabled = false;
    button.after(message);
  }

  private renderFailures(summary: Summary): void {
    const rows = new Map<string, { reservations: Map<string, number>; checkouts: Map<string, number> }>();
    const add = (name: string, field: 'reservations' | 'checkouts') => {
      for (const s of summary.samples) {
        if (s.name !== name) continue;
        const location = s.labels.location ?? '?';
        const code = s.labels.code ?? '?';
        let row = rows.get(location);
        if (!row) rows.set(location, (row = { reservations: new Map(), checkouts: new Map() }));
        row[field].set(code, (row[field].get(code) ?? 0) + s.value);
      }
    };
    add('retail_reservation_failures_total', 'reservations');
    add('retail_checkout_failures_total', 'checkouts');
    const sumOf = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const codes = (m: Map<string, number>) => [...m].map(([code, n]) => `${code} ${number(n)}`).join(', ');
    const sorted = [...rows].sort((a, b) => sumOf(b[1].reservations) + sumOf(b[1].checkouts) - (sumOf(a[1].reservations) + sumOf(a[1].checkouts)) || a[0].localeCompare(b[0]));
    this.failures.body.replaceChildren(
      table(
        ['Location', ['Reservations refused', 'num'], 'Codes', ['Checkouts failed', 'num'], 'Codes'],
        sorted.map(([location, r]) =>
          h(
            'tr',
            { 'data-location': location },
            h('td', {}, location),
            h('td', { class: 'num', 'data-field': 'reservations', 'data-value': String(sumOf(r.reservations)) }, number(sumOf(r.reservations))),
            h('td', {}, codes(r.reservations)),
            h('td', { class: 'num', 'data-field': 'checkouts', 'data-value': String(sumOf(r.checkouts)) }, number(sumOf(r.checkouts))),
            h('td', {}, codes(r.checkouts)),
          ),
        ),
        'No failures since start.',
      ),
    );
  }

  private renderFinance(summary: Summary, outbox: Answer<OutboxSummary>, now: number): void {
    const lag = histogram(summary, 'retail_erp_posting_lag_seconds');
    const postingLine = h(
      'div',
      { 'data-field': 'posting-lag' },
      lag.count > 0 ? `${number(lag.count)} postings booked since start: p50 ${duration(quantile(0.5, lag))}, p99 ${duration(quantile(0.99, lag))}, mean ${duration(lag.sum / lag.count)}.` : 'No posting booked since start.',
    );
    const outboxLine = outbox.ok
      ? h('div', { 'data-field': 'outbox-today' }, `Today’s postings: ${number(outbox.value.pending)} pending, ${number(outbox.value.failed)} retrying, ${number(outbox.value.deadLettered)} dead-lettered, ${number(outbox.value.posted)} posted; oldest waiting ${duration(ageOf(outbox.value.oldestWaitingSince, now))}.`)
      : unavailable(outbox);
    const parts: (Node | string)[] = [h('h3', {}, 'Posting delay (business event → ERP journal)'), postingLine, outboxLine, h('h3', {}, 'Reconciliation, today 00:00 UTC to now')];
    const r = this.reconciliation;
    if (!r) parts.push(h('div', { class: 'ops-empty' }, 'Not run yet.'));
    else if (!r.ok) parts.push(unavailable(r));
    else {
      const v = r.value;
      parts.push(
        h(
          'div',
          { 'data-field': 'reconciliation', 'data-value': String(v.mismatches.length) },
          `${number(v.sourceItems)} source items: ${money(v.sourceTotal)} in the source events, ${money(v.erpTotal)} booked by the ERP; ${number(v.pendingPostings)} postings pending, ${number(v.failedPostings)} dead-lettered; `,
          h('span', { class: v.mismatches.length > 0 ? 'ops-bad' : 'ops-ok' }, `${number(v.mismatches.length)} mismatch${v.mismatches.length === 1 ? '' : 'es'}`),
          '.',
        ),
        table(
          ['Order', 'Type', 'Reason', ['Expected', 'num'], ['Posted', 'num']],
          v.mismatches.slice(0, 8).map((m) => h('tr', { 'data-mismatch': m.orderId }, h('td', {}, h('a', { href: `#order/${encodeURIComponent(m.orderId)}` }, m.orderId)), h('td', {}, m.type), h('td', {}, m.reason), h('td', { class: 'num' }, money(m.expected)), h('td', { class: 'num' }, money(m.posted)))),
          '',
        ),
      );
    }
    this.finance.body.replaceChildren(...parts);
  }

  private renderFreshness(freshness: Map<string, number>, objective: number): void {
    const rows = [...freshness].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    this.freshness.body.replaceChildren(
      table(
        ['Location', ['Newest stock event', 'num'], 'Objective'],
        rows.map(([location, age]) =>
          h('tr', { 'data-location': location }, h('td', {}, location), h('td', { class: 'num', 'data-field': 'age', 'data-value': String(age) }, `${duration(age)} ago`), h('td', { class: age > objective ? 'ops-bad' : 'ops-ok' }, age > objective ? 'STALE' : 'fresh')),
        ),
        'No stock event seen since start: freshness is measured from the events this deployment published.',
      ),
    );
  }

  /** `#order/<id>`: the order's unified timeline, over the page. */
  private async showOrderFromHash(): Promise<void> {
    const id = /^#order\/(.+)$/.exec(window.location.hash)?.[1];
    if (!id) {
      this.drawer.hidden = true;
      return;
    }
    const orderId = decodeURIComponent(id);
    const close = h(
      'button',
      {
        type: 'button',
        'data-action': 'close',
        onclick: () => {
          // Off the URL without a new history entry (which would fire no hashchange: hide it here).
          history.replaceState(null, '', `${window.location.pathname}${window.location.search}`);
          this.drawer.hidden = true;
        },
      },
      'Close',
    );
    this.drawer.replaceChildren(h('header', {}, h('h2', {}, `Order ${orderId}`), close), h('div', { class: 'ops-empty' }, 'Loading the timeline…'));
    this.drawer.hidden = false;
    let body: HTMLElement;
    try {
      const [result] = await graphql([{ query: ORDER_TIMELINE, variables: { id: orderId } }]);
      const answer = answerOf<TimelineOrder>(result, 'order');
      if (!answer.ok) body = unavailable(answer.denied ? answer : { ...answer, message: result?.data?.order === null && !result.errors ? 'No such order.' : answer.message });
      else {
        const order = answer.value;
        body = h(
          'div',
          { 'data-order-timeline': order.id },
          h('div', {}, 'Number ', h('strong', { 'data-field': 'number' }, order.number), ' · status ', h('strong', { 'data-field': 'status' }, order.status)),
          table(
            ['When', 'Event', 'Source', 'Correlation id', 'What'],
            (order.timeline ?? []).map((e) => h('tr', { 'data-event': e.type }, h('td', {}, new Date(e.occurredAt).toLocaleString()), h('td', {}, e.type), h('td', {}, e.source), h('td', {}, e.correlationId), h('td', {}, e.summary))),
            order.timeline ? 'No events.' : 'The timeline is unavailable.',
          ),
        );
      }
    } catch (error) {
      if (error instanceof SignInError) return this.signOut(error.message);
      body = h('div', { class: 'ops-error' }, (error as Error).message);
    }
    const header = this.drawer.firstElementChild;
    this.drawer.replaceChildren(...(header ? [header] : []), body);
    const title = this.drawer.querySelector('h2');
    if (title && answerNumber(body)) title.textContent = `Order ${answerNumber(body)}`;
  }
}

function answerNumber(body: HTMLElement): string | undefined {
  return body.querySelector('[data-field="number"]')?.textContent ?? undefined;
}

/** FNV-1a, 32 bits, as hex: a short stable name for a list of postings. */
function hash(text: string): string {
  let h32 = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h32 ^= text.charCodeAt(i);
    h32 = Math.imul(h32, 0x01000193) >>> 0;
  }
  return h32.toString(16).padStart(8, '0') + text.length.toString(16);
}

// ---------------------------------------------------------------------------------------------------------------
// Sign-in

function signInForm(onSignedIn: () => void, message?: string): HTMLElement {
  const input = h('textarea', { id: 'ops-token', name: 'token', placeholder: 'Paste a bearer token (the JWT alone, or “Bearer …”)', autocomplete: 'off', spellcheck: 'false', required: true });
  const error = h('div', { class: 'ops-error', role: 'alert', 'data-field': 'sign-in-error' }, message ?? '');
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'ops-signin', id: 'ops-signin' },
    h('h1', {}, 'Operations console'),
    h('p', {}, 'For operations, service agents and finance: sign in with your bearer token, the same one the graph takes. It is kept in this tab only (session storage) and sent as Authorization with every request.'),
    h('label', { for: 'ops-token' }, 'Token'),
    input,
    error,
    submit,
    config.sandboxHint
      ? h(
          'div',
          { class: 'ops-hint', 'data-field': 'sandbox-hint' },
          'In the sandbox, ask its identity provider for one: ',
          h('code', {}, `curl -s -XPOST localhost:4010/sandbox/tokens -H 'content-type: application/json' -d '{"role":"ops"}'`),
          ' (or "agent", "finance"; the sandbox control port is SANDBOX_PORT, 4010 by default).',
        )
      : null,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const candidate = normalizeToken(input.value);
      if (!candidate) return;
      submit.disabled = true;
      error.textContent = '';
      const before = token;
      token = candidate;
      try {
        await fetchSummary();
        storeToken(token);
        onSignedIn();
      } catch (failure) {
        token = before;
        error.textContent = failure instanceof SignInError ? (failure.status === 403 ? `This token’s role may not open the console (${failure.message}).` : `The token was refused: ${failure.message}`) : `Could not check the token: ${(failure as Error).message}`;
      } finally {
        submit.disabled = false;
      }
    })();
  });
  return form;
}

// ---------------------------------------------------------------------------------------------------------------
// Start

const root = document.getElementById('ops-root') ?? document.body;
let dashboard: Dashboard | undefined;

function showDashboard(): void {
  dashboard?.stop();
  dashboard = new Dashboard(showSignIn);
  root.replaceChildren(dashboard.element);
  dashboard.start();
}

function showSignIn(message?: string): void {
  dashboard?.stop();
  dashboard = undefined;
  token = '';
  storeToken('');
  root.replaceChildren(signInForm(showDashboard, message));
  document.getElementById('ops-token')?.focus();
}

if (token || config.headerSignedIn) showDashboard();
else showSignIn();
