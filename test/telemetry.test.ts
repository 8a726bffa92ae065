import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromGlobalId } from '../common/global-id.js';
import { METRIC_NAMES } from '../common/telemetry/metrics.js';
import { startTracing, type Tracing } from '../common/telemetry/tracing-sdk.js';
import { contractOperation } from './support/contract.js';
import { valueOf } from './support/metrics.js';
import { expectedLevel } from './support/expect.js';
import { testEvent } from './support/events.js';
import { pollUntil } from './support/poll.js';
import { AGENT, OPS, shopper, startTestStack, type TestStack } from './support/stack.js';

/*
 * /metrics and traces through the real gateway and subgraphs: the series a scripted checkout moves, who may read
 * them, and one trace from the caller's traceparent through the subgraph fetch, the system-of-record calls and the
 * events, to the finance consumer that handles an event later and links back to it.
 */

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let stack: TestStack;
beforeAll(async () => {
  tracing = startTracing({ serviceName: 'retail-test', exporter, sampleRatio: 1 });
  stack = await startTestStack({}, { METRICS_TOKEN: 'scrape-secret' });
});
afterAll(async () => {
  await stack?.stop();
  await tracing?.stop();
});

let keys = 0;
const key = () => `telemetry-${process.pid}-${Date.now()}-${++keys}`;

/** A SKU with stock at the warehouse that ships online orders. */
function shippable(): string {
  const data = stack.sandbox.data;
  for (const s of data.stock) if (s.locationId === 'wh-01' && (expectedLevel(data, s.sku, 'wh-01')?.available ?? 0) >= 10) return s.sku;
  throw new Error('no stock at wh-01 in the seed');
}

const gatewayBase = () => stack.urls.gateway.replace(/\/graphql$/, '');

async function scrape(url: string, authorization?: string): Promise<{ status: number; text: string; instance: string | null }> {
  const response = await fetch(url, { headers: authorization ? { authorization } : {} });
  return { status: response.status, text: await response.text(), instance: response.headers.get('x-metrics-instance') };
}

async function placeOrder(headers: Record<string, string> = {}) {
  const { body, headers: replied } = await stack.queryAs(
    shopper('cust-00007'),
    contractOperation('PlaceOrder'),
    { input: { idempotencyKey: key(), channel: 'WEB', deliveryMethod: 'SHIPPING', customerId: 'cust-00007', lines: [{ sku: shippable(), quantity: 1 }] } },
    headers,
  );
  const order = (body.data as any)?.placeOrder?.order;
  if (!order) throw new Error(`placeOrder failed: ${JSON.stringify(body)}`);
  return { order, replied };
}

