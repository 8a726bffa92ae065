import { randomUUID } from 'node:crypto';
import { runInScope } from '../../../common/correlation.js';
import type { CanonicalEvent, EventBackbone, EventSource } from '../../../common/events.js';
import type { Logger } from '../../../common/logger.js';
import type { OrderSystem, SalesOrder } from '../ports.js';
import type { OrderWriterPort, PaymentAuthorizationPort, StockCommitPort } from './ports.js';

/** How old a PLACED order must be before it counts as abandoned, in ms (`CHECKOUT_STALE_MS`). */
export const DEFAULT_CHECKOUT_STALE_MS = 120_000;
/** How often to look for abandoned checkouts, in ms (`CHECKOUT_RECOVERY_INTERVAL_MS`). */
export const DEFAULT_CHECKOUT_RECOVERY_INTERVAL_MS = 30_000;
/** Orders undone per system and round: a backlog after a long outage is worked off over several rounds. */
const BATCH = 100;
const SYSTEMS: readonly OrderSystem[] = ['ecom', 'pos'];

export interface CheckoutRecoveryDeps {
  orders: Pick<OrderWriterPort, 'listPlacedBefore' | 'compareAndSetStatus'>;
  stock: Pick<StockCommitPort, 'release'>;
  payments: Pick<PaymentAuthorizationPort, 'void'>;
  backbone: EventBackbone;
  logger?: Logger | undefined;
  /** See {@link DEFAULT_CHECKOUT_STALE_MS}. A live checkout takes a second or two (the PSP call is the longest step). */
  staleMs?: number | undefined;
  /** See {@link DEFAULT_CHECKOUT_RECOVERY_INTERVAL_MS}. */
  intervalMs?: number | undefined;
  now?: (() => Date) | undefined;
}

const sourceOf = (order: SalesOrder): EventSource => (order.channel === 'STORE' ? 'POS' : order.channel === 'MOBILE' ? 'MOBILE' : 'WEB');
const stockSourceOf = (locationId: string): EventSource => (locationId.startsWith('wh-') ? 'WMS' : 'POS');

/**
 * Undo checkouts that never finished. Checkout records the order (PLACED) right after committing its stock and
 * moves it to CONFIRMED once the payment is authorized, all within a request; a process that dies in between
 * (kill -9, a lost node) leaves a PLACED order holding stock, and perhaps an open authorization. Such an order is
 * cancelled here, by compare-and-swap from PLACED, so that of this job, a second instance's job and a checkout
 * that is somehow still running exactly one decides: the winner gives the stock back and voids the payment, and
 * publishes INVENTORY_RELEASED per line and ORDER_CANCELLED under the order's correlation id.
 *
 * Not covered: a process that dies after committing stock and before recording the order leaves the units
 * committed with no order to find them by.
 *
 * @returns the orders cancelled in this round.
 */
export async function recoverAbandonedCheckouts(deps: CheckoutRecoveryDeps): Promise<SalesOrder[]> {
  const now = (deps.now ?? (() => new Date()))();
  const before = new Date(now.getTime() - (deps.staleMs ?? DEFAULT_CHECKOUT_STALE_MS)).toISOString();
  const cancelled: SalesOrder[] = [];
  for (const system of SYSTEMS) {
    const stale = await deps.orders.listPlacedBefore(system, before, BATCH);
    for (const order of stale) {
      const undone = await runInScope({ correlationId: order.correlationId }, () => undo(deps, system, order, now));
      if (undone) cancelled.push(undone);
    }
  }
  return cancelled;
}

async function undo(deps: CheckoutRecoveryDeps, system: OrderSystem, order: SalesOrder, now: Date): Promise<SalesOrder | null> {
  const moved = await deps.orders.compareAndSetStatus(system, order.id, 'PLACED', 'CANCELLED');
  if (!moved.moved) return null;
  const lines = order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity }));
  await deps.stock.release(order.fulfillmentLocationId, lines);
  // Voiding an order without an open authorization changes nothing; with one, the shopper's money is freed.
  await deps.payments.void(order.id);
  const event = (type: CanonicalEvent['type'], source: EventSource, data: Record<string, unknown>, extra: Partial<CanonicalEvent> = {}): CanonicalEvent => ({
    id: `evt-${randomUUID()}`,
    type,
    source,
    occurredAt: now.toISOString(),
    correlationId: order.correlationId,
    orderId: order.id,
    data,
    ...extra,
  });
  for (const line of lines) {
    await deps.backbone.publish(event('INVENTORY_RELEASED', stockSourceOf(order.fulfillmentLocationId), { quantity: line.quantity }, { sku: line.sku, locationId: order.fulfillmentLocationId }));
  }
  await deps.backbone.publish(event('ORDER_CANCELLED', sourceOf(order), { reason: 'Checkout did not finish', previousStatus: 'PLACED', status: 'CANCELLED' }));
  deps.logger?.warn({ orderId: order.id, correlationId: order.correlationId, placedAt: order.placedAt }, 'abandoned checkout undone: order cancelled, stock released, payment voided');
  return moved.order ?? { ...order, status: 'CANCELLED' };
}

/** Runs {@link recoverAbandonedCheckouts} at start and then every `intervalMs` (an unref'd timer) until stopped. */
export class CheckoutRecovery {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(private readonly deps: CheckoutRecoveryDeps) {}

  /** One round now (its failure is logged, not thrown: the systems may still be starting), then on a timer. */
  async start(): Promise<void> {
    await this.round();
    this.timer = setInterval(() => void this.round(), this.deps.intervalMs ?? DEFAULT_CHECKOUT_RECOVERY_INTERVAL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async round(): Promise<void> {
    if (this.running) return;
    this.running = recoverAbandonedCheckouts(this.deps).catch((error: unknown) => this.deps.logger?.warn({ err: error }, 'abandoned checkout recovery failed; trying again next round'));
    try {
      await this.running;
    } finally {
      this.running = null;
    }
  }
}
