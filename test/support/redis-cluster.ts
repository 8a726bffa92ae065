import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../scripts/free-port.js';
import { pollUntil } from './poll.js';

/** A throwaway Redis Cluster owned by one test file. */
export interface RedisClusterHandle {
  /** `redis+cluster://127.0.0.1:<p1>,127.0.0.1:<p2>,...`, as `REDIS_URL` takes it. */
  url: string;
  /** The masters' client ports. */
  ports: number[];
  /** Kill every node, wait for them to exit and remove their working directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartRedisClusterOptions {
  /**
   * How many masters (no replicas); Redis Cluster needs at least 3.
   * @default 3
   */
  masters?: number;
  /**
   * The redis-server executable.
   * @default 'redis-server' from PATH
   */
  bin?: string;
  /**
   * The redis-cli executable, which forms the cluster (`--cluster create`).
   * @default 'redis-cli' from PATH
   */
  cli?: string;
  /**
   * How long the nodes may take to answer PING, and the cluster to report `cluster_state:ok` on every node, in ms.
   * @default 30000
   */
  readyTimeoutMs?: number;
}

const HOST = '127.0.0.1';
const run = promisify(execFile);

/**
 * Start a real Redis Cluster on loopback: `masters` redis-servers with `--cluster-enabled yes` on free ports (each
 * with its bus port chosen too, since the default port + 10000 may not exist), in a temp dir, without persistence;
 * then `redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`, and wait until every node says
 * `cluster_state:ok` and knows every other (asked every 25 ms: a readiness signal, not a sleep).
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3;
  const bin = options.bin ?? 'redis-server';
  const cli = options.cli ?? 'redis-cli';
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  if (masters < 3) throw new RangeError(`a Redis Cluster needs at least 3 masters, got ${masters}`);
  const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-test-'));
  const nodes: { port: number; child: ChildProcess; exited: Promise<void>; output: () => string; hasExited: () => boolean }[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      nodes.map(async (node) => {
        if (node.hasExited()) return;
        node.child.kill('SIGTERM');
        const timer = setTimeout(() => node.child.kill('SIGKILL'), 5_000);
        await node.exited;
        clearTimeout(timer);
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports = new Set<number>();
    // Distinct ports for every client and bus port: two freePort calls may hand out the same one once it is closed.
    const take = async () => {
      for (;;) {
        const port = await freePort();
        if (ports.has(port)) continue;
        ports.add(port);
        return port;
      }
    };
    for (let i = 0; i < masters; i++) {
      const port = await take();
      const busPort = await take();
      nodes.push(startNode(bin, dir, port, busPort));
    }
    await Promise.all(nodes.map((node) => waitFor(node, () => command(node.port, 'PING').then((r) => r.startsWith('+PONG')), `redis-server on ${node.port} answers PING`, readyTimeoutMs)));
    try {
      await run(cli, ['--cluster', 'create', ...nodes.map((n) => `${HOST}:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: readyTimeoutMs });
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
      if (e.code === 'ENOENT') throw new Error(`redis-cli is not installed (looked for "${cli}" on PATH); it comes with redis-server (e.g. \`sudo apt-get install -y redis-server\`)`);
      throw new Error(`redis-cli --cluster create failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
    await Promise.all(
      nodes.map((node) =>
        waitFor(
          node,
          async () => {
            const info = await command(node.port, 'CLUSTER', 'INFO');
            return info.includes('cluster_state:ok') && info.includes('cluster_slots_assigned:16384') && info.includes(`cluster_known_nodes:${masters}`);
          },
          `redis-server on ${node.port} reports cluster_state:ok`,
          readyTimeoutMs,
        ),
      ),
    );
    let stopping: Promise<void> | undefined;
    return { url: `redis+cluster://${nodes.map((n) => `${HOST}:${n.port}`).join(',')}`, ports: nodes.map((n) => n.port), stop: () => (stopping ??= stop()) };
  } catch (error) {
    const outputs = nodes.map((n) => `--- node ${n.port}:\n${n.output()}`).join('\n');
    await stop();
    throw new Error(`${(error as Error).message}\n${outputs}`, { cause: error });
  }
}

function startNode(bin: string, dir: string, port: number, busPort: number) {
  const child = spawn(
    bin,
    [
      '--port', String(port),
      '--bind', HOST,
      '--cluster-enabled', 'yes',
      '--cluster-port', String(busPort),
      '--cluster-config-file', join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout', '5000',
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      '--daemonize', 'no',
      '--loglevel', 'warning',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  // Keep the tail only: it is for error messages.
  const collect = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4000));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let hasExited = false;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      output += `\n${(error as NodeJS.ErrnoException).code === 'ENOENT' ? `redis-server is not installed (looked for "${bin}" on PATH)` : error.message}`;
      hasExited = true;
      resolve();
    });
    child.once('exit', () => {
      hasExited = true;
      resolve();
    });
  });
  return { port, child, exited, output: () => output, hasExited: () => hasExited };
}

/** Poll `probe` until it holds, failing at once (with the node's output) if the node died meanwhile. */
async function waitFor(node: { port: number; hasExited: () => boolean }, probe: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  await pollUntil(
    async () => {
      if (node.hasExited()) throw new Error(`redis-server on port ${node.port} exited (${what})`);
      return probe().catch(() => false);
    },
    (ok) => ok,
    what,
    ms,
  );
}

/** One raw RESP command and its reply's text, so that readiness does not depend on the client library under test. */
function command(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    let reply = '';
    const done = (error?: Error) => {
      socket.destroy();
      if (error) reject(error);
      else resolve(reply);
    };
    socket.setTimeout(1_000, () => done(new Error('timed out')));
    socket.once('error', done);
    socket.once('connect', () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      // A simple reply or error ends at its first CRLF; a bulk string ($<n>) once its n bytes are in.
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      if (bulk ? Buffer.byteLength(reply) >= bulk[0].length + Number(bulk[1]) + 2 : reply.includes('\r\n')) done();
    });
  });
}
