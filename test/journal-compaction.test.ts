import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { contractOperation } from './support/contract.js';
import { AGENT, shopper, startTestStack, store, type TestStack } from './support/stack.js';

/*
 * DATA_DIR's journal folded into a snapshot, then a new stack started on the same directory: it reads the
 * snapshot (and whatever came after it) and answers as the first one did. The stacks are the real one, in this
 * process, on port 0: a small JOURNAL_COMPACT_ENTRIES compacts while it runs, and a clean stop compacts what came
 * after (JOURNAL_COMPACT_ON_CLOSE) unless that is fewer entries than that.
 */

const started: TestStack[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const stack of started.splice(0)) await stack.stop().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function stackOn(dir: string, env: Record<string, string> = {}): Promise<TestStack> {
  const stack = await startTestStack({}, { DATA_DIR: dir, ...env });
  started.push(stack);
  return stack;
}

async function stop(stack: TestStack): Promise<void> {
  started.splice(started.indexOf(stack), 1);
  await stack.stop();
}

const customer = shopper('cust-00001');
const location = 'store-001';
const input = (idempotencyKey: string) => ({ idempotencyKey, channel: 'WEB', deliveryMethod: 'PICKUP', pickupLocationId: location, customerId: 'cust-00001', lines: [{ sku: 'SKU-0003-1', quantity: 1 }] });

describe('DATA_DIR after compaction', () => {
  it('a restarted stack reads an order timeline and replays an idempotent mutation from the snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retail-compaction-'));
    dirs.push(dir);
    // Compacts every few entries while it runs, and again when it stops.
    const first = await stackOn(dir, { JOURNAL_COMPACT_ENTRIES: '5' });
    const placed = (await first.queryAs(customer, contractOperation('PlaceOrder'), { input: input('compaction-1') })).body.data!.placeOrder;
    expect(placed.order.status).toBe('CONFIRMED');
    const orderId = placed.order.id as string;
    expect((await first.queryAs(store(location), contractOperation('ReadyForPickup'), { orderId })).body.data!.markReadyForPickup.order.status).toBe('READY_FOR_PICKUP');
    const timeline = (await first.queryAs(AGENT, contractOperation('OrderTimeline'), { orderId })).body;
    expect(timeline.errors ?? []).toEqual([]);
    expect(timeline.data!.order.timeline.length).toBeGreaterThan(2);
    const stock = (await first.queryAs(store(location), contractOperation('StoreStock'), { locationId: location, skus: ['SKU-0003-1'] })).body;
    expect(stock.errors ?? []).toEqual([]);
    const queue = (await first.queryAs(store(location), contractOperation('PickupQueue'), { locationId: location })).body;
    expect(queue.errors ?? []).toEqual([]);
    await stop(first);

    // What is left: the snapshot, and in the active segment fewer entries than would have made the stop compact
    // again (JOURNAL_COMPACT_ENTRIES) after the last compaction.
    const left = readdirSync(dir).sort();
    expect(left).toContain('journal.snapshot.ndjson');
    expect(left.filter((f) => /^journal\.\d+\.ndjson$/.test(f))).toEqual([]);
    const after = readFileSync(join(dir, 'journal.ndjson'), 'utf8').split('\n').filter(Boolean).length;
    expect(after).toBeLessThan(5);
    const snapshot = readFileSync(join(dir, 'journal.snapshot.ndjson'), 'utf8');
    expect(snapshot).not.toContain('"t":"taken"');
    expect(snapshot).not.toContain('"t":"join"');
    // The systems of record snapshot their state, not the writes that made it: a compaction shortens the next start.
    expect(snapshot).toContain('"k":"sandbox-state"');
    expect(snapshot).not.toContain('"t":"call"');

    const second = await stackOn(dir);
    expect(second.logs.find((l) => l.msg === 'journal opened')).toMatchObject({ replayed: after, snapshotRecords: expect.any(Number) });
    expect((await second.queryAs(AGENT, contractOperation('OrderTimeline'), { orderId })).body).toEqual(timeline);
    expect((await second.queryAs(store(location), contractOperation('StoreStock'), { locationId: location, skus: ['SKU-0003-1'] })).body).toEqual(stock);
    expect((await second.queryAs(store(location), contractOperation('PickupQueue'), { locationId: location })).body).toEqual(queue);
    // The same key and input from the same shopper answers the original order and creates nothing.
    const calls = await second.countCalls(async () => {
      const replay = (await second.queryAs(customer, contractOperation('PlaceOrder'), { input: input('compaction-1') })).body.data!.placeOrder;
      expect(replay.order.id).toBe(orderId);
    });
    expect(calls.ecom?.createOrder ?? 0).toBe(0);
    // The order's state came back too: it can be handed over.
    expect((await second.queryAs(store(location), contractOperation('HandOver'), { orderId })).body.data!.confirmPickup.order.status).toBe('PICKED_UP');
    await stop(second);
  });
});
