import type { ResilienceRegistry } from '../../../common/resilience.js';
import { WRITE_METHODS } from '../../../common/systems/writes.js';
import type { StockReservationRecord } from '../../../common/systems/stock-book.js';
import type { SandboxErp } from '../../../sandbox/erp.js';
import type { SandboxPos } from '../../../sandbox/pos.js';
import type { SandboxWms } from '../../../sandbox/wms.js';
import { toStockCount } from '../adapters/sandbox-sites.js';
import type { ItemMasterPort, MovementResult, Reservation, StockMovement, StockWriterPort } from './ports.js';

/*
 * Thin adapters of the inventory write ports over the sandbox systems (in process or over HTTP). Writes are
 * listed as writes so the resilience policy never retries them: a retried movement or reservation could land
 * twice.
 */


const toReservation = (r: StockReservationRecord): Reservation => ({
  id: r.id,
  locationId: r.locationId,
  lines: r.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
  expiresAt: r.expiresAt,
  correlationId: r.correlationId ?? null,
});

/** Stock writes at stores (POS) or warehouses (WMS): both keep stock in the same stock book. */
export class SandboxStockWriter implements StockWriterPort {
  private readonly book: SandboxPos | SandboxWms;
  constructor(system: 'pos', book: SandboxPos, resilience: ResilienceRegistry);
  constructor(system: 'wms', book: SandboxWms, resilience: ResilienceRegistry);
  constructor(system: 'pos' | 'wms', book: SandboxPos | SandboxWms, resilience: ResilienceRegistry) {
    this.book = system === 'pos' ? resilience.wrap('pos', book as SandboxPos, WRITE_METHODS.pos) : resilience.wrap('wms', book as SandboxWms, WRITE_METHODS.wms);
  }

  async move(movement: StockMovement): Promise<MovementResult> {
    // Absent fields are left out rather than sent as null: the system reads a present field as an instruction.
    const result = await this.book.adjustStock({
      sku: movement.sku,
      locationId: movement.locationId,
      ...(movement.onHandDelta !== undefined && { onHandDelta: movement.onHandDelta }),
      ...(movement.damagedDelta !== undefined && { damagedDelta: movement.damagedDelta }),
      ...(movement.countedOnHand !== undefined && { countedOnHand: movement.countedOnHand }),
      ...(movement.expectedOnHand !== undefined && { expectedOnHand: movement.expectedOnHand }),
      ...(movement.reference !== undefined && { reference: movement.reference }),
      ...(movement.reason !== undefined && { reason: movement.reason }),
      ...(movement.correlationId !== undefined && { correlationId: movement.correlationId }),
      ...(movement.occurredAt !== undefined && { occurredAt: movement.occurredAt }),
      ...(movement.exception !== undefined && { exception: movement.exception }),
      protectPromised: movement.overridePromised !== true,
    });
    // Copied at once: in process the record is the system's live object.
    if (result.ok) return { ok: true, count: toStockCount(result.record), previousOnHand: result.previousOnHand ?? result.record.onHand - (movement.onHandDelta ?? 0), repeated: result.repeated === true };
    return { ok: false, reason: result.reason === 'STALE_QUANTITY' ? 'STALE_QUANTITY' : 'INSUFFICIENT', count: result.record ? toStockCount(result.record) : null };
  }

  async reserve(...[locationId, lines, hold]: Parameters<StockWriterPort['reserve']>) {
    const result = await this.book.reserveStock(
      locationId,
      lines.map((l) => ({ sku: l.sku, quantity: l.quantity, safetyStock: l.safetyStock })),
      { expiresAt: hold.expiresAt, correlationId: hold.correlationId, holder: hold.holder, ...(hold.reference !== undefined && { reference: hold.reference }) },
    );
    return result.ok ? { ok: true as const, reservation: toReservation(result.reservation) } : { ok: false as const, shortages: result.shortages };
  }

  async release(reservationId: string, holder: string | null, correlationId?: string) {
    const record = await this.book.releaseReservation(reservationId, holder, correlationId ?? null);
    return record ? toReservation(record) : null;
  }

  async expire(asOf: string) {
    const result = await this.book.expireReservations(asOf);
    return { expired: result.expired.map(toReservation), nextExpiresAt: result.nextExpiresAt };
  }

  unannounced(before: string, limit: number) {
    return this.book.unannouncedWrites(before, limit);
  }

  announced(locationId: string, ids: readonly string[]) {
    return this.book.markAnnounced(locationId, ids);
  }
}
