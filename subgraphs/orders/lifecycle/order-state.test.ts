import { describe, expect, it } from 'vitest';
import type { DeliveryMethodCode, OrderStatusCode } from '../ports.js';
import { decide, decideReturn, phaseOf, type OrderCommand } from './order-state.js';

const STATUSES: OrderStatusCode[] = ['PLACED', 'CONFIRMED', 'READY_FOR_PICKUP', 'PICKED_UP', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'PARTIALLY_RETURNED', 'RETURNED'];
const METHODS: DeliveryMethodCode[] = ['PICKUP', 'SHIPPING', 'SHIP_FROM_STORE'];
const COMMANDS: OrderCommand[] = [
  { type: 'CONFIRM' },
  { type: 'MARK_READY_FOR_PICKUP' },
  { type: 'CONFIRM_PICKUP' },
  { type: 'SHIP' },
  { type: 'MARK_DELIVERED' },
  { type: 'CANCEL' },
  { type: 'REQUEST_RETURN' },
  { type: 'RECEIVE_RETURN', allUnitsReturned: false },
  { type: 'RECEIVE_RETURN', allUnitsReturned: true },
];

/** Every allowed move as "METHOD STATUS --COMMAND--> STATUS"; everything else must be INVALID_STATE. */
const ALLOWED = new Set<string>();
const allow = (methods: DeliveryMethodCode[], from: OrderStatusCode[], command: string, to: OrderStatusCode | 'same') => {
  for (const m of methods) for (const f of from) ALLOWED.add(`${m} ${f} --${command}--> ${to === 'same' ? f : to}`);
};
const SHIPPED: DeliveryMethodCode[] = ['SHIPPING', 'SHIP_FROM_STORE'];
allow(METHODS, ['PLACED'], 'CONFIRM', 'CONFIRMED');
allow(['PICKUP'], ['CONFIRMED'], 'MARK_READY_FOR_PICKUP', 'READY_FOR_PICKUP');
allow(['PICKUP'], ['READY_FOR_PICKUP'], 'CONFIRM_PICKUP', 'PICKED_UP');
allow(SHIPPED, ['CONFIRMED'], 'SHIP', 'SHIPPED');
allow(SHIPPED, ['SHIPPED'], 'MARK_DELIVERED', 'DELIVERED');
allow(METHODS, ['PLACED', 'CONFIRMED', 'READY_FOR_PICKUP'], 'CANCEL', 'CANCELLED');
allow(METHODS, ['PICKED_UP', 'DELIVERED', 'PARTIALLY_RETURNED'], 'REQUEST_RETURN', 'same');
allow(METHODS, ['PICKED_UP', 'DELIVERED', 'PARTIALLY_RETURNED'], 'RECEIVE_RETURN(part)', 'PARTIALLY_RETURNED');
allow(METHODS, ['PICKED_UP', 'DELIVERED', 'PARTIALLY_RETURNED'], 'RECEIVE_RETURN(all)', 'RETURNED');

const label = (c: OrderCommand) => (c.type === 'RECEIVE_RETURN' ? `RECEIVE_RETURN(${c.allUnitsReturned ? 'all' : 'part'})` : c.type);

