import { assertNever, sequenceIn, stockLinesOf, type CanonicalEvent, type EventBackbone, type StockLineData } from '../../../common/events.js';
import type { Logger } from '../../../common/logger.js';
import { StreamSequencer } from '../../../common/stream-sequencer.js';
import { RecentIds } from '../../../common/subscription-dedupe.js';
import { DEFAULT_SUBSCRIBER_CAPACITY, SubscriptionQueue } from '../../../common/subscription-queue.js';
import type { InventoryLocation } from '../ports.js';
import type { StockMovementReasonCode } from '../writes/validation.js';

/*
 * Stock changes as the `inventoryChanged` subscription delivers them, from the canonical events of every domain
 * that moves stock: POS/WMS movements and cart holds (inventory), order commitments, releases, hand-overs,
 * shipments and received returns (orders).
 */

/** Why a level changed: the POS/WMS movement reasons, and what orders and holds do to stock. */
export type InventoryChangeReasonCode = StockMovementReasonCode | 'RESERVED' | 'ORDER_COMMITTED' | 'RELEASED' | 'FULFILLED' | 'RETURN_RECEIVED';

/** One change to one SKU's level at one location. */
export interface StockChangeValue {
  /** The canonical event it came from; an event with several lines gives one change per SKU, so (eventId, sku) is unique. */
  eventId: string;
  sku: string;
  locationId: string;
  reason: InventoryChangeReasonCode;
  /** Signed units, in the quantity the reason moves (see InventoryChangeReason). */
  delta: number;
  occurredAt: string;
  correlationId: string;
  /**
   * The change's sequence in the location's stream: each change has its own (the lines of one event take
   * consecutive ones, from the event's first; see `changesIn` in common/events.ts). 0 for an unsequenced event.
   */
  sequence: number;
}

/** A change as handed to subscribers: with the site as last seen at subscribe time, for when the site master is down. */
export interface StockChange extends StockChangeValue {
  site?: InventoryLocation | undefined;
}

const MOVEMENT_REASONS: ReadonlySet<string> = new Set<StockMovementReasonCode>(['SALE', 'RETURN', 'RECEIPT', 'DAMAGE', 'CYCLE_COUNT', 'TRANSFER_IN', 'TRANSFER_OUT']);

const isMovementReason = (value: string): value is StockMovementReasonCode => MOVEMENT_REASONS.has(value);


/**
 * The stock changes one canonical event stands for (none for events that move no stock, or that name no SKU or
 * location):
 * - INVENTORY_ADJUSTED: its `data.reason` (a POS/WMS movement reason) and `data.delta`;
 * - INVENTORY_RESERVED: ORDER_COMMITTED (+quantity) for an order's commitment, RESERVED (+quantity) for a hold;
 * - INVENTORY_RELEASED: RELEASED (−quantity);
 * - PICKED_UP, ORDER_SHIPPED: FULFILLED (−quantity) per line, at the location the units leave;
 * - RETURN_RECEIVED: RETURN_RECEIVED (+quantity) per line, at the location that received them.
 */
