import { LOCATION_STREAM_TYPES, type CanonicalEvent, type EventBackbone, type EventType } from '../events.js';
import type { Metrics } from './metrics.js';
import { contextFromHeaders, inSpan, linkTo, SpanKind } from './tracing.js';

type Observed = Pick<Metrics, 'eventsPublished' | 'eventsConsumed' | 'consumeLag' | 'ordersPlaced' | 'inventoryFreshness' | 'read'>;

/** The business series an event says something about, counted once: when it is first published. */
function countPublished(event: CanonicalEvent, metrics: Observed, newestStock: Map<string, number>): void {
  metrics.eventsPublished.inc({ type: event.type });
  if (event.type === 'ORDER_PLACED') metrics.ordersPlaced.inc({ channel: event.data.channel, delivery_method: event.data.deliveryMethod });
  if (event.locationId && LOCATION_STREAM_TYPES.has(event.type)) {
    const at = Date.parse(event.occurredAt);
    if (at > (newestStock.get(event.locationId) ?? 0)) newestStock.set(event.locationId, at);
  }
}

/**
 * `backbone` with its traffic counted and traced: each first publish of an event (a repeat after a failure is not
 * news) by type, in a span of the trace the event was made in; each event a durable consumer group handles, by
 * group and outcome, with its lag (occurred → handled), in a span of its own linked to that trace.
 */
export function observedBackbone(backbone: EventBackbone, metrics: Observed): EventBackbone {
  // Inventory freshness: the newest stock event this process published per location (locations are a bounded set).
  const newestStock = new Map<string, number>();
  metrics.read(metrics.inventoryFreshness, (gauge) => {
    const now = Date.now();
    for (const [location, at] of newestStock) gauge.set({ location }, Math.max(0, now - at) / 1000);
  });
  const observed: EventBackbone = {
    publish: (event) =>
      inSpan(`event.publish ${event.type}`, { kind: SpanKind.PRODUCER, parent: contextFromHeaders(event.trace ?? {}), attributes: { 'retail.event.type': event.type, 'retail.event.id': event.id } }, async () => {
        const fresh = await backbone.publish(event);
        if (fresh) countPublished(event, metrics, newestStock);
        return fresh;
      }),
    eventsForOrders: (orderIds) => backbone.eventsForOrders(orderIds),
    subscribe: (handler) => backbone.subscribe(handler),
    streamSince: (stream, after) => backbone.streamSince(stream, after),
    consume: (group: string, types: ReadonlySet<EventType>, handler: (event: CanonicalEvent) => Promise<void>) =>
      backbone.consume(group, types, (event) =>
        inSpan(`event.consume ${group}`, { kind: SpanKind.CONSUMER, links: linkTo(event.trace), attributes: { 'retail.event.type': event.type, 'retail.event.id': event.id, 'retail.consumer.group': group } }, async () => {
          try {
            await handler(event);
            metrics.eventsConsumed.inc({ group, outcome: 'ok' });
            metrics.consumeLag.observe({ group }, Math.max(0, Date.now() - Date.parse(event.occurredAt)) / 1000);
          } catch (error) {
            metrics.eventsConsumed.inc({ group, outcome: 'error' });
            throw error;
          }
        }),
      ),
  };
  // Only a backbone that holds its streams in this process answers synchronously; keep it so.
  if (backbone.streamSinceNow) observed.streamSinceNow = (stream, after) => backbone.streamSinceNow!(stream, after);
  return observed;
}
