/**
 * The time a sandbox write happens at. Writes read it instead of `new Date()` so that replaying the journal
 * after a restart reproduces the same records, timestamps included. The sandbox sets it around each write call
 * (writes run synchronously, so nothing else can observe it); outside a write it is simply now.
 */
let current: Date | null = null;

export function callTime(): Date {
  return current ?? new Date();
}

/** Run a synchronous section with the clock fixed at `at`. */
export function atTime<T>(at: Date, fn: () => T): T {
  const previous = current;
  current = at;
  try {
    return fn();
  } finally {
    current = previous;
  }
}
