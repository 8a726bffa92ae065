import { forbiddenError } from '../../../common/auth/authorization.js';
import { locationLabel, type Metrics } from '../../../common/telemetry/metrics.js';
import type { EventEmitter } from '../../../common/outbox/event-outbox.js';
import { callerKeyDigest, callerOf, type CallerScope, type IdempotencyStore } from '../../../common/idempotency.js';
import { runIdempotent, userError, type UserErrorValue } from '../../../common/idempotent-mutation.js';
import type { Logger } from '../../../common/logger.js';
import type { InventoryLocation, LocationDirectoryPort, LocationKind, StockPolicyPort } from '../ports.js';
import { movementOf, unannouncedIdOf } from '../../../common/systems/stock-book.js';
import { locationKindOf, type StockLevel } from '../stock.js';
import { announce } from './announce.js';
import { adjustedLevel } from './events.js';
import { reservationLocationOf, type ItemMasterPort, type Reservation, type StockWriterPort, type UnannouncedStockWrite } from './ports.js';
import {
  checkRelease,
  checkReservation,
  DEFAULT_TTL_SECONDS,
  planAdjustment,
  type AdjustInventoryRequest,
  type ReleaseReservationRequest,
  type ReserveInventoryRequest,
} from './validation.js';

export interface StockWriteDeps {
  /** The site masters, to tell an unknown location from a known one. */
  locations: Record<LocationKind, LocationDirectoryPort>;
  /** Safety stock, for what a reservation may take and for the `available` of an adjusted level. */
  policies: StockPolicyPort;
  items: ItemMasterPort;
  writers: Record<LocationKind, StockWriterPort>;
  idempotency: IdempotencyStore;
  /**
   * The outbox the events of every write go through (recorded with the write's durability, published with
   * retries). The system of record keeps each write unannounced until they are (see announce.ts).
   */
  events: EventEmitter;
  /** Told about every new reservation, so that its expiry is swept on time (see ReservationSweeper.note). */
  onReserved?: (kind: LocationKind, expiresAt: string) => void;
  /** A location by id through the request's loader (so the payload's `location` costs no second call). */
  findLocation?: (id: string) => Promise<InventoryLocation | null>;
  logger?: Logger;
  now?: () => Date;
  /** Refused reservations, by code and location. @default none */
  metrics?: Pick<Metrics, 'reservationFailures'> | undefined;
}

/** A reservation as the graph shows it (the correlation id stays inside). */
export type ReservationView = Omit<Reservation, 'correlationId'>;

/** What each mutation answers, and what is stored under its idempotency key to answer the same again. */
export interface AdjustOutcome {
  level: StockLevel | null;
  userErrors: UserErrorValue[];
}
export interface ReservationOutcome {
  reservation: ReservationView | null;
  userErrors: UserErrorValue[];
}

/**
 * Run `run` once per (caller, key), as the contract states for every mutation: the same key with the same input
 * answers the stored outcome and does nothing; another input is IDEMPOTENCY_KEY_REUSED; a call while the first
 * still runs is IDEMPOTENCY_KEY_IN_USE. Business failures are outcomes, stored like successes. A thrown error
 * (a system unavailable) gives the key back so that the client's retry can run.
 */
function once<S extends { userErrors: UserErrorValue[] }>(
  deps: StockWriteDeps,
  scope: CallerScope,
  operation: string,
  key: string,
  input: unknown,
  fail: (errors: UserErrorValue[]) => S,
  run: () => Promise<S>,
): Promise<S> {
  return runIdempotent<S, S>({
    store: deps.idempotency,
    caller: callerOf(scope),
    operation,
    key,
    input,
    refused: fail,
    replay: (stored) => stored,
    run: async () => {
      const outcome = await run();
      return { stored: outcome, outcome };
    },
  });
}

const findLocation = (deps: StockWriteDeps, id: string): Promise<InventoryLocation | null> =>
  deps.findLocation ? deps.findLocation(id) : deps.locations[locationKindOf(id)].getLocations([id]).then((found) => found[0] ?? null);

/** A write's reference in a system of record: the caller's idempotency key, digested (it names no one). */
function writeReference(scope: CallerScope, operation: 'adjustInventory' | 'reserveInventory', key: string): string {
  return `${operation === 'adjustInventory' ? 'adj' : 'hold'}-${callerKeyDigest(scope, operation, key)}`;
}

