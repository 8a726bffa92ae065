import type { StockExceptionNote, UnannouncedStockWrite } from '../../../common/systems/stock-book.js';
import type { StockCount, StockKey } from '../ports.js';

export type { StockExceptionNote, UnannouncedStockWrite };

/*
 * The write side of inventory: what stock movements and reservations need from the systems of record. Every
 * port's failure rejects with a SystemUnavailableError naming the system; business outcomes (a stale count, a
 * shortage, an unknown reservation) are values, not errors. Writes are never retried by the adapters.
 */

/**
 * Which SKUs the item master knows. System of record: the ERP.
 *
 * Contract: one boolean per SKU, in SKU order, in a single call.
 */
export interface ItemMasterPort {
  exist(skus: readonly string[]): Promise<boolean[]>;
}

/** A stock movement as the operational system applies it; exactly one of `onHandDelta`, `damagedDelta`, `countedOnHand`. */
export interface StockMovement extends StockKey {
  /** Change of on-hand units (negative: units left, e.g. a sale). */
  onHandDelta?: number;
  /** Change of damaged units (on hand, not sellable); on hand is unchanged. */
  damagedDelta?: number;
  /** A cycle count: on hand is set to this. */
  countedOnHand?: number;
  /** Compare-and-swap: refuse (STALE_QUANTITY) when on hand is not this now. */
  expectedOnHand?: number;
  /** The request's reference: a repeat of an applied move under it answers the first result and moves nothing. */
  reference?: string;
  /** Why (the adjustment's reason code) and under which correlation id: kept with the write for its event. */
  reason?: string;
  correlationId?: string;
  /** ISO 8601: when the movement happened, when that is not now (an offline till's sale); on the write's event. */
  occurredAt?: string;
  /** Apply even below what is promised (an offline sale: the goods are gone already); else such a move is INSUFFICIENT. @default false */
  overridePromised?: boolean;
  /** The stock exception the movement raises, kept with the write so that its event is never without it. */
  exception?: StockExceptionNote;
}

export type MovementResult =
  /** Applied: the count as it is now, and on hand before the move. */
  | { ok: true; count: StockCount; previousOnHand: number; /** The reference's move was applied before: nothing moved now. */ repeated: boolean }
  /** Refused, nothing changed: on hand moved meanwhile (STALE_QUANTITY), or the move would leave on hand negative or below what is promised (INSUFFICIENT). */
  | { ok: false; reason: 'STALE_QUANTITY' | 'INSUFFICIENT'; count: StockCount | null };

export interface ReservationLine {
  sku: string;
  quantity: number;
}

export interface Reservation {
  /** Names the location (and so the system) that holds it; see {@link reservationLocationOf}. */
  id: string;
  locationId: string;
  lines: ReservationLine[];
  /** ISO 8601. */
  expiresAt: string;
  /** The correlation id of the request that made it (null when the system lost it). */
  correlationId: string | null;
}

export type ReserveOutcome = { ok: true; reservation: Reservation } | { ok: false; shortages: { sku: string; available: number }[] };

/**
 * Stock writes at the sites of one operational system. System of record: the POS for stores, the WMS for
 * warehouses. Each method is one call to the system, applied atomically there (check and write in one step):
 *
 * - `move` applies one stock movement, or refuses it and changes nothing. Moves that lower the sound units (on
 *   hand less damaged) below what is committed and reserved are refused.
 * - `reserve` holds units of every line until `expiresAt`, all or nothing against what is sellable (on hand less
 *   committed, reserved, damaged and the given safety stock), like an order's commitment; the units count as
 *   `reserved` until the reservation ends. Under a reference, a repeat answers the reservation it made (a retry
 *   whose first answer was lost holds nothing twice).
 * - `release` ends a live reservation and gives its units back; null when it is unknown or ended already, or when
 *   `holder` is given and the reservation was made for another holder (a shopper ends only their own cart hold).
 * - `expire` ends every reservation due at `asOf` and says when the next live one is due (null: none).
 * - `unannounced` lists the writes (a move under a reference, a reservation, its end) whose events were not handed
 *   over yet, older than `before`: the system records one with each write in the same step, and `announced`
 *   forgets them once their events are in the outbox. A writer that dies in between leaves them here for recovery.
 *
 * A reservation ends exactly once, by `release` or by `expire`, whoever calls first.
 */
export interface StockWriterPort {
  move(movement: StockMovement): Promise<MovementResult>;
  reserve(locationId: string, lines: readonly (ReservationLine & { safetyStock: number })[], hold: { expiresAt: string; correlationId: string; holder: string | null; reference?: string }): Promise<ReserveOutcome>;
  release(reservationId: string, holder: string | null, correlationId?: string): Promise<Reservation | null>;
  expire(asOf: string): Promise<{ expired: Reservation[]; nextExpiresAt: string | null }>;
  unannounced(before: string, limit: number): Promise<UnannouncedStockWrite[]>;
  announced(locationId: string, ids: readonly string[]): Promise<void>;
}

/** The location a reservation id names (`rsv-<n>@<locationId>`), or null when the id is not one. */
export function reservationLocationOf(reservationId: string): string | null {
  const at = reservationId.indexOf('@');
  if (!reservationId.startsWith('rsv-') || at < 0 || at === reservationId.length - 1) return null;
  return reservationId.slice(at + 1);
}
