import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../scripts/composition.js';
import { resetDataDir } from '../scripts/reset.js';
import { contractOperation } from './support/contract.js';
import { startTestStack, store, type TestStack } from './support/stack.js';

/*
 * `npm run reset` (scripts/reset.ts) against the real embedded stack's DATA_DIR: refused while the stack runs,
 * then the journals removed, and the next start is back at the seeded demo data.
 */

const stacks: TestStack[] = [];
afterAll(async () => {
  for (const stack of stacks) await stack.stop();
});

async function start(dataDir: string): Promise<TestStack> {
  const stack = await startTestStack({ dataDir });
  stacks.push(stack);
  return stack;
}

async function stop(stack: TestStack): Promise<void> {
  await stack.stop();
  stacks.splice(stacks.indexOf(stack), 1);
}

async function onHand(stack: TestStack, locationId: string, sku: string): Promise<number> {
  const { body } = await stack.queryAs(store(locationId), contractOperation('StoreStock'), { locationId, skus: [sku] });
  expect(body.errors ?? []).toEqual([]);
  return (body.data as any).location.inventoryLevels[0].onHand as number;
}

describe('npm run reset', () => {
  it('refuses while the stack runs, empties DATA_DIR once it stopped, and the next start is the seeded data again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'retail-reset-'));
    let stack = await start(dataDir);
    const locationId = 'store-001';
    const sku = stack.sandbox.data.stock.find((s) => s.locationId === locationId)!.sku;
    const seeded = await onHand(stack, locationId, sku);
    const { body } = await stack.queryAs(store(locationId), contractOperation('AdjustStock'), {
      input: { idempotencyKey: `reset-${process.pid}`, locationId, sku, reason: 'RECEIPT', delta: 7 },
    });
    expect((body.data as any).adjustInventory.userErrors).toEqual([]);
    expect(await onHand(stack, locationId, sku)).toBe(seeded + 7);

    const refused = resetDataDir(dataDir);
    expect(refused).toMatchObject({ ok: false, code: 'DATA_DIR_IN_USE' });
    expect(!refused.ok && refused.message).toContain(`process ${process.pid}`);
    expect(readdirSync(dataDir)).toContain('journal.ndjson');

    await stop(stack);
    const outcome = resetDataDir(dataDir);
    expect(outcome.ok).toBe(true);
    const removed = outcome.ok ? outcome.removed.map((e) => e.name) : [];
    expect(removed).toContain('journal.ndjson');
    expect(outcome.ok && outcome.removed.find((e) => e.name === 'journal.ndjson')!.bytes).toBeGreaterThan(0);
    expect(readdirSync(dataDir)).toEqual([]);

    stack = await start(dataDir);
    expect(await onHand(stack, locationId, sku)).toBe(seeded);
    await stop(stack);
  });

  it('removes the lock of a process that is gone, and says so', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'retail-reset-'));
    // The pid of a process that has exited: what a stack killed with -9 leaves behind.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(join(dataDir, 'journal.ndjson'), '{"t":"call"}\n');
    writeFileSync(join(dataDir, 'journal.ndjson.lock'), `${gone}\n`);
    const outcome = resetDataDir(dataDir);
    expect(outcome.ok && outcome.removed.map((e) => e.name).sort()).toEqual(['journal.ndjson', 'journal.ndjson.lock']);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('an absent DATA_DIR is nothing to do', () => {
    expect(resetDataDir(join(tmpdir(), `retail-reset-absent-${process.pid}`))).toMatchObject({ ok: true, removed: [] });
  });

  it('never empties the root, the home directory, the repository or a folder above it', () => {
    for (const dir of ['/', homedir(), ROOT, dirname(ROOT), '.']) {
      expect(resetDataDir(dir), dir).toMatchObject({ ok: false, code: 'DATA_DIR_UNSAFE' });
    }
    expect(existsSync(join(ROOT, 'package.json'))).toBe(true);
  });

  it('leaves a folder holding what the stack did not write alone unless forced, and never follows a link out of it', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'retail-reset-'));
    const outside = mkdtempSync(join(tmpdir(), 'retail-reset-outside-'));
    writeFileSync(join(outside, 'precious.txt'), 'keep me');
    writeFileSync(join(dataDir, 'journal.ndjson'), '');
    writeFileSync(join(dataDir, 'notes.txt'), 'mine');
    mkdirSync(join(dataDir, 'nested'));
    writeFileSync(join(dataDir, 'nested', 'x'), 'x');
    symlinkSync(outside, join(dataDir, 'link-out'));

    const refused = resetDataDir(dataDir);
    expect(refused).toMatchObject({ ok: false, code: 'DATA_DIR_FOREIGN' });
    expect(!refused.ok && refused.message).toMatch(/notes\.txt/);
    expect(readdirSync(dataDir).sort()).toEqual(['journal.ndjson', 'link-out', 'nested', 'notes.txt']);

    const forced = resetDataDir(dataDir, { force: true });
    expect(forced.ok && forced.removed.map((e) => e.name).sort()).toEqual(['journal.ndjson', 'link-out', 'nested/', 'notes.txt']);
    expect(readdirSync(dataDir)).toEqual([]);
    expect(readdirSync(outside)).toEqual(['precious.txt']);
  });
});