export function stockChangesOf(event: CanonicalEvent): StockChangeValue[] {
  const { locationId } = event;
  if (!locationId) return [];
  const first = sequenceIn(event, 'location');
  const change = (sku: string, reason: InventoryChangeReasonCode, delta: number, index = 0): StockChangeValue => ({
    eventId: event.id,
    sku,
    locationId,
    reason,
    delta,
    occurredAt: event.occurredAt,
    correlationId: event.correlationId,
    sequence: first === 0 ? 0 : first + index,
  });
  // In the order the location stream numbers them (`changesIn` counts the same lines).
  const perLine = (lines: readonly StockLineData[], reason: InventoryChangeReasonCode, sign: 1 | -1) => [...stockLinesOf(lines)].map(([sku, units], index) => change(sku, reason, sign * units, index));
  switch (event.type) {
    case 'INVENTORY_ADJUSTED':
      return event.sku && isMovementReason(event.data.reason) ? [change(event.sku, event.data.reason, event.data.delta)] : [];
    case 'INVENTORY_RESERVED':
      return event.sku ? [change(event.sku, event.orderId ? 'ORDER_COMMITTED' : 'RESERVED', event.data.quantity)] : [];
    case 'INVENTORY_RELEASED':
      return event.sku ? [change(event.sku, 'RELEASED', -event.data.quantity)] : [];
    case 'PICKED_UP':
    case 'ORDER_SHIPPED':
      return perLine(event.data.lines, 'FULFILLED', -1);
    case 'RETURN_RECEIVED':
      return perLine(event.data.lines, 'RETURN_RECEIVED', 1);
    case 'ORDER_PLACED':
    case 'PAYMENT_AUTHORIZED':
    case 'ORDER_CONFIRMED':
    case 'READY_FOR_PICKUP':
    case 'ORDER_DELIVERED':
    case 'ORDER_CANCELLED':
    case 'RETURN_REQUESTED':
    case 'REFUND_ISSUED':
    case 'INVOICE_ISSUED':
    case 'JOURNAL_POSTED':
    case 'POSTING_FAILED':
    case 'MASTER_DATA_REJECTED':
    case 'LOYALTY_POINTS_EARNED':
    case 'LOYALTY_POINTS_REVERSED':
    // Its units move by the INVENTORY_RELEASED and INVENTORY_RESERVED that come with it, one per store and line.
    case 'PICKUP_LOCATION_CHANGED':
    // Raised beside the INVENTORY_ADJUSTED that moved the units; it moves none itself.
    case 'STOCK_EXCEPTION_RAISED':
    case 'TAX_ESTIMATED':
    case 'MARKETPLACE_ORDER_ACKNOWLEDGED':
    case 'MARKETPLACE_ORDER_REJECTED':
    case 'MARKETPLACE_SHIPMENT_CONFIRMED':
    case 'MARKETPLACE_CANCELLATION_CONFIRMED':
    case 'ORDER_REROUTED':
    case 'ORDER_EXCEPTION_RAISED':
      return [];
    default:
      return assertNever(event);
  }
}

/**
 * Which changes one subscriber wants: one location, and only some SKUs when `skus` is given; from the location
 * stream's sequence `after` (every retained change after it first), or from now on.
 */
export interface StockChangeFilter {
  locationId: string;
  skus: readonly string[] | null;
  after?: number | null | undefined;
}

export interface StockChangeFeedOptions {
  /** Where the events come from (live, and a location's history for resuming); one live subscription while it has listeners. */
  backbone: Pick<EventBackbone, 'subscribe' | 'streamSince' | 'streamSinceNow'>;
  /** Undelivered changes one subscriber may hold before it is ended with SUBSCRIPTION_OVERFLOW. Default 10,000. */
  capacity?: number | undefined;
  /** Where a failure to handle an event goes (and skipped sequences, when it can warn). Default: nowhere. */
  logger?: (Pick<Logger, 'error'> & Partial<Pick<Logger, 'warn'>>) | undefined;
}

/** One subscriber: its queue, the SKUs it wants (null: all), and its place in the location's stream. */
interface Listener {
  queue: SubscriptionQueue<StockChange>;
  skus: ReadonlySet<string> | null;
  sequencer: StreamSequencer;
}

/** The listeners of one location. */
interface LocationListeners {
  listeners: Set<Listener>;
  site: InventoryLocation | undefined;
}

/**
 * One subgraph instance's stock changes, filtered at the source: listeners are indexed by location, so an event is
 * handed only to the listeners of its location, and one backbone subscription serves them all. An event id seen
 * lately is not handed out again (the backbone delivers at least once). Each listener reads the location's stream
 * through its own {@link StreamSequencer}: in sequence order, once, from where it resumed (or from now); its
 * changes are then filtered by SKU. Each listener is a bounded {@link SubscriptionQueue}; its `return()` removes it
 * at once.
 */
export class StockChangeFeed {
  private readonly backbone: Pick<EventBackbone, 'subscribe' | 'streamSince' | 'streamSinceNow'>;
  private readonly capacity: number;
  private readonly logger: StockChangeFeedOptions['logger'];
  private readonly locations = new Map<string, LocationListeners>();
  private readonly seen = new RecentIds();
  /** An event's changes, mapped once however many listeners get it. */
  private readonly mapped = new WeakMap<CanonicalEvent, StockChangeValue[]>();
  private readonly sequencers = new WeakMap<SubscriptionQueue<StockChange>, StreamSequencer>();
  private listeners = 0;
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(options: StockChangeFeedOptions) {
    this.backbone = options.backbone;
    this.capacity = options.capacity ?? DEFAULT_SUBSCRIBER_CAPACITY;
    this.logger = options.logger;
  }

