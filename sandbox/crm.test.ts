import { describe, expect, it } from 'vitest';
import { TransportError } from '../common/resilience.js';
import type { SystemWrite } from '../common/systems/writes.js';
import { createSandbox, type Sandbox } from './index.js';
import { generateSeedData } from './seed.js';

/*
 * The CRM's loyalty ledger: one entry per reference, the balance the seeded points plus the ledger, its writes
 * journaled (DATA_DIR) and replayed, its state in the sandbox snapshot, and faults applying like any CRM call.
 */

const CONFIG = { seed: 42, scale: 0.05 };
const data = generateSeedData(CONFIG);
const [ada, bob] = data.customers as [(typeof data.customers)[number], (typeof data.customers)[number]];

function recording(replay: readonly SystemWrite[] = []): { sandbox: Sandbox; writes: SystemWrite[] } {
  const writes: SystemWrite[] = [];
  const sandbox = createSandbox(CONFIG, { data: generateSeedData(CONFIG), replay, onWrite: async (write) => void writes.push(write) });
  return { sandbox, writes };
}

const earn = (reference: string, points: number, customerId = ada.id) => ({ reference, customerId, kind: 'EARNED' as const, points, orderId: `ord-${reference}` });

describe('the sandbox CRM loyalty ledger', () => {
  it('books one entry per reference: a repeat answers the first and changes nothing', async () => {
    const { sandbox } = recording();
    const crm = sandbox.direct!.crm;
    const first = await crm.postLoyalty(earn('loy-o1-earn', 40));
    expect(first).toMatchObject({ reference: 'loy-o1-earn', customerId: ada.id, kind: 'EARNED', points: 40, balance: ada.loyaltyPoints + 40, returnId: null });
    expect(await crm.postLoyalty({ ...earn('loy-o1-earn', 999) })).toEqual(first);
    const reversed = await crm.postLoyalty({ reference: 'loy-r1-reverse', customerId: ada.id, kind: 'REVERSED', points: 15, orderId: 'ord-o1', returnId: 'ret-1' });
    expect(reversed).toMatchObject({ balance: ada.loyaltyPoints + 25, returnId: 'ret-1' });
    const [customer] = await crm.getCustomers([ada.id]);
    expect(customer!.loyaltyPoints).toBe(ada.loyaltyPoints + 25);
    // Searching answers the same balance; the seed's record itself is never changed.
    expect((await crm.searchCustomers(ada.email, 1))[0]!.loyaltyPoints).toBe(ada.loyaltyPoints + 25);
    expect(data.customers[0]!.loyaltyPoints).toBe(ada.loyaltyPoints);
    expect((await crm.getLoyaltyLedger([ada.id, bob.id, 'nope'])).map((l) => l.map((e) => e.reference))).toEqual([['loy-o1-earn', 'loy-r1-reverse'], [], []]);
  });

  it('answers null for an unknown customer and refuses points that are not a positive integer, booking nothing', async () => {
    const { sandbox, writes } = recording();
    const crm = sandbox.direct!.crm;
    expect(await crm.postLoyalty(earn('loy-x-earn', 10, 'cust-nope'))).toBeNull();
    await expect(crm.postLoyalty(earn('loy-y-earn', 0))).rejects.toThrow(RangeError);
    await expect(crm.postLoyalty(earn('loy-z-earn', 1.5))).rejects.toThrow(RangeError);
    expect((await crm.getLoyaltyLedger([ada.id]))[0]).toEqual([]);
    // The unknown customer's call is a write that changed nothing; the refused ones never reached the journal.
    expect(writes.map((w) => w.method)).toEqual(['postLoyalty']);
  });

  it('journals its writes and replays them after a restart, timestamps included', async () => {
    const { sandbox, writes } = recording();
    await sandbox.systems.crm.postLoyalty(earn('loy-a-earn', 12));
    await sandbox.systems.crm.postLoyalty(earn('loy-b-earn', 30, bob.id));
    expect(writes.map((w) => [w.system, w.method])).toEqual([
      ['crm', 'postLoyalty'],
      ['crm', 'postLoyalty'],
    ]);
    const restarted = recording(writes).sandbox;
    expect(await restarted.direct!.crm.getLoyaltyLedger([ada.id, bob.id])).toEqual(await sandbox.direct!.crm.getLoyaltyLedger([ada.id, bob.id]));
    expect((await restarted.direct!.crm.getCustomers([bob.id]))[0]!.loyaltyPoints).toBe(bob.loyaltyPoints + 30);
    // A repeat after the restart is still a repeat.
    expect(await restarted.direct!.crm.postLoyalty(earn('loy-a-earn', 12))).toEqual((await sandbox.direct!.crm.getLoyaltyLedger([ada.id]))[0]![0]);
  });

  it('keeps the ledger in the sandbox snapshot; a snapshot from before the ledger restores an empty one', async () => {
    const { sandbox } = recording();
    await sandbox.direct!.crm.postLoyalty(earn('loy-s-earn', 7));
    const records = [...sandbox.journaled.snapshot()];
    const restored = recording().sandbox;
    restored.journaled.restore(records);
    expect(await restored.direct!.crm.getLoyaltyLedger([ada.id])).toEqual(await sandbox.direct!.crm.getLoyaltyLedger([ada.id]));
    expect((await restored.direct!.crm.getCustomers([ada.id]))[0]!.loyaltyPoints).toBe(ada.loyaltyPoints + 7);

    const older = recording().sandbox;
    older.journaled.restore(records.filter((r) => (r as { s?: string }).s !== 'crm'));
    expect((await older.direct!.crm.getLoyaltyLedger([ada.id]))[0]).toEqual([]);
  });

  it('takes faults like any CRM call: down books nothing', async () => {
    const { sandbox, writes } = recording();
    sandbox.control.setFault('crm', { down: true });
    await expect(sandbox.systems.crm.postLoyalty(earn('loy-f-earn', 5))).rejects.toThrow(TransportError);
    expect(writes).toEqual([]);
    sandbox.control.clearFaults();
    expect((await sandbox.systems.crm.postLoyalty(earn('loy-f-earn', 5)))!.points).toBe(5);
    expect(sandbox.control.calls().crm).toEqual({ postLoyalty: 2 });
  });
});
