import { describe, expect, it, vi } from 'vitest';
import { SUBSCRIPTION_OVERFLOW, SubscriptionQueue } from './subscription-queue.js';

describe('SubscriptionQueue', () => {
  it('hands items out in push order, to a waiting reader and from the buffer', async () => {
    const queue = new SubscriptionQueue<number>();
    const waiting = queue.next();
    queue.push(1);
    queue.push(2);
    queue.push(3);
    expect(await waiting).toEqual({ done: false, value: 1 });
    expect(await queue.next()).toEqual({ done: false, value: 2 });
    expect(await queue.next()).toEqual({ done: false, value: 3 });
    expect(queue.size).toBe(0);
  });

  it('keeps order over a long buffer (compaction)', async () => {
    const queue = new SubscriptionQueue<number>({ capacity: 5_000 });
    const seen: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3_000; i++) queue.push(round * 3_000 + i);
      for (let i = 0; i < 2_500; i++) seen.push((await queue.next()).value as number);
    }
    while (queue.size > 0) seen.push((await queue.next()).value as number);
    expect(seen).toEqual(Array.from({ length: 9_000 }, (_, i) => i));
  });

  it('return() settles a pending next() as done and calls onClose at once, once', async () => {
    const onClose = vi.fn();
    const queue = new SubscriptionQueue<number>({ onClose });
    const pending = queue.next();
    await queue.return();
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(queue.push(1)).toBe(false);
    await queue.return();
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(await queue.next()).toEqual({ done: true, value: undefined });
  });

  it('ends with SUBSCRIPTION_OVERFLOW instead of growing past its capacity', async () => {
    const onClose = vi.fn();
    const queue = new SubscriptionQueue<number>({ capacity: 3, onClose });
    expect([1, 2, 3].map((n) => queue.push(n))).toEqual([true, true, true]);
    expect(queue.push(4)).toBe(false);
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(queue.size).toBe(0);
    await expect(queue.next()).rejects.toMatchObject({ extensions: { code: SUBSCRIPTION_OVERFLOW, capacity: 3 } });
    expect(await queue.next()).toEqual({ done: true, value: undefined });
  });

  it('end() lets the reader finish what is buffered, then is done', async () => {
    const queue = new SubscriptionQueue<string>();
    queue.push('a');
    queue.end();
    expect(queue.push('b')).toBe(false);
    expect(await queue.next()).toEqual({ done: false, value: 'a' });
    expect(await queue.next()).toEqual({ done: true, value: undefined });
  });

  it('works with for await, and breaking out of the loop closes it', async () => {
    const onClose = vi.fn();
    const queue = new SubscriptionQueue<number>({ onClose });
    queue.push(1);
    queue.push(2);
    for await (const n of queue) if (n === 1) break;
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});
