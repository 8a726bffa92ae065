import { GraphQLError } from 'graphql';
import { runInScope } from '../../../common/correlation.js';
import { assertNever, sequenceIn, type CanonicalEvent, type EventBackbone, type StatusMove } from '../../../common/events.js';
import type { Logger } from '../../../common/logger.js';
import { StreamSequencer } from '../../../common/stream-sequencer.js';
import { RecentIds } from '../../../common/subscription-dedupe.js';
import { DEFAULT_SUBSCRIBER_CAPACITY, SUBSCRIPTION_OVERFLOW, SubscriptionQueue } from '../../../common/subscription-queue.js';
import type { OrderStatusCode } from '../ports.js';

/*
 * Order status moves as the `orderStatusChanged` subscription delivers them, from the canonical events of the
 * order's life (checkout and lifecycle).
 */

/** One status move of one order. */
export interface OrderStatusChangeValue {
  eventId: string;
  orderId: string;
  /** Null for a new order. */
  previousStatus: OrderStatusCode | null;
  status: OrderStatusCode;
  occurredAt: string;
  correlationId: string;
  /** The event's sequence in the order's stream. */
  sequence: number;
}

/**
 * The status move an event records, or null when it is no status event (or one without an order). A receipt of
 * returned goods is delivered even when the order stays PARTIALLY_RETURNED: it is news to whoever tracks the order.
 */
export function statusChangeOf(event: CanonicalEvent): OrderStatusChangeValue | null {
  if (!event.orderId) return null;
  let move: StatusMove;
  switch (event.type) {
    case 'ORDER_PLACED':
    case 'ORDER_CONFIRMED':
    case 'ORDER_CANCELLED':
    case 'READY_FOR_PICKUP':
    case 'PICKED_UP':
    case 'ORDER_SHIPPED':
    case 'ORDER_DELIVERED':
    case 'RETURN_RECEIVED':
    // No status move (previousStatus is status): news to both stores' pickup queues and to whoever tracks the order.
    case 'PICKUP_LOCATION_CHANGED':
      move = event.data;
      break;
    case 'PAYMENT_AUTHORIZED':
    case 'INVENTORY_RESERVED':
    case 'INVENTORY_RELEASED':
    case 'RETURN_REQUESTED':
    case 'REFUND_ISSUED':
    case 'INVOICE_ISSUED':
    case 'JOURNAL_POSTED':
    case 'POSTING_FAILED':
    case 'INVENTORY_ADJUSTED':
    case 'MASTER_DATA_REJECTED':
    case 'LOYALTY_POINTS_EARNED':
    case 'LOYALTY_POINTS_REVERSED':
    case 'STOCK_EXCEPTION_RAISED':
    case 'TAX_ESTIMATED':
    case 'MARKETPLACE_ORDER_ACKNOWLEDGED':
    case 'MARKETPLACE_ORDER_REJECTED':
    case 'MARKETPLACE_SHIPMENT_CONFIRMED':
    case 'MARKETPLACE_CANCELLATION_CONFIRMED':
    case 'ORDER_REROUTED':
    case 'ORDER_EXCEPTION_RAISED':
      return null;
    default:
      return assertNever(event);
  }
  return { eventId: event.id, orderId: event.orderId, previousStatus: move.previousStatus, status: move.status, occurredAt: event.occurredAt, correlationId: event.correlationId, sequence: sequenceIn(event, 'order') };
}

/**
 * What filtering by customer or location needs of an order: fixed when it is placed, except the store of a pickup
 * order, which PICKUP_LOCATION_CHANGED moves (the feed then updates what it keeps).
 */
export interface OrderKeys {
  customerId: string | null;
  pickupLocationId: string | null;
  fulfillmentLocationId: string | null;
}

/** The keys an ORDER_PLACED carries in its data (checkout puts them there), or null for any other event. */
export function orderKeysOf(event: CanonicalEvent): OrderKeys | null {
  if (event.type !== 'ORDER_PLACED') return null;
  const { customerId, pickupLocationId, fulfillmentLocationId } = event.data;
  return { customerId, pickupLocationId, fulfillmentLocationId };
}

/**
 * Which moves one subscriber wants; every given key must match: the order, the customer's orders, the orders
 * picked up at or fulfilled from the location (`pickupLocationId` or `fulfillmentLocationId`).
 */
