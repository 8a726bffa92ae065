import { writeSync } from 'node:fs';

/**
 * Preloaded into the stack process by `npm run soak` (`node --import <this file> --expose-gc dist/main.js`), so that
 * the stack's own code stays as `npm start` runs it: no endpoint, no flag, nothing in production code. It answers
 * the soak's samples over the IPC channel the soak opened, and on exit writes the resources still open to stderr.
 *
 * - A sample runs a full GC first (when `--expose-gc` is on): what is left is what the process keeps alive, the
 *   figure a leak moves. Without it, a young generation of up to 2 × 32 MB (`--max-semi-space-size=32`) of garbage
 *   would swamp a slope measured in MB per minute. One GC a minute is a negligible cost to the load.
 * - `process.getActiveResourcesInfo()` names what keeps the event loop alive (sockets, servers, timers).
 */
export interface ProbeSample {
  type: 'soak:sample';
  id: number;
  memory: NodeJS.MemoryUsage;
  /** Active resources by kind (`TCPSocketWrap`, `TCPServerWrap`, `Timeout`, ...), counted. */
  resources: Record<string, number>;
}

export interface ProbeRequest {
  type: 'soak:sample';
  id: number;
}

/** The stderr line the probe writes on exit: this prefix, then the JSON of the resources still active. */
export const EXIT_MARKER = 'soak-probe:exit ';

function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

const isRequest = (message: unknown): message is ProbeRequest => typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'soak:sample';

if (process.send) {
  process.on('message', (message: unknown) => {
    if (!isRequest(message)) return;
    (globalThis as { gc?: () => void }).gc?.();
    const sample: ProbeSample = { type: 'soak:sample', id: message.id, memory: process.memoryUsage(), resources: activeResources() };
    process.send?.(sample);
  });
  // A listener refs the channel; unref it so the probe never keeps the stack alive, nor changes how it exits.
  process.channel?.unref();
  // After the launcher's stop() resolved, main.ts calls process.exit(0): whatever is still open then would have
  // kept the process alive without that call. Synchronous write: nothing asynchronous runs in an exit handler.
  process.on('exit', (code) => {
    writeSync(2, `${EXIT_MARKER}${JSON.stringify({ code, resources: activeResources() })}\n`);
  });
}
