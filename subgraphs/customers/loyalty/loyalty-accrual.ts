import { createEvent, type CanonicalEvent, type EventBackbone, type EventOf, type EventType } from '../../../common/events.js';
import { KeyedLanes } from '../../../common/lanes.js';
import type { Logger } from '../../../common/logger.js';
import type { EventEmitter } from '../../../common/outbox/event-outbox.js';
import type { LoyaltyEntry, LoyaltyLedgerPort, LoyaltyOrder, LoyaltyOrdersPort } from '../ports.js';
import type { PointsRule } from './points-rule.js';

/** The backbone consumer group of loyalty: one per deployment, shared by every customers instance. */
export const LOYALTY_CONSUMER_GROUP = 'customers-loyalty';

/** What loyalty reacts to: an order fulfilled (picked up, delivered) earns; a return received reverses. */
export const LOYALTY_SOURCE_TYPES: ReadonlySet<EventType> = new Set<EventType>(['PICKED_UP', 'ORDER_DELIVERED', 'RETURN_RECEIVED']);

/** The CRM reference of an order's earning: one per order, whether it was picked up or delivered. */
export const earnReference = (orderId: string): string => `loy-${orderId}-earn`;
/** The CRM reference of a return's reversal: one per return. */
export const reverseReference = (returnId: string): string => `loy-${returnId}-reverse`;
/** The id of a ledger entry's event, from its reference: a repeat of the entry is the same event, dropped by the backbone. */
export const loyaltyEventId = (reference: string): string => `evt-${reference}`;

/** Event ids remembered for dropping duplicates before the CRM is asked (the CRM's references are the real guard). */
const SEEN_LIMIT = 100_000;

export interface LoyaltyAccrualDeps {
  backbone: Pick<EventBackbone, 'consume'>;
  /** Where the ledger entries' events go (the transactional event outbox). */
  events: EventEmitter;
  ledger: LoyaltyLedgerPort;
  orders: LoyaltyOrdersPort;
  rule: PointsRule;
  logger: Logger;
}

/**
 * Loyalty at fulfilment: points are earned in the CRM when an order is picked up or delivered (never at checkout) and
 * taken back when a return of it is received, each exactly once, with a LOYALTY_POINTS_EARNED / _REVERSED event per
 * ledger entry. Guest orders earn nothing.
 *
 * As the `customers-loyalty` consumer group it gets every such event, those published while every customers instance
 * was down too, and the backbone hands an event again (with its growing delay) until the handler resolves: a CRM or
 * order system that is down or slow delays the points, it never loses them. Exactly once: each entry has a CRM
 * reference derived from what it records (`loy-<orderId>-earn`, `loy-<returnId>-reverse`), so a repeat (a
 * redelivery, a post whose answer was lost, a second hand-over event) answers the first entry and books nothing; a
 * redelivered event id is dropped here before the CRM is asked.
 *
 * The events of one order are handled one at a time, in arrival order, so that a return's reversal reads the
 * reversals of the order's earlier returns.
 */
export class LoyaltyAccrual {
  private unsubscribe: (() => void) | null = null;
  private stopped = false;
  private readonly seen = new Map<string, Promise<void>>();
  /** The events of one order, one at a time. */
  private readonly lanes = new KeyedLanes();

  constructor(private readonly deps: LoyaltyAccrualDeps) {}

  start(): void {
    if (this.unsubscribe || this.stopped) return;
    this.unsubscribe = this.deps.backbone.consume(LOYALTY_CONSUMER_GROUP, LOYALTY_SOURCE_TYPES, (event) => this.take(event));
  }