export interface OrderStatusFilter {
  orderId: string | null;
  customerId: string | null;
  locationId: string | null;
  /** With `orderId` only: the last sequence of the order's stream the subscriber saw (it gets every later move first). */
  after?: number | null | undefined;
}

/** Keys of many orders at once: one entry per id in id order, null for an unknown order, an Error for a failed read. */
export type OrderKeysLookup = (orderIds: readonly string[]) => Promise<(OrderKeys | null | Error)[]>;

export interface OrderStatusFeedOptions {
  /** Where the events come from (live, and an order's history for resuming); one live subscription while it has listeners. */
  backbone: Pick<EventBackbone, 'subscribe' | 'streamSince' | 'streamSinceNow'>;
  /** The orders' keys from the order systems, for orders placed before the feed saw their ORDER_PLACED. */
  lookup: OrderKeysLookup;
  /** Undelivered changes one subscriber may hold before it is ended with SUBSCRIPTION_OVERFLOW. Default 10,000. */
  capacity?: number | undefined;
  /** Orders whose keys are kept (least recently used go first). Default 10,000. */
  keyCacheSize?: number | undefined;
  /**
   * Events that may wait behind a lookup; past it every subscriber is ended with SUBSCRIPTION_OVERFLOW rather
   * than the backlog growing. Default 10,000.
   */
  maxPending?: number | undefined;
  /** Orders looked up in one call (the next waiting events' orders are fetched together). Default 100. */
  lookupBatch?: number | undefined;
  /** Where failed lookups and handler failures go. Default: nowhere. */
  logger?: Pick<Logger, 'warn' | 'error'> | undefined;
}

interface Listener {
  filter: OrderStatusFilter;
  queue: SubscriptionQueue<OrderStatusChangeValue>;
  /** A listener of one order reads the order's stream in sequence order, from where it resumed (or from now). */
  sequencer?: StreamSequencer;
}

/** Whether a listener wants a move; `keys` unknown (a failed lookup): the event's own location stands in. */
function matches(filter: OrderStatusFilter, change: OrderStatusChangeValue, keys: OrderKeys | undefined, event: CanonicalEvent): boolean {
  if (filter.orderId !== null && filter.orderId !== change.orderId) return false;
  if (filter.customerId !== null && keys?.customerId !== filter.customerId) return false;
  if (filter.locationId !== null) {
    const at = keys ? [keys.pickupLocationId, keys.fulfillmentLocationId] : [event.locationId];
    // The order leaves one store's queue and joins another's: both stores hear of it.
    if (event.type === 'PICKUP_LOCATION_CHANGED') at.push(event.data.fromLocationId, event.data.toLocationId);
    if (!at.includes(filter.locationId)) return false;
  }
  return true;
}

interface Pending {
  event: CanonicalEvent;
  change: OrderStatusChangeValue;
}

/** A Map kept in use order: a hit moves to the end, the first entry is the least recently used. */
class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get size(): number {
    return this.map.size;
  }
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
}

/**
 * One subgraph instance's order status moves, filtered at the source. Listeners are indexed by their most
 * selective key (order, else customer, else location), so a move is handed only to the listeners that can want
 * it. Moves are delivered in backbone order: events are handled one after the other, and one that must wait for
 * its order's keys holds back those behind it (the keys come from ORDER_PLACED when the feed saw it, else from a
 * bounded LRU, else from the order systems, fetched for the next waiting events together). While a lookup
 * fails, location listeners still get the moves that name their location in the event (ready for pickup,
 * picked up, shipped, returned); customer listeners miss them (logged).
 */
export class OrderStatusFeed {
  private readonly backbone: Pick<EventBackbone, 'subscribe' | 'streamSince' | 'streamSinceNow'>;
  private readonly lookup: OrderKeysLookup;
  private readonly capacity: number;
  private readonly maxPending: number;
  private readonly lookupBatch: number;
  private readonly logger: Pick<Logger, 'warn' | 'error'> | undefined;
  private readonly keys: LruMap<string, OrderKeys>;
  private readonly byOrder = new Map<string, Set<Listener>>();
  private readonly byCustomer = new Map<string, Set<Listener>>();
  private readonly byLocation = new Map<string, Set<Listener>>();
  private readonly seen = new RecentIds();
  private readonly sequencers = new WeakMap<SubscriptionQueue<OrderStatusChangeValue>, StreamSequencer>();
  private listeners = 0;
  private unsubscribe: (() => void) | undefined;
  private pending: Pending[] = [];
  private draining = false;
  /** Orders whose lookup failed in the current drain: not asked again until the backlog is empty. */
  private unresolved = new Set<string>();
  private closed = false;

