import { createEvent, type CanonicalEvent, type EventBackbone, type EventOf, type EventType } from '../../../common/events.js';
import { KeyedLanes } from '../../../common/lanes.js';
import type { Logger } from '../../../common/logger.js';
import type { EventEmitter } from '../../../common/outbox/event-outbox.js';
import type { OrderMarketplaceRecord } from '../../../common/systems/records.js';
import type { SalesOrder } from '../ports.js';
import type { MarketplacePort } from './ports.js';

/** The backbone consumer group of the marketplace connector: one per deployment, shared by every orders instance. */
export const MARKETPLACE_CONSUMER_GROUP = 'orders-marketplace';

/** What the marketplace is told about: an order accepted (confirmed), shipped, cancelled; a notification rejected. */
export const MARKETPLACE_SOURCE_TYPES: ReadonlySet<EventType> = new Set<EventType>(['ORDER_CONFIRMED', 'ORDER_SHIPPED', 'ORDER_CANCELLED', 'MARKETPLACE_ORDER_REJECTED']);

/** The exception of an acknowledgement window missed: one per order. */
export const ackMissedExceptionId = (orderId: string): string => `exc-ack-${orderId}`;

export interface MarketplaceSyncDeps {
  backbone: Pick<EventBackbone, 'consume'>;
  /** Where the updates' events go (the transactional event outbox). */
  events: EventEmitter;
  marketplace: MarketplacePort;
  /** The order as it is now (marketplace orders are e-commerce's). Null: no such order. */
  loadOrder: (orderId: string) => Promise<SalesOrder | null>;
  logger: Logger;
  /** How often to look for acknowledgements past their window, in ms. */
  sweepMs: number;
  now?: (() => Date) | undefined;
}

interface PendingAck {
  orderId: string;
  marketplace: OrderMarketplaceRecord;
  correlationId: string;
  locationId: string;
}

/**
 * The connector's outbound half: what happens to a marketplace order goes back to the marketplace, through the
 * event outbox and the `orders-marketplace` consumer group. The backbone hands each event until its handler
 * resolves (with its growing delay), so a marketplace that is down delays an update, never loses it; every update
 * carries a reference derived from what it reports (`mkt-ack-<orderId>`, `mkt-ship-<shipmentId>`, …), so a repeat
 * changes nothing at the marketplace. Each update sent is an event on the order's timeline.
 *
 * The acknowledgement window: an order not acknowledged by its `acknowledgeBy` (the marketplace was down, or slow)
 * raises ORDER_EXCEPTION_RAISED ACK_WINDOW_MISSED (recorded in the exception register, visible to agents), once,
 * found by a sweep every `sweepMs` over the acknowledgements still owed; the acknowledgement still goes out when it
 * can, marked `late`. After a restart the owed ones are owed again: their ORDER_CONFIRMED is handed again.
 */
export class MarketplaceSync {
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly pending = new Map<string, PendingAck>();
  private readonly raised = new Set<string>();
  /** A marketplace order's updates go out in the order they happened. */
  private readonly lanes = new KeyedLanes();

  constructor(private readonly deps: MarketplaceSyncDeps) {}

  start(): void {
    if (this.unsubscribe || this.stopped) return;
    this.unsubscribe = this.deps.backbone.consume(MARKETPLACE_CONSUMER_GROUP, MARKETPLACE_SOURCE_TYPES, (event) => this.take(event));
    this.timer = setInterval(() => void this.sweep(), this.deps.sweepMs);
    this.timer.unref();
  }

