import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/logger.js';
import { InMemoryEventBackbone, type CanonicalEvent } from '../../../common/events.js';
import { EventOutbox } from '../../../common/outbox/event-outbox.js';
import { SystemUnavailableError } from '../../../common/resilience.js';
import { testEvent } from '../../../test/support/events.js';
import type { LoyaltyEntry, LoyaltyLedgerPort, LoyaltyOrder, LoyaltyOrdersPort, LoyaltyPosting } from '../ports.js';
import { DefaultPointsRule } from './default-points-rule.js';
import { LOYALTY_CONSUMER_GROUP, LoyaltyAccrual } from './loyalty-accrual.js';

/** A ledger like the CRM's: one entry per reference; `down` fails every call as the resilience path would. */
function fakeLedger() {
  const entries: LoyaltyEntry[] = [];
  const state = { down: false, posts: 0 };
  const port: LoyaltyLedgerPort = {
    async post(p: LoyaltyPosting) {
      state.posts++;
      if (state.down) throw new SystemUnavailableError('crm', 'test outage');
      const earlier = entries.find((e) => e.reference === p.reference);
      if (earlier) return earlier;
      if (p.customerId === 'cust-gone') return null;
      const balance = 100 + entries.filter((e) => e.customerId === p.customerId).reduce((s, e) => s + (e.kind === 'EARNED' ? e.points : -e.points), 0) + (p.kind === 'EARNED' ? p.points : -p.points);
      const entry: LoyaltyEntry = { reference: p.reference, customerId: p.customerId, kind: p.kind, points: p.points, orderId: p.orderId, returnId: p.returnId ?? null, balance, postedAt: '2026-01-01T00:00:00.000Z' };
      entries.push(entry);
      return entry;
    },
    async entriesOf(ids) {
      if (state.down) throw new SystemUnavailableError('crm', 'test outage');
      return ids.map((id) => entries.filter((e) => e.customerId === id));
    },
  };
  return { port, entries, state };
}

const ORDERS: Record<string, LoyaltyOrder> = {
  'ord-1': { id: 'ord-1', customerId: 'cust-1', currency: 'EUR', totalMinor: 3_000, lines: [{ sku: 'SKU-1', quantity: 3, unitPriceMinor: 1_000 }] },
  'ord-guest': { id: 'ord-guest', customerId: null, currency: 'EUR', totalMinor: 3_000, lines: [{ sku: 'SKU-1', quantity: 3, unitPriceMinor: 1_000 }] },
};
const orders: LoyaltyOrdersPort = { async ordersFor(ids) { return ids.map((id) => ORDERS[id] ?? null); } };

function setup() {
  const backbone = new InMemoryEventBackbone();
  const published: CanonicalEvent[] = [];
  backbone.subscribe((e) => void published.push(e));
  const ledger = fakeLedger();
  const accrual = new LoyaltyAccrual({ backbone, events: new EventOutbox({ backbone }), ledger: ledger.port, orders, rule: new DefaultPointsRule(), logger: createLogger({ level: 'silent' }) });
  return { backbone, published, ledger, accrual };
}

const pickedUp = (orderId: string, id = `evt-pu-${orderId}`) => testEvent('PICKED_UP', {}, { orderId, id });
const received = (orderId: string, returnId: string, quantity: number) => testEvent('RETURN_RECEIVED', { returnId, lines: [{ sku: 'SKU-1', quantity }] }, { orderId, id: `evt-rr-${returnId}` });
const loyalty = (events: CanonicalEvent[]) => events.filter((e) => e.type.startsWith('LOYALTY_')).map((e) => [e.id, e.type, (e.data as { points: number }).points]);

describe('LoyaltyAccrual', () => {
  it('earns once per order, whatever repeats: the same event id, or another hand-over event of the order', async () => {
    const { accrual, ledger, published } = setup();
    await accrual.take(pickedUp('ord-1'));
    await accrual.take(pickedUp('ord-1'));
    expect(ledger.state.posts).toBe(1);
    await accrual.take(pickedUp('ord-1', 'evt-other'));
    expect(ledger.entries.map((e) => [e.reference, e.points])).toEqual([['loy-ord-1-earn', 30]]);
    expect(loyalty(published)).toEqual([['evt-loy-ord-1-earn', 'LOYALTY_POINTS_EARNED', 30]]);
  });

  it('rejects while the CRM is down (so the backbone hands it again) and books once it is back', async () => {
    const { accrual, ledger, published } = setup();
    ledger.state.down = true;
    await expect(accrual.take(pickedUp('ord-1'))).rejects.toBeInstanceOf(SystemUnavailableError);
    await expect(accrual.take(pickedUp('ord-1'))).rejects.toBeInstanceOf(SystemUnavailableError);
    ledger.state.down = false;
    await accrual.take(pickedUp('ord-1'));
    expect(ledger.entries).toHaveLength(1);
    expect(loyalty(published)).toEqual([['evt-loy-ord-1-earn', 'LOYALTY_POINTS_EARNED', 30]]);
  });

  it('reverses the returned share, never more than earned over all returns, once per return', async () => {
    const { accrual, ledger, published } = setup();
    await accrual.take(pickedUp('ord-1'));
    await accrual.take(received('ord-1', 'ret-1', 1));
    await accrual.take({ ...received('ord-1', 'ret-1', 1), id: 'evt-again' } as CanonicalEvent);
    await accrual.take(received('ord-1', 'ret-2', 5));
    expect(ledger.entries.map((e) => [e.reference, e.kind, e.points, e.balance])).toEqual([
      ['loy-ord-1-earn', 'EARNED', 30, 130],
      ['loy-ret-1-reverse', 'REVERSED', 10, 120],
      ['loy-ret-2-reverse', 'REVERSED', 20, 100],
    ]);
    expect(loyalty(published).map(([id]) => id)).toEqual(['evt-loy-ord-1-earn', 'evt-loy-ret-1-reverse', 'evt-loy-ret-2-reverse']);
    expect(published.find((e) => e.id === 'evt-loy-ret-1-reverse')).toMatchObject({ source: 'CRM', orderId: 'ord-1', data: { customerId: 'cust-1', points: 10, balance: 120, reference: 'loy-ret-1-reverse', returnId: 'ret-1' } });
  });

  it('books nothing for a guest order, an unknown order or an unknown customer', async () => {
    const { accrual, ledger, published } = setup();
    await accrual.take(pickedUp('ord-guest'));
    await accrual.take(pickedUp('ord-nope'));
    ORDERS['ord-gone'] = { ...ORDERS['ord-1']!, id: 'ord-gone', customerId: 'cust-gone' };
    await accrual.take(pickedUp('ord-gone'));
    expect(ledger.entries).toEqual([]);
    expect(loyalty(published)).toEqual([]);
    expect(ledger.state.posts).toBe(1);
  });

  it('consumes as the customers-loyalty group, and stops taking events when stopped', async () => {
    const { backbone, accrual, ledger } = setup();
    const groups: string[] = [];
    const consume = backbone.consume.bind(backbone);
    backbone.consume = (group, types, handler) => (groups.push(group), consume(group, types, handler));
    accrual.start();
    expect(groups).toEqual([LOYALTY_CONSUMER_GROUP]);
    await backbone.publish(pickedUp('ord-1'));
    await expect.poll(() => ledger.entries.length).toBe(1);
    await accrual.stop();
    await expect(accrual.take(pickedUp('ord-1', 'evt-late'))).rejects.toThrow('stopping');
  });
});