  constructor(options: OrderStatusFeedOptions) {
    this.backbone = options.backbone;
    this.lookup = options.lookup;
    this.capacity = options.capacity ?? DEFAULT_SUBSCRIBER_CAPACITY;
    this.maxPending = options.maxPending ?? 10_000;
    this.lookupBatch = options.lookupBatch ?? 100;
    this.logger = options.logger;
    this.keys = new LruMap(options.keyCacheSize ?? 10_000);
  }

  /** Listening subscribers. */
  listenerCount(): number {
    return this.listeners;
  }

  /** Whether the feed holds its backbone subscription (it does exactly while it has listeners). */
  get listening(): boolean {
    return this.unsubscribe !== undefined;
  }

  /** Orders whose keys are cached. */
  get cachedKeys(): number {
    return this.keys.size;
  }

  /**
   * Listen from now on, or (one order) from `filter.after` (at least one key in `filter`). Registered before this
   * returns: nothing published after it is missed. A resume whose moves the order's stream no longer retains fails
   * the queue with RESUME_TOO_OLD.
   */
  subscribe(filter: OrderStatusFilter): SubscriptionQueue<OrderStatusChangeValue> {
    if (this.closed) throw new Error('the order status feed is closed');
    const [index, key] = this.indexOf(filter);
    if (filter.orderId === null && filter.after !== undefined && filter.after !== null) throw new Error('an order status filter resumes (after) with an orderId only');
    const queue = new SubscriptionQueue<OrderStatusChangeValue>({ capacity: this.capacity, onClose: () => this.remove(index, key, listener) });
    const listener: Listener = { filter, queue };
    if (filter.orderId !== null) {
      listener.sequencer = new StreamSequencer({
        stream: { kind: 'order', id: filter.orderId },
        after: filter.after ?? null,
        history: (stream, after) => (this.backbone.streamSinceNow ? this.backbone.streamSinceNow(stream, after) : this.backbone.streamSince(stream, after)),
        isOpen: () => queue.open,
        fail: (error) => queue.fail(error),
        logger: this.logger,
        emit: (event) => {
          try {
            const change = statusChangeOf(event);
            if (change && matches(filter, change, this.keys.get(change.orderId), event)) queue.push(change);
          } catch (error) {
            this.logger?.error({ err: error, eventId: event.id, type: event.type }, 'order status change not delivered');
          }
        },
      });
      this.sequencers.set(queue, listener.sequencer);
    }
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(listener);
    this.listeners++;
    this.unsubscribe ??= this.backbone.subscribe((event) => this.receive(event));
    return listener.queue;
  }

  /**
   * Resolves once a one-order subscriber's start in the order's stream is known; rejects with RESUME_TOO_OLD (or a
   * failed read of the stream), for the resolver to refuse the subscription.
   */
  started(queue: SubscriptionQueue<OrderStatusChangeValue>): Promise<void> {
    return this.sequencers.get(queue)?.started ?? Promise.resolve();
  }

  /** End every subscriber (after what it has buffered) and let go of the backbone. */
  close(): void {
    this.closed = true;
    this.pending = [];
    for (const listener of this.allListeners()) listener.queue.end();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private indexOf(filter: OrderStatusFilter): [Map<string, Set<Listener>>, string] {
    if (filter.orderId !== null) return [this.byOrder, filter.orderId];
    if (filter.customerId !== null) return [this.byCustomer, filter.customerId];
    if (filter.locationId !== null) return [this.byLocation, filter.locationId];
    throw new Error('an order status filter needs an orderId, a customerId or a locationId');
  }

  private allListeners(): Listener[] {
    return [...this.byOrder.values(), ...this.byCustomer.values(), ...this.byLocation.values()].flatMap((set) => [...set]);
  }

  private remove(index: Map<string, Set<Listener>>, key: string, listener: Listener): void {
    const set = index.get(key);
    if (!set?.delete(listener)) return;
    if (set.size === 0) index.delete(key);
    this.listeners--;
    if (this.listeners === 0) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      // Nobody is left to deliver to; what waits would only be delivered to later subscribers, who came after it.
      this.pending = [];
    }
  }

