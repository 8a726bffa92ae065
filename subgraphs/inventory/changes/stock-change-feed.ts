import { assertNever, type CanonicalEvent, type EventBackbone, type StockLineData } from '../../../common/events.js';
import type { Logger } from '../../../common/logger.js';
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
}

/** A change as handed to subscribers: with the site as last seen at subscribe time, for when the site master is down. */
export interface StockChange extends StockChangeValue {
  site?: InventoryLocation | undefined;
}

const MOVEMENT_REASONS: ReadonlySet<string> = new Set<StockMovementReasonCode>(['SALE', 'RETURN', 'RECEIPT', 'DAMAGE', 'CYCLE_COUNT', 'TRANSFER_IN', 'TRANSFER_OUT']);

const isMovementReason = (value: string): value is StockMovementReasonCode => MOVEMENT_REASONS.has(value);

/** Lines as (sku, units), one entry per SKU (a repeated SKU is summed), in first-seen order. */
function linesOf(lines: readonly StockLineData[]): Map<string, number> {
  const units = new Map<string, number>();
  for (const line of lines) if (line.quantity > 0) units.set(line.sku, (units.get(line.sku) ?? 0) + line.quantity);
  return units;
}

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
  const change = (sku: string, reason: InventoryChangeReasonCode, delta: number): StockChangeValue => ({
    eventId: event.id,
    sku,
    locationId,
    reason,
    delta,
    occurredAt: event.occurredAt,
    correlationId: event.correlationId,
  });
  const perLine = (lines: readonly StockLineData[], reason: InventoryChangeReasonCode, sign: 1 | -1) => [...linesOf(lines)].map(([sku, units]) => change(sku, reason, sign * units));
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
      return [];
    default:
      return assertNever(event);
  }
}

/** Which changes one subscriber wants: one location, and only some SKUs when `skus` is given. */
export interface StockChangeFilter {
  locationId: string;
  skus: readonly string[] | null;
}

export interface StockChangeFeedOptions {
  /** Where the events come from; the feed holds one subscription to it while it has listeners. */
  backbone: Pick<EventBackbone, 'subscribe'>;
  /** Undelivered changes one subscriber may hold before it is ended with SUBSCRIPTION_OVERFLOW. Default 10,000. */
  capacity?: number | undefined;
  /** Where a failure to handle an event goes. Default: nowhere. */
  logger?: Pick<Logger, 'error'> | undefined;
}

type Listener = SubscriptionQueue<StockChange>;

/** The listeners of one location: those that want every SKU, and the others by SKU. */
interface LocationListeners {
  all: Set<Listener>;
  bySku: Map<string, Set<Listener>>;
  size: number;
  site: InventoryLocation | undefined;
}

/**
 * One subgraph instance's stock changes, filtered at the source: listeners are indexed by location (and SKU), so an
 * event is mapped and handed only to the listeners of its location and SKU, and one backbone subscription serves
 * them all. An event id seen lately is not handed out again (the backbone delivers at least once). Each listener
 * is a bounded {@link SubscriptionQueue}; its `return()` removes it at once.
 */
export class StockChangeFeed {
  private readonly backbone: Pick<EventBackbone, 'subscribe'>;
  private readonly capacity: number;
  private readonly logger: Pick<Logger, 'error'> | undefined;
  private readonly locations = new Map<string, LocationListeners>();
  private readonly seen = new RecentIds();
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
    return locationId === undefined ? this.listeners : (this.locations.get(locationId)?.size ?? 0);
  }

  /** Whether the feed holds its backbone subscription (it does exactly while it has listeners). */
  get listening(): boolean {
    return this.unsubscribe !== undefined;
  }

  /** Listen from now on. The listener is registered before this returns, so nothing published after it is missed. */
  subscribe(filter: StockChangeFilter): SubscriptionQueue<StockChange> {
    if (this.closed) throw new Error('the stock change feed is closed');
    const listener: Listener = new SubscriptionQueue<StockChange>({ capacity: this.capacity, onClose: () => this.remove(listener, filter) });
    let entry = this.locations.get(filter.locationId);
    if (!entry) {
      entry = { all: new Set(), bySku: new Map(), size: 0, site: undefined };
      this.locations.set(filter.locationId, entry);
    }
    if (filter.skus === null) entry.all.add(listener);
    else {
      for (const sku of filter.skus) {
        let set = entry.bySku.get(sku);
        if (!set) entry.bySku.set(sku, (set = new Set()));
        set.add(listener);
      }
    }
    entry.size++;
    this.listeners++;
    this.unsubscribe ??= this.backbone.subscribe((event) => this.receive(event));
    return listener;
  }

  /** The site as just read for a subscriber: what `location` falls back to while its site master is down. */
  noteSite(site: InventoryLocation): void {
    const entry = this.locations.get(site.id);
    if (entry) entry.site = site;
  }

  /** End every subscriber (after what it has buffered) and let go of the backbone. */
  close(): void {
    this.closed = true;
    for (const entry of [...this.locations.values()]) {
      for (const listener of new Set([...entry.all, ...[...entry.bySku.values()].flatMap((set) => [...set])])) listener.end();
    }
    this.locations.clear();
    this.listeners = 0;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private remove(listener: Listener, filter: StockChangeFilter): void {
    const entry = this.locations.get(filter.locationId);
    if (!entry) return;
    if (filter.skus === null) entry.all.delete(listener);
    else {
      for (const sku of filter.skus) {
        const set = entry.bySku.get(sku);
        if (!set) continue;
        set.delete(listener);
        if (set.size === 0) entry.bySku.delete(sku);
      }
    }
    entry.size--;
    this.listeners--;
    if (entry.size === 0) this.locations.delete(filter.locationId);
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
      for (const value of stockChangesOf(event)) {
        const change: StockChange = { ...value, site: entry.site };
        for (const listener of entry.all) listener.push(change);
        const bySku = entry.bySku.get(value.sku);
        if (bySku) for (const listener of bySku) listener.push(change);
      }
    } catch (error) {
      this.logger?.error({ err: error, eventId: event.id, type: event.type }, 'stock change not delivered');
    }
  }
}
