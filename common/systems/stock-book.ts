import type { StockKey, StockRecord } from './records.js';

/*
 * The stock book of the POS (stores) and the WMS (warehouses): counts per SKU and location, commitments and
 * reservations. One contract, two books: the sandbox's own in memory (`sandbox/stock-book.ts`) and the one in
 * Redis that several instances share (`common/redis/stock-book.ts`). The POS and WMS delegate their stock calls
 * to whichever they are given, so the book sits below the sandbox's fault and call-count layer: a fault set on
 * the POS applies to its stock calls in either mode.
 */

/**
 * With a reference, a commitment is idempotent and findable: a second commit under a reference still open answers
 * ok and commits nothing (the first one's answer was lost), and the commitment stays open until settled or released.
 */
export interface CommitmentReference {
  reference: string;
  /** ISO 8601: when the commitment is made (the caller's clock, so that a replay keeps it). */
  at: string;
}

/** A line of a stock commitment: the caller states the safety stock the ERP holds back (see commitStock). */
export interface CommitLine {
  sku: string;
  quantity: number;
  safetyStock: number;
}

/** A line that does not fit in what is sellable, with how many units are. */
export interface Shortage {
  sku: string;
  available: number;
}

export type CommitResult = { ok: true } | { ok: false; shortages: Shortage[] };

/**
 * A commitment made under a checkout's reference. It is *open* from the commit until checkout has recorded its
 * order (`settleCommitment`); one still open long after it was made is a checkout that died in between, which
 * checkout recovery finds here. Open or settled, it ends once: given back (`releaseCommitment`: a cancellation, or a
 * checkout that recorded no order) or handed over (`fulfillCommitment`), whoever asks and however often.
 */
export interface OpenCommitment {
  reference: string;
  locationId: string;
  lines: { sku: string; quantity: number }[];
  /** ISO 8601: when it was made. */
  at: string;
  /**
   * Set on a commitment moved here from another location (see {@link StockBook.moveCommitment}): it stays open until
   * the order records its new location and settles it, so that checkout recovery finds a move whose caller died.
   */
  movedFrom?: string | undefined;
}

/** What a {@link StockBook.moveCommitment} did: moved (or had moved already), the new location short, or no such commitment. */
export type MoveCommitmentResult = { ok: true } | { ok: false; reason: 'SHORTAGE'; shortages: Shortage[] } | { ok: false; reason: 'NOT_FOUND' };

export interface StockAdjustment {
  sku: string;
  locationId: string;
  /** Change of on-hand units (negative for a sale or damage write-off). */
  onHandDelta?: number;
  /** Change of damaged units (on hand but not sellable). */
  damagedDelta?: number;
  /** Compare-and-swap: refuse when on hand is not this. */
  expectedOnHand?: number;
  /** A cycle count: set on hand to this (instead of moving it by onHandDelta). */
  countedOnHand?: number;
  /**
   * Refuse (BELOW_PROMISED) a move that lowers the sound units (on hand less damaged) below what is committed
   * and reserved; a move that does not lower them is always let through, even where counts have drifted.
   */
  protectPromised?: boolean;
  /**
   * The caller's reference (its request's idempotency key): a repeat of an applied adjustment under the same
   * reference (its first answer was lost) answers the first result and moves nothing. Kept at least a day.
   */
  reference?: string;
  /**
   * Why the units moved (the POS or WMS reason code). With a reference, it makes the movement an inventory
   * adjustment of its own, whose event the book keeps unannounced until marked (see unannouncedWrites); a movement
   * without one is part of another change (a return's receipt) whose events its caller hands over.
   */
  reason?: string;
  /** The correlation id of the request, kept with the write for its event. */
  correlationId?: string | null;
  /** ISO 8601: when the movement happened, where that is not when it is recorded (an offline till's sale); kept with the write for its event. */
  occurredAt?: string | null;
  /** A stock exception the movement raises (an offline sale of units that were promised), kept with the write for its event. */
  exception?: StockExceptionNote | null;
}

/**
 * A stock exception as the write that raised it keeps it (see {@link StockAdjustment.exception}): OVERSOLD, an offline
 * sale applied although `shortfall` of its units were no longer sellable (`onHandShortfall` of them not even on hand:
 * on hand stopped at 0), with the proposed compensation: the open online orders committed there, newest first.
 */
export interface StockExceptionNote {
  kind: 'OVERSOLD';
  transactionId: string;
  quantity: number;
  shortfall: number;
  onHandShortfall: number;
  proposal: { orderId: string; orderNumber: string; quantity: number; action: 'REROUTE' | 'CANCEL'; rerouteLocationId: string | null }[];
}

