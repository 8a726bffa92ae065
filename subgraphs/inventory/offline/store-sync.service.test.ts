import { describe, expect, it } from 'vitest';
import { InMemoryEventBackbone, type CanonicalEvent } from '../../../common/events.js';
import { InMemoryIdempotencyStore } from '../../../common/idempotency.js';
import { ResilienceRegistry } from '../../../common/resilience.js';
import { createSandbox } from '../../../sandbox/index.js';
import { seededMasterData } from '../../../test/support/master-data.js';
import { testStore } from '../../../test/support/principals.js';
import { inventoryPortsFrom, inventoryWritesFrom } from '../wiring.js';
import type { StockWriterPort } from '../writes/ports.js';
import { syncStoreTransactions, type StoreSyncDeps } from './store-sync.service.js';

/*
 * The sync service over the in-process sandbox systems (real stock book, real adapters), below GraphQL: what the
 * gateway test cannot arrange, a sale racing another write of the same count.
 */

const sandbox = createSandbox({ seed: 11, scale: 0.2 });
const resilience = new ResilienceRegistry({ timeoutMs: 1000, retries: 0, breakerFailures: 1_000_000, breakerResetMs: 1000 });
const masterData = await seededMasterData(sandbox.systems);
const ports = inventoryPortsFrom({ systems: sandbox.systems, resilience, masterData });

function depsWith(writer: (real: StockWriterPort) => StockWriterPort): { deps: StoreSyncDeps; events: CanonicalEvent[] } {
  const backbone = new InMemoryEventBackbone();
  const events: CanonicalEvent[] = [];
  backbone.subscribe((e) => events.push(e));
  const writes = inventoryWritesFrom({ systems: sandbox.systems, resilience, idempotency: new InMemoryIdempotencyStore(), backbone, masterData });
  const deps: StoreSyncDeps = { ...ports, items: writes.items, writers: { ...writes.writers, STORE: writer(writes.writers.STORE) }, events: writes.events, orders: writes.committedOrders };
  return { deps, events };
}

const record = sandbox.data.stock.find((s) => s.locationId.startsWith('store-') && s.onHand >= 10 && !s.committed && !s.reserved && !s.damaged)!;
const onHand = async () => (await sandbox.systems.pos.getStock([{ sku: record.sku, locationId: record.locationId }]))[0]!.onHand;
const asStore = { correlationId: 'corr-sync', principal: testStore(record.locationId) };

describe('syncStoreTransactions below GraphQL', () => {
  it('a sale that races another write of the count reads it again and applies once, against the new count', async () => {
    let raced = false;
    const { deps, events } = depsWith((real) => ({
      ...real,
      unannounced: real.unannounced.bind(real),
      announced: real.announced.bind(real),
      reserve: real.reserve.bind(real),
      release: real.release.bind(real),
      expire: real.expire.bind(real),
      async move(movement) {
        // A receipt lands between the sale's read and its write, once.
        if (!raced && movement.reason === 'SALE') {
          raced = true;
          await sandbox.systems.pos.adjustStock({ sku: record.sku, locationId: record.locationId, onHandDelta: 5 });
        }
        return real.move(movement);
      },
    }));
    const before = await onHand();
    const outcome = await syncStoreTransactions(deps, asStore, { locationId: record.locationId, transactions: [{ id: 'race-1', occurredAt: '2026-03-01T09:00:00.000Z', kind: 'SALE', lines: [{ sku: record.sku, quantity: 3 }] }] });
    expect(outcome).toMatchObject({ userErrors: [], results: [{ id: 'race-1', status: 'APPLIED', oversold: [] }] });
    expect(raced).toBe(true);
    expect(await onHand()).toBe(before + 5 - 3);
    const adjusted = events.filter((e) => e.type === 'INVENTORY_ADJUSTED' && e.sku === record.sku);
    expect(adjusted).toHaveLength(1);
    expect(adjusted[0]).toMatchObject({ data: { delta: -3, onHand: before + 2, occurredAt: '2026-03-01T09:00:00.000Z' } });
  });

  it('refuses a caller that is not the store’s associate, before reading anything', async () => {
    const { deps } = depsWith((real) => real);
    const batch = { locationId: record.locationId, transactions: [{ id: 'nope', occurredAt: '2026-03-01T09:00:00.000Z', kind: 'SALE' as const, lines: [{ sku: record.sku, quantity: 1 }] }] };
    const before = await onHand();
    await expect(syncStoreTransactions(deps, { correlationId: 'c' }, batch)).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    await expect(syncStoreTransactions(deps, { correlationId: 'c', principal: testStore('store-999') }, batch)).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(await onHand()).toBe(before);
  });
});
