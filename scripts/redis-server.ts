import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway redis-server owned by one test file. */
export interface RedisServerHandle {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Kill the server, wait for it to exit and remove its working directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartRedisServerOptions {
  /** The redis-server executable. Default `redis-server` from `PATH` (CI installs it with apt-get). */
  bin?: string;
  /** How long to wait for the server to answer PING, in ms. Default 10 000. */
  readyTimeoutMs?: number;
}

const HOST = '127.0.0.1';

/**
 * Start a real redis-server on a free loopback port, with no persistence, and wait until it answers PING.
 * Fails with an explanation (and the server's own output) when the binary is missing or the server dies.
 */
export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServerHandle> {
  const bin = options.bin ?? 'redis-server';
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  // Another process can take the port between our probe and redis-server's bind; a second try almost always wins.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(bin, await freePort(), readyTimeoutMs);
    } catch (error) {
      lastError = error;
      if (!(error instanceof PortTakenError)) throw error;
    }
  }
  throw lastError;
}

class PortTakenError extends Error {}

async function startOnce(bin: string, port: number, readyTimeoutMs: number): Promise<RedisServerHandle> {
  // `--dir` points at a private temp dir so that nothing (not even a stray dump) lands in the checkout.
  const dir = await mkdtemp(join(tmpdir(), 'redis-test-'));
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    // Keep the tail only: it is for error messages, and a chatty server must not grow memory.
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const stop = async (): Promise<void> => {
    if (!hasExited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  let outcome: 'ready' | Awaited<typeof exited>;
  try {
    outcome = await Promise.race([waitForPing(port, readyTimeoutMs, () => hasExited).then(() => 'ready' as const), exited]);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}; server output:\n${output}`);
  }
  if (outcome === 'ready') {
    let stopping: Promise<void> | undefined;
    return { url: `redis://${HOST}:${port}`, port, stop: () => (stopping ??= stop()) };
  }

  await stop();
  if (outcome.error && (outcome.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(`redis-server is not installed (looked for "${bin}" on PATH); install it, e.g. \`sudo apt-get install -y redis-server\``);
  }
  if (outcome.error) throw new Error(`could not start ${bin}: ${outcome.error.message}`);
  if (/address already in use/i.test(output)) throw new PortTakenError(`port ${port} was taken before redis-server could bind it`);
  throw new Error(`redis-server exited (code ${outcome.code}, signal ${outcome.signal}) before answering PING:\n${output}`);
}

/** A port the OS just handed out; the tiny window until redis-server binds it is covered by a retry. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not find a free port'))));
    });
  });
}

async function waitForPing(port: number, timeoutMs: number, gaveUp: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!gaveUp()) {
    if (await ping(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  // The caller's race picks up the exit; this just never resolves as "ready".
  await new Promise(() => {});
}

/** One raw RESP PING, so that readiness does not depend on the client library under test. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      // `-LOADING` and the like mean "not yet"; only PONG means the server takes commands.
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
