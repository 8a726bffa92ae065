import { describe, expect, it } from 'vitest';
import { RecentIds } from './subscription-dedupe.js';

describe('RecentIds', () => {
  it('accepts an id once, and forgets the oldest beyond its size', () => {
    const ids = new RecentIds(2);
    expect([ids.add('a'), ids.add('a'), ids.add('b'), ids.add('a')]).toEqual([true, false, true, false]);
    expect(ids.add('c')).toBe(true);
    // 'a' was the oldest of three: it is forgotten, 'b' and 'c' are not.
    expect([ids.add('b'), ids.add('c'), ids.add('a')]).toEqual([false, false, true]);
  });
});