  async stop(graceMs = 5_000): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.lanes.drain(graceMs);
  }

  /** Handle one event; rejects while the marketplace (or e-commerce) fails, so that the backbone hands it again. */
  take(event: CanonicalEvent): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('the marketplace connector is stopping'));
    if (!MARKETPLACE_SOURCE_TYPES.has(event.type)) return Promise.resolve();
    return this.lanes.run(event.orderId ?? event.id, () => this.handle(event)).catch((error: unknown) => {
      this.deps.logger.warn({ err: error, eventId: event.id, type: event.type, orderId: event.orderId, correlationId: event.correlationId }, 'marketplace: update not sent yet; the event is handed again');
      throw error;
    });
  }

  /** Raise the exception of every owed acknowledgement past its window (once each). Resolves when they are out. */
  async sweep(): Promise<void> {
    const now = (this.deps.now ?? (() => new Date()))();
    const late = [...this.pending.values()].filter((p) => Date.parse(p.marketplace.acknowledgeBy) < now.getTime() && !this.raised.has(p.orderId));
    await Promise.all(
      late.map((p) =>
        this.raiseMissed(p).catch((error: unknown) => {
          this.deps.logger.warn({ err: error, orderId: p.orderId }, 'marketplace: missed acknowledgement not raised yet; the next sweep tries again');
        }),
      ),
    );
  }

  private async handle(event: CanonicalEvent): Promise<void> {
    switch (event.type) {
      case 'MARKETPLACE_ORDER_REJECTED':
        return this.reject(event);
      case 'ORDER_CONFIRMED':
      case 'ORDER_CANCELLED':
        // Only a marketplace order's own moves say MARKETPLACE: the others need no look at their order.
        if (event.source !== 'MARKETPLACE') return;
        return this.forOrder(event);
      case 'ORDER_SHIPPED':
        if (!event.orderId?.startsWith('ord-w')) return;
        return this.forOrder(event);
      default:
        return;
    }
  }

  private async forOrder(event: EventOf<'ORDER_CONFIRMED'> | EventOf<'ORDER_CANCELLED'> | EventOf<'ORDER_SHIPPED'>): Promise<void> {
    if (!event.orderId) return;
    const order = await this.deps.loadOrder(event.orderId);
    const source = order?.marketplace;
    if (!order || order.channel !== 'MARKETPLACE' || !source) return;
    const ref = { marketplace: source.name, externalOrderId: source.externalOrderId };
    const meta = (suffix: string) => ({ id: `evt-mkt-${suffix}`, orderId: order.id, source: 'MARKETPLACE' as const, correlationId: event.correlationId, occurredAt: this.now() });
    switch (event.type) {
      case 'ORDER_CONFIRMED': {
        // Cancelled since (this is a repeat, or the cancel overtook it): the cancellation is what the marketplace hears.
        if (order.status === 'CANCELLED') return;
        this.pending.set(order.id, { orderId: order.id, marketplace: source, correlationId: event.correlationId, locationId: order.fulfillmentLocationId });
        const late = this.now().getTime() > Date.parse(source.acknowledgeBy);
        // A late acknowledgement never goes out before its exception: the register must not miss one.
        if (late) await this.raiseMissed(this.pending.get(order.id)!);
        await this.deps.marketplace.acknowledge({ reference: `mkt-ack-${order.id}`, externalOrderId: source.externalOrderId, orderId: order.id, orderNumber: order.number });
        this.pending.delete(order.id);
        // A repeat of this event raises nothing new: the exception's event id is the order's, dropped by the backbone.
        this.raised.delete(order.id);
        await this.deps.events.emit([createEvent('MARKETPLACE_ORDER_ACKNOWLEDGED', { ...ref, acknowledgeBy: source.acknowledgeBy, late }, meta(`ack-${order.id}`))]);
        this.deps.logger.info({ orderId: order.id, ...ref, late }, 'marketplace: order acknowledged');
        return;
      }
      case 'ORDER_SHIPPED': {
        const { shipmentId, carrier, trackingNumber } = event.data;
        await this.deps.marketplace.confirmShipment({ reference: `mkt-ship-${shipmentId}`, externalOrderId: source.externalOrderId, orderId: order.id, orderNumber: order.number, carrier, trackingNumber });
        await this.deps.events.emit([createEvent('MARKETPLACE_SHIPMENT_CONFIRMED', { ...ref, shipmentId, carrier, trackingNumber }, meta(`ship-${shipmentId}`))]);
        this.deps.logger.info({ orderId: order.id, ...ref, shipmentId }, 'marketplace: shipment confirmed');
        return;
      }
      case 'ORDER_CANCELLED': {
        // A cancelled order owes no acknowledgement any more: the cancellation is what the marketplace hears.
        this.pending.delete(order.id);
        const reason = event.data.reason;
        await this.deps.marketplace.cancel({ reference: `mkt-cancel-${order.id}`, externalOrderId: source.externalOrderId, orderId: order.id, orderNumber: order.number, reason });
        await this.deps.events.emit([createEvent('MARKETPLACE_CANCELLATION_CONFIRMED', { ...ref, reason }, meta(`cancel-${order.id}`))]);
        this.deps.logger.info({ orderId: order.id, ...ref }, 'marketplace: cancellation confirmed');
        return;
      }
    }
  }

  private async reject(event: EventOf<'MARKETPLACE_ORDER_REJECTED'>): Promise<void> {
    const { marketplace, externalOrderId, reasons } = event.data;
    await this.deps.marketplace.reject({ reference: `mkt-reject-${event.id}`, externalOrderId, reason: reasons.join(', ') });
    this.deps.logger.info({ marketplace, externalOrderId, reasons }, 'marketplace: order rejected');
  }

  private async raiseMissed(p: PendingAck): Promise<void> {
    if (this.raised.has(p.orderId)) return;
    const exceptionId = ackMissedExceptionId(p.orderId);
    const detail = `${p.marketplace.name} order ${p.marketplace.externalOrderId} was not acknowledged by ${p.marketplace.acknowledgeBy}: the marketplace may cancel it or rate us down`;
    // Its id is the exception's: raised by the sweep and by a late acknowledgement both, it is published once.
    await this.deps.events.emit([
      createEvent('ORDER_EXCEPTION_RAISED', { exceptionId, kind: 'ACK_WINDOW_MISSED', detail }, { id: `evt-${exceptionId}`, orderId: p.orderId, locationId: p.locationId, source: 'MARKETPLACE', correlationId: p.correlationId, occurredAt: this.now() }),
    ]);
    this.raised.add(p.orderId);
    this.deps.logger.warn({ orderId: p.orderId, marketplace: p.marketplace.name, externalOrderId: p.marketplace.externalOrderId, acknowledgeBy: p.marketplace.acknowledgeBy }, 'marketplace: acknowledgement window missed');
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }
}
