import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT } from '../../scripts/composition.js';

/*
 * The processes of a chaos run: `node dist/main.js …` services and one redis-server with AOF, each of which the
 * suite may kill (-9 or SIGTERM) and start again on the same ports. Every process knows whether its last exit was
 * asked for, so that an exit nobody asked for is a crash (invariant 6).
 */

const MAIN = resolve(ROOT, 'dist/main.js');
const TAIL = 6000;

/** How one run of a process ended. */
export interface ExitRecord {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The suite killed or stopped it (a fault of the timeline or the final stop). */
  intended: boolean;
  /** The last lines it wrote before it ended. */
  tail: string;
}

/** Every process of this module still running, for an interrupted run to kill on its way out. */
const live = new Set<ChildProcess>();

/** kill -9 every process started here that still runs (an interrupted run: Ctrl-C, SIGTERM). */
export function killAllStarted(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** A service or redis-server that the suite can kill and start again with the same command line. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private output = '';
  private intended = false;
  private exited: Promise<void> = Promise.resolve();
  /** Every exit so far, intended or not. */
  readonly exits: ExitRecord[] = [];
  /** How many times it was started. */
  starts = 0;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: readonly string[],
    private readonly env: Record<string, string>,
    /** Resolves once the process serves (its readiness signal). */
    private readonly ready: () => Promise<boolean>,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines of output of the current (or last) run. */
  tail(): string {
    return this.output;
  }

  /** Start it and wait for its readiness signal (bounded by `timeoutMs`). */
  async start(timeoutMs = 90_000): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.intended = false;
    this.output = '';
    this.starts++;
    const child = spawn(this.command, [...this.args], { cwd: ROOT, env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    // With CHAOS_LOG_DIR, every line each process writes is kept (`<dir>/<name>.log`, across its restarts) to
    // trace a failed invariant back to what the services did; otherwise only the tail, for crash reports.
    const logDir = process.env.CHAOS_LOG_DIR;
    if (logDir) mkdirSync(logDir, { recursive: true });
    const collect = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-TAIL);
      if (logDir) appendFileSync(join(logDir, `${this.name.replace(/[^\w.-]+/g, '_')}.log`), chunk);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((done) => {
      child.once('error', (error) => {
        this.output += `\nspawn error: ${error.message}`;
      });
      child.once('exit', (code, signal) => {
        live.delete(child);
        this.exits.push({ name: this.name, code, signal, intended: this.intended, tail: this.output });
        done();
      });
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited before it was ready:\n${this.output.slice(-2000)}`);
      if (await this.ready().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`${this.name} was not ready within ${timeoutMs} ms:\n${this.output.slice(-2000)}`);
      await new Promise((done) => setTimeout(done, 150));
    }
  }

  /** kill -9, and wait until it is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.intended = true;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (the graceful stop), SIGKILL after `graceMs`; resolves with the exit. */
  async stop(graceMs = 15_000): Promise<ExitRecord | undefined> {
    if (!this.running) return undefined;
    this.intended = true;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    return this.exits.at(-1);
  }

  /** Exits nobody asked for. */
  crashes(): ExitRecord[] {
    return this.exits.filter((e) => !e.intended);
  }
}

/** A `node dist/main.js <args>` service, ready when `readyUrl` answers 2xx. */
export function serviceProcess(name: string, args: readonly string[], env: Record<string, string>, readyUrl: string): ManagedProcess {
  return new ManagedProcess(
    name,
    process.execPath,
    ['--max-semi-space-size=32', MAIN, ...args],
    // Development, as `npm start`: production refuses the sandbox systems and their identity provider.
    // CHAOS_LOG_LEVEL (e.g. info), with CHAOS_LOG_DIR, to trace a run in detail.
    { NODE_ENV: 'development', LOG_FORMAT: 'json', LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'warn', HOST: '127.0.0.1', ...env },
    () => fetch(readyUrl, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok),
  );
}

/**
 * A redis-server with AOF on and every write fsync'd before it answers (`appendfsync always`), in a directory of
 * its own that outlives a restart: killed and started again on the same port and directory, it comes back with
 * every acknowledged write.
 */
export function redisWithAof(port: number): { process: ManagedProcess; url: string; dir: string; removeDir(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'chaos-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'];
  return {
    process: new ManagedProcess('redis', 'redis-server', args, {}, () => ping(port)),
    url: `redis://127.0.0.1:${port}`,
    dir,
    removeDir: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** One raw RESP PING: ready means PONG (a server still loading its AOF answers -LOADING). */
function ping(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}
