/** How many recent event ids a feed remembers to drop repeats. */
export const DEFAULT_RECENT_IDS = 10_000;

/**
 * The ids of the last `size` events a feed handed out. The backbone delivers at least once (the Redis one may
 * repeat an entry when its reader restarts), and a subscriber must see each change once.
 */
export class RecentIds {
  private readonly ids = new Set<string>();
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(size = DEFAULT_RECENT_IDS) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`size must be a positive integer, got ${size}`);
    this.ring = new Array<string | undefined>(size);
  }

  /** True the first time `id` is offered (among the last `size`), false for a repeat. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.ids.delete(evicted);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.ring.length;
    this.ids.add(id);
    return true;
  }
}
