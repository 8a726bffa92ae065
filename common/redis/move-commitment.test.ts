import { beforeAll, describe, it } from 'vitest';
import type { RedisClient } from './connection.js';
import { RedisStockBook } from './stock-book.js';
import { REDIS_TOPOLOGIES, useRedisServer } from '../../test/support/redis.js';
import { checkHalfMoveFinished, checkMoveCommitment, checkMoveRacingSales, MOVE_RECORDS } from '../../test/support/move-commitment-contract.js';

// On one server the move is one script; on a cluster S1's and S2's keys are in different slots, and it is two
// (the new location first): the same contract either way.
describe.each(REDIS_TOPOLOGIES)('RedisStockBook.moveCommitment (%s Redis)', (topology) => {
  const redisServer = useRedisServer(['move-a', 'move-b'], { topology });
  let a: RedisClient;
  let b: RedisClient;
  beforeAll(() => {
    [a, b] = redisServer.clients as [RedisClient, RedisClient];
  });

  async function book(): Promise<RedisStockBook> {
    const made = new RedisStockBook({ redis: a, prefix: redisServer.freshPrefix() });
    await made.load(MOVE_RECORDS, 'seed');
    return made;
  }

  it('moves a commitment between locations all or nothing, once, and leaves it open at the new one', async () => {
    await checkMoveCommitment(await book());
  });

  it('never lets a move and a sale both take the last unit', async () => {
    await checkMoveRacingSales(await book(), 30);
  });

  it('finishes a move cut short half way (held at both): the old location gets its units back', async () => {
    await checkHalfMoveFinished(await book());
  });

  it('is seen whole by a second instance', async () => {
    const prefix = redisServer.freshPrefix();
    const one = new RedisStockBook({ redis: a, prefix });
    await one.load(MOVE_RECORDS, 'seed');
    await checkMoveCommitment(new RedisStockBook({ redis: b, prefix }));
  });
});
