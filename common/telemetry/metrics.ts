import { randomUUID } from 'node:crypto';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/*
 * The one catalog of Prometheus series the product exports: every name, help text and label set lives here, so that
 * the deployment files (alert rules, the Grafana dashboard) and the operations console are checked against one list.
 * Labels are bounded sets (system, method, subgraph, operation name from the trusted documents, status, code,
 * location id): never an order id, a SKU or a customer.
 */

/** Seconds buckets for request and call latencies: 1 ms to 10 s. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds buckets for lags that run to minutes (events consumed, ERP postings, order acknowledgement). */
const LAG_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900, 3600];

/** The breaker state as a number, for `retail_circuit_breaker_state`. */
export const BREAKER_STATE_VALUES = { closed: 0, 'half-open': 1, open: 2 } as const;

/** Every series, by name. The deployment test checks alert rules and dashboards against these names. */
export const METRIC_NAMES = [
  'retail_graphql_requests_total',
  'retail_graphql_request_duration_seconds',
  'retail_subgraph_fetches_total',
  'retail_subgraph_fetch_duration_seconds',
  'retail_system_calls_total',
  'retail_system_call_duration_seconds',
  'retail_system_call_retries_total',
  'retail_circuit_breaker_state',
  'retail_events_published_total',
  'retail_events_consumed_total',
  'retail_event_consume_lag_seconds',
  'retail_subscription_sockets',
  'retail_subscription_subscribers',
  'retail_subscription_groups',
  'retail_subscription_deliveries_total',
  'retail_subscription_drops_total',
  'retail_subscription_delivery_latency_seconds',
  'retail_outbox_pending',
  'retail_outbox_dead_letters',
  'retail_outbox_replays_total',
  'retail_erp_posting_lag_seconds',
  'retail_orders_placed_total',
  'retail_order_acknowledgement_seconds',
  'retail_open_orders',
  'retail_open_order_oldest_age_seconds',
  'retail_checkout_failures_total',
  'retail_reservation_failures_total',
  'retail_idempotent_replays_total',
  'retail_reconciliation_mismatches',
  'retail_reconciliation_runs_total',
  'retail_inventory_freshness_seconds',
  'retail_master_data_sync_lag_seconds',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** A gauge read when Prometheus scrapes: each call sets the gauge's current values. */
export type GaugeReader = (gauge: Gauge<string>) => void | Promise<void>;

/**
 * The series of one process (the all-in-one process serves one merged registry: the gateway's and every
 * subgraph's). Counters and histograms are updated where things happen; gauges are read at scrape time from the
 * component that knows (outbox depth, open orders), registered with {@link Metrics.read}.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Names this registry, for readers that meet it on several ports of one process. */
  readonly instance = randomUUID();

  readonly graphqlRequests = this.counter('retail_graphql_requests_total', 'GraphQL operations answered by the gateway, by operation name and outcome (ok, error, rejected)', ['operation', 'outcome']);
  readonly graphqlDuration = this.histogram('retail_graphql_request_duration_seconds', 'Time the gateway took to answer a GraphQL operation', ['operation', 'outcome'], LATENCY_BUCKETS);
  readonly subgraphFetches = this.counter('retail_subgraph_fetches_total', 'Fetches from the gateway to a subgraph, by outcome (ok, error)', ['subgraph', 'outcome']);
  readonly subgraphDuration = this.histogram('retail_subgraph_fetch_duration_seconds', 'Time of one fetch from the gateway to a subgraph', ['subgraph'], LATENCY_BUCKETS);
  readonly systemCalls = this.counter('retail_system_calls_total', 'Calls to a system of record, by system, port method and outcome (ok, error, timeout, circuit_open, rate_limited)', ['system', 'method', 'outcome']);
  readonly systemDuration = this.histogram('retail_system_call_duration_seconds', 'Time of one call to a system of record, its retries included', ['system', 'method'], LATENCY_BUCKETS);
  readonly systemRetries = this.counter('retail_system_call_retries_total', 'Attempts beyond the first of calls to a system of record', ['system', 'method']);
  readonly breakerState = this.gauge('retail_circuit_breaker_state', 'Circuit breaker of each system: 0 closed, 1 half-open, 2 open', ['system']);
  readonly eventsPublished = this.counter('retail_events_published_total', 'Canonical events published on the backbone, by type', ['type']);
  readonly eventsConsumed = this.counter('retail_events_consumed_total', 'Canonical events handled by a durable consumer group, by group and outcome (ok, error)', ['group', 'outcome']);
  readonly consumeLag = this.histogram('retail_event_consume_lag_seconds', 'Time from an event occurring to a consumer group handling it', ['group'], LAG_BUCKETS);
  readonly subscriptionSockets = this.gauge('retail_subscription_sockets', 'Open graphql-ws sockets at the gateway', []);
  readonly subscriptionSubscribers = this.gauge('retail_subscription_subscribers', 'Active subscriptions at the gateway', []);
  readonly subscriptionGroups = this.gauge('retail_subscription_groups', 'Groups of identical subscriptions sharing one upstream stream', []);
  readonly subscriptionDeliveries = this.counter('retail_subscription_deliveries_total', 'Subscription events delivered to clients', []);
  readonly subscriptionDrops = this.counter('retail_subscription_drops_total', 'Subscribers dropped, by reason (slow, error)', ['reason']);
  readonly subscriptionLatency = this.histogram('retail_subscription_delivery_latency_seconds', 'Time from an event occurring to its delivery to a subscriber', [], LAG_BUCKETS);
  readonly outboxPending = this.gauge('retail_outbox_pending', 'Entries waiting in an outbox (event outbox: batches; erp: postings not yet posted)', ['outbox']);
  readonly outboxDeadLetters = this.gauge('retail_outbox_dead_letters', 'Entries an outbox gave up on, waiting for a replay', ['outbox']);
  readonly outboxReplays = this.counter('retail_outbox_replays_total', 'Dead letters replayed by an operator', ['outbox']);
  readonly postingLag = this.histogram('retail_erp_posting_lag_seconds', 'Time from the business event to its journal posting in the ERP', [], LAG_BUCKETS);
  readonly ordersPlaced = this.counter('retail_orders_placed_total', 'Orders placed, by channel and delivery method', ['channel', 'delivery_method']);
  readonly orderAcknowledgement = this.histogram('retail_order_acknowledgement_seconds', 'Time from a checkout starting to its order being placed', ['channel'], LAG_BUCKETS);
  readonly openOrders = this.gauge('retail_open_orders', 'Orders not yet completed or cancelled, by status', ['status']);
  readonly openOrderOldest = this.gauge('retail_open_order_oldest_age_seconds', 'Age of the oldest open order in each status', ['status']);
  readonly checkoutFailures = this.counter('retail_checkout_failures_total', 'Checkouts answered with a user error, by code and location', ['code', 'location']);
  readonly reservationFailures = this.counter('retail_reservation_failures_total', 'Stock reservations refused, by code and location', ['code', 'location']);
  readonly idempotentReplays = this.counter('retail_idempotent_replays_total', 'Duplicate submissions answered from the first result, by operation', ['operation']);
  readonly reconciliationMismatches = this.gauge('retail_reconciliation_mismatches', 'Mismatches found by the latest reconciliation run', []);
  readonly reconciliationRuns = this.counter('retail_reconciliation_runs_total', 'Reconciliation runs', []);
  readonly inventoryFreshness = this.gauge('retail_inventory_freshness_seconds', 'Age of the newest stock event of each location', ['location']);
  readonly masterDataLag = this.gauge('retail_master_data_sync_lag_seconds', 'Age of the last ERP change the master-data read models applied', []);

  /**
   * @param options.processMetrics Node's own series (heap, event loop lag, GC), for the registry of a process: each
   * registry with them keeps observers running, so the many stacks of a test process go without. @default false
   */
  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? false) collectDefaultMetrics({ register: this.registry, prefix: 'retail_process_' });
  }

  /**
   * Read `gauge` at every scrape with `reader` (several readers may share one gauge: each sets its own labels).
   * Returns a function that stops reading, for a component that stops.
   */
  read(gauge: Gauge<string>, reader: GaugeReader): () => void {
    const readers = this.readers.get(gauge) ?? new Set<GaugeReader>();
    this.readers.set(gauge, readers);
    readers.add(reader);
    return () => readers.delete(reader);
  }

  /** The exposition text, in the registry's content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private readonly readers = new Map<Gauge<string>, Set<GaugeReader>>();

  private counter(name: MetricName, help: string, labelNames: string[]): Counter<string> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram(name: MetricName, help: string, labelNames: string[], buckets: number[]): Histogram<string> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  private gauge(name: MetricName, help: string, labelNames: string[]): Gauge<string> {
    // Arrow functions keep `this` the Metrics; prom-client calls collect with the gauge as `this`.
    const readersOf = () => this.readers.get(gauge);
    const gauge: Gauge<string> = new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        const readers = readersOf();
        if (!readers) return;
        for (const reader of readers) await reader(gauge);
      },
    });
    return gauge;
  }
}

/** What a GraphQL operation name looks like. */
export const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
/** What a location id looks like (`store-003`, `wh-01`). */
export const LOCATION_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Operation names and location ids are the client's to send: a label takes only values in `known` (the trusted
 * documents' operations) and the first `cap` others of the right shape, then `other`, so a client inventing values
 * cannot grow the series.
 */
export function boundedLabel(known: ReadonlySet<string>, cap = 100, shape: RegExp = GRAPHQL_NAME): (name: string | undefined) => string {
  const seen = new Set<string>();
  return (name) => {
    if (!name) return 'anonymous';
    if (known.has(name) || seen.has(name)) return name;
    if (seen.size < cap && shape.test(name)) {
      seen.add(name);
      return name;
    }
    return 'other';
  };
}

/** The label of a location id the client sent (a checkout's pickup store, a reservation's location): one bounded set. */
export const locationLabel = boundedLabel(new Set(), 200, LOCATION_ID);
