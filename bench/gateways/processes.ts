import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { ROOT } from '../../scripts/composition.js';

/** The same V8 flags for every process (those of `npm start`), so no gateway is favoured by its heap settings. */
const NODE_FLAGS = ['--max-semi-space-size=32'];

export const CORES = cpus().length;
/** Gateways get a core of their own when there are two or more and `taskset` exists. */
export const PINNING = CORES >= 2 && ['/usr/bin/taskset', '/bin/taskset'].some(existsSync);
export const GATEWAY_CORE = String(CORES - 1);
/** Every core: where a gateway starts, before it is pinned to {@link GATEWAY_CORE}. */
export const ALL_CORES = `0-${CORES - 1}`;
/** The subgraphs, the sandbox and the load generator. */
export const OTHER_CORES = `0-${Math.max(0, CORES - 2)}`;

export interface SpawnedChild extends ChildProcess {
  /** The last lines the process wrote to stderr (a failure to start shows there). */
  stderrTail(): string;
}

/**
 * `node <NODE_FLAGS> <script> <args>` in the repository root, on `cpuList` when pinning. taskset execs the command,
 * so the child's pid is the node process's own (its /proc entry gives its RSS). stdout is a pipe the caller reads
 * (or resumes); stderr is kept, its tail only.
 */
export function spawnNode(script: string, args: readonly string[], env: Record<string, string>, cpuList: string | undefined): SpawnedChild {
  const command = [...NODE_FLAGS, script, ...args];
  const options = { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', APOLLO_TELEMETRY_DISABLED: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'] };
  const child = cpuList && PINNING ? spawn('taskset', ['-c', cpuList, process.execPath, ...command], options) : spawn(process.execPath, command, options);
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => (tail = (tail + chunk.toString('utf8')).slice(-2000)));
  return Object.assign(child, { stderrTail: () => tail });
}

/** Peak resident set size of a process so far (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** SIGTERM, then SIGKILL after 5 s (Hive Gateway drains slowly). */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((done) => setTimeout(done, 5000))]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await Promise.race([exited, new Promise((done) => setTimeout(done, 2000))]);
  }
}

/** Polls `ready` every 200 ms until it holds, the child exits, or `timeoutMs` passes. */
export async function waitUntil(what: string, child: SpawnedChild, ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited ${child.exitCode}: ${child.stderrTail().slice(-600)}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs / 1000} s: ${child.stderrTail().slice(-600)}`);
    await new Promise((done) => setTimeout(done, 200));
  }
}
