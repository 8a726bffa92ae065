import type { MetricName } from '../common/telemetry/metrics.js';

/*
 * The operations console's view of the metrics: Prometheus exposition text (this process's registry, each subgraph's
 * /metrics) parsed, cut down to the series the console shows, and merged across processes. The browser gets samples,
 * not a query language: rates and quantiles are computed there, between two polls.
 */

/** One sample as the console's summary carries it: `name` is the series' (`…_bucket`, `…_sum`, `…_count` for histograms). */
export interface OpsSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface ParsedFamily {
  name: string;
  type: FamilyType;
  samples: OpsSample[];
}

/**
 * The families the console shows, each with the labels it keeps; the others are summed away, which keeps the summary
 * small (a system's calls by method are a hundred series the console does not chart). Only counters and histograms
 * drop labels: a gauge keeps all of its own, since summing a gauge over a label would mean nothing.
 */
export const OPS_FAMILIES: Readonly<Partial<Record<MetricName, readonly string[]>>> = {
  retail_graphql_requests_total: ['outcome'],
  retail_system_calls_total: ['system', 'outcome'],
  retail_system_call_duration_seconds: ['system'],
  retail_circuit_breaker_state: ['system'],
  retail_outbox_pending: ['outbox'],
  retail_outbox_dead_letters: ['outbox'],
  retail_outbox_replays_total: ['outbox'],
  retail_events_consumed_total: ['group', 'outcome'],
  retail_event_consume_lag_seconds: ['group'],
  retail_erp_posting_lag_seconds: [],
  retail_orders_placed_total: ['channel', 'delivery_method'],
  retail_order_acknowledgement_seconds: [],
  retail_open_orders: ['status'],
  retail_open_order_oldest_age_seconds: ['status'],
  retail_checkout_failures_total: ['code', 'location'],
  retail_reservation_failures_total: ['code', 'location'],
  retail_reconciliation_mismatches: [],
  retail_reconciliation_runs_total: [],
  retail_inventory_freshness_seconds: ['location'],
  retail_master_data_sync_lag_seconds: [],
};

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/**
 * Prometheus's text format (version 0.0.4), as prom-client writes it: `# TYPE` lines, then `name{label="value",…} value`
 * lines, with `\\`, `\"` and `\n` escaped in label values and an optional timestamp after the value. Lines it
 * cannot read are skipped: one odd line must not blank the console.
 */
export function parseExposition(text: string): ParsedFamily[] {
  const families = new Map<string, ParsedFamily>();
  const familyOf = (name: string): ParsedFamily => {
    let family = families.get(name);
    if (!family) families.set(name, (family = { name, type: 'untyped', samples: [] }));
    return family;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = /^#\s*TYPE\s+([a-zA-Z_:][a-zA-Z0-9_:]*)\s+(counter|gauge|histogram|summary|untyped)\s*$/.exec(line);
      if (type) familyOf(type[1] as string).type = type[2] as FamilyType;
      continue;
    }
    const sample = parseSampleLine(line);
    if (!sample) continue;
    familyOf(familyName(sample.name, families)).samples.push(sample);
  }
  return [...families.values()];
}

/** The family a sample belongs to: `x_bucket` is of histogram `x` when `x` was declared one. */
function familyName(sample: string, families: ReadonlyMap<string, ParsedFamily>): string {
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (!sample.endsWith(suffix)) continue;
    const base = sample.slice(0, -suffix.length);
    const type = families.get(base)?.type;
    if (type === 'histogram' || type === 'summary') return base;
  }
  return sample;
}

function parseSampleLine(line: string): OpsSample | undefined {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
  if (!name) return undefined;
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    at++;
    for (;;) {
      while (line[at] === ' ' || line[at] === ',') at++;
      if (line[at] === '}') {
        at++;
        break;
      }
      const key = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(at))?.[0];
      if (!key || line[at + key.length] !== '=' || line[at + key.length + 1] !== '"') return undefined;
      at += key.length + 2;
      let value = '';
      for (;;) {
        const ch = line[at];
        if (ch === undefined) return undefined;
        if (ch === '"') break;
        if (ch === '\\') {
          const next = line[at + 1];
          value += next === 'n' ? '\n' : (next ?? '');
          at += 2;
          continue;
        }
        value += ch;
        at++;
      }
      at++;
      labels[key] = value;
    }
  }
  const [valueText] = line.slice(at).trim().split(/\s+/);
  const value = parseValue(valueText ?? '');
  return value === undefined ? undefined : { name, labels, value };
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === '' || text === 'NaN') return undefined;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

/**
 * The console's families of several processes' expositions, as one list of samples. Within one process the labels
 * the console does not keep are summed away. Across processes, counters and histograms are summed (each process
 * counted its own calls and events); a gauge takes the largest value, since most are readings of shared state (open
 * orders, an outbox in Redis, a location's newest stock event) that every instance reports alike, and for the rest
 * (a breaker, a lag) the worst instance is what an operator needs to see.
 */
export function mergeExpositions(expositions: readonly string[]): OpsSample[] {
  const merged = new Map<string, { sample: OpsSample; gauge: boolean }>();
  for (const text of expositions) {
    const own = new Map<string, { sample: OpsSample; gauge: boolean }>();
    for (const family of parseExposition(text)) {
      const keep = OPS_FAMILIES[family.name as MetricName];
      if (!keep) continue;
      const gauge = family.type === 'gauge';
      for (const sample of family.samples) {
        if (!Number.isFinite(sample.value)) continue;
        const labels: Record<string, string> = {};
        for (const [key, value] of Object.entries(sample.labels)) if (gauge || keep.includes(key) || key === 'le') labels[key] = value;
        const key = seriesKey(sample.name, labels);
        const found = own.get(key);
        if (found) found.sample.value += sample.value;
        else own.set(key, { sample: { name: sample.name, labels, value: sample.value }, gauge });
      }
    }
    for (const [key, entry] of own) {
      const found = merged.get(key);
      if (!found) merged.set(key, entry);
      else found.sample.value = entry.gauge ? Math.max(found.sample.value, entry.sample.value) : found.sample.value + entry.sample.value;
    }
  }
  return [...merged.values()].map((entry) => entry.sample);
}

function seriesKey(name: string, labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  return `${name}{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
}
