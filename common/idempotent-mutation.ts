import { fingerprintOf, type IdempotencyStore } from './idempotency.js';

/*
 * The one idempotent-mutation kernel every mutation runs through (checkout, order moves and returns, stock writes,
 * posting replays), and the one user-error type they answer with.
 */

/** A business failure, answered in the payload's `userErrors` (never thrown). */
export interface UserErrorValue {
  /** The input field it is about (a dotted path such as `lines.2.quantity`), or null for the request as a whole. */
  field: string | null;
  message: string;
  code: string;
}

export const userError = (code: string, message: string, field: string | null = null): UserErrorValue => ({ code, message, field });

/** The longest idempotency key any mutation takes. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** INVALID_IDEMPOTENCY_KEY for a key that is empty or too long, else nothing. */
export function idempotencyKeyErrors(key: string): UserErrorValue[] {
  return key.length < 1 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH
    ? [userError('INVALID_IDEMPOTENCY_KEY', `idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`, 'idempotencyKey')]
    : [];
}

/** Who hears of the duplicate submissions answered from each store's records (the metrics), by operation. */
const replayObservers = new WeakMap<IdempotencyStore, (operation: string) => void>();

/** Hear of every replay `runIdempotent` answers from `store`'s records: one observer per store (the process's metrics). */
export function observeReplays(store: IdempotencyStore, observer: (operation: string) => void): void {
  replayObservers.set(store, observer);
}

/** One mutation, as the kernel runs it. */
export interface IdempotentMutation<Stored, Outcome> {
  store: IdempotencyStore;
  /** Whose keys these are (`callerOf(scope)`, prefixed where an operation keeps keys of its own). */
  caller: string;
  /** The operation's name: with `input`, what the key is bound to. */
  operation: string;
  /** The client's key. Null or undefined where the operation allows none: then it just runs. */
  key: string | null | undefined;
  /** The input the key is bound to: the same key with another input is IDEMPOTENCY_KEY_REUSED. */
  input: unknown;
  /** The answer to a request refused before it ran (a bad, busy or reused key). */
  refused(userErrors: UserErrorValue[]): Outcome;
  /** The first run's answer again, from what it stored. */
  replay(stored: Stored): Outcome | Promise<Outcome>;
  /**
   * The mutation: its answer and what to store for a replay. Business failures are answers (stored like
   * successes); a thrown error means every step that landed was compensated or will be recovered, so the key is
   * given back and the client's retry runs again.
   */
  run(): Promise<{ stored: Stored; outcome: Outcome }>;
}

/**
 * Run a mutation once per (caller, key): begin, run, then complete, or give the key back when it threw; a repeat
 * with the same input replays the first answer and changes nothing, one with another input is
 * IDEMPOTENCY_KEY_REUSED, one while the first still runs is IDEMPOTENCY_KEY_IN_USE.
 */
export async function runIdempotent<Stored, Outcome>(mutation: IdempotentMutation<Stored, Outcome>): Promise<Outcome> {
  const { store, caller, key } = mutation;
  if (key === null || key === undefined) return (await mutation.run()).outcome;
  const keyErrors = idempotencyKeyErrors(key);
  if (keyErrors.length > 0) return mutation.refused(keyErrors);
  const fingerprint = fingerprintOf(mutation.operation, mutation.input);
  const begun = await store.begin(caller, key, fingerprint);
  switch (begun.kind) {
    case 'in-use':
      return mutation.refused([userError('IDEMPOTENCY_KEY_IN_USE', 'a request with this idempotencyKey is still running', 'idempotencyKey')]);
    case 'reused':
      return mutation.refused([userError('IDEMPOTENCY_KEY_REUSED', 'this idempotencyKey was used with a different input', 'idempotencyKey')]);
    case 'replay':
      replayObservers.get(store)?.(mutation.operation);
      return mutation.replay(begun.response as Stored);
    case 'started':
      break;
  }
  let result: { stored: Stored; outcome: Outcome };
  try {
    result = await mutation.run();
  } catch (error) {
    await store.abandon(caller, key);
    throw error;
  }
  await store.complete(caller, key, fingerprint, result.stored);
  return result.outcome;
}
