import { fulfillmentsOf } from '../fulfillments.js';
import { runInScope } from '../../../common/correlation.js';
import type { EventEmitter } from '../../../common/outbox/event-outbox.js';
import type { Logger } from '../../../common/logger.js';
import { checkoutCancelReference, completeCancellation, moveEventId } from '../canonical-events.js';
import type { OrderSystem, SalesOrder } from '../ports.js';
import type { OpenCommitment } from '../../../common/systems/stock-book.js';
import type { OrderWriterPort, PaymentAuthorizationPort, StockCommitPort } from './ports.js';

/** How old a PLACED order must be before it counts as abandoned, in ms (`CHECKOUT_STALE_MS`). */
export const DEFAULT_CHECKOUT_STALE_MS = 120_000;
/** How often to look for abandoned checkouts, in ms (`CHECKOUT_RECOVERY_INTERVAL_MS`). */
export const DEFAULT_CHECKOUT_RECOVERY_INTERVAL_MS = 30_000;
/** Orders undone per system and round: a backlog after a long outage is worked off over several rounds. */
const BATCH = 100;
const SYSTEMS: readonly OrderSystem[] = ['ecom', 'pos'];

export interface CheckoutRecoveryDeps {
  orders: Pick<OrderWriterPort, 'listPlacedBefore' | 'compareAndSetStatus' | 'settleMove' | 'forCheckout'>;
  stock: Pick<StockCommitPort, 'release' | 'settle' | 'releaseCommitment' | 'openCommitments'>;
  payments: Pick<PaymentAuthorizationPort, 'void'>;
  events: EventEmitter;
  logger?: Logger | undefined;
  /** See {@link DEFAULT_CHECKOUT_STALE_MS}. A live checkout takes a second or two (the PSP call is the longest step). */
  staleMs?: number | undefined;
  /** See {@link DEFAULT_CHECKOUT_RECOVERY_INTERVAL_MS}. */
  intervalMs?: number | undefined;
  /**
   * For an open commitment moved by a change of pickup store (`movedFrom`) whose caller died: finish or undo the
   * change (lifecycle/pickup-change.ts `recoverRelocation`). Without it such a commitment is treated as any other.
   */
  recoverRelocation?: ((commitment: OpenCommitment, order: SalesOrder | null) => Promise<void>) | undefined;
  /** Another recovery on the same schedule, after the checkouts' (the orders subgraph: unsettled order moves), given `staleMs`. */
  alsoRecover?: ((staleMs: number) => Promise<unknown>) | undefined;
  now?: (() => Date) | undefined;
}

/**
 * Undo checkouts that never finished. Checkout records the order (PLACED) right after committing its stock and
 * moves it to CONFIRMED once the payment is authorized, all within a request; a process that dies in between
 * (kill -9, a lost node) leaves a PLACED order holding stock, and perhaps an open authorization. Such an order is
 * cancelled here, by compare-and-swap from PLACED, so that of this job, a second instance's job and a checkout
 * that is somehow still running exactly one decides: the winner runs the one cancellation path
 * (canonical-events.ts: stock back, payment voided, ORDER_CANCELLED and INVENTORY_RELEASED per line) under the
 * order's correlation id.
 *
 * A process that dies after committing stock and before recording the order leaves a commitment no order holds:
 * checkout commits under its reference, so such a commitment is still open in the stock system after `staleMs`;
 * when no order was recorded under its reference its units go back (once: whoever releases it first), else (the
 * order was recorded, the settle was lost) it is settled and the order's own recovery above applies.
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
  await releaseOrphanCommitments(deps, before);
  return cancelled;
}

/** Order statuses that still hold their stock committed (the hand-over, or a cancellation, ends it). */
const HOLDING: ReadonlySet<SalesOrder['status']> = new Set(['PLACED', 'CONFIRMED', 'READY_FOR_PICKUP']);

/**
 * Commitments still open after `before`. One whose checkout never recorded an order, or recorded it at another
 * location, gives its units back. One whose order still holds its stock is settled (the settle was lost). One whose
 * order has ended (cancelled, handed over, shipped) is a duplicate: a checkout records its order only once a commit
 * under its reference succeeded, so the order's own commitment existed and its cancellation or hand-over ended it;
 * this one is a commit of an earlier attempt that timed out and landed late. Its units are given back, rather than
 * settled and held for ever.
 */
async function releaseOrphanCommitments(deps: CheckoutRecoveryDeps, before: string): Promise<void> {
  const open = await deps.stock.openCommitments(before, BATCH);
  if (open.length === 0) return;
  const recorded = await deps.orders.forCheckout(open.map((c) => c.reference));
  for (const [i, commitment] of open.entries()) {
    const order = recorded[i] ?? null;
    if (commitment.movedFrom && deps.recoverRelocation) {
      await deps.recoverRelocation(commitment, order);
      continue;
    }
    // Allocation tries locations in turn under one reference: a commit at a location whose answer timed out can land
    // after the checkout (or its retry) went on to another. The order's are the ones where it ships from: its
    // fulfilment location, or each open part of a split order.
    const ours = order !== null && fulfillmentsOf(order).some((part) => part.locationId === commitment.locationId && part.status === 'OPEN');
    if (ours && HOLDING.has(order.status)) {
      await deps.stock.settle(commitment.locationId, commitment.reference);
      continue;
    }
    // Only as listed: a retry of the checkout may have committed again meanwhile (and be recording its order), or
    // recorded it and settled; either way the order holds the commitment now, and giving it back would leave the
    // order with no units behind it (its hand-over would take nothing off the shelf).
    if (await deps.stock.releaseCommitment(commitment.locationId, commitment.reference, commitment.at)) {
      const why = !order ? 'stock committed by a checkout that recorded no order' : !ours ? 'stock committed at a location its order does not ship from' : `stock committed again after its order was ${order.status}`;
      deps.logger?.warn({ reference: commitment.reference, locationId: commitment.locationId, lines: commitment.lines, madeAt: commitment.at, orderId: order?.id, status: order?.status }, `${why}: given back`);
    }
  }
}

async function undo(deps: CheckoutRecoveryDeps, system: OrderSystem, order: SalesOrder, now: Date): Promise<SalesOrder | null> {
  const reference = checkoutCancelReference(order, 'recovery');
  const moved = await deps.orders.compareAndSetStatus(system, order.id, 'PLACED', 'CANCELLED', reference);
  if (!moved.moved) return null;
  const cancellation = { release: deps.stock.release.bind(deps.stock), voidPayment: deps.payments.void.bind(deps.payments), events: deps.events, logger: deps.logger, now: () => now };
  // The move stays unsettled until the release and the events are done: a release that fails, or a process that
  // dies here, is finished by move recovery (never a CANCELLED order still holding its stock, never an order put
  // back to PLACED after a release whose answer was lost but which landed).
  await completeCancellation(cancellation, order, 'PLACED', 'Checkout did not finish', undefined, moveEventId(reference, 'ORDER_CANCELLED'));
  await deps.orders.settleMove(system, order.id, reference).catch((error: unknown) => {
    deps.logger?.warn({ orderId: order.id, reference, err: (error as Error).message }, 'abandoned checkout undone but not settled; move recovery repeats it harmlessly');
  });
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
    this.running = recoverAbandonedCheckouts(this.deps)
      .then(() => this.deps.alsoRecover?.(this.deps.staleMs ?? DEFAULT_CHECKOUT_STALE_MS))
      .catch((error: unknown) => this.deps.logger?.warn({ err: error }, 'abandoned checkout recovery failed; trying again next round'));
    try {
      await this.running;
    } finally {
      this.running = null;
    }
  }
}
