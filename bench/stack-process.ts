import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SUBGRAPH_NAMES } from '../common/config.js';
import { ROOT } from '../scripts/composition.js';
import { freePort } from '../scripts/free-port.js';

/** The same V8 flags as `npm start` (package.json): a larger young generation halves scavenge pauses. */
const NODE_FLAGS = ['--max-semi-space-size=32'];

/** Resident set size of a process, in MB (Linux). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export interface StackProcess {
  gateway: string;
  sandbox: string;
  pid: number;
  /** The spawned `node dist/main.js` (its IPC channel when `ipc` was asked for). */
  child: ChildProcess;
  /** Settles when the process has exited, with how. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export interface StackProcessOptions {
  /** V8/Node flags besides `npm start`'s (e.g. `--import` of a probe). @default none */
  nodeFlags?: readonly string[];
  /** Open a Node IPC channel to the child (`child.send`, `process.send` there). @default false */
  ipc?: boolean;
  /** Receives the child's stdout and stderr, chunk by chunk; without it they are discarded. @default discarded */
  output?: (chunk: string) => void;
}

/**
 * Every request of a benchmark comes from this one process, so from one client address (and the anonymous rows
 * from one rate-limit key): the limits are raised out of the way, and still checked on every request, so their
 * cost is in the figures.
 */
export const BENCH_RATE_LIMITS = { RATE_LIMIT_RPS: '1000000', RATE_LIMIT_BURST: '1000000', CHECKOUT_RATE_LIMIT_RPS: '1000000', CHECKOUT_RATE_LIMIT_BURST: '1000000' };

/**
 * The embedded stack (`node dist/main.js`, the same V8 flags as `npm start`) in a child process, ready. Development
 * settings, as `npm start` runs: production refuses to start the sandbox systems the benchmark measures against.
 */
export async function startStackProcess(extraEnv: Record<string, string>, options: StackProcessOptions = {}): Promise<StackProcess> {
  const env: Record<string, string> = { LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', HOST: '127.0.0.1', DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-data-')), ...BENCH_RATE_LIMITS, ...extraEnv };
  for (const name of ['GATEWAY_PORT', ...SUBGRAPH_NAMES.map((s) => `${s.toUpperCase()}_PORT`), 'SANDBOX_PORT']) env[name] = String(await freePort());
  const out = options.output ? 'pipe' : 'ignore';
  const child = spawn(process.execPath, [...NODE_FLAGS, ...(options.nodeFlags ?? []), resolve(ROOT, 'dist/main.js')], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', out, out, ...(options.ipc ? ['ipc' as const] : [])] });
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => options.output?.(chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((done) => setTimeout(done, 10_000))]);
  };
  const gateway = `http://127.0.0.1:${env.GATEWAY_PORT}`;
  const deadline = Date.now() + 60_000;
  while (!(await fetch(`${gateway}/ready`).then((r) => r.ok, () => false))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the stack exited before it was ready (code ${child.exitCode}, signal ${child.signalCode})`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error('stack did not become ready');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { gateway, sandbox: `http://127.0.0.1:${env.SANDBOX_PORT}`, pid: child.pid!, child, exited, stop };
}

/** `Bearer <token>` from the stack's sandbox identity provider, as a real client signs in. */
export async function bearerFrom(sandbox: string, body: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${sandbox}/sandbox/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = (await response.json()) as { token?: string; error?: string };
  if (!answer.token) throw new Error(`the sandbox issued no token for ${JSON.stringify(body)}: ${answer.error}`);
  return `Bearer ${answer.token}`;
}