describe('GET /metrics', () => {
  it('answers only the scrape token and ops-role tokens: 401 without a token, 403 for another role', async () => {
    const url = `${gatewayBase()}/metrics`;
    expect((await scrape(url)).status).toBe(401);
    expect((await scrape(url, await stack.bearer(AGENT))).status).toBe(403);
    expect((await scrape(url, 'Bearer not-the-secret')).status).toBe(401);
    const ops = await scrape(url, await stack.bearer(OPS));
    expect(ops.status).toBe(200);
    expect((await scrape(url, 'Bearer scrape-secret')).status).toBe(200);
    for (const name of ['retail_graphql_requests_total', 'retail_system_calls_total', 'retail_circuit_breaker_state', 'retail_outbox_pending']) expect(ops.text).toContain(`# TYPE ${name}`);
  });

  it('every subgraph serves the same registry of the all-in-one process, and /ready', async () => {
    const token = await stack.bearer(OPS);
    const gateway = await scrape(`${gatewayBase()}/metrics`, token);
    for (const url of Object.values(stack.urls.subgraphs)) {
      const base = url.replace(/\/graphql$/, '');
      const own = await scrape(`${base}/metrics`, token);
      expect(own.status).toBe(200);
      expect(own.instance).toBe(gateway.instance);
      expect((await fetch(`${base}/ready`)).status).toBe(200);
    }
  });

  it('a checkout moves the request, fetch, system-call, event and business series, with bounded labels', async () => {
    const token = await stack.bearer(OPS);
    const before = (await scrape(`${gatewayBase()}/metrics`, token)).text;
    await placeOrder();
    // An idempotent replay: the same key and input again.
    const input = { idempotencyKey: key(), channel: 'WEB', deliveryMethod: 'SHIPPING', customerId: 'cust-00007', lines: [{ sku: shippable(), quantity: 1 }] };
    await stack.queryAs(shopper('cust-00007'), contractOperation('PlaceOrder'), { input });
    await stack.queryAs(shopper('cust-00007'), contractOperation('PlaceOrder'), { input });
    // A refusal: an unknown SKU.
    await stack.queryAs(shopper('cust-00007'), contractOperation('PlaceOrder'), { input: { ...input, idempotencyKey: key(), lines: [{ sku: 'NO-SUCH-SKU', quantity: 1 }] } });
    const after = await pollUntil(
      async () => (await scrape(`${gatewayBase()}/metrics`, token)).text,
      (text) => valueOf(text, 'retail_events_published_total', { type: 'ORDER_PLACED' }) >= valueOf(before, 'retail_events_published_total', { type: 'ORDER_PLACED' }) + 2,
      'the ORDER_PLACED events published',
    );
    const grew = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(grew('retail_graphql_requests_total', { operation: 'PlaceOrder', outcome: 'ok' })).toBe(4);
    expect(grew('retail_graphql_request_duration_seconds_count', { operation: 'PlaceOrder' })).toBe(4);
    expect(grew('retail_subgraph_fetches_total', { subgraph: 'orders', outcome: 'ok' })).toBeGreaterThanOrEqual(4);
    expect(grew('retail_system_calls_total', { system: 'psp', outcome: 'ok' })).toBeGreaterThanOrEqual(2);
    expect(grew('retail_orders_placed_total', { channel: 'WEB', delivery_method: 'SHIPPING' })).toBe(2);
    expect(grew('retail_order_acknowledgement_seconds_count', { channel: 'WEB' })).toBe(3);
    expect(grew('retail_idempotent_replays_total', { operation: 'placeOrder' })).toBe(1);
    expect(grew('retail_checkout_failures_total', { location: 'online' })).toBe(1);
    expect(valueOf(after, 'retail_inventory_freshness_seconds', { location: 'wh-01' })).toBeGreaterThanOrEqual(0);
    expect(after).toContain('retail_inventory_freshness_seconds{location="wh-01"}');
    // Never an order id or a SKU as a label.
    expect(after).not.toMatch(/(order|sku)="/);
    for (const line of after.split('\n')) {
      const name = /^(retail_[a-z_]+?)(_bucket|_sum|_count)?[{ ]/.exec(line)?.[1];
      if (name && !name.startsWith('retail_process_')) expect(METRIC_NAMES as readonly string[]).toContain(name);
    }
  });
});

describe('operational data in the graph and the business series', () => {
  it('openOrders answers agents, finance and ops (not shoppers) and matches retail_open_orders', async () => {
    await placeOrder();
    const query = 'query { openOrders(first: 3) { statuses { status count oldestPlacedAt } oldest { id number status placedAt } } }';
    const denied = await stack.queryAs(shopper('cust-00007'), query);
    expect(denied.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const { body } = await stack.queryAs(OPS, query);
    expect(body.errors ?? []).toEqual([]);
    const open = (body.data as any).openOrders;
    expect(open.oldest).toHaveLength(3);
    const confirmed = open.statuses.find((s: any) => s.status === 'CONFIRMED');
    expect(confirmed.count).toBeGreaterThan(0);
    const text = (await scrape(`${gatewayBase()}/metrics`, await stack.bearer(OPS))).text;
    for (const { status, count } of open.statuses) expect(valueOf(text, 'retail_open_orders', { status })).toBe(count);
    expect(valueOf(text, 'retail_open_order_oldest_age_seconds', { status: 'CONFIRMED' })).toBeGreaterThan(0);
  });

  it('an ops user reads an order and its timeline, never a customer record, and cannot search customers', async () => {
    const { order } = await placeOrder();
    const { body } = await stack.queryAs(OPS, contractOperation('OrderTimeline'), { orderId: order.id });
    expect((body.data as any).order.id).toBe(order.id);
    expect((body.data as any).order.timeline.map((e: any) => e.type)).toContain('ORDER_PLACED');
    const customer = await stack.queryAs(OPS, 'query { order(id: "' + order.id + '") { customer { name email } } }');
    // Whatever of the customer the query asks is refused, field by field.
    expect(Object.values((customer.body.data as any).order.customer ?? {}).every((v) => v === null)).toBe(true);
    expect(customer.body.errors?.length).toBeGreaterThan(0);
    expect(customer.body.errors?.every((e: any) => e.extensions?.code === 'FORBIDDEN')).toBe(true);
    const search = await stack.queryAs(OPS, contractOperation('CustomerLookup'), { query: 'a' });
    expect((search.body.data as any)?.searchCustomers ?? null).toBeNull();
    expect(search.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('a refused reservation counts by code and location; a reconciliation run sets its mismatches', async () => {
    const token = await stack.bearer(OPS);
    const before = (await scrape(`${gatewayBase()}/metrics`, token)).text;
    const reserve = 'mutation Reserve($input: ReserveInventoryInput!) { reserveInventory(input: $input) { reservation { id } userErrors { field message code } } }';
    const { body } = await stack.queryAs(shopper('cust-00007'), reserve, { input: { idempotencyKey: key(), locationId: 'wh-01', lines: [{ sku: shippable(), quantity: 999 }] } });
    expect((body.data as any).reserveInventory.userErrors[0].code).toBe('OUT_OF_STOCK');
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const report = await stack.queryAs(OPS, contractOperation('Reconciliation'), { from, to: new Date().toISOString() });
    expect(report.body.errors ?? []).toEqual([]);
    const after = (await scrape(`${gatewayBase()}/metrics`, token)).text;
    expect(valueOf(after, 'retail_reservation_failures_total', { code: 'OUT_OF_STOCK', location: 'wh-01' }) - valueOf(before, 'retail_reservation_failures_total', { code: 'OUT_OF_STOCK', location: 'wh-01' })).toBe(1);
    expect(valueOf(after, 'retail_reconciliation_runs_total') - valueOf(before, 'retail_reconciliation_runs_total')).toBe(1);
    expect(valueOf(after, 'retail_reconciliation_mismatches')).toBe((report.body.data as any).reconciliation.mismatches.length);
    expect(after).toContain('retail_outbox_pending{outbox="erp"}');
    expect(after).toContain('retail_outbox_dead_letters{outbox="erp"}');
    expect(after).toContain('retail_master_data_sync_lag_seconds');
  });
});

describe('traces', () => {
  const spansOf = (traceId: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);

  it('continue the caller’s traceparent through the gateway, the subgraph fetches, the system calls and the events, with the correlation id', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const { order, replied } = await placeOrder({ traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'x-correlation-id': 'telemetry-trace-1' });
    expect(replied.get('traceparent')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const spans = await pollUntil(
      async () => spansOf(traceId),
      (found) => found.some((s) => s.name === 'event.publish ORDER_PLACED'),
      'the checkout’s spans',
    );
    const names = spans.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['graphql.request', 'subgraph.fetch orders', 'event.publish ORDER_PLACED', 'event.publish PAYMENT_AUTHORIZED']));
    expect(names.some((n) => n.startsWith('psp.'))).toBe(true);
    const server = spans.find((s) => s.name === 'graphql.request')!;
    expect(server.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(server.attributes['retail.correlation_id']).toBe('telemetry-trace-1');
    expect(server.attributes['graphql.operation.name']).toBe('PlaceOrder');
    for (const span of spans.filter((s) => s.name.startsWith('psp.'))) expect(span.attributes['retail.correlation_id']).toBe('telemetry-trace-1');
    expect(order.id).toBeTruthy();
  });

  it('the event carries its trace, so the finance consumer that handles it later links to that trace', async () => {
    const { order } = await placeOrder();
    const orderId = fromGlobalId('Order', order.id as string);
    // A hand-over made in a traced request of its own (as the POS would publish it).
    const span = trace.getTracer('test').startSpan('store hand-over');
    const event = context.with(trace.setSpan(context.active(), span), () =>
      testEvent('PICKED_UP', { previousStatus: 'CONFIRMED', status: 'PICKED_UP', total: Math.round(Number(order.total.amount) * 100), currency: 'EUR', lines: [] }, { orderId, correlationId: 'telemetry-trace-2' }),
    );
    span.end();
    expect(event.trace?.traceparent).toContain(span.spanContext().traceId);
    await stack.backbone.publish(event);
    const consumed = await pollUntil(
      async () => exporter.getFinishedSpans().filter((s) => s.name === 'event.consume finance-erp-outbox' && s.attributes['retail.event.id'] === event.id),
      (found) => found.length > 0,
      'the finance consumer’s span',
    );
    expect(consumed[0]!.links.map((l) => l.context.traceId)).toContain(span.spanContext().traceId);
    // The ERP booking, made by the outbox's worker whenever it gets to it, links to the same trace.
    const booking = await pollUntil(
      async () => exporter.getFinishedSpans().filter((s) => s.name === 'erp.posting' && s.links.some((l) => l.context.traceId === span.spanContext().traceId)),
      (found) => found.length > 0,
      'the ERP booking’s span',
    );
    const calls = exporter.getFinishedSpans().filter((s) => s.parentSpanContext?.spanId === booking[0]!.spanContext().spanId).map((s) => s.name);
    expect(calls.some((name) => name.startsWith('erp.'))).toBe(true);
  });

  it('an event made outside a traced request carries no trace', () => {
    expect(testEvent('ORDER_CONFIRMED', {}, {}).trace).toBeUndefined();
  });
});