const unknownLocation = (id: string) => userError('INVALID_INPUT', `no store or warehouse ${id}`, 'locationId');

const viewOf = (r: Reservation): ReservationView => ({ id: r.id, locationId: r.locationId, expiresAt: r.expiresAt, lines: r.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) });

/**
 * A POS or WMS stock movement (see planAdjustment for what each reason does), compare-and-swap on on hand when
 * `expectedOnHand` is given. Answers the level after the move; publishes one INVENTORY_ADJUSTED.
 */
export async function adjustInventory(deps: StockWriteDeps, scope: CallerScope, input: AdjustInventoryRequest): Promise<AdjustOutcome> {
  const fail = (userErrors: UserErrorValue[]): AdjustOutcome => ({ level: null, userErrors });
  const fingerprintInput = { locationId: input.locationId, sku: input.sku, reason: input.reason, delta: input.delta ?? null, onHand: input.onHand ?? null, expectedOnHand: input.expectedOnHand ?? null };
  return once(deps, scope, 'adjustInventory', input.idempotencyKey, fingerprintInput, fail, async () => {
    const { errors, movement } = planAdjustment(input);
    if (!movement) return fail(errors);
    const key = { sku: input.sku, locationId: input.locationId };
    const [location, known, policies] = await Promise.all([findLocation(deps, input.locationId), deps.items.exist([input.sku]), deps.policies.getStockPolicies([key])]);
    if (!location) errors.push(unknownLocation(input.locationId));
    if (known[0] !== true) errors.push(userError('UNKNOWN_SKU', `no SKU ${input.sku} in the item master`, 'sku'));
    if (errors.length) return fail(errors);

    // Under the request's reference: a move whose answer was lost is not made twice by the client's retry (which
    // hands over its events again, under the same ids: delivered once).
    const reference = writeReference(scope, 'adjustInventory', input.idempotencyKey);
    const result = await deps.writers[location!.kind].move({ ...movement, reference, reason: input.reason, correlationId: scope.correlationId });
    if (!result.ok) {
      const onHand = result.count?.onHand ?? 0;
      if (result.reason === 'STALE_QUANTITY') return fail([userError('STALE_QUANTITY', `on hand is ${onHand}, not the expected ${movement.expectedOnHand}; nothing changed`, 'expectedOnHand')]);
      const promised = (result.count?.committed ?? 0) + (result.count?.reserved ?? 0);
      const field = movement.countedOnHand !== undefined ? 'onHand' : 'delta';
      return fail([userError('INVALID_QUANTITY', `on hand is ${onHand} (${result.count?.damaged ?? 0} damaged, ${promised} committed or reserved): this ${input.reason} would leave it negative or below what is promised`, field)]);
    }

    const now = (deps.now ?? (() => new Date()))();
    const write: UnannouncedStockWrite = { kind: 'ADJUSTED', id: unannouncedIdOf.adjusted(reference), locationId: input.locationId, at: now.toISOString(), correlationId: scope.correlationId, sku: input.sku, reason: input.reason, movement: movementOf(movement), record: result.count, previousOnHand: result.previousOnHand };
    await announce(deps, [write], () => policies[0] ?? null);
    return { level: adjustedLevel(write, policies[0] ?? null), userErrors: [] };
  });
}

/**
 * Hold units of every line at one location until `ttlSeconds` (default 900) from now, all or nothing against
 * what is available; OUT_OF_STOCK names the lines that do not fit. Publishes one INVENTORY_RESERVED per line.
 */
export async function reserveInventory(deps: StockWriteDeps, scope: CallerScope, input: ReserveInventoryRequest): Promise<ReservationOutcome> {
  const outcome = await reserveOnce(deps, scope, input);
  for (const error of outcome.userErrors) deps.metrics?.reservationFailures.inc({ code: error.code, location: locationLabel(input.locationId) });
  return outcome;
}

