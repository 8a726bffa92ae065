import { GraphQLError } from 'graphql';
import type { Principal } from './principal.js';

/** The error a subscription ends with when its caller's token expires. */
export function tokenExpiredError(): GraphQLError {
  return new GraphQLError('the token has expired: subscribe again with a fresh one', { extensions: { code: 'UNAUTHENTICATED' } });
}

/** Longest delay setTimeout takes (about 24.8 days); tokens live at most a day, so this only guards odd clocks. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Call `onExpiry` once when the principal's token expires (at once if it already has); anonymous callers never
 * expire. Returns the cancel function. A subscription lives for hours, so a token checked at subscribe time alone
 * would keep a revoked-by-time caller listening forever.
 */
export function atExpiry(principal: Principal, onExpiry: () => void, now: () => number = Date.now): () => void {
  if (principal.kind === 'anonymous') return () => undefined;
  const delay = principal.expiresAt - now();
  if (delay <= 0) {
    queueMicrotask(onExpiry);
    return () => undefined;
  }
  const timer = setTimeout(onExpiry, Math.min(delay, MAX_TIMER_MS));
  timer.unref();
  return () => clearTimeout(timer);
}

/**
 * `source` until the principal's token expires; then `source` is returned (its listeners go) and the stream ends
 * with `last` (a final value) or fails with it (`{ error }`). Written by hand rather than as an async generator so
 * that expiry (and `return()`) reach a `next()` that is still waiting for an event.
 */
export function endAtExpiry<T>(source: AsyncGenerator<T, void, void>, principal: Principal, last: { value: T } | { error: unknown }, now: () => number = Date.now): AsyncGenerator<T, void, void> {
  let expired = false;
  let finished = false;
  /** Ends the `next()` that is waiting, if one is. */
  let wake: (() => void) | undefined;
  const cancel = atExpiry(
    principal,
    () => {
      expired = true;
      void source.return(undefined);
      wake?.();
    },
    now,
  );
  const done = (): IteratorResult<T, void> => ({ done: true, value: undefined });
  const end = (): IteratorResult<T, void> => {
    finished = true;
    cancel();
    if ('error' in last) throw last.error;
    return { done: false, value: last.value };
  };
  const generator: AsyncGenerator<T, void, void> = {
    async next() {
      if (finished) return done();
      if (expired) return end();
      // A promise per wait, not one for the stream's life: every race against a promise that never settles leaves
      // a reaction on it (holding the event it was raced with), and a subscription waits once per event for hours.
      const expiring = new Promise<'expired'>((resolve) => {
        wake = () => resolve('expired');
      });
      const step = await Promise.race([source.next(), expiring]);
      wake = undefined;
      if (step === 'expired' || expired) return end();
      if (step.done) {
        finished = true;
        cancel();
      }
      return step;
    },
    async return() {
      finished = true;
      cancel();
      await source.return(undefined);
      return done();
    },
    async throw(error: unknown) {
      finished = true;
      cancel();
      await source.return(undefined);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return generator;
    },
  };
  return generator;
}
