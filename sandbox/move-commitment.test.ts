import { describe, it } from 'vitest';
import { checkHalfMoveFinished, checkMoveCommitment, checkMoveRacingSales, MOVE_RECORDS } from '../test/support/move-commitment-contract.js';
import { MemoryStockBook } from './stock-book.js';

describe('MemoryStockBook.moveCommitment', () => {
  it('moves a commitment between locations all or nothing, once, and leaves it open at the new one', async () => {
    await checkMoveCommitment(new MemoryStockBook(MOVE_RECORDS.map((r) => ({ ...r }))));
  });

  it('never lets a move and a sale both take the last unit', async () => {
    await checkMoveRacingSales(new MemoryStockBook(MOVE_RECORDS.map((r) => ({ ...r }))), 50);
  });

  it('finishes a move cut short half way (held at both): the old location gets its units back', async () => {
    await checkHalfMoveFinished(new MemoryStockBook(MOVE_RECORDS.map((r) => ({ ...r }))));
  });
});
