/**
 * Ask `probe` every `everyMs` until `accept` holds for its answer, and give that answer; fail after `ms` with the
 * last answer, so that a test that waits for a state says what state it saw instead.
 */
export async function pollUntil<T>(probe: () => Promise<T>, accept: (value: T) => boolean, what: string, ms = 15_000, everyMs = 25): Promise<T> {
  const started = Date.now();
  for (;;) {
    const last = await probe();
    if (accept(last)) return last;
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms; last: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
