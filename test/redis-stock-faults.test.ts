import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, quitAll } from '../common/redis/connection.js';
import { RedisStockBook } from '../common/redis/stock-book.js';
import { contractOperation } from './support/contract.js';
import { startRedisServer } from './support/redis.js';
import { startTestStack, store, type TestStack } from './support/stack.js';

// In Redis mode the POS and WMS keep their stock in Redis's shared book, below the sandbox's fault and call-count
// layer: a fault set on the POS applies to its stock writes and every stock call is counted, as in the embedded
// default. The book is read straight from Redis (another client, the stack's prefix) to show where the units are.
let redis: Awaited<ReturnType<typeof startRedisServer>>;
let stack: TestStack;
let reader: ReturnType<typeof createRedis>;
let book: RedisStockBook;
const prefix = `f${Date.now()}`;
beforeAll(async () => {
  redis = await startRedisServer();
  stack = await startTestStack({}, { REDIS_URL: redis.url, REDIS_PREFIX: prefix });
  reader = createRedis(redis.url, { name: 'reader' });
  book = new RedisStockBook({ redis: reader, prefix });
});
afterAll(async () => {
  await stack?.sandboxCall('DELETE', '/sandbox/faults');
  await stack?.stop();
  if (reader) await quitAll([reader]);
  await redis?.stop();
});

let n = 0;
const key = () => `stock-fault-${Date.now()}-${++n}`;

describe('Redis mode: the sandbox’s faults and counters apply to stock calls', () => {
  it('a stock write through the adapters lands in Redis’s book and is counted as a POS call', async () => {
    const locationId = stack.sandbox.data.stores.find((s) => s.pickupEnabled)!.id;
    const sku = stack.sandbox.data.variants[21]!.sku;
    const [before] = await book.getStock([{ sku, locationId }]);
    expect(before).not.toBeNull();
    const calls = await stack.countCalls(async () => {
      const { body } = await stack.queryAs(store(locationId), contractOperation('AdjustStock'), { input: { idempotencyKey: key(), locationId, sku, reason: 'RECEIPT', delta: 3 } });
      expect(body.errors).toBeUndefined();
      expect((body.data as any).adjustInventory.level.onHand).toBe(before!.onHand + 3);
    });
    expect(calls.pos?.adjustStock).toBe(1);
    expect((await book.getStock([{ sku, locationId }]))[0]?.onHand).toBe(before!.onHand + 3);
  });

  it('a fault set on the POS fails its stock writes before Redis is touched, and they are counted', async () => {
    // The systems as the stack's adapters get them. A fault is per system, so through the graph the POS's site
    // lookup would fail first; here the stock calls themselves meet it.
    const { pos } = stack.sandbox.systems;
    const locationId = stack.sandbox.data.stores[1]!.id;
    const sku = stack.sandbox.data.variants[22]!.sku;
    const [before] = await book.getStock([{ sku, locationId }]);
    expect(before).not.toBeNull();
    expect((await stack.sandboxCall('POST', '/sandbox/faults', { system: 'pos', down: true })).status).toBe(200);
    const calls = await stack.countCalls(async () => {
      await expect(pos.adjustStock({ sku, locationId, onHandDelta: 5 })).rejects.toThrow(/sandbox fault: down/);
      await expect(pos.commitStock(locationId, [{ sku, quantity: 1, safetyStock: 0 }])).rejects.toThrow(/sandbox fault: down/);
      await expect(pos.getStock([{ sku, locationId }])).rejects.toThrow(/sandbox fault: down/);
    });
    expect(calls.pos).toMatchObject({ adjustStock: 1, commitStock: 1, getStock: 1 });
    expect((await book.getStock([{ sku, locationId }]))[0]).toEqual(before);

    await stack.sandboxCall('DELETE', '/sandbox/faults');
    expect(await pos.adjustStock({ sku, locationId, onHandDelta: 5 })).toMatchObject({ ok: true, record: { onHand: before!.onHand + 5 } });
    expect((await book.getStock([{ sku, locationId }]))[0]?.onHand).toBe(before!.onHand + 5);
  });
});
