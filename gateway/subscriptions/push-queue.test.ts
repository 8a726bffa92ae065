import { describe, expect, it } from 'vitest';
import { PushQueue } from './push-queue.js';

describe('PushQueue', () => {
  it('hands pushed items to a waiting consumer and queued ones in order', async () => {
    const queue = new PushQueue<number>(10);
    const first = queue.next();
    queue.push(1);
    queue.push(2);
    queue.push(3);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await queue.next()).toEqual({ value: 2, done: false });
    expect(await queue.next()).toEqual({ value: 3, done: false });
  });

  it('ends after what is queued, and tells its owner once', async () => {
    let closed = 0;
    const queue = new PushQueue<number>(10, () => closed++);
    queue.push(1);
    queue.end();
    queue.push(2);
    const seen: number[] = [];
    for await (const item of queue) seen.push(item);
    expect(seen).toEqual([1]);
    expect(closed).toBe(1);
  });

  it('fails instead of growing past its capacity (a slow client), dropping what it held', async () => {
    let closed = 0;
    const queue = new PushQueue<number>(3, () => closed++);
    for (let i = 0; i < 4; i++) queue.push(i);
    expect(queue.open).toBe(false);
    await expect(queue.next()).rejects.toThrow(/too slow/);
    expect(closed).toBe(1);
  });

  it('return() by the consumer (the client completed) releases a pending next and closes once', async () => {
    let closed = 0;
    const queue = new PushQueue<number>(3, () => closed++);
    const pending = queue.next();
    await queue.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    queue.push(1);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    expect(closed).toBe(1);
  });
});
