import { userError, type UserErrorValue } from '../../../common/idempotent-mutation.js';
import type { StockMovement } from './ports.js';

/*
 * Input checks of the stock writes that need no system: shape, limits, signs, duplicates. Pure, so that the
 * rules can be tested on their own; the service asks the systems only once these pass.
 */

/** Longest location id, SKU or reservation id accepted (the read side's limit). */
export const MAX_ID_LENGTH = 200;
export const MAX_SKU_LENGTH = 64;
/** Largest single stock movement, in units. */
export const MAX_DELTA = 100_000;
/** Largest counted on hand a cycle count may set. */
export const MAX_COUNTED = 1_000_000;
export const MAX_RESERVATION_LINES = 100;
export const MAX_RESERVATION_QUANTITY = 999;
export const DEFAULT_TTL_SECONDS = 900;
export const MAX_TTL_SECONDS = 86_400;


export type StockMovementReasonCode = 'SALE' | 'RETURN' | 'RECEIPT' | 'DAMAGE' | 'CYCLE_COUNT' | 'TRANSFER_IN' | 'TRANSFER_OUT';

/** Which way each reason moves stock: units out (delta < 0), in (delta > 0), into damaged (n > 0), or a count. */
const DIRECTION: { readonly [R in StockMovementReasonCode]: 'OUT' | 'IN' | 'DAMAGE' | 'COUNT' } = {
  SALE: 'OUT',
  TRANSFER_OUT: 'OUT',
  RETURN: 'IN',
  RECEIPT: 'IN',
  TRANSFER_IN: 'IN',
  DAMAGE: 'DAMAGE',
  CYCLE_COUNT: 'COUNT',
};

export interface AdjustInventoryRequest {
  idempotencyKey: string;
  locationId: string;
  sku: string;
  reason: StockMovementReasonCode;
  delta?: number | null | undefined;
  onHand?: number | null | undefined;
  expectedOnHand?: number | null | undefined;
}

export interface ReserveInventoryRequest {
  idempotencyKey: string;
  locationId: string;
  lines: { sku: string; quantity: number }[];
  ttlSeconds?: number | null | undefined;
}

export interface ReleaseReservationRequest {
  idempotencyKey: string;
  reservationId: string;
}


function checkLocationId(locationId: string): UserErrorValue[] {
  return locationId.length < 1 || locationId.length > MAX_ID_LENGTH ? [userError('INVALID_INPUT', `locationId must be 1 to ${MAX_ID_LENGTH} characters`, 'locationId')] : [];
}

const isSku = (sku: string) => sku.length > 0 && sku.length <= MAX_SKU_LENGTH;

/**
 * Check an adjustment and turn it into the movement the system applies:
 * - SALE, TRANSFER_OUT: `delta` < 0, on hand moves by it;
 * - RETURN, RECEIPT, TRANSFER_IN: `delta` > 0, on hand moves by it;
 * - DAMAGE: `delta` = n > 0 units become damaged; on hand is unchanged (they are still there, not sellable);
 * - CYCLE_COUNT: `onHand` (0 to MAX_COUNTED) is what was counted; on hand is set to it.
 * `|delta|` is 1 to MAX_DELTA. `delta` and `onHand` are never both given.
 */
