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

export interface CanonicalEvent {
  /** Globally unique; consumers drop an event whose id they have seen. */
  id: string;
  type: EventType;
  /** ISO 8601 instant. */
  occurredAt: string;
  source: EventSource;
  correlationId: string;
  orderId?: string;
  sku?: string;
  locationId?: string;
  data: Record<string, unknown>;
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