export type AdjustResult =
  /** `repeated`: the reference's adjustment was applied before (this call moved nothing and answers the first result). */
  | { ok: true; record: StockRecord; previousOnHand?: number; repeated?: boolean }
  | { ok: false; reason: 'STALE_QUANTITY' | 'NEGATIVE_STOCK' | 'BELOW_PROMISED'; record: StockRecord | null };

/** A hold on units at one location (a cart, a transfer) until it is released or expires. */
export interface StockReservationRecord {
  /** `rsv-<sequence>@<locationId>`: the location names the system that holds it. */
  id: string;
  locationId: string;
  lines: { sku: string; quantity: number }[];
  /** ISO 8601 instant after which the reservation may be expired (see expireReservations). */
  expiresAt: string;
  /** The correlation id of the request that made it, for the events of its release. */
  correlationId: string | null;
  /** Who holds it, when only they may end it (a shopper's cart); null for holds any associate may end. */
  holder?: string | null | undefined;
}

/** What a reservation is held for: until when, under which correlation id, and by whom. */
export interface ReservationHold {
  expiresAt: string;
  correlationId?: string | null;
  holder?: string | null;
  /**
   * The caller's reference (its request's idempotency key): a repeat under a reference that made a reservation (its
   * first answer was lost) answers that reservation and holds nothing more, even once it has ended. Kept at least a day.
   */
  reference?: string;
}

export type ReserveResult = { ok: true; reservation: StockReservationRecord } | { ok: false; shortages: Shortage[] };

/**
 * A stock write whose event has not been handed over yet (see {@link StockBook.unannouncedWrites}): what its event
 * needs, recorded by the book in the same atomic step as the write. Its id names the write once: `adjusted:<the
 * adjustment's reference>`, `reserved:<reservation id>`, `ended:<reservation id>` (a reservation ends once).
 */
export type UnannouncedStockWrite =
  | (UnannouncedBase & {
      kind: 'ADJUSTED';
      sku: string;
      reason: string | null;
      /** The movement as asked: exactly one of the three. */
      movement: { onHandDelta?: number; damagedDelta?: number; countedOnHand?: number };
      /** The record as the adjustment left it. */
      record: StockRecord;
      previousOnHand: number;
      /** When the movement happened, when given (see {@link StockAdjustment.occurredAt}). */
      occurredAt?: string | null | undefined;
      exception?: StockExceptionNote | null | undefined;
    })
  | (UnannouncedBase & { kind: 'RESERVED' | 'RELEASED' | 'EXPIRED'; reservation: StockReservationRecord });

interface UnannouncedBase {
  id: string;
  locationId: string;
  /** ISO 8601: when the write was made. */
  at: string;
  /** The correlation id of the request that made it (null when none was given). */
  correlationId: string | null;
}

/** The movement an adjustment asks for, as its unannounced write keeps it: a count, else damage, else on hand. */
export function movementOf(adjustment: Pick<StockAdjustment, 'onHandDelta' | 'damagedDelta' | 'countedOnHand'>): Extract<UnannouncedStockWrite, { kind: 'ADJUSTED' }>['movement'] {
  if (adjustment.countedOnHand != null) return { countedOnHand: adjustment.countedOnHand };
  if (adjustment.damagedDelta != null && adjustment.onHandDelta == null) return { damagedDelta: adjustment.damagedDelta };
  return { onHandDelta: adjustment.onHandDelta ?? 0 };
}

/** A commitment's own lines with the safety stock the caller states per SKU (0 for a SKU it does not name). */
export function withSafetyStock(lines: readonly { sku: string; quantity: number }[], stated: readonly CommitLine[]): CommitLine[] {
  return lines.map((l) => ({ sku: l.sku, quantity: l.quantity, safetyStock: stated.find((s) => s.sku === l.sku)?.safetyStock ?? 0 }));
}

/** The id a write's {@link UnannouncedStockWrite} gets. */
export const unannouncedIdOf = {
  adjusted: (reference: string) => `adjusted:${reference}`,
  reserved: (reservationId: string) => `reserved:${reservationId}`,
  ended: (reservationId: string) => `ended:${reservationId}`,
};

/**
 * Stock counts per SKU and location with their commitments and reservations. Every check-and-write is one
 * atomic step, so no two commitments or reservations can both take the last unit, and a reservation ends once,
 * by release or by expiry.
 */