  /** No new intake; waits for the handlings in flight (at most `graceMs`). Idempotent. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.lanes.drain(graceMs);
  }

  /**
   * Handle one event. Resolves once its points are booked (or there is nothing to book); rejects when the CRM or the
   * order systems failed, so that the backbone hands it again. An id seen before gets the outcome it had.
   */
  take(event: CanonicalEvent): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('loyalty accrual is stopping'));
    if (!LOYALTY_SOURCE_TYPES.has(event.type)) return Promise.resolve();
    const known = this.seen.get(event.id);
    if (known) return known;
    const handled = this.lanes.run(event.orderId ?? event.id, () => this.handle(event));
    handled.catch((error: unknown) => {
      // Forget it, so that the redelivery tries again.
      this.seen.delete(event.id);
      this.deps.logger.warn({ err: error, eventId: event.id, type: event.type, orderId: event.orderId, correlationId: event.correlationId }, 'loyalty: could not book points yet; the event is handed again');
    });
    this.seen.set(event.id, handled);
    if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.keys().next().value as string);
    return handled;
  }

  private async handle(event: CanonicalEvent): Promise<void> {
    const { logger } = this.deps;
    const log = { eventId: event.id, type: event.type, orderId: event.orderId, correlationId: event.correlationId };
    if (!event.orderId) {
      logger.warn(log, 'loyalty: an event without an order id earns nothing');
      return;
    }
    const [order] = await this.deps.orders.ordersFor([event.orderId]);
    if (!order) {
      logger.warn(log, 'loyalty: the order systems know no such order; nothing to book');
      return;
    }
    if (!order.customerId) {
      logger.info(log, 'loyalty: a guest order earns nothing');
      return;
    }
    switch (event.type) {
      case 'PICKED_UP':
      case 'ORDER_DELIVERED':
        return this.earn(order, order.customerId, event);
      case 'RETURN_RECEIVED':
        return this.reverse(order, order.customerId, event);
      default:
        return;
    }
  }

  private async earn(order: LoyaltyOrder, customerId: string, event: CanonicalEvent): Promise<void> {
    const points = this.deps.rule.earned(order);
    if (points <= 0) return;
    const entry = await this.deps.ledger.post({ reference: earnReference(order.id), customerId, kind: 'EARNED', points, orderId: order.id });
    if (!entry) {
      this.deps.logger.warn({ eventId: event.id, orderId: order.id, customerId }, 'loyalty: the CRM knows no such customer; nothing earned');
      return;
    }
    await this.announce(entry, event);
  }

  private async reverse(order: LoyaltyOrder, customerId: string, event: EventOf<'RETURN_RECEIVED'>): Promise<void> {
    const reference = reverseReference(event.data.returnId);
    const [entries = []] = await this.deps.ledger.entriesOf([customerId]);
    const booked = entries.find((e) => e.reference === reference);
    // Booked already (its event may not have made it out before a crash): tell it again, book nothing.
    if (booked) return this.announce(booked, event);
    const already = entries.filter((e) => e.kind === 'REVERSED' && e.orderId === order.id).reduce((sum, e) => sum + e.points, 0);
    const points = this.deps.rule.reversed(order, event.data.lines, already);
    if (points <= 0) return;
    const entry = await this.deps.ledger.post({ reference, customerId, kind: 'REVERSED', points, orderId: order.id, returnId: event.data.returnId });
    if (!entry) {
      this.deps.logger.warn({ eventId: event.id, orderId: order.id, customerId }, 'loyalty: the CRM knows no such customer; nothing reversed');
      return;
    }
    await this.announce(entry, event);
  }

  /** The entry's event, its id from the entry's reference: told twice, it is published once. */
  private async announce(entry: LoyaltyEntry, cause: CanonicalEvent): Promise<void> {
    const meta = { source: 'CRM' as const, orderId: entry.orderId, id: loyaltyEventId(entry.reference), occurredAt: entry.postedAt, correlationId: cause.correlationId };
    const data = { customerId: entry.customerId, points: entry.points, balance: entry.balance, reference: entry.reference };
    const event =
      entry.kind === 'EARNED' ? createEvent('LOYALTY_POINTS_EARNED', data, meta) : createEvent('LOYALTY_POINTS_REVERSED', { ...data, returnId: entry.returnId ?? '' }, meta);
    await this.deps.events.emit([event]);
    this.deps.logger.info({ eventId: cause.id, orderId: entry.orderId, customerId: entry.customerId, kind: entry.kind, points: entry.points, reference: entry.reference }, 'loyalty: points booked');
  }
}