  /** Listening subscribers, at one location or in all. */
  listenerCount(locationId?: string): number {
    return locationId === undefined ? this.listeners : (this.locations.get(locationId)?.listeners.size ?? 0);
  }

  /** Whether the feed holds its backbone subscription (it does exactly while it has listeners). */
  get listening(): boolean {
    return this.unsubscribe !== undefined;
  }

  /**
   * Listen from `filter.after` (or from now). The listener is registered before this returns, so nothing published
   * after it is missed; changes reach the queue once the stream's history is read (a resume fails the queue with
   * RESUME_TOO_OLD when the location no longer retains what comes after `after`).
   */
  subscribe(filter: StockChangeFilter): SubscriptionQueue<StockChange> {
    if (this.closed) throw new Error('the stock change feed is closed');
    let entry = this.locations.get(filter.locationId);
    if (!entry) {
      entry = { listeners: new Set(), site: undefined };
      this.locations.set(filter.locationId, entry);
    }
    const at = entry;
    const skus = filter.skus === null ? null : new Set(filter.skus);
    const queue = new SubscriptionQueue<StockChange>({ capacity: this.capacity, onClose: () => this.remove(listener, filter.locationId) });
    const listener: Listener = {
      queue,
      skus,
      sequencer: new StreamSequencer({
        stream: { kind: 'location', id: filter.locationId },
        after: filter.after ?? null,
        history: (stream, after) => (this.backbone.streamSinceNow ? this.backbone.streamSinceNow(stream, after) : this.backbone.streamSince(stream, after)),
        isOpen: () => queue.open,
        fail: (error) => queue.fail(error),
        logger: this.logger,
        emit: (event, from) => {
          try {
            // `from`: a resume inside the event's block has seen the changes before it.
            for (const value of this.changesOf(event)) if (value.sequence >= from && (skus === null || skus.has(value.sku))) queue.push({ ...value, site: at.site });
          } catch (error) {
            this.logger?.error({ err: error, eventId: event.id, type: event.type }, 'stock change not delivered');
          }
        },
      }),
    };
    entry.listeners.add(listener);
    this.sequencers.set(queue, listener.sequencer);
    this.listeners++;
    this.unsubscribe ??= this.backbone.subscribe((event) => this.receive(event));
    return queue;
  }

  /**
   * Resolves once the subscriber's start in the location's stream is known; rejects with RESUME_TOO_OLD (or a failed
   * read of the stream), for the resolver to refuse the subscription.
   */
  started(queue: SubscriptionQueue<StockChange>): Promise<void> {
    return this.sequencers.get(queue)?.started ?? Promise.resolve();
  }

  /** The site as just read for a subscriber: what `location` falls back to while its site master is down. */
  noteSite(site: InventoryLocation): void {
    const entry = this.locations.get(site.id);
    if (entry) entry.site = site;
  }

  /** End every subscriber (after what it has buffered) and let go of the backbone. */
  close(): void {
    this.closed = true;
    for (const entry of [...this.locations.values()]) for (const listener of [...entry.listeners]) listener.queue.end();
    this.locations.clear();
    this.listeners = 0;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private changesOf(event: CanonicalEvent): StockChangeValue[] {
    let changes = this.mapped.get(event);
    if (!changes) this.mapped.set(event, (changes = stockChangesOf(event)));
    return changes;
  }

  private remove(listener: Listener, locationId: string): void {
    const entry = this.locations.get(locationId);
    if (!entry?.listeners.delete(listener)) return;
    this.listeners--;
    if (entry.listeners.size === 0) this.locations.delete(locationId);
    if (this.listeners === 0) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
    }
  }

  private receive(event: CanonicalEvent): void {
    // The in-memory backbone calls handlers inside `publish`: a throw here would fail the write that published.
    try {
      // Most events are of locations nobody here listens to: they cost a map lookup, not a mapping.
      const entry = event.locationId ? this.locations.get(event.locationId) : undefined;
      if (!entry || !this.seen.add(event.id)) return;
      // Every event of the location's stream goes to the sequencers, changes or not: a sequence held back would
      // look like a gap.
      if (sequenceIn(event, 'location') === 0 && this.changesOf(event).length === 0) return;
      for (const listener of [...entry.listeners]) listener.sequencer.offer(event);
    } catch (error) {
      this.logger?.error({ err: error, eventId: event.id, type: event.type }, 'stock change not delivered');
    }
  }
}
