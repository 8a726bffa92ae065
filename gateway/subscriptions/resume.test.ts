import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ResumeTracker, resumePointOf, resumesFromSequence } from './hub.js';

describe('resumesFromSequence', () => {
  it('is true for a root field with a non-null `after`, literal or variable', () => {
    expect(resumesFromSequence(parse('subscription { inventoryChanged(locationId: "s", after: 3) { sku } }'), undefined, {})).toBe(true);
    expect(resumesFromSequence(parse('subscription S($a: Int) { inventoryChanged(locationId: "s", after: $a) { sku } }'), undefined, { a: 0 })).toBe(true);
  });

  it('is false without `after`, with a null one, or for another operation of the document', () => {
    expect(resumesFromSequence(parse('subscription { inventoryChanged(locationId: "s") { sku } }'), undefined, {})).toBe(false);
    expect(resumesFromSequence(parse('subscription { inventoryChanged(locationId: "s", after: null) { sku } }'), undefined, {})).toBe(false);
    expect(resumesFromSequence(parse('subscription S($a: Int) { inventoryChanged(locationId: "s", after: $a) { sku } }'), undefined, {})).toBe(false);
    const two = parse('subscription A { inventoryChanged(locationId: "s", after: 1) { sku } } subscription B { inventoryChanged(locationId: "s") { sku } }');
    expect(resumesFromSequence(two, 'B', {})).toBe(false);
    expect(resumesFromSequence(two, 'A', {})).toBe(true);
  });
});

describe('resumePointOf and ResumeTracker', () => {
  const op = 'subscription S($locationId: ID!, $after: Int) { inventoryChanged(locationId: $locationId, after: $after) { sku sequence } }';

  it('finds the root field, its sequence and the variable `after` is bound to; none for a literal or without sequence', () => {
    expect(resumePointOf(op)).toEqual({ responseKey: 'inventoryChanged', sequenceKey: 'sequence', variable: 'after' });
    expect(resumePointOf('subscription { c: inventoryChanged(locationId: "s", after: 2) { sequence } }')).toBeUndefined();
    expect(resumePointOf('subscription S($a: Int) { inventoryChanged(locationId: "s", after: $a) { sku } }')).toBeUndefined();
  });

  it('moves `after` to the last sequence delivered, and drops what a re-subscription replays', () => {
    const variables: Record<string, unknown> = { locationId: 's', after: 0 };
    const tracker = new ResumeTracker(resumePointOf(op)!, variables);
    const change = (sequence: number, sku: string) => ({ data: { inventoryChanged: { sku, sequence } } });
    // One hand-over of two SKUs is two changes, 2 and 3.
    expect([change(1, 'A'), change(2, 'A'), change(3, 'B')].map((c) => tracker.accept(c))).toEqual([true, true, true]);
    expect(variables.after).toBe(3);
    // The connection dropped between the two and the subgraph replays from an older point: only 4 is news.
    expect([change(2, 'A'), change(3, 'B'), change(4, 'C'), change(1, 'A')].map((c) => tracker.accept(c))).toEqual([false, false, true, false]);
    expect(variables.after).toBe(4);
  });

  it('drops a replayed status move whose order resolves differently now (the twice-delivered READY_FOR_PICKUP)', () => {
    const orderOp = 'subscription T($orderId: ID!, $after: Int) { orderStatusChanged(orderId: $orderId, after: $after) { sequence status order { id status } } }';
    const variables: Record<string, unknown> = { orderId: 'o', after: 0 };
    const tracker = new ResumeTracker(resumePointOf(orderOp)!, variables);
    const move = (sequence: number, status: string, now: string) => ({ data: { orderStatusChanged: { sequence, status, order: { id: 'o', status: now } } } });
    expect(tracker.accept(move(1, 'CONFIRMED', 'CONFIRMED'))).toBe(true);
    expect(tracker.accept(move(2, 'READY_FOR_PICKUP', 'READY_FOR_PICKUP'))).toBe(true);
    // The orders subgraph restarted; the re-subscription's replay resolves `order.status` as it is now.
    expect(tracker.accept(move(2, 'READY_FOR_PICKUP', 'PICKED_UP'))).toBe(false);
    expect(tracker.accept(move(3, 'PICKED_UP', 'PICKED_UP'))).toBe(true);
    expect(variables.after).toBe(3);
  });
});
