import type { StockKey, StockRecord } from '../common/systems/records.js';
import { movementOf, unannouncedIdOf, type AdjustResult, type CommitLine, type CommitmentReference, type CommitResult, type MoveCommitmentResult, type OpenCommitment, type ReservationHold, type ReserveResult, type Shortage, type StockAdjustment, type StockBook, type StockReservationRecord, type UnannouncedStockWrite, withSafetyStock } from '../common/systems/stock-book.js';
import { callTime } from './clock.js';
import { PairIndex } from './shared.js';
import { EXPORT_STATE, IMPORT_STATE, intPart, listPart, type SystemState } from './state.js';

/** What a {@link MemoryStockBook} holds, as a snapshot keeps it. */
export interface StockBookState extends SystemState {
  stock: StockRecord[];
  reservations: StockReservationRecord[];
  reservationSequence: number;
  /** The commitments made under a reference that have not ended, under their keys (location and reference). */
  commitments: [string, OpenCommitment & { settled?: boolean }][];
  /** Applied adjustments by key (location and reference), oldest first; absent in snapshots written before them. */
  adjustments?: [string, { record: StockRecord; previousOnHand: number }][];
  /** Writes whose events were not handed over yet, oldest first; absent in snapshots written before them. */
  unannounced?: UnannouncedStockWrite[];
  /** Reservations made under a reference, by key (location and reference); absent in snapshots written before them. */
  reservationReferences?: [string, StockReservationRecord][];
}

/** How many adjustment references the in-memory book remembers. */
const ADJUSTMENTS_KEPT = 100_000;

/** Units of `lines` at `locationId` that do not fit in what is sellable (see commitStock), with what is. */
function shortagesAt(stock: PairIndex<StockRecord>, locationId: string, lines: readonly CommitLine[]): Shortage[] {
  const shortages: Shortage[] = [];
  for (const line of lines) {
    const record = stock.get({ sku: line.sku, locationId });
    const available = record ? Math.max(0, record.onHand - record.committed - record.reserved - record.damaged - line.safetyStock) : 0;
    if (available < line.quantity) shortages.push({ sku: line.sku, available });
  }
  return shortages;
}

/** A reservation's units are no longer held. Never below zero. */
function giveBackReserved(stock: PairIndex<StockRecord>, reservation: StockReservationRecord): void {
  for (const line of reservation.lines) {
    const record = stock.get({ sku: line.sku, locationId: reservation.locationId });
    if (record) record.reserved = Math.max(0, record.reserved - line.quantity);
  }
}

/**
 * The sandbox's own stock book: counts per SKU and site, kept in memory by the POS (stores) or the WMS
 * (warehouses). It relies on one synchronous step per check-and-write (no method body awaits), which is also what
 * lets the DATA_DIR journal replay its writes synchronously.
 */
export class MemoryStockBook implements StockBook {
  private readonly stock: PairIndex<StockRecord>;
  /** Commitments made under a reference, until they end, by location and reference; `settled` once an order holds one. */
  private readonly commitments = new Map<string, OpenCommitment & { settled?: boolean }>();
  constructor(records: readonly StockRecord[]) {
    this.stock = new PairIndex(records);
  }

  async getStock(keys: readonly StockKey[]): Promise<(StockRecord | null)[]> {
    return keys.map((k) => this.stock.get(k));
  }

