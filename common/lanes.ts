/*
 * Ordering and stopping for the backbone's consumers: one home for "the events of one order one after the other"
 * and for "wait for what is in flight, but not for ever".
 */

/** Tasks run one after the other per key (the events of one order), different keys side by side. */
export class KeyedLanes {
  /** The last task queued per key, settled either way: the next one of that key waits for it. */
  private readonly lanes = new Map<string, Promise<void>>();

  /** Run `task` after every task queued before it under `key` (whatever they ended with); its outcome is the task's. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.lanes.get(key) ?? Promise.resolve()).then(task);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.lanes.set(key, settled);
    // A lane is forgotten once nothing more was queued behind it.
    void settled.then(() => {
      if (this.lanes.get(key) === settled) this.lanes.delete(key);
    });
    return result;
  }

  /** Every task queued so far has settled (or `graceMs` passed). */
  drain(graceMs: number): Promise<void> {
    return settleWithin(Promise.allSettled([...this.lanes.values()]), graceMs);
  }
}

/** Wait for `work` to settle, at most `graceMs` (a stop's grace: what is cut short is handed again after a restart). */
export async function settleWithin(work: Promise<unknown>, graceMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
    timer.unref();
  });
  await Promise.race([work.then(
    () => undefined,
    () => undefined,
  ), grace]);
  clearTimeout(timer);
}