export interface StockBook {
  /** The records in key order; null for a pair the book holds nothing for. Callers treat them as read-only. */
  getStock(keys: readonly StockKey[]): Promise<(StockRecord | null)[]>;
  /**
   * Promise units of several SKUs at one location to an order, all or nothing: either every line fits in what is
   * sellable (on hand less committed, reserved, damaged and the given safety stock) and all are committed, or
   * nothing changes and the shortages are reported.
   */
  commitStock(locationId: string, lines: readonly CommitLine[], reference?: CommitmentReference | null): Promise<CommitResult>;
  /** The order holding commitment `reference` is recorded: the commitment is the order's now, no longer open. */
  settleCommitment(locationId: string, reference: string): Promise<void>;
  /**
   * Give back the units of commitment `reference` (a cancellation, or a checkout that recorded no order); false, and
   * nothing changes, when it has ended already (or never was). With `seenAt` (recovery's: the `at` it listed the
   * commitment with), only while it is still open and no retry made it again since: a checkout's retry that commits
   * under the reference between recovery's look and its release is about to record the order, which then holds it.
   */
  releaseCommitment(locationId: string, reference: string, seenAt?: string): Promise<boolean>;
  /** The units of commitment `reference` leave the location (hand-over, shipment), as fulfillStock; false when it has ended already. */
  fulfillCommitment(locationId: string, reference: string): Promise<boolean>;
  /**
   * Move commitment `reference` (an order's, open or settled) from one location to another of the same book, all or
   * nothing: its lines must fit in what is sellable at `toLocationId` (on hand less committed, reserved, damaged and
   * the given safety stock per SKU), and then the units are committed there and given back at `fromLocationId`;
   * else nothing changes and the shortages are reported. At the new location the commitment is open (made `at`,
   * `movedFrom` set) until settled. Idempotent: when the commitment is at `toLocationId` already it answers ok and
   * only makes sure nothing is still held at `fromLocationId`; NOT_FOUND when it is at neither. In memory one
   * synchronous step; in Redis two scripts, new location first (see `common/redis/stock-book.ts`).
   */
  moveCommitment(fromLocationId: string, toLocationId: string, reference: string, lines: readonly CommitLine[], at: string): Promise<MoveCommitmentResult>;
  /** Open commitments made before `before` (an instant), oldest first per location, at most `limit`. */
  openCommitments(before: string, limit: number): Promise<OpenCommitment[]>;
  /** Give committed units back (a declined payment, a cancellation). Never below zero. */
  releaseStock(locationId: string, lines: readonly { sku: string; quantity: number }[]): Promise<void>;
  /**
   * Committed units leave the location (handed over at the counter, or shipped): on hand and committed both go
   * down by the quantity. Never below zero; damaged never exceeds what is left on hand.
   */
  fulfillStock(locationId: string, lines: readonly { sku: string; quantity: number }[]): Promise<void>;
  /** A stock movement (sale at the till, receipt, damage, cycle count), optionally compare-and-swap on on-hand. */
  adjustStock(adjustment: StockAdjustment): Promise<AdjustResult>;
  /**
   * Hold units of several SKUs at one location for a cart or a transfer until `expiresAt`, all or nothing and
   * atomic against every commitment and reservation, exactly like commitStock; the units count as `reserved`.
   */
  reserveStock(locationId: string, lines: readonly CommitLine[], hold: ReservationHold): Promise<ReserveResult>;
  /**
   * End a live reservation and give its units back; null when it is unknown, released or expired already, or (with
   * `holder`) held by someone else.
   */
  releaseReservation(id: string, holder?: string | null, correlationId?: string | null): Promise<StockReservationRecord | null>;
  /**
   * Release every reservation due at `asOf` (expiresAt at or before it), giving its units back, and say when the
   * next live one is due (null: none left). Each reservation ends once, by release or by expiry.
   */
  expireReservations(asOf: string): Promise<{ expired: StockReservationRecord[]; nextExpiresAt: string | null }>;
  /**
   * The writes whose events were not handed over yet, made before `before` (an instant), oldest first, at most
   * `limit`. Every adjustment under a reference, reservation, release and expiry records one, in the same atomic
   * step as the write, so that a writer that dies before it hands over the events leaves them findable here: the
   * state change and what its event needs are never apart.
   */
  unannouncedWrites(before: string, limit: number): Promise<UnannouncedStockWrite[]>;
  /** The events of these writes (ids of {@link UnannouncedStockWrite}) are handed over: forget them. Unknown ids are ignored. */
  markAnnounced(locationId: string, ids: readonly string[]): Promise<void>;
}
