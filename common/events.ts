import { randomUUID } from 'node:crypto';
import { currentCorrelationId } from './correlation.js';

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
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const EVENT_SOURCES = ['WEB', 'MOBILE', 'POS', 'WMS', 'ERP', 'CRM', 'PSP'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

/** An order's statuses, as every event that moves one names them. */
export type OrderStatusName = 'PLACED' | 'CONFIRMED' | 'READY_FOR_PICKUP' | 'PICKED_UP' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED' | 'PARTIALLY_RETURNED' | 'RETURNED';

/** The move of an order's status an event records: `previousStatus` is null for a new order. */
export interface StatusMove {
  previousStatus: OrderStatusName | null;
  status: OrderStatusName;
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
  PICKED_UP: StatusMove & Priced & { total: number; lines: StockLineData[] };
  ORDER_SHIPPED: StatusMove & Priced & { shipmentId: string; carrier: string | null; trackingNumber: string | null; total: number; lines: StockLineData[] };
  ORDER_DELIVERED: StatusMove & { shipmentId: string | null };
  /** `paymentVoided`: whether the authorization was voided (else it lapses at the PSP). */
  ORDER_CANCELLED: StatusMove & { reason: string; paymentVoided: boolean };
  RETURN_REQUESTED: { returnId: string; reason: string; lines: StockLineData[] };
  RETURN_RECEIVED: StatusMove & { returnId: string; condition: string | null; lines: StockLineData[] };
  REFUND_ISSUED: Priced & { refundId: string; amount: number; returnId: string | null };
  INVOICE_ISSUED: Priced & { invoiceId: string; number: string; total: number };
  JOURNAL_POSTED: Priced & { postingId: string; type: string; amount: number; documentNumber: string | null; attempts: number };
  POSTING_FAILED: Priced & { postingId: string; type: string; amount: number; error: string; attempts: number };
  /** A POS/WMS movement: `delta` is the signed change of the level the reason moves, `quantity` its size. */
  INVENTORY_ADJUSTED: { reason: string; delta: number; quantity: number; onHandDelta: number; damagedDelta: number; onHand: number; damaged: number; available: number };
  MASTER_DATA_REJECTED: { id: string; sequence: number; at: string; kind: string; key: string; reason: string; message: string; recordedAt: string };
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
}

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
    data,
  };
  return event as EventOf<T> & CanonicalEvent;
}

/** For exhaustive switches over event types (and other unions): a case left out fails to compile. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}

/**
 * The event backbone port.
 *
 * Contract: `publish` is at-least-once towards subscribers and idempotent by event id (a second publish of an
 * id returns false and is not delivered again); events of one order are kept in `occurredAt` order, ties
 * broken by publish order. Implementations: {@link InMemoryEventBackbone} (embedded default) and, with
 * `REDIS_URL`, Redis Streams.
 */
export interface EventBackbone {
  publish(event: CanonicalEvent): Promise<boolean>;
  /** Events per order id, oldest first, in the order of `orderIds` (an unknown id gets `[]`). */
  eventsForOrders(orderIds: readonly string[]): Promise<CanonicalEvent[][]>;
  /** Called for every newly published event; returns an unsubscribe function. */
  subscribe(handler: (event: CanonicalEvent) => void): () => void;
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

/** The embedded backbone: one process, every service in it sees every event. */
export class InMemoryEventBackbone implements EventBackbone {
  private readonly seen = new Set<string>();
  private readonly byOrder = new Map<string, CanonicalEvent[]>();
  private readonly handlers = new Set<(event: CanonicalEvent) => void>();

  /** Load history (the sandbox's past events) without notifying subscribers. */
  load(events: Iterable<CanonicalEvent>): void {
    for (const event of events) this.store(event);
    for (const list of this.byOrder.values()) list.sort(byTime);
  }

  async publish(event: CanonicalEvent): Promise<boolean> {
    if (!this.store(event)) return false;
    const list = event.orderId ? this.byOrder.get(event.orderId) : undefined;
    // Keep per-order time order when a late event (a posting retried hours later) arrives.
    if (list && list.length > 1) list.sort(byTime);
    for (const handler of this.handlers) handler(event);
    return true;
  }

  async eventsForOrders(orderIds: readonly string[]): Promise<CanonicalEvent[][]> {
    return orderIds.map((id) => this.byOrder.get(id)?.slice() ?? []);
  }

  subscribe(handler: (event: CanonicalEvent) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
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
}
