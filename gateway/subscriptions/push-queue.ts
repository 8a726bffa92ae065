/**
 * An async iterator fed by pushes: what graphql-ws consumes for one client subscription. Bounded, because a
 * client that reads slower than events arrive must not grow the gateway's memory without limit: past
 * `capacity` undelivered items the iterator ends with an error (the client sees an `error` message for that
 * subscription and can subscribe again), which is better than silently dropping events it would never know
 * it missed.
 */
export class PushQueue<T> implements AsyncGenerator<T, void, void> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T, void>) => void) | null = null;
  private failWaiting: ((error: unknown) => void) | null = null;
  private state: { kind: 'open' } | { kind: 'ending' } | { kind: 'failed'; error: unknown } | { kind: 'done' } = { kind: 'open' };

  /**
   * @param capacity Undelivered items at which the queue fails instead of growing.
   * @param onClose Called once when the consumer is gone or the queue ended (return, throw, end or fail).
   */
  constructor(
    private readonly capacity: number,
    private readonly onClose: () => void = () => undefined,
  ) {}

  /** Whether pushes are still accepted. */
  get open(): boolean {
    return this.state.kind === 'open';
  }

  /** Queue an item: `delivered`, `dropped` (the consumer is too slow and is ended now) or `closed` (nobody reads). */
  push(item: T): 'delivered' | 'dropped' | 'closed' {
    if (this.state.kind !== 'open') return 'closed';
    if (this.waiting) {
      const resolve = this.waiting;
      this.clearWaiter();
      resolve({ value: item, done: false });
      return 'delivered';
    }
    if (this.items.length >= this.capacity) {
      this.fail(new Error(`subscriber too slow: ${this.capacity} events waiting to be sent; subscribe again`));
      return 'dropped';
    }
    this.items.push(item);
    return 'delivered';
  }

  /** No more items: the consumer gets what is queued, then the end. */
  end(): void {
    if (this.state.kind !== 'open') return;
    this.state = { kind: 'ending' };
    this.settleEnd();
  }

  /** End with an error after nothing more (queued items are dropped: the stream is broken anyway). */
  fail(error: unknown): void {
    if (this.state.kind === 'done' || this.state.kind === 'failed') return;
    this.items.length = 0;
    this.state = { kind: 'failed', error };
    if (this.failWaiting) {
      const reject = this.failWaiting;
      this.clearWaiter();
      this.finish();
      reject(error);
    }
    this.close();
  }

  next(): Promise<IteratorResult<T, void>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    switch (this.state.kind) {
      case 'open':
        return new Promise((resolve, reject) => {
          this.waiting = resolve;
          this.failWaiting = reject;
        });
      case 'ending':
      case 'done':
        this.finish();
        return Promise.resolve({ value: undefined, done: true });
      case 'failed': {
        const { error } = this.state;
        this.finish();
        return Promise.reject(error);
      }
    }
  }

  return(): Promise<IteratorResult<T, void>> {
    this.items.length = 0;
    if (this.waiting) {
      const resolve = this.waiting;
      this.clearWaiter();
      resolve({ value: undefined, done: true });
    }
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T, void>> {
    this.finish();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private settleEnd(): void {
    if (this.waiting && this.items.length === 0) {
      const resolve = this.waiting;
      this.clearWaiter();
      this.finish();
      resolve({ value: undefined, done: true });
    }
    this.close();
  }

  private finish(): void {
    this.state = { kind: 'done' };
    this.close();
  }

  private closed = false;
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }

  private clearWaiter(): void {
    this.waiting = null;
    this.failWaiting = null;
  }
}