describe('the order state machine', () => {
  it('allows exactly the moves of the contract, for every status, delivery method and command', () => {
    const seen = new Set<string>();
    for (const deliveryMethod of METHODS) {
      for (const status of STATUSES) {
        for (const command of COMMANDS) {
          const t = decide({ status, deliveryMethod }, command);
          if (t.ok) {
            expect(t.from).toBe(status);
            seen.add(`${deliveryMethod} ${status} --${label(command)}--> ${t.to}`);
          } else {
            expect(t.code).toBe('INVALID_STATE');
            // The message names the current status: what a repeated move answers.
            expect(t.message).toContain(`is ${status}`);
          }
        }
      }
    }
    expect([...seen].sort()).toEqual([...ALLOWED].sort());
  });

  it('walks a pickup order and a shipped order to the end, and refuses every repeat', () => {
    const pickup = { status: 'CONFIRMED' as OrderStatusCode, deliveryMethod: 'PICKUP' as const };
    for (const command of [{ type: 'MARK_READY_FOR_PICKUP' }, { type: 'CONFIRM_PICKUP' }] as const) {
      const t = decide(pickup, command);
      expect(t.ok).toBe(true);
      if (t.ok) pickup.status = t.to;
      expect(decide(pickup, command)).toMatchObject({ ok: false, code: 'INVALID_STATE' });
    }
    expect(pickup.status).toBe('PICKED_UP');

    const shipped = { status: 'CONFIRMED' as OrderStatusCode, deliveryMethod: 'SHIPPING' as const };
    for (const command of [{ type: 'SHIP' }, { type: 'MARK_DELIVERED' }] as const) {
      const t = decide(shipped, command);
      if (t.ok) shipped.status = t.to;
    }
    expect(shipped.status).toBe('DELIVERED');
  });

  it('refuses a cancel after hand-over or shipment, and says why', () => {
    expect(decide({ status: 'PICKED_UP', deliveryMethod: 'PICKUP' }, { type: 'CANCEL' })).toEqual({
      ok: false,
      code: 'INVALID_STATE',
      message: 'the order is PICKED_UP and cannot be cancelled: the goods were already handed over or shipped; create a return instead',
    });
    expect(decide({ status: 'SHIPPED', deliveryMethod: 'SHIPPING' }, { type: 'CANCEL' })).toMatchObject({ ok: false, code: 'INVALID_STATE' });
    expect(decide({ status: 'CANCELLED', deliveryMethod: 'PICKUP' }, { type: 'CANCEL' })).toEqual({ ok: false, code: 'INVALID_STATE', message: 'the order is CANCELLED and cannot be cancelled' });
  });

  it('explains moves that do not fit the delivery method or skip a step', () => {
    expect(decide({ status: 'CONFIRMED', deliveryMethod: 'SHIPPING' }, { type: 'MARK_READY_FOR_PICKUP' })).toMatchObject({ ok: false, message: expect.stringContaining('SHIPPING order is shipped') });
    expect(decide({ status: 'CONFIRMED', deliveryMethod: 'PICKUP' }, { type: 'SHIP' })).toMatchObject({ ok: false, message: expect.stringContaining('collected at the store') });
    expect(decide({ status: 'CONFIRMED', deliveryMethod: 'PICKUP' }, { type: 'CONFIRM_PICKUP' })).toMatchObject({ ok: false, message: expect.stringContaining('mark it ready for pickup first') });
    expect(decide({ status: 'RETURNED', deliveryMethod: 'PICKUP' }, { type: 'REQUEST_RETURN' })).toMatchObject({ ok: false, message: expect.stringContaining('every unit has come back') });
  });

  it('groups the statuses into phases', () => {
    expect(STATUSES.map((s) => [s, phaseOf(s)])).toEqual([
      ['PLACED', 'PENDING'],
      ['CONFIRMED', 'OPEN'],
      ['READY_FOR_PICKUP', 'OPEN'],
      ['PICKED_UP', 'FULFILLED'],
      ['SHIPPED', 'IN_TRANSIT'],
      ['DELIVERED', 'FULFILLED'],
      ['CANCELLED', 'CLOSED'],
      ['PARTIALLY_RETURNED', 'FULFILLED'],
      ['RETURNED', 'CLOSED'],
    ]);
  });
});

describe('the return state machine', () => {
  it('goes REQUESTED → RECEIVED → REFUNDED and nowhere else', () => {
    expect(decideReturn('REQUESTED', { type: 'RECEIVE' })).toEqual({ ok: true, from: 'REQUESTED', to: 'RECEIVED' });
    expect(decideReturn('RECEIVED', { type: 'REFUND' })).toEqual({ ok: true, from: 'RECEIVED', to: 'REFUNDED' });
    expect(decideReturn('RECEIVED', { type: 'RECEIVE' })).toMatchObject({ ok: false, code: 'INVALID_STATE', message: expect.stringContaining('RECEIVED') });
    expect(decideReturn('REFUNDED', { type: 'RECEIVE' })).toMatchObject({ ok: false, code: 'INVALID_STATE' });
    expect(decideReturn('REQUESTED', { type: 'REFUND' })).toMatchObject({ ok: false, code: 'INVALID_STATE' });
    expect(decideReturn('REFUNDED', { type: 'REFUND' })).toMatchObject({ ok: false, code: 'INVALID_STATE' });
  });
});
