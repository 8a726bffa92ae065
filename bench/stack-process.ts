import { spawn } from 'node:child_process';
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
  stop(): Promise<void>;
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
export async function startStackProcess(extraEnv: Record<string, string>): Promise<StackProcess> {
  const env: Record<string, string> = { LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', HOST: '127.0.0.1', DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-data-')), ...BENCH_RATE_LIMITS, ...extraEnv };
  for (const name of ['GATEWAY_PORT', ...SUBGRAPH_NAMES.map((s) => `${s.toUpperCase()}_PORT`), 'SANDBOX_PORT']) env[name] = String(await freePort());
  const child = spawn(process.execPath, [...NODE_FLAGS, resolve(ROOT, 'dist/main.js')], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'ignore'] });
  const stop = async () => {
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((done) => setTimeout(done, 10_000))]);
  };
  const gateway = `http://127.0.0.1:${env.GATEWAY_PORT}`;
  const deadline = Date.now() + 60_000;
  while (!(await fetch(`${gateway}/ready`).then((r) => r.ok, () => false))) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error('stack did not become ready');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { gateway, sandbox: `http://127.0.0.1:${env.SANDBOX_PORT}`, pid: child.pid!, stop };
}

/** `Bearer <token>` from the stack's sandbox identity provider, as a real client signs in. */
export async function bearerFrom(sandbox: string, body: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${sandbox}/sandbox/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = (await response.json()) as { token?: string; error?: string };
  if (!answer.token) throw new Error(`the sandbox issued no token for ${JSON.stringify(body)}: ${answer.error}`);
  return `Bearer ${answer.token}`;
}