async function reserveOnce(deps: StockWriteDeps, scope: CallerScope, input: ReserveInventoryRequest): Promise<ReservationOutcome> {
  const fail = (userErrors: UserErrorValue[]): ReservationOutcome => ({ reservation: null, userErrors });
  const ttlSeconds = input.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  const fingerprintInput = { locationId: input.locationId, lines: input.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })), ttlSeconds };
  return once(deps, scope, 'reserveInventory', input.idempotencyKey, fingerprintInput, fail, async () => {
    const errors = checkReservation(input);
    if (errors.length) return fail(errors);
    const keys = input.lines.map((l) => ({ sku: l.sku, locationId: input.locationId }));
    const [location, known, policies] = await Promise.all([
      findLocation(deps, input.locationId),
      deps.items.exist(input.lines.map((l) => l.sku)),
      deps.policies.getStockPolicies(keys),
    ]);
    if (!location) errors.push(unknownLocation(input.locationId));
    input.lines.forEach((line, i) => {
      if (known[i] !== true) errors.push(userError('UNKNOWN_SKU', `no SKU ${line.sku} in the item master`, `lines.${i}.sku`));
    });
    if (errors.length) return fail(errors);

    const now = (deps.now ?? (() => new Date()))();
    const expiresAt = new Date(now.getTime() + ttlSeconds * 1000).toISOString();
    const lines = input.lines.map((l, i) => ({ sku: l.sku, quantity: l.quantity, safetyStock: policies[i]?.safetyStock ?? 0 }));
    // Under the request's reference: a reservation whose answer was lost is not made twice by the client's retry.
    const reference = writeReference(scope, 'reserveInventory', input.idempotencyKey);
    const result = await deps.writers[location!.kind].reserve(input.locationId, lines, { expiresAt, correlationId: scope.correlationId, holder: holderOf(scope), reference });
    if (!result.ok) {
      return fail(
        result.shortages.map((s) => {
          const i = input.lines.findIndex((l) => l.sku === s.sku);
          return userError('OUT_OF_STOCK', `only ${s.available} of ${s.sku} available, ${input.lines[i]?.quantity ?? '?'} asked; nothing reserved`, `lines.${i}.quantity`);
        }),
      );
    }
    const reservation = result.reservation;
    deps.onReserved?.(location!.kind, reservation.expiresAt);
    await announce(deps, [{ kind: 'RESERVED', id: unannouncedIdOf.reserved(reservation.id), locationId: reservation.locationId, at: now.toISOString(), correlationId: scope.correlationId, reservation }]);
    return { reservation: viewOf(reservation), userErrors: [] };
  });
}

/**
 * Who holds a reservation: a shopper's cart hold is theirs alone (another shopper's release answers as for an
 * unknown id); holds made by associates and agents may be ended by any of them at the location.
 */
function holderOf(scope: CallerScope): string | null {
  return scope.principal?.kind === 'shopper' ? `shopper:${scope.principal.customerId}` : null;
}

/**
 * End a live reservation now and give its units back: one INVENTORY_RELEASED per line. A reservation that is
 * unknown, released or expired already is INVALID_STATE.
 */
export async function releaseReservation(deps: StockWriteDeps, scope: CallerScope, input: ReleaseReservationRequest): Promise<ReservationOutcome> {
  const fail = (userErrors: UserErrorValue[]): ReservationOutcome => ({ reservation: null, userErrors });
  return once(deps, scope, 'releaseReservation', input.idempotencyKey, { reservationId: input.reservationId }, fail, async () => {
    const errors = checkRelease(input);
    if (errors.length) return fail(errors);
    const notLive = () => fail([userError('INVALID_STATE', `no live reservation ${input.reservationId}: unknown, released or expired`, 'reservationId')]);
    const locationId = reservationLocationOf(input.reservationId);
    if (!locationId) return notLive();
    if (scope.principal?.kind === 'store' && scope.principal.locationId !== locationId) throw forbiddenError(`a store associate ends reservations at ${scope.principal.locationId} only`);
    const released = await deps.writers[locationKindOf(locationId)].release(input.reservationId, holderOf(scope), scope.correlationId);
    if (!released) return notLive();
    const now = (deps.now ?? (() => new Date()))();
    await announce(deps, [{ kind: 'RELEASED', id: unannouncedIdOf.ended(released.id), locationId, at: now.toISOString(), correlationId: scope.correlationId, reservation: released }]);
    return { reservation: viewOf(released), userErrors: [] };
  });
}
