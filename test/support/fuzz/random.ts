import { mulberry32 } from '../../../common/seeded-random.js';

/**
 * A small seeded PRNG (mulberry32) with the picks the generators need. Seeded, so that a campaign is the same
 * cases in the same order on every run, and a failing case is found again from its seed and index alone.
 */
export class Random {
  private readonly float: () => number;

  constructor(seed: number) {
    this.float = mulberry32(seed >>> 0 || 0x9e3779b9);
  }

  /** A float in [0, 1). */
  next(): number {
    return this.float();
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** One of `choices`, each as likely as its weight. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((n, [w]) => n + w, 0);
    let at = this.next() * total;
    for (const [weight, value] of choices) {
      if ((at -= weight) < 0) return value;
    }
    return (choices[choices.length - 1] as readonly [number, T])[1];
  }

  /** A child generator: the cases of one category do not shift when another category's generator changes. */
  fork(salt: number): Random {
    return new Random((Math.imul(this.int(0, 0x7fffffff), 31) ^ salt) >>> 0);
  }
}

/** A seed from a string (a category's name), stable across runs. */
export function hashSeed(text: string, seed: number): number {
  let h = seed >>> 0 ^ 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