export function planAdjustment(input: AdjustInventoryRequest): { errors: UserErrorValue[]; movement: StockMovement | null } {
  const errors: UserErrorValue[] = [...checkLocationId(input.locationId)];
  if (!isSku(input.sku)) errors.push(userError('UNKNOWN_SKU', 'not a SKU', 'sku'));
  const direction = DIRECTION[input.reason];
  const delta = input.delta ?? null;
  const counted = input.onHand ?? null;
  const expected = input.expectedOnHand ?? null;
  if (expected !== null && (!Number.isInteger(expected) || expected < 0)) errors.push(userError('INVALID_INPUT', `expectedOnHand must be 0 or more, got ${expected}`, 'expectedOnHand'));

  if (direction === 'COUNT') {
    if (delta !== null) errors.push(userError('INVALID_INPUT', 'a CYCLE_COUNT sets the counted onHand; leave delta out', 'delta'));
    if (counted === null) errors.push(userError('INVALID_INPUT', 'a CYCLE_COUNT needs the counted onHand', 'onHand'));
    else if (!Number.isInteger(counted) || counted < 0 || counted > MAX_COUNTED) errors.push(userError('INVALID_QUANTITY', `onHand must be 0 to ${MAX_COUNTED}, got ${counted}`, 'onHand'));
  } else {
    if (counted !== null) errors.push(userError('INVALID_INPUT', `onHand is only for CYCLE_COUNT; a ${input.reason} moves stock by delta`, 'onHand'));
    if (delta === null) errors.push(userError('INVALID_INPUT', `a ${input.reason} needs a delta`, 'delta'));
    else if (!Number.isInteger(delta) || delta === 0 || Math.abs(delta) > MAX_DELTA) errors.push(userError('INVALID_QUANTITY', `delta must be 1 to ${MAX_DELTA} units, got ${delta}`, 'delta'));
    else if (direction === 'OUT' && delta > 0) errors.push(userError('INVALID_QUANTITY', `a ${input.reason} takes units out: delta must be negative, got ${delta}`, 'delta'));
    else if (direction !== 'OUT' && delta < 0) {
      const what = direction === 'DAMAGE' ? 'marks units damaged' : 'brings units in';
      errors.push(userError('INVALID_QUANTITY', `a ${input.reason} ${what}: delta must be positive, got ${delta}`, 'delta'));
    }
  }
  if (errors.length) return { errors, movement: null };

  const movement: StockMovement = { sku: input.sku, locationId: input.locationId };
  if (direction === 'COUNT') movement.countedOnHand = counted as number;
  else if (direction === 'DAMAGE') movement.damagedDelta = delta as number;
  else movement.onHandDelta = delta as number;
  if (expected !== null) movement.expectedOnHand = expected;
  return { errors, movement };
}

/** Lines 1 to 100, one per SKU, each 1 to 999 units; ttlSeconds 1 to 86,400. */
export function checkReservation(input: ReserveInventoryRequest): UserErrorValue[] {
  const errors: UserErrorValue[] = [...checkLocationId(input.locationId)];
  const ttl = input.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) errors.push(userError('INVALID_INPUT', `ttlSeconds must be 1 to ${MAX_TTL_SECONDS}, got ${ttl}`, 'ttlSeconds'));
  if (input.lines.length === 0) errors.push(userError('INVALID_INPUT', 'a reservation needs at least one line', 'lines'));
  if (input.lines.length > MAX_RESERVATION_LINES) errors.push(userError('INVALID_INPUT', `a reservation has at most ${MAX_RESERVATION_LINES} lines, got ${input.lines.length}`, 'lines'));
  if (input.lines.length === 0 || input.lines.length > MAX_RESERVATION_LINES) return errors;
  const seen = new Set<string>();
  input.lines.forEach((line, i) => {
    if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > MAX_RESERVATION_QUANTITY) {
      errors.push(userError('INVALID_QUANTITY', `quantity must be 1 to ${MAX_RESERVATION_QUANTITY}, got ${line.quantity}`, `lines.${i}.quantity`));
    }
    if (!isSku(line.sku)) errors.push(userError('UNKNOWN_SKU', 'not a SKU', `lines.${i}.sku`));
    else if (seen.has(line.sku)) errors.push(userError('INVALID_INPUT', `${line.sku} appears on more than one line; put the total on one line`, `lines.${i}.sku`));
    seen.add(line.sku);
  });
  return errors;
}

export function checkRelease(input: ReleaseReservationRequest): UserErrorValue[] {
  return input.reservationId.length < 1 || input.reservationId.length > MAX_ID_LENGTH
    ? [userError('INVALID_INPUT', `reservationId must be 1 to ${MAX_ID_LENGTH} characters`, 'reservationId')]
    : [];
}