  private receive(event: CanonicalEvent): void {
    // The in-memory backbone calls handlers inside `publish`: a throw here would fail the write that published.
    try {
      const placed = orderKeysOf(event);
      if (placed && event.orderId) this.keys.set(event.orderId, placed);
      const change = statusChangeOf(event);
      // The backbone delivers at least once; a subscriber sees each move once.
      if (!change || !this.seen.add(event.id)) return;
      if (this.pending.length >= this.maxPending) {
        this.overflow();
        return;
      }
      this.pending.push({ event, change });
      if (!this.draining) void this.drain();
    } catch (error) {
      this.logger?.error({ err: error, eventId: event.id, type: event.type }, 'order status change not delivered');
    }
  }

  /**
   * Hand the waiting moves out in order. Runs synchronously as long as no keys are missing (the common case),
   * and awaits only for a lookup.
   */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.pending.length > 0) {
        const next = this.pending[0] as Pending;
        if (this.needsLookup(next.change.orderId)) await this.fetchKeys();
        // close() or the last unsubscribe may have emptied the backlog meanwhile.
        if (this.pending[0] !== next) continue;
        this.pending.shift();
        this.dispatch(next);
      }
    } catch (error) {
      this.logger?.error({ err: error }, 'order status feed stopped delivering; its backlog is dropped');
      this.pending = [];
    } finally {
      this.draining = false;
      this.unresolved.clear();
    }
  }

  private needsLookup(orderId: string): boolean {
    return (this.byCustomer.size > 0 || this.byLocation.size > 0) && this.keys.get(orderId) === undefined && !this.unresolved.has(orderId);
  }

  /** Keys of the next waiting events' orders that are missing, in one lookup. */
  private async fetchKeys(): Promise<void> {
    const ids: string[] = [];
    for (const { change } of this.pending) {
      if (ids.length >= this.lookupBatch) break;
      if (!ids.includes(change.orderId) && this.keys.get(change.orderId) === undefined && !this.unresolved.has(change.orderId)) ids.push(change.orderId);
    }
    const first = this.pending[0];
    let answers: (OrderKeys | null | Error)[];
    try {
      // System calls carry the correlation id of the change they are for.
      answers = await runInScope({ correlationId: first?.change.correlationId ?? 'order-status-feed' }, () => this.lookup(ids));
    } catch (error) {
      answers = ids.map(() => (error instanceof Error ? error : new Error(String(error))));
    }
    ids.forEach((id, i) => {
      const answer = answers[i];
      if (answer && !(answer instanceof Error)) this.keys.set(id, answer);
      else {
        this.unresolved.add(id);
        this.logger?.warn({ orderId: id, err: answer instanceof Error ? answer.message : 'unknown order' }, 'order keys unavailable: customer and location subscribers may miss moves of this order');
      }
    });
  }

  private dispatch({ event, change }: Pending): void {
    const keys = this.keys.get(change.orderId);
    const deliver = (set: Set<Listener> | undefined) => {
      if (!set) return;
      for (const listener of set) {
        if (listener.sequencer) listener.sequencer.offer(event);
        else if (matches(listener.filter, change, keys, event)) listener.queue.push(change);
      }
    };
    // Each listener sits in exactly one index under one key, and the keys below are distinct: none gets a move twice.
    deliver(this.byOrder.get(change.orderId));
    if (keys?.customerId) deliver(this.byCustomer.get(keys.customerId));
    const locations = new Set(keys ? [keys.pickupLocationId, keys.fulfillmentLocationId] : [event.locationId]);
    if (event.type === 'PICKUP_LOCATION_CHANGED') {
      locations.add(event.data.fromLocationId).add(event.data.toLocationId);
      // Later moves of the order are the new store's.
      if (keys) this.keys.set(change.orderId, { ...keys, pickupLocationId: event.data.toLocationId, fulfillmentLocationId: event.data.toLocationId });
    }
    for (const locationId of locations) if (locationId) deliver(this.byLocation.get(locationId));
  }

  private overflow(): void {
    this.pending = [];
    const error = new GraphQLError('The order status feed fell too far behind and ended every subscriber; subscribe again.', { extensions: { code: SUBSCRIPTION_OVERFLOW } });
    for (const listener of this.allListeners()) listener.queue.fail(error);
  }
}
