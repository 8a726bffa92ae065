import { randomUUID } from 'node:crypto';
import { runInScope } from '../../../common/correlation.js';
import type { EventEmitter } from '../../../common/outbox/event-outbox.js';
import type { Logger } from '../../../common/logger.js';
import type { LocationKind } from '../ports.js';
import { unannouncedIdOf } from '../../../common/systems/stock-book.js';
import { announce } from './announce.js';
import type { StockWriterPort } from './ports.js';

export const DEFAULT_SWEEP_INTERVAL_MS = 1000;

export interface ReservationSweeperDeps {
  writers: Record<LocationKind, Pick<StockWriterPort, 'expire' | 'announced' | 'unannounced'>>;
  events: EventEmitter;
  logger?: Logger | undefined;
  /** How often to look whether a reservation is due, in ms. */
  intervalMs?: number | undefined;
  now?: (() => Date) | undefined;
  /**
   * Another job on this timer, every `recoverEveryMs` (the inventory subgraph: announcing the stock writes whose
   * writer died before their events were handed over, see announce.ts).
   */
  alsoRecover?: (() => Promise<unknown>) | undefined;
  /** How often {@link alsoRecover} runs, in ms. @default 5_000 */
  recoverEveryMs?: number | undefined;
}

const KINDS: readonly LocationKind[] = ['STORE', 'WAREHOUSE'];

const earliest = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));

/**
 * Expires reservations when they are due: asks the system that holds them to end the due ones (each ends once,
 * whoever asks) and publishes one INVENTORY_RELEASED per line, under the correlation id of the request that made
 * the reservation.
 *
 * A system is only asked when something there is known to be due: at start (one sweep of each system, which also
 * says when the next reservation there is due), after a reservation was made here ({@link note}), and when the
 * system said so in its last answer. Idle, it makes no calls at all. A failed sweep is tried again on the next
 * tick. Reservations made by another instance are swept by that instance, or by this one once it next sweeps
 * that system.
 */
export class ReservationSweeper {
  private readonly due: Record<LocationKind, number | null> = { STORE: null, WAREHOUSE: null };
  private readonly now: () => Date;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private recovering: Promise<void> | null = null;
  private nextRecoveryAt = 0;

  constructor(private readonly deps: ReservationSweeperDeps) {
    this.now = deps.now ?? (() => new Date());
    this.intervalMs = deps.intervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  }

  /** A reservation at a location of `kind` is due at `expiresAt`. */
  note(kind: LocationKind, expiresAt: string): void {
    const at = Date.parse(expiresAt);
    if (Number.isFinite(at)) this.due[kind] = earliest(this.due[kind], at);
  }

  /** When the next sweep of each kind is due (epoch ms), null when nothing is known to be due. */
  dueAt(): Readonly<Record<LocationKind, number | null>> {
    return { ...this.due };
  }

  /** Sweep every system once, then keep sweeping what is due every `intervalMs` (an unref'd timer) until {@link stop}. */
  async start(): Promise<void> {
    this.recover();
    await this.run(KINDS);
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** Stop the timer and wait for a sweep in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([this.running, this.recovering]);
  }

  /** {@link ReservationSweeperDeps.alsoRecover} when it is due and not running; its failure is logged and tried again. */
  private recover(): void {
    const { alsoRecover, recoverEveryMs, logger } = this.deps;
    const now = this.now().getTime();
    if (!alsoRecover || this.recovering || now < this.nextRecoveryAt) return;
    this.nextRecoveryAt = now + (recoverEveryMs ?? 5_000);
    this.recovering = alsoRecover().then(
      () => {
        this.recovering = null;
      },
      (error: unknown) => {
        this.recovering = null;
        logger?.warn({ err: error }, 'stock write recovery failed; trying again next round');
      },
    );
  }

  /** Sweep the systems whose next reservation is due now; a sweep already running is waited for instead. */
  tick(): Promise<void> {
    if (this.timer) this.recover();
    if (this.running) return this.running;
    const now = this.now().getTime();
    const kinds = KINDS.filter((kind) => {
      const due = this.due[kind];
      return due !== null && due <= now;
    });
    return kinds.length ? this.run(kinds) : Promise.resolve();
  }

  private run(kinds: readonly LocationKind[]): Promise<void> {
    const sweeping: Promise<void> = Promise.all(kinds.map((kind) => this.sweep(kind))).then(
      () => {
        if (this.running === sweeping) this.running = null;
      },
      (error: unknown) => {
        if (this.running === sweeping) this.running = null;
        throw error;
      },
    );
    this.running = sweeping;
    return sweeping;
  }

  private async sweep(kind: LocationKind): Promise<void> {
    const previous = this.due[kind];
    // Reservations noted while the call runs keep their due time; the answer adds the system's own next one.
    this.due[kind] = null;
    const asOf = this.now();
    const correlationId = `sweep-${randomUUID()}`;
    let answer: Awaited<ReturnType<StockWriterPort['expire']>>;
    try {
      answer = await runInScope({ correlationId }, () => this.deps.writers[kind].expire(asOf.toISOString()));
    } catch (error) {
      this.due[kind] = earliest(this.due[kind], previous ?? asOf.getTime());
      this.deps.logger?.warn({ err: error, kind, correlationId }, 'reservation sweep failed; trying again on the next tick');
      return;
    }
    if (answer.nextExpiresAt) this.note(kind, answer.nextExpiresAt);
    if (!answer.expired.length) return;
    const at = asOf.toISOString();
    await announce(
      this.deps,
      answer.expired.map((reservation) => ({ kind: 'EXPIRED' as const, id: unannouncedIdOf.ended(reservation.id), locationId: reservation.locationId, at, correlationId: reservation.correlationId ?? correlationId, reservation })),
    );
    this.deps.logger?.info({ kind, correlationId, expired: answer.expired.map((r) => r.id) }, 'reservations expired');
  }
}
