import { InMemoryEventBackbone, type CanonicalEvent } from '../../common/events.js';

/**
 * The in-memory backbone, counting its live subscriptions: to see a feed hold one exactly while it has listeners.
 * A durable consumer's (`consume`, e.g. the exception register's, held for the service's life) is not counted.
 */
export class CountingBackbone extends InMemoryEventBackbone {
  live = 0;
  private consuming = false;
  override consume(...args: Parameters<InMemoryEventBackbone['consume']>): () => void {
    this.consuming = true;
    try {
      return super.consume(...args);
    } finally {
      this.consuming = false;
    }
  }
  override subscribe(handler: (event: CanonicalEvent) => void): () => void {
    if (this.consuming) return super.subscribe(handler);
    this.live++;
    const unsubscribe = super.subscribe(handler);
    let active = true;
    return () => {
      if (active) this.live--;
      active = false;
      unsubscribe();
    };
  }
}
