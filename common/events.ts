import { assertNever } from './assert-never.js';
import { randomUUID } from 'node:crypto';
import { currentCorrelationId } from './correlation.js';
import { traceHeaders } from './telemetry/tracing.js';

/**
 * Canonical events: the one vocabulary every domain uses to say what happened, whatever system it happened
 * in. The backbone carries them between services and keeps the log that `Order.timeline` reads.
 */

export const EVENT_TYPES = [
  'ORDER_PLACED',
  'PAYMENT_AUTHORIZED',
  'INVENTORY_RESERVED',
  'INVENTORY_RELEASED',
  'ORDER_CONFIRMED',
  'READY_FOR_PICKUP',
  'PICKED_UP',
  'ORDER_SHIPPED',
  'ORDER_DELIVERED',
  'ORDER_CANCELLED',
  'RETURN_REQUESTED',
  'RETURN_RECEIVED',
  'REFUND_ISSUED',
  'INVOICE_ISSUED',
  'JOURNAL_POSTED',
  'POSTING_FAILED',
  'INVENTORY_ADJUSTED',
  /** The master-data sync refused an ERP change (bad price, currency, SKU, location, quantity or product); `data` is the exception. */
  'MASTER_DATA_REJECTED',
  /** Loyalty points booked in the CRM for an order picked up or delivered (never at checkout). */
  'LOYALTY_POINTS_EARNED',
  /** Loyalty points taken back in the CRM for a received return of an order. */
  'LOYALTY_POINTS_REVERSED',
  /** A pickup order's store changed before it was ready (its status stays): the order left one store's queue for another's. */
  'PICKUP_LOCATION_CHANGED',
  /** A stock exception at a location (`data.kind`, e.g. OVERSOLD: an offline store sale of units that were promised online), with its proposed compensation. */
  'STOCK_EXCEPTION_RAISED',
  /** Checkout could not reach the tax engine: the order's tax was estimated (last known rate, else the default) and flagged for review. */
  'TAX_ESTIMATED',
  /** The marketplace was told we accepted its order (within its acknowledgement window, or `late`). */
  'MARKETPLACE_ORDER_ACKNOWLEDGED',
  /** A marketplace order we could not take (no order of ours exists; the event names the marketplace's id): the marketplace was told. */
  'MARKETPLACE_ORDER_REJECTED',
  /** The marketplace was told the order shipped, with its parcel. */
  'MARKETPLACE_SHIPMENT_CONFIRMED',
  /** The marketplace was told the order is cancelled (by its buyer, or by us). */
  'MARKETPLACE_CANCELLATION_CONFIRMED',
  /** A shipped order's fulfilment moved to another location after a pick shortage (`shortLines`): released there, committed here. */
  'ORDER_REROUTED',
  /** An order needs customer service (`data.kind`: ACK_WINDOW_MISSED, REROUTE_FAILED), recorded in the exception register. */
  'ORDER_EXCEPTION_RAISED',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const EVENT_SOURCES = ['WEB', 'MOBILE', 'POS', 'WMS', 'ERP', 'CRM', 'PSP', 'MARKETPLACE'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

/** An order's statuses, as every event that moves one names them. */
export type OrderStatusName = 'PLACED' | 'CONFIRMED' | 'READY_FOR_PICKUP' | 'PICKED_UP' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED' | 'PARTIALLY_RETURNED' | 'RETURNED';

/** The move of an order's status an event records: `previousStatus` is null for a new order. */
export interface StatusMove {
  previousStatus: OrderStatusName | null;
  status: OrderStatusName;
}

/** One proposed compensation of a stock exception: what to do with an open online order. */
export interface CompensationData {
  orderId: string;
  orderNumber: string;
  /** Units of the SKU the order holds at the location. */
  quantity: number;
  action: 'REROUTE' | 'CANCEL';
  /** REROUTE: a location that has the units sellable now. */
  rerouteLocationId: string | null;
}

/** Units of one SKU. */
export interface StockLineData {
  sku: string;
  quantity: number;
}

/** Amounts are integer minor units of `currency` (ISO 4217), which every event with an amount names. */
interface Priced {
  currency: string;
}

/** Which marketplace order an event is about. */
export interface MarketplaceRefData {
  marketplace: string;
  externalOrderId: string;
}

/** A loyalty ledger entry as its event carries it. */
export interface LoyaltyPointsData {
  customerId: string;
  points: number;
  balance: number;
  reference: string;
}

/**
 * What each event type carries in `data`. Producers build events through {@link createEvent}, so a consumer may
 * rely on these fields (no guessed currency, no status move re-derived from the type).
 */
export interface EventDataByType {
  ORDER_PLACED: StatusMove &
    Priced & {
      number: string;
      channel: string;
      deliveryMethod: string;
      total: number;
      lines: number;
      customerId: string | null;
      pickupLocationId: string | null;
      fulfillmentLocationId: string | null;
    };
  PAYMENT_AUTHORIZED: Priced & { paymentId: string; amount: number; method: string };
  /** An order's commitment (the event names the order) or a hold (`reservationId`). */
  INVENTORY_RESERVED: { quantity: number; reservationId?: string; expiresAt?: string };
  /** Units back on sale: an order cancelled, or a hold released by its client or expired (`reason`). */
  INVENTORY_RELEASED: { quantity: number; reservationId?: string; reason?: 'RELEASED' | 'EXPIRED' | 'CANCELLED' };
  ORDER_CONFIRMED: StatusMove;
  READY_FOR_PICKUP: StatusMove;
  /** The units leave the store; the total is what finance books as the sale. */
  /** `taxTotal`: the tax included in `total` (absent on orders placed before tax), which finance posts with the sale. */
  PICKED_UP: StatusMove & Priced & { total: number; taxTotal?: number | undefined; lines: StockLineData[] };
  /**
   * One shipment. A split order ships in parts: each part's ORDER_SHIPPED names it (`fulfillmentId`) and carries its
   * lines, total and tax (the sale finance books for it); `status` is SHIPPED with the last part, CONFIRMED before.
   */
  ORDER_SHIPPED: StatusMove & Priced & { shipmentId: string; carrier: string | null; trackingNumber: string | null; total: number; taxTotal?: number | undefined; lines: StockLineData[]; fulfillmentId?: string | undefined };
  ORDER_DELIVERED: StatusMove & { shipmentId: string | null };
  /** `paymentVoided`: whether the authorization was voided (else it lapses at the PSP). */
  ORDER_CANCELLED: StatusMove & { reason: string; paymentVoided: boolean };
  RETURN_REQUESTED: { returnId: string; reason: string; lines: StockLineData[] };
  RETURN_RECEIVED: StatusMove & { returnId: string; condition: string | null; lines: StockLineData[] };
  /** `taxAmount`: the tax included in `amount` (the returned lines' share of their tax; absent before tax). */
  REFUND_ISSUED: Priced & { refundId: string; amount: number; taxAmount?: number | undefined; returnId: string | null };
  INVOICE_ISSUED: Priced & { invoiceId: string; number: string; total: number };
  JOURNAL_POSTED: Priced & { postingId: string; type: string; amount: number; documentNumber: string | null; attempts: number };
  POSTING_FAILED: Priced & { postingId: string; type: string; amount: number; error: string; attempts: number };
  /** A POS/WMS movement: `delta` is the signed change of the level the reason moves, `quantity` its size. */
  INVENTORY_ADJUSTED: { reason: string; delta: number; quantity: number; onHandDelta: number; damagedDelta: number; onHand: number; damaged: number; available: number; /** When the movement happened, where that is not when it was recorded (an offline till's sale, synced later). */ occurredAt?: string };
  /**
   * A stock exception raised by the movement `transactionId` (the offline till's sale): OVERSOLD, `shortfall` of its
   * `quantity` units were no longer sellable (`onHandShortfall` not even on hand). `proposal`: the open online orders
   * committed at the location for the SKU, newest first, each to REROUTE (to `rerouteLocationId`) or CANCEL.
   */
  STOCK_EXCEPTION_RAISED: { exceptionId: string; kind: 'OVERSOLD'; transactionId: string; quantity: number; shortfall: number; onHandShortfall: number; occurredAt: string; proposal: CompensationData[] };
  MASTER_DATA_REJECTED: { id: string; sequence: number; at: string; kind: string; key: string; reason: string; message: string; recordedAt: string };
  /** `previousStatus` and `status` are both the order's status (a change of store moves none); the units moved with it. */
  PICKUP_LOCATION_CHANGED: StatusMove & { fromLocationId: string; toLocationId: string; lines: StockLineData[] };
  /** One CRM ledger entry: `points` (positive) earned, `balance` the customer's right after it, `reference` the entry's idempotency reference. */
  LOYALTY_POINTS_EARNED: LoyaltyPointsData;
  /** One CRM ledger entry: `points` (positive) taken back for the return `returnId`. */
  LOYALTY_POINTS_REVERSED: LoyaltyPointsData & { returnId: string };
  /**
   * The order's tax estimated by the outage policy: `basis` LAST_RATE (a recent quote for `country` and the postal
   * prefix) or DEFAULT_RATE (the configured rate of the country); `rateBp` in basis points; `reason` why the engine
   * did not answer. The order is flagged for review (`Order.tax.reviewRequired`).
   */
  TAX_ESTIMATED: Priced & { basis: 'LAST_RATE' | 'DEFAULT_RATE'; country: string; postalCode: string; rateBp: number; taxTotal: number; reason: string };
  /** `late`: after `acknowledgeBy` (an ORDER_EXCEPTION_RAISED ACK_WINDOW_MISSED came first). */
  MARKETPLACE_ORDER_ACKNOWLEDGED: MarketplaceRefData & { acknowledgeBy: string; late: boolean };
  /** `reasons`: the user error codes checkout answered (e.g. OUT_OF_STOCK). */
  MARKETPLACE_ORDER_REJECTED: MarketplaceRefData & { reasons: string[] };
  MARKETPLACE_SHIPMENT_CONFIRMED: MarketplaceRefData & { shipmentId: string; carrier: string | null; trackingNumber: string | null };
  MARKETPLACE_CANCELLATION_CONFIRMED: MarketplaceRefData & { reason: string };
  /** `lines`: every line of the order, moved; `shortLines`: what the shelf at `fromLocationId` lacked. The status does not move. */
  ORDER_REROUTED: StatusMove & { fromLocationId: string; toLocationId: string; lines: StockLineData[]; shortLines: StockLineData[] };
  /** `detail`: one sentence for the agent. The register's record has the exception's id. */
  ORDER_EXCEPTION_RAISED: { exceptionId: string; kind: 'ACK_WINDOW_MISSED' | 'REROUTE_FAILED'; detail: string };
}

/** What every event carries besides its data. */
export interface EventEnvelope {
  /** Globally unique; consumers drop an event whose id they have seen. */
  id: string;
  /** ISO 8601 instant. */
  occurredAt: string;
  source: EventSource;
  correlationId: string;
  orderId?: string;
  sku?: string;
  locationId?: string;
  /**
   * The event's sequence in each stream it is part of (see {@link streamsOf}), stamped by the backbone when it is
   * first published (never by a producer: `createEvent` leaves it out). Absent on history loaded without publishing
   * (the seeded past).
   */
  sequences?: EventSequences;
  /**
   * The W3C trace context (`traceparent`, `tracestate`) of the request the event was made in, when it was traced:
   * whoever handles the event later (the ERP posting, minutes on) links its span to that trace.
   */
  trace?: Record<string, string>;
}

/**
 * Per-stream sequences: `order` in the order's status stream, `location` in the location's stock stream. Each stream
 * counts its changes from 1, +1 per change, never repeating or going back. An event takes one sequence per change it
 * delivers in the stream ({@link changesIn}): always one in an order's stream (one status move); in a location's
 * stream one per SKU it moves there, so a hand-over of two SKUs takes a block of two. The number stamped is the
 * block's first; its changes are numbered on from it (see {@link sequenceSpan}).
 */
export interface EventSequences {
  order?: number;
  location?: number;
}

/** A stream a subscriber may resume: the status moves of one order, or the stock changes at one location. */
export type StreamKind = keyof EventSequences;
export interface EventStream {
  kind: StreamKind;
  id: string;
}

/** What a stream still retains after a sequence (see {@link EventBackbone.streamSince}). */
export interface StreamHistory {
  /**
   * The retained events with a change after the sequence asked for, in sequence order: the first may be one whose
   * block of changes starts at or before it (a resume inside a multi-line event), its earlier changes to be skipped.
   */
  events: CanonicalEvent[];
  /** The oldest sequence still retained (the first of the oldest retained event's block); `latest + 1` when the stream retains nothing (or never had an event). */
  oldest: number;
  /** The stream's current sequence (0 for a stream without events). */
  latest: number;
}

/** Events retained per stream for resuming, unless configured (`EVENT_STREAM_RETENTION`). */
export const DEFAULT_STREAM_RETENTION = 10_000;

/** Event types that move stock: those of an event with a `locationId` are the location's stream. */
export const LOCATION_STREAM_TYPES: ReadonlySet<EventType> = new Set<EventType>(['INVENTORY_ADJUSTED', 'INVENTORY_RESERVED', 'INVENTORY_RELEASED', 'PICKED_UP', 'ORDER_SHIPPED', 'RETURN_RECEIVED']);

/** Event types that move an order's status: those of an event with an `orderId` are the order's stream. */
export const ORDER_STREAM_TYPES: ReadonlySet<EventType> = new Set<EventType>(['ORDER_PLACED', 'ORDER_CONFIRMED', 'ORDER_CANCELLED', 'READY_FOR_PICKUP', 'PICKED_UP', 'ORDER_SHIPPED', 'ORDER_DELIVERED', 'RETURN_RECEIVED', 'PICKUP_LOCATION_CHANGED']);

/**
 * The stock lines of a hand-over or a received return as its changes at the location: one entry per SKU (a repeated
 * SKU summed), lines of no units left out, in first-seen order. The location stream's numbering of those changes
 * and the stock subscription's changes both come from here, so that they cannot disagree.
 */
export function stockLinesOf(lines: readonly StockLineData[]): Map<string, number> {
  const units = new Map<string, number>();
  for (const line of lines) if (line.quantity > 0) units.set(line.sku, (units.get(line.sku) ?? 0) + line.quantity);
  return units;
}

/**
 * How many changes an event delivers in a stream of that kind, so how many sequences it takes there: one status move
 * in an order's stream; in a location's stream one per SKU it moves (a movement, hold or release of one SKU: one; a
 * hand-over, shipment or received return: one per line of {@link stockLinesOf}). 0: not part of such a stream.
 */
export function changesIn(event: CanonicalEvent, kind: StreamKind): number {
  if (kind === 'order') return event.orderId && ORDER_STREAM_TYPES.has(event.type) ? 1 : 0;
  if (!event.locationId) return 0;
  switch (event.type) {
    case 'INVENTORY_ADJUSTED':
    case 'INVENTORY_RESERVED':
    case 'INVENTORY_RELEASED':
      return event.sku ? 1 : 0;
    case 'PICKED_UP':
    case 'ORDER_SHIPPED':
    case 'RETURN_RECEIVED':
      return stockLinesOf(event.data.lines).size;
    default:
      return 0;
  }
}

/**
 * The streams an event is part of, the order's first. Only events that deliver a change in a stream are in it (a
 * hand-over with no units at the location is not), so that a stream's sequences have no holes a subscriber would
 * take for a lost change.
 */
export function streamsOf(event: CanonicalEvent): EventStream[] {
  const streams: EventStream[] = [];
  if (event.orderId && changesIn(event, 'order') > 0) streams.push({ kind: 'order', id: event.orderId });
  if (event.locationId && changesIn(event, 'location') > 0) streams.push({ kind: 'location', id: event.locationId });
  return streams;
}

/** The stream's name in maps and logs: `order:<id>`, `location:<id>`. */
export const streamName = (stream: EventStream): string => `${stream.kind}:${stream.id}`;

/** One canonical event of type `T`. */
export type EventOf<T extends EventType> = EventEnvelope & { type: T; data: EventDataByType[T] };

/** Any canonical event: a union discriminated by `type`, so `switch (event.type)` narrows `data`. */
export type CanonicalEvent = { [T in EventType]: EventOf<T> }[EventType];

/** What a producer says about an event beside its type and data; the rest is stamped by {@link createEvent}. */
export interface EventMeta {
  source: EventSource;
  /** @default the current request's correlation id (common/correlation.ts), else a fresh one */
  correlationId?: string | undefined;
  orderId?: string | undefined;
  sku?: string | undefined;
  locationId?: string | undefined;
  /** @default now */
  occurredAt?: Date | string | undefined;
  /** A deterministic id, for an event that a retry must not publish twice. @default `evt-<uuid>` */
  id?: string | undefined;
}

/** The one way to make a canonical event: the id, the time and the correlation id are stamped here. */
export function createEvent<T extends EventType>(type: T, data: EventDataByType[T], meta: EventMeta): EventOf<T> & CanonicalEvent {
  const occurredAt = meta.occurredAt === undefined ? new Date().toISOString() : typeof meta.occurredAt === 'string' ? meta.occurredAt : meta.occurredAt.toISOString();
  const event = {
    id: meta.id ?? `evt-${randomUUID()}`,
    type,
    occurredAt,
    source: meta.source,
    correlationId: meta.correlationId ?? currentCorrelationId() ?? randomUUID(),
    ...(meta.orderId !== undefined ? { orderId: meta.orderId } : {}),
    ...(meta.sku !== undefined ? { sku: meta.sku } : {}),
    ...(meta.locationId !== undefined ? { locationId: meta.locationId } : {}),
    ...traceOf(),
    data,
  };
  return event as EventOf<T> & CanonicalEvent;
}

/** The active trace context, as an event carries it (nothing when no traced request is active). */
function traceOf(): { trace?: Record<string, string> } {
  const trace = traceHeaders();
  return trace.traceparent ? { trace } : {};
}

export { assertNever };

/**
 * The event backbone port.
 *
 * Contract: `publish` is at-least-once towards subscribers and idempotent by event id (a second publish of an
 * id returns false and is not delivered again); events of one order are kept in `occurredAt` order, ties
 * broken by publish order. `publish` stamps `sequences` (the event's place in each of its {@link streamsOf}),
 * once per id: a publish repeated after a failure keeps the first sequences; subscribers get the stamped event. Implementations: {@link InMemoryEventBackbone} (embedded default) and, with
 * `REDIS_URL`, Redis Streams.
 */
export interface EventBackbone {
  publish(event: CanonicalEvent): Promise<boolean>;
  /** Events per order id, oldest first, in the order of `orderIds` (an unknown id gets `[]`). */
  eventsForOrders(orderIds: readonly string[]): Promise<CanonicalEvent[][]>;
  /** Called for every newly published event; returns an unsubscribe function. */
  subscribe(handler: (event: CanonicalEvent) => void): () => void;
  /**
   * What `stream` retains after sequence `after` (null: nothing, only where the stream stands), for a subscriber
   * that resumes. Each stream retains its last `EVENT_STREAM_RETENTION` events.
   */
  streamSince(stream: EventStream, after: number | null): Promise<StreamHistory>;
  /** `streamSince` answered synchronously, by a backbone that holds its streams in this process. */
  streamSinceNow?(stream: EventStream, after: number | null): StreamHistory;
  /**
   * Durable consumption by one consuming service (`group`, e.g. finance's ERP outbox): each event of `types`
   * published after the group first consumed is handed to one live member of the group, and handed again until a
   * handler resolves for it: after the member crashed, and to a member that starts after every member was down.
   * At least once, so a handler must tolerate a repeat (dedupe by event id). Returns an unsubscribe function.
   */
  consume(group: string, types: ReadonlySet<EventType>, handler: (event: CanonicalEvent) => Promise<void>): () => void;
}

/** How long a consumer waits before handing a failed event again, in ms: exponential from 100 ms, capped at 5 s. */
export const redeliveryDelayMs = (attempt: number): number => Math.min(5_000, 100 * 2 ** attempt);

/**
 * Hand `event` to `handler` until it resolves (or `isStopped`), waiting longer after each failure. Rejections go
 * to `onError`; this never rejects.
 */
export async function handUntilTaken(event: CanonicalEvent, handler: (event: CanonicalEvent) => Promise<void>, isStopped: () => boolean, onError: (error: unknown, attempt: number) => void): Promise<boolean> {
  for (let attempt = 0; !isStopped(); attempt++) {
    try {
      await handler(event);
      return true;
    } catch (error) {
      onError(error, attempt);
      await new Promise((resolve) => setTimeout(resolve, redeliveryDelayMs(attempt)).unref());
    }
  }
  return false;
}

function byTime(a: CanonicalEvent, b: CanonicalEvent): number {
  return a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0;
}

export interface InMemoryEventBackboneOptions {
  /** Events retained per stream for resuming. @default DEFAULT_STREAM_RETENTION (10,000) */
  retention?: number | undefined;
}

/** One stream's retained events, oldest first from `head` (a start index, cheaper than `shift()`). */
interface RetainedStream {
  /** The last sequence given (the last change of the newest event). */
  latest: number;
  events: CanonicalEvent[];
  head: number;
}

/** The (first) sequence an event has in a stream of that kind (0 when it has none: never a real sequence). */
export const sequenceIn = (event: CanonicalEvent, kind: StreamKind): number => event.sequences?.[kind] ?? 0;

/** The sequences of an event's changes in a stream of that kind, first to last; undefined when it has none there. */
export function sequenceSpan(event: CanonicalEvent, kind: StreamKind): { first: number; last: number } | undefined {
  const first = sequenceIn(event, kind);
  if (first === 0) return undefined;
  return { first, last: first + Math.max(1, changesIn(event, kind)) - 1 };
}

/** The last sequence of an event's changes in a stream of that kind (0 when it has none). */
export const lastSequenceIn = (event: CanonicalEvent, kind: StreamKind): number => sequenceSpan(event, kind)?.last ?? 0;

/** The embedded backbone: one process, every service in it sees every event. */
export class InMemoryEventBackbone implements EventBackbone {
  private readonly seen = new Set<string>();
  private readonly byOrder = new Map<string, CanonicalEvent[]>();
  private readonly handlers = new Set<(event: CanonicalEvent) => void>();
  private readonly streams = new Map<string, RetainedStream>();
  private readonly retention: number;

  constructor(options: InMemoryEventBackboneOptions = {}) {
    const retention = options.retention ?? DEFAULT_STREAM_RETENTION;
    if (!Number.isInteger(retention) || retention < 1) throw new RangeError(`retention must be a positive integer, got ${retention}`);
    this.retention = retention;
  }

  /**
   * Load history without notifying subscribers: the sandbox's past events, or a journal's (whose stamped sequences
   * put the streams back where they stood).
   */
  load(events: Iterable<CanonicalEvent>): void {
    for (const event of events) {
      if (!this.store(event)) continue;
      for (const stream of streamsOf(event)) {
        const sequence = sequenceIn(event, stream.kind);
        if (sequence > 0) this.retain(stream, event, sequence);
      }
    }
    for (const list of this.byOrder.values()) list.sort(byTime);
  }

  async publish(event: CanonicalEvent): Promise<boolean> {
    const stamped = this.accept(event);
    if (!stamped) return false;
    this.notify(stamped);
    return true;
  }

  /**
   * The first step of a publish, for a backbone built on this one (the journaled one): dedupe, stamp the sequences
   * and keep the event, without telling subscribers. Returns the stamped event, or undefined for a duplicate.
   */
  accept(event: CanonicalEvent): CanonicalEvent | undefined {
    if (this.seen.has(event.id)) return undefined;
    const streams = streamsOf(event);
    let stamped: CanonicalEvent = event;
    // A copy, stamped here whatever the producer sent: the sequences are the backbone's to give.
    if (streams.length > 0 || event.sequences !== undefined) {
      const sequences: EventSequences = {};
      // The first of the event's block: its changes take the numbers from there on.
      for (const stream of streams) sequences[stream.kind] = (this.streams.get(streamName(stream))?.latest ?? 0) + 1;
      const { sequences: _ignored, ...rest } = event;
      stamped = (streams.length > 0 ? { ...rest, sequences } : rest) as CanonicalEvent;
    }
    this.store(stamped);
    for (const stream of streams) this.retain(stream, stamped, sequenceIn(stamped, stream.kind));
    const list = stamped.orderId ? this.byOrder.get(stamped.orderId) : undefined;
    // Keep per-order time order when a late event (a posting retried hours later) arrives.
    if (list && list.length > 1) list.sort(byTime);
    return stamped;
  }

  /** The second step: hand an accepted event to every subscriber. */
  notify(event: CanonicalEvent): void {
    for (const handler of this.handlers) handler(event);
  }

  async eventsForOrders(orderIds: readonly string[]): Promise<CanonicalEvent[][]> {
    return orderIds.map((id) => this.byOrder.get(id)?.slice() ?? []);
  }

  subscribe(handler: (event: CanonicalEvent) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async streamSince(stream: EventStream, after: number | null): Promise<StreamHistory> {
    return this.streamSinceNow(stream, after);
  }

  /** `streamSince`, synchronously. */
  streamSinceNow(stream: EventStream, after: number | null): StreamHistory {
    const retained = this.streams.get(streamName(stream));
    if (!retained) return { events: [], oldest: 1, latest: 0 };
    const first = retained.events[retained.head];
    const oldest = first ? sequenceIn(first, stream.kind) : retained.latest + 1;
    if (after === null) return { events: [], oldest, latest: retained.latest };
    // Blocks are consecutive and ascending: the first event whose last change is after `after`, by bisection.
    let low = retained.head;
    let high = retained.events.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (lastSequenceIn(retained.events[mid]!, stream.kind) > after) high = mid;
      else low = mid + 1;
    }
    return { events: retained.events.slice(low), oldest, latest: retained.latest };
  }

  /** One process is the whole group here: each event is handed as it is published, again after a failure. */
  consume(_group: string, types: ReadonlySet<EventType>, handler: (event: CanonicalEvent) => Promise<void>): () => void {
    let stopped = false;
    const unsubscribe = this.subscribe((event) => {
      if (types.has(event.type)) void handUntilTaken(event, handler, () => stopped, () => undefined);
    });
    return () => {
      stopped = true;
      unsubscribe();
    };
  }

  private store(event: CanonicalEvent): boolean {
    if (this.seen.has(event.id)) return false;
    this.seen.add(event.id);
    if (event.orderId) {
      const list = this.byOrder.get(event.orderId);
      if (list) list.push(event);
      else this.byOrder.set(event.orderId, [event]);
    }
    return true;
  }

  private retain(stream: EventStream, event: CanonicalEvent, sequence: number): void {
    const name = streamName(stream);
    let retained = this.streams.get(name);
    if (!retained) this.streams.set(name, (retained = { latest: 0, events: [], head: 0 }));
    // A journal replays in append order, so a sequence at or below the latest is one already kept.
    if (sequence <= retained.latest) return;
    if (sequence !== retained.latest + 1) {
      // A hole (a journal entry lost): what came before it cannot be resumed from consecutively.
      retained.events = [];
      retained.head = 0;
    }
    retained.latest = sequence + Math.max(1, changesIn(event, stream.kind)) - 1;
    retained.events.push(event);
    // Retention counts changes, as the Redis backbone does: an event is let go once its last change is that far back.
    const cut = retained.latest - this.retention;
    while (retained.head < retained.events.length - 1 && lastSequenceIn(retained.events[retained.head]!, stream.kind) <= cut) retained.head++;
    // Compact now and then, not on every event.
    if (retained.head >= this.retention) {
      retained.events = retained.events.slice(retained.head);
      retained.head = 0;
    }
  }
}
