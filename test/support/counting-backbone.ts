import { InMemoryEventBackbone, type CanonicalEvent } from '../../common/events.js';

/** The in-memory backbone, counting its live subscriptions: to see a feed hold one exactly while it has listeners. */
export class CountingBackbone extends InMemoryEventBackbone {
  live = 0;
  override subscribe(handler: (event: CanonicalEvent) => void): () => void {
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
