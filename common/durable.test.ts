import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JournaledEventBackbone, type JournalEntry } from './durable.js';
import { InMemoryEventBackbone, type CanonicalEvent } from './events.js';
import { Journal } from './journal.js';

const MONEY = new Set<CanonicalEvent['type']>(['PICKED_UP']);
const money = (id: string): CanonicalEvent => ({ id, type: 'PICKED_UP', occurredAt: '2026-11-23T10:00:00.000Z', source: 'POS', correlationId: `c-${id}`, orderId: `o-${id}`, data: {} });

async function open(dir: string) {
  const { journal, entries } = await Journal.open<JournalEntry>(dir);
  const backbone = new JournaledEventBackbone(new InMemoryEventBackbone(), journal);
  backbone.replay(entries);
  return { journal, backbone };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('JournaledEventBackbone consumer groups', () => {
  it('hands a group, after a crash, the events it was owed and had not taken in; never those it had', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'durable-'));
    const first = await open(dir);
    const taken: string[] = [];
    first.backbone.consume('finance', MONEY, async (e) => {
      // The process dies while taking in e2: its handler never finishes.
      if (e.id === 'e2') return new Promise<void>(() => {});
      taken.push(e.id);
    });
    await first.backbone.publish(money('e1'));
    await first.backbone.publish(money('e2'));
    await settle();
    expect(taken).toEqual(['e1']);
    await first.journal.close();

    const second = await open(dir);
    const again: string[] = [];
    second.backbone.consume('finance', MONEY, async (e) => void again.push(e.id));
    await second.backbone.publish(money('e3'));
    await settle();
    expect(again.sort()).toEqual(['e2', 'e3']);
    // Another group that joins now is owed nothing of the past.
    const audit: string[] = [];
    second.backbone.consume('audit', MONEY, async (e) => void audit.push(e.id));
    await settle();
    expect(audit).toEqual([]);
    await second.journal.close();

    const third = await open(dir);
    const none: string[] = [];
    third.backbone.consume('finance', MONEY, async (e) => void none.push(e.id));
    await settle();
    expect(none).toEqual([]);
    await third.journal.close();
  });
});