  /**
   * Promise units of several SKUs at one location to an order, all or nothing: either every line fits in
   * what is sellable (on hand less committed, reserved, damaged and the given safety stock) and all are
   * committed, or nothing changes and the shortages are reported. The check and the write happen in one
   * synchronous step, so no two commitments can both take the last unit.
   */
  async commitStock(locationId: string, lines: readonly CommitLine[], reference?: CommitmentReference | null): Promise<CommitResult> {
    const key = reference ? `${locationId}\0${reference.reference}` : null;
    // The same commitment again (the first answer was lost): it holds the units already. A retry of the checkout
    // keeps an open one young, so that recovery does not take it for an orphan while the retry records its order.
    const existing = key ? this.commitments.get(key) : undefined;
    if (existing) {
      if (!existing.settled && reference && reference.at > existing.at) existing.at = reference.at;
      return { ok: true };
    }
    const shortages = shortagesAt(this.stock, locationId, lines);
    if (shortages.length) return { ok: false, shortages };
    for (const line of lines) (this.stock.get({ sku: line.sku, locationId }) as StockRecord).committed += line.quantity;
    if (key && reference) this.commitments.set(key, { reference: reference.reference, locationId, lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity })), at: reference.at });
    return { ok: true };
  }

  async settleCommitment(locationId: string, reference: string): Promise<void> {
    const commitment = this.commitments.get(`${locationId}\0${reference}`);
    if (commitment) commitment.settled = true;
  }

  async releaseCommitment(locationId: string, reference: string, seenAt?: string): Promise<boolean> {
    if (seenAt !== undefined) {
      const open = this.commitments.get(`${locationId}\0${reference}`);
      if (!open || open.settled || Date.parse(open.at) > Date.parse(seenAt)) return false;
    }
    const commitment = this.endCommitment(locationId, reference);
    if (commitment) await this.releaseStock(locationId, commitment.lines);
    return commitment !== null;
  }

  async fulfillCommitment(locationId: string, reference: string): Promise<boolean> {
    const commitment = this.endCommitment(locationId, reference);
    if (commitment) await this.fulfillStock(locationId, commitment.lines);
    return commitment !== null;
  }

  /**
   * Move commitment `reference` to another location in one synchronous step: the check at the new location, the
   * commit there and the release at the old one, so that no other write sees both held or neither.
   */
  async moveCommitment(fromLocationId: string, toLocationId: string, reference: string, lines: readonly CommitLine[], at: string): Promise<MoveCommitmentResult> {
    if (this.commitments.has(`${toLocationId}\0${reference}`)) {
      // Moved already (the first answer was lost): nothing may still be held at the old location.
      const left = this.endCommitment(fromLocationId, reference);
      if (left) await this.releaseStock(fromLocationId, left.lines);
      return { ok: true };
    }
    const commitment = this.commitments.get(`${fromLocationId}\0${reference}`);
    if (!commitment) return { ok: false, reason: 'NOT_FOUND' };
    const wanted = withSafetyStock(commitment.lines, lines);
    const shortages = shortagesAt(this.stock, toLocationId, wanted);
    if (shortages.length) return { ok: false, reason: 'SHORTAGE', shortages };
    for (const line of wanted) (this.stock.get({ sku: line.sku, locationId: toLocationId }) as StockRecord).committed += line.quantity;
    this.commitments.set(`${toLocationId}\0${reference}`, { reference, locationId: toLocationId, lines: commitment.lines.map((l) => ({ ...l })), at, movedFrom: fromLocationId });
    this.endCommitment(fromLocationId, reference);
    for (const line of commitment.lines) {
      const record = this.stock.get({ sku: line.sku, locationId: fromLocationId });
      if (record) record.committed = Math.max(0, record.committed - line.quantity);
    }
    return { ok: true };
  }

  /** Take the commitment out (synchronously: of two callers one gets it), null when it has ended already. */
  private endCommitment(locationId: string, reference: string): OpenCommitment | null {
    const key = `${locationId}\0${reference}`;
    const commitment = this.commitments.get(key) ?? null;
    this.commitments.delete(key);
    return commitment;
  }

  async openCommitments(before: string, limit: number): Promise<OpenCommitment[]> {
    const cutoff = Date.parse(before);
    return [...this.commitments.values()]
      .filter((c) => !c.settled && Date.parse(c.at) < cutoff)
      .map(({ settled: _settled, ...c }) => c)
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
      .slice(0, Math.max(0, limit));
  }

  /** Give committed units back (a declined payment, a cancellation). Never below zero. */
  async releaseStock(locationId: string, lines: readonly { sku: string; quantity: number }[]): Promise<void> {
    for (const line of lines) {
      const record = this.stock.get({ sku: line.sku, locationId });
      if (record) record.committed = Math.max(0, record.committed - line.quantity);
    }
  }

  /**
   * Committed units leave the location (handed over at the counter, or shipped): on hand and committed both go
   * down by the quantity. Never below zero; damaged never exceeds what is left on hand.
   */
  async fulfillStock(locationId: string, lines: readonly { sku: string; quantity: number }[]): Promise<void> {
    for (const line of lines) {
      const record = this.stock.get({ sku: line.sku, locationId });
      if (!record) continue;
      record.onHand = Math.max(0, record.onHand - line.quantity);
      record.committed = Math.max(0, record.committed - line.quantity);
      record.damaged = Math.min(record.damaged, record.onHand);
    }
  }

  /** A stock movement (sale at the till, receipt, damage, cycle count), optionally compare-and-swap on on-hand. */
  async adjustStock(adjustment: StockAdjustment): Promise<AdjustResult> {
    const key = { sku: adjustment.sku, locationId: adjustment.locationId };
    const done = adjustment.reference ? this.adjustments.get(`${adjustment.locationId}\0${adjustment.reference}`) : undefined;
    if (done) return { ok: true, record: { ...done.record }, previousOnHand: done.previousOnHand, repeated: true };
    const existing = this.stock.get(key);
    if (adjustment.expectedOnHand != null && (existing?.onHand ?? 0) !== adjustment.expectedOnHand) return { ok: false, reason: 'STALE_QUANTITY', record: existing };
    const record = existing ?? { ...key, onHand: 0, committed: 0, reserved: 0, damaged: 0 };
    const previousOnHand = record.onHand;
    const onHand = adjustment.countedOnHand != null ? adjustment.countedOnHand : record.onHand + (adjustment.onHandDelta ?? 0);
    const damaged = record.damaged + (adjustment.damagedDelta ?? 0);
    if (onHand < 0 || damaged < 0 || damaged > onHand) return { ok: false, reason: 'NEGATIVE_STOCK', record: existing };
    const sound = onHand - damaged;
    if (adjustment.protectPromised && sound < record.committed + record.reserved && sound < record.onHand - record.damaged) return { ok: false, reason: 'BELOW_PROMISED', record: existing };
    record.onHand = onHand;
    record.damaged = damaged;
    if (!existing) this.stock.set(record);
    if (adjustment.reference) {
      this.rememberAdjustment(`${adjustment.locationId}\0${adjustment.reference}`, { record: { ...record }, previousOnHand });
      if (adjustment.reason) {
        const movement = movementOf(adjustment);
        this.unannounce({ kind: 'ADJUSTED', id: unannouncedIdOf.adjusted(adjustment.reference), locationId: adjustment.locationId, at: callTime().toISOString(), correlationId: adjustment.correlationId ?? null, sku: adjustment.sku, reason: adjustment.reason, movement, record: { ...record }, previousOnHand, ...(adjustment.occurredAt && { occurredAt: adjustment.occurredAt }), ...(adjustment.exception && { exception: adjustment.exception }) });
      }
    }
    return { ok: true, record, previousOnHand };
  }

  /** Applied adjustments by reference, the oldest forgotten beyond {@link ADJUSTMENTS_KEPT} (a retry comes within seconds). */
  private readonly adjustments = new Map<string, { record: StockRecord; previousOnHand: number }>();
  private rememberAdjustment(key: string, result: { record: StockRecord; previousOnHand: number }): void {
    this.adjustments.set(key, result);
    if (this.adjustments.size > ADJUSTMENTS_KEPT) this.adjustments.delete(this.adjustments.keys().next().value as string);
  }

  private readonly reservations = new Map<string, StockReservationRecord>();
  /** Reservations made under a reference, by location and reference, the oldest forgotten beyond {@link ADJUSTMENTS_KEPT}. */
  private readonly reservationsByReference = new Map<string, StockReservationRecord>();
  private reservationSequence = 0;

  /**
   * Hold units of several SKUs at one location for a cart or a transfer until `expiresAt`, all or nothing and
   * atomic against every commitment and reservation, exactly like commitStock; the units count as `reserved`.
   */
  async reserveStock(locationId: string, lines: readonly CommitLine[], hold: ReservationHold): Promise<ReserveResult> {
    const referenceKey = hold.reference ? `${locationId}\0${hold.reference}` : null;
    const made = referenceKey ? this.reservationsByReference.get(referenceKey) : undefined;
    if (made) return { ok: true, reservation: made };
    const shortages = shortagesAt(this.stock, locationId, lines);
    if (shortages.length) return { ok: false, shortages };
    for (const line of lines) (this.stock.get({ sku: line.sku, locationId }) as StockRecord).reserved += line.quantity;
    const reservation: StockReservationRecord = {
      id: `rsv-${String(++this.reservationSequence).padStart(6, '0')}@${locationId}`,
      locationId,
      lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      expiresAt: hold.expiresAt,
      correlationId: hold.correlationId ?? null,
      holder: hold.holder ?? null,
    };
    this.reservations.set(reservation.id, reservation);
    if (referenceKey) {
      this.reservationsByReference.set(referenceKey, reservation);
      if (this.reservationsByReference.size > ADJUSTMENTS_KEPT) this.reservationsByReference.delete(this.reservationsByReference.keys().next().value as string);
    }
    this.unannounce({ kind: 'RESERVED', id: unannouncedIdOf.reserved(reservation.id), locationId, at: callTime().toISOString(), correlationId: reservation.correlationId, reservation });
    return { ok: true, reservation };
  }

  /**
   * End a live reservation and give its units back; null when it is unknown, released or expired already, or (with
   * `holder`) held by someone else.
   */
  async releaseReservation(id: string, holder?: string | null, correlationId?: string | null): Promise<StockReservationRecord | null> {
    const reservation = this.reservations.get(id);
    if (!reservation) return null;
    if (holder && reservation.holder !== holder) return null;
    this.reservations.delete(id);
    giveBackReserved(this.stock, reservation);
    this.unannounce({ kind: 'RELEASED', id: unannouncedIdOf.ended(id), locationId: reservation.locationId, at: callTime().toISOString(), correlationId: correlationId ?? reservation.correlationId, reservation });
    return reservation;
  }

  /**
   * Release every reservation due at `asOf` (expiresAt at or before it), giving its units back, and say when the
   * next live one is due (null: none left). Each reservation ends once, by release or by expiry.
   */
  async expireReservations(asOf: string): Promise<{ expired: StockReservationRecord[]; nextExpiresAt: string | null }> {
    const due = Date.parse(asOf);
    const expired: StockReservationRecord[] = [];
    let next: StockReservationRecord | null = null;
    for (const reservation of this.reservations.values()) {
      if (Date.parse(reservation.expiresAt) <= due) expired.push(reservation);
      else if (!next || Date.parse(reservation.expiresAt) < Date.parse(next.expiresAt)) next = reservation;
    }
    for (const reservation of expired) {
      this.reservations.delete(reservation.id);
      giveBackReserved(this.stock, reservation);
      this.unannounce({ kind: 'EXPIRED', id: unannouncedIdOf.ended(reservation.id), locationId: reservation.locationId, at: callTime().toISOString(), correlationId: reservation.correlationId, reservation });
    }
    return { expired, nextExpiresAt: next?.expiresAt ?? null };
  }

  /** Writes whose events are not handed over yet, by location and id, in the order they were made. */
  private readonly unannounced = new Map<string, UnannouncedStockWrite>();
  private unannounce(write: UnannouncedStockWrite): void {
    this.unannounced.set(`${write.locationId}\0${write.id}`, write);
  }

  async unannouncedWrites(before: string, limit: number): Promise<UnannouncedStockWrite[]> {
    const cutoff = Date.parse(before);
    const found: UnannouncedStockWrite[] = [];
    for (const write of this.unannounced.values()) {
      if (found.length >= limit) break;
      if (Date.parse(write.at) < cutoff) found.push(write);
    }
    return found;
  }

  async markAnnounced(locationId: string, ids: readonly string[]): Promise<void> {
    for (const id of ids) this.unannounced.delete(`${locationId}\0${id}`);
  }

  /**
   * Everything the book holds, for a snapshot (see sandbox/state.ts): the counts copied, since writes change them in
   * place (reservations and commitments never change once made). A field added to the book must be added here and in
   * {@link IMPORT_STATE}, or a restart from a snapshot loses it.
   */
  [EXPORT_STATE](): StockBookState {
    return { stock: this.stock.all().map((r) => ({ ...r })), reservations: [...this.reservations.values()], reservationSequence: this.reservationSequence, commitments: [...this.commitments.entries()].map(([k, c]) => [k, { ...c }]), adjustments: [...this.adjustments.entries()], unannounced: [...this.unannounced.values()], reservationReferences: [...this.reservationsByReference.entries()] };
  }

  /** Replace everything the book holds by a snapshot's ({@link EXPORT_STATE}). */
  [IMPORT_STATE](state: StockBookState): void {
    this.stock.clear();
    for (const record of listPart<StockRecord>(state, 'stock', 'a stock book')) this.stock.set(record);
    this.reservations.clear();
    for (const reservation of listPart<StockReservationRecord>(state, 'reservations', 'a stock book')) this.reservations.set(reservation.id, reservation);
    this.reservationSequence = intPart(state, 'reservationSequence', 'a stock book');
    this.commitments.clear();
    for (const [key, commitment] of listPart<[string, OpenCommitment & { settled?: boolean }]>(state, 'commitments', 'a stock book')) this.commitments.set(key, commitment);
    this.adjustments.clear();
    if (state.adjustments !== undefined) for (const [key, result] of listPart<[string, { record: StockRecord; previousOnHand: number }]>(state, 'adjustments', 'a stock book')) this.adjustments.set(key, result);
    this.reservationsByReference.clear();
    if (state.reservationReferences !== undefined) for (const [key, reservation] of listPart<[string, StockReservationRecord]>(state, 'reservationReferences', 'a stock book')) this.reservationsByReference.set(key, reservation);
    this.unannounced.clear();
    if (state.unannounced !== undefined) for (const write of listPart<UnannouncedStockWrite>(state, 'unannounced', 'a stock book')) this.unannounce(write);
  }
}

