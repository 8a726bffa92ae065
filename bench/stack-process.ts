import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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

/** The embedded stack (`node dist/main.js`, the same V8 flags as `npm start`) in a child process, ready. */
export async function startStackProcess(extraEnv: Record<string, string>): Promise<StackProcess> {
  const env: Record<string, string> = { LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', HOST: '127.0.0.1', NODE_ENV: 'production', DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-data-')), ...extraEnv };
  for (const name of ['GATEWAY_PORT', 'CATALOG_PORT', 'INVENTORY_PORT', 'ORDERS_PORT', 'CUSTOMERS_PORT', 'FINANCE_PORT', 'SANDBOX_PORT']) env[name] = String(await freePort());
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
