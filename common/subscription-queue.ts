import { GraphQLError } from 'graphql';

/** Undelivered items one subscriber may hold before it is ended: a client that far behind is not keeping up. */
export const DEFAULT_SUBSCRIBER_CAPACITY = 10_000;

/** The `extensions.code` of the error that ends a subscriber whose buffer overflowed. */
export const SUBSCRIPTION_OVERFLOW = 'SUBSCRIPTION_OVERFLOW';

export interface SubscriptionQueueOptions {
  /** Undelivered items this subscriber may hold; one more ends it with a `SUBSCRIPTION_OVERFLOW` error. Default 10,000. */
  capacity?: number | undefined;
  /**
   * Called once, synchronously, as soon as the queue ends for whatever reason (`return()`, overflow, `fail`,
   * `end`): where the owner removes its listener, so that nothing is pushed into a queue nobody reads.
   */
  onClose?: (() => void) | undefined;
}

type Waiter<T> = { resolve: (result: IteratorResult<T, undefined>) => void; reject: (error: unknown) => void };

const DONE: IteratorResult<never, undefined> = { done: true, value: undefined };

/**
 * One subscriber's events: a producer `push`es (synchronously, from a backbone handler), the subscription reads
 * with `next()`. Memory is bounded: past `capacity` undelivered items the queue ends with an error instead of
 * growing. `return()` ends it at once, even while a `next()` is pending (an async generator would only notice at
 * its next event, keeping the listener registered until then).
 */
export class SubscriptionQueue<T> implements AsyncIterableIterator<T, undefined> {
  private readonly capacity: number;
  private readonly onClose: (() => void) | undefined;
  private buffer: T[] = [];
  /** Index of the oldest undelivered item in `buffer` (cheaper than `shift()` on a long buffer). */
  private head = 0;
  private readonly waiting: Waiter<T>[] = [];
  private closed = false;
  /** Set when the queue ended with an error that the reader has not seen yet. */
  private failure: Error | undefined;

  constructor(options: SubscriptionQueueOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_SUBSCRIBER_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.onClose = options.onClose;
  }

  /** Undelivered items. */
  get size(): number {
    return this.buffer.length - this.head;
  }

  /** Whether the queue still takes items. */
  get open(): boolean {
    return !this.closed;
  }

  /** Hand an item to the reader. False when the queue has ended, or ends now because it is full. */
  push(item: T): boolean {
    if (this.closed) return false;
    const waiter = this.waiting.shift();
    if (waiter) {
      waiter.resolve({ done: false, value: item });
      return true;
    }
    if (this.size >= this.capacity) {
      this.fail(
        new GraphQLError(`The subscriber fell more than ${this.capacity} events behind and was ended; subscribe again.`, {
          extensions: { code: SUBSCRIPTION_OVERFLOW, capacity: this.capacity },
        }),
      );
      return false;
    }
    this.buffer.push(item);
    return true;
  }

  /**
   * End now with `error`: what is still buffered is dropped (a reader this far behind re-reads current state
   * anyway), the next `next()` rejects with `error`, later ones are done.
   */
  fail(error: Error): void {
    if (this.closed) return;
    this.buffer = [];
    this.head = 0;
    const waiter = this.waiting.shift();
    if (waiter) waiter.reject(error);
    else this.failure = error;
    this.close();
  }

  /** End after what is buffered has been read (a service stopping). */
  end(): void {
    this.close();
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.size > 0) {
      const item = this.buffer[this.head] as T;
      this.buffer[this.head] = undefined as T;
      this.head++;
      if (this.head === this.buffer.length) {
        this.buffer = [];
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.buffer.length) {
        this.buffer = this.buffer.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ done: false, value: item });
    }
    if (this.failure) {
      const error = this.failure;
      this.failure = undefined;
      return Promise.reject(error);
    }
    if (this.closed) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** The reader is gone: end now, drop the buffer, settle any pending `next()` as done. */
  return(): Promise<IteratorResult<T, undefined>> {
    this.buffer = [];
    this.head = 0;
    this.failure = undefined;
    this.close();
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<T, undefined>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    // Readers waiting now would wait forever: nothing is pushed into a closed queue.
    for (const waiter of this.waiting.splice(0)) waiter.resolve(DONE);
    try {
      this.onClose?.();
    } catch {
      // The owner's bookkeeping must not turn an unsubscribe into a failure of whoever called it.
    }
  }
}