/**
 * A system that keeps stock (the POS, the WMS): its stock calls go to the book it was given, the sandbox's own or
 * Redis's shared one. The system is what the fault and call-count layer wraps, so faults and counters apply to
 * stock calls whichever book answers them. The calls are handed on as they are (no await in between), so a write
 * to the in-memory book still changes state synchronously.
 */
export class StockKeeper implements StockBook {
  constructor(protected readonly stockBook: StockBook) {}

  getStock(keys: readonly StockKey[]): Promise<(StockRecord | null)[]> {
    return this.stockBook.getStock(keys);
  }
  commitStock(locationId: string, lines: readonly CommitLine[], reference?: CommitmentReference | null): Promise<CommitResult> {
    return this.stockBook.commitStock(locationId, lines, reference);
  }
  settleCommitment(locationId: string, reference: string): Promise<void> {
    return this.stockBook.settleCommitment(locationId, reference);
  }
  releaseCommitment(locationId: string, reference: string, seenAt?: string): Promise<boolean> {
    return this.stockBook.releaseCommitment(locationId, reference, seenAt);
  }
  fulfillCommitment(locationId: string, reference: string): Promise<boolean> {
    return this.stockBook.fulfillCommitment(locationId, reference);
  }
  moveCommitment(fromLocationId: string, toLocationId: string, reference: string, lines: readonly CommitLine[], at: string): Promise<MoveCommitmentResult> {
    return this.stockBook.moveCommitment(fromLocationId, toLocationId, reference, lines, at);
  }
  openCommitments(before: string, limit: number): Promise<OpenCommitment[]> {
    return this.stockBook.openCommitments(before, limit);
  }
  releaseStock(locationId: string, lines: readonly { sku: string; quantity: number }[]): Promise<void> {
    return this.stockBook.releaseStock(locationId, lines);
  }
  fulfillStock(locationId: string, lines: readonly { sku: string; quantity: number }[]): Promise<void> {
    return this.stockBook.fulfillStock(locationId, lines);
  }
  adjustStock(adjustment: StockAdjustment): Promise<AdjustResult> {
    return this.stockBook.adjustStock(adjustment);
  }
  reserveStock(locationId: string, lines: readonly CommitLine[], hold: ReservationHold): Promise<ReserveResult> {
    return this.stockBook.reserveStock(locationId, lines, hold);
  }
  releaseReservation(id: string, holder?: string | null, correlationId?: string | null): Promise<StockReservationRecord | null> {
    return this.stockBook.releaseReservation(id, holder, correlationId);
  }
  expireReservations(asOf: string): Promise<{ expired: StockReservationRecord[]; nextExpiresAt: string | null }> {
    return this.stockBook.expireReservations(asOf);
  }
  unannouncedWrites(before: string, limit: number): Promise<UnannouncedStockWrite[]> {
    return this.stockBook.unannouncedWrites(before, limit);
  }
  markAnnounced(locationId: string, ids: readonly string[]): Promise<void> {
    return this.stockBook.markAnnounced(locationId, ids);
  }
}
