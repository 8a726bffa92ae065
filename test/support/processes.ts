import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT } from '../../scripts/composition.js';
import { freePort } from '../../scripts/free-port.js';
import type { Caller } from './stack.js';

// Tests of the compiled entry point (`npm test` builds first), run as `npm start` and a deployment would run it.
export const MAIN = resolve(ROOT, 'dist/main.js');
const children: ChildProcess[] = [];
/** Tokens by sandbox and caller (see `bearer`). */
const tokens = new Map<string, Promise<string>>();

/** For a `beforeAll`: these tests need the build. */
export function assertBuilt(): void {
  if (!existsSync(MAIN)) throw new Error('dist/main.js is missing: run `npm run build` (npm test does)');
}

/** `node dist/main.js ...args` with `env` on top of this process's, its stdout and stderr collected in `output()`. */
export function start(args: string[], env: Record<string, string>): ChildProcess & { output: () => string } {
  tokens.clear();
  // Not NODE_ENV=production: production refuses the sandbox systems and its identity provider, which these runs use.
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  children.push(child);
  return Object.assign(child, { output: () => output });
}

/** For an `afterEach`: kill (-9) every process `start` started that is still running. */
export function killStarted(): void {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
}

/** Wait until `url` answers 2xx; on a timeout, say the last answer and what the processes wrote. */
export async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // Say why: the last answer, and what the processes wrote (a crash at start shows there).
  const outputs = children.map((child) => (child as ChildProcess & { output?: () => string }).output?.().slice(-2000) ?? '').join('\n---\n');
  throw new Error(`${url} did not come up (last: ${last.slice(0, 500)})\n${outputs}`);
}

export const exitOf = (child: ChildProcess) => new Promise<number | null>((done) => (child.exitCode !== null ? done(child.exitCode) : child.once('exit', (code) => done(code))));

/** Free ports for the named variables, and a data directory of its own (the journal of one test must not leak into another). */
export async function ports(names: string[]): Promise<Record<string, string>> {
  const env: Record<string, string> = { DATA_DIR: mkdtempSync(join(tmpdir(), 'retail-proc-')) };
  // freePort closes its probe, so two calls may hand out the same port: ask again until they differ.
  const taken = new Set<number>();
  for (const name of names) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    env[name] = String(port);
  }
  return env;
}

/** Every port the all-in-one process listens on. */
export const ALL_PORTS = ['GATEWAY_PORT', 'CATALOG_PORT', 'INVENTORY_PORT', 'ORDERS_PORT', 'CUSTOMERS_PORT', 'FINANCE_PORT', 'NODES_PORT', 'SANDBOX_PORT'];

export const graphql = (url: string, query: string, variables: Record<string, unknown> = {}, authorization?: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: JSON.stringify({ query, variables }) });

/**
 * `Bearer <token>` for `caller` from the sandbox identity provider at `sandbox`, over HTTP as any client would get
 * one. Kept until the next process starts (`start` forgets them): a restarted sandbox signs with a new key.
 */
export function bearer(sandbox: string, caller: Caller): Promise<string> {
  const key = `${sandbox} ${JSON.stringify(caller)}`;
  let token = tokens.get(key);
  if (!token) {
    token = (async () => {
      const response = await fetch(`${sandbox}/sandbox/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(caller) });
      const body = (await response.json()) as { token?: string };
      if (response.status !== 200 || !body.token) throw new Error(`the sandbox refused a token for ${JSON.stringify(caller)}: ${response.status} ${JSON.stringify(body)}`);
      return `Bearer ${body.token}`;
    })();
    token.catch(() => tokens.delete(key));
    tokens.set(key, token);
  }
  return token;
}

/** A request to the gateway as `caller` (null: anonymous). */
export const graphqlAs = async (gateway: string, sandbox: string, caller: Caller | null, query: string, variables: Record<string, unknown> = {}) =>
  graphql(`${gateway}/graphql`, query, variables, caller ? await bearer(sandbox, caller) : undefined);

/** The JSON lines of a process's output (pino's), skipping anything else it wrote (the banner). */
export function jsonLines(output: string): Record<string, any>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, any>];
      } catch {
        return [];
      }
    });
}
