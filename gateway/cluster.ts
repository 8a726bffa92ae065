import cluster, { type Worker } from 'node:cluster';
import { retryDelayMs } from '../common/backoff.js';
import type { Logger } from '../common/logger.js';
import type { GatewayService } from './gateway.js';

/**
 * Several gateway processes on one port (`GATEWAY_WORKERS`): node:cluster's primary accepts the connections and
 * hands them round-robin to its workers, each a whole gateway of its own (edge, planner, executor, subscription
 * hub). A worker holds no state another needs: every worker's hub subscribes to the subgraphs itself, as separate
 * gateway instances do, so an event reaches the subscribers of every worker.
 */

/** The response header naming the worker process (its pid) that answered; sent only when there are workers. */
export const WORKER_HEADER = 'x-gateway-worker';

/** What a worker tells its primary once its gateway listens. */
interface ReadyMessage {
  type: 'gateway-worker-ready';
  url: string;
}

const isReady = (message: unknown): message is ReadyMessage =>
  typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'gateway-worker-ready' && typeof (message as { url?: unknown }).url === 'string';

export interface GatewayClusterDeps {
  /** Gateway processes to run (`GATEWAY_WORKERS`). */
  workers: number;
  logger: Logger;
  /** What a worker runs: its gateway, listening on the shared port (`startGatewayOnly` with the worker's configuration). */
  startGateway: () => Promise<{ url: string; service: GatewayService }>;
  /**
   * How long `stop()` waits for a worker to drain (sockets closed with 1001, in-flight requests answered) before it
   * kills it. @default 30000
   */
  drainTimeoutMs?: number;
  /**
   * The wait before a dead worker is forked again: full jitter between 0 and min(cap, base · 2^(n−1)) after its
   * slot's n-th consecutive death (common/backoff.ts). @default { baseMs: 500, capMs: 30000 }
   */
  restartBackoff?: { baseMs: number; capMs: number };
  /** A worker that served this long before it died starts its slot's backoff over. @default 60000 */
  stableMs?: number;
}

export interface GatewayCluster {
  /** True in a worker process: run {@link GatewayCluster.serve}, not `start`. */
  readonly isWorker: boolean;
  /**
   * In the primary: fork the workers, each with `env` on top of this process's environment, and resolve once every
   * one listens. Rejects (after stopping the others) when a worker exits before it listens: a port in use or a bad
   * setting is a failed start, not something to retry.
   */
  start(env?: Record<string, string>): Promise<{ url: string; pids: number[] }>;
  /**
   * In the primary: no more restarts; SIGTERM to every worker, each of which drains its gateway and exits; resolves
   * once all have exited. A worker still running after `drainTimeoutMs` is killed. Rejects when a worker that was
   * serving did not exit 0.
   */
  stop(): Promise<void>;
  /**
   * In the embedded default's primary: {@link GatewayCluster.start} with workers that reach `backend` (this
   * process's sandbox and subgraphs) at its URLs. Its `stop` drains the workers first, so that their in-flight
   * requests are answered while the subgraphs still run, then stops `backend`. A failed start stops `backend` too.
   */
  startBeside(backend: Backend): Promise<{ url: string; stop: () => Promise<void> }>;
  /** In a worker: start its gateway, mark its responses with {@link WORKER_HEADER}, tell the primary it listens. */
  serve(): Promise<{ url: string; stop: () => Promise<void> }>;
}

/** What the embedded default's primary runs beside its gateway workers (`startBackend` in stack.ts). */
export interface Backend {
  urls: { sandbox: string; subgraphs: Record<string, string> };
  stop(): Promise<void>;
}

interface Slot {
  index: number;
  worker?: Worker | undefined;
  exited?: Promise<{ code: number | null; signal: string | null }> | undefined;
  readyAt?: number | undefined;
  failures: number;
  restart?: NodeJS.Timeout | undefined;
}

export function createGatewayCluster(deps: GatewayClusterDeps): GatewayCluster {
  const { logger } = deps;
  const drainTimeoutMs = deps.drainTimeoutMs ?? 30_000;
  const backoff = deps.restartBackoff ?? { baseMs: 500, capMs: 30_000 };
  const stableMs = deps.stableMs ?? 60_000;
  const slots: Slot[] = [];
  let workerEnv: Record<string, string> = {};
  let started = false;
  let stopping = false;

  /** Fork the slot's worker; resolves with its pid once it listens, rejects if it exits first. */
  const fork = (slot: Slot): Promise<{ pid: number; url: string }> => {
    const worker = cluster.fork(workerEnv);
    slot.worker = worker;
    slot.readyAt = undefined;
    const pid = worker.process.pid ?? -1;
    slot.exited = new Promise((resolve) => worker.once('exit', (code, signal) => resolve({ code, signal })));
    return new Promise((resolve, reject) => {
      worker.on('message', (message: unknown) => {
        if (!isReady(message) || slot.worker !== worker) return;
        slot.readyAt = Date.now();
        resolve({ pid, url: message.url });
      });
      worker.once('exit', (code, signal) => {
        const wasReady = slot.readyAt !== undefined && slot.worker === worker;
        if (!wasReady) reject(new Error(`gateway worker ${pid} exited before it listened (code ${code}, signal ${signal})`));
        onExit(slot, worker, code, signal);
      });
    });
  };

  const onExit = (slot: Slot, worker: Worker, code: number | null, signal: string | null): void => {
    if (slot.worker !== worker) return;
    const lived = slot.readyAt === undefined ? 0 : Date.now() - slot.readyAt;
    slot.worker = undefined;
    slot.readyAt = undefined;
    // During start a death fails the start; while stopping it is what was asked for.
    if (!started || stopping) return;
    if (lived >= stableMs) slot.failures = 0;
    slot.failures++;
    const restartInMs = retryDelayMs(slot.failures, backoff.baseMs, backoff.capMs);
    logger.error({ workerPid: worker.process.pid, code, signal, failures: slot.failures, restartInMs }, 'gateway worker died; restarting it');
    slot.restart = setTimeout(() => {
      slot.restart = undefined;
      if (stopping) return;
      fork(slot).then(
        ({ pid }) => logger.info({ workerPid: pid, slot: slot.index }, 'gateway worker restarted'),
        // Its exit has already scheduled the next attempt (with a longer backoff).
        () => undefined,
      );
    }, restartInMs);
  };

  /** SIGTERM, then wait; SIGKILL after the drain timeout. */
  const drain = async (slot: Slot): Promise<string | undefined> => {
    const { worker, exited } = slot;
    if (!worker || !exited) return undefined;
    const wasServing = slot.readyAt !== undefined;
    if (!worker.isDead()) worker.process.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), drainTimeoutMs)));
    let outcome = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      logger.warn({ workerPid: worker.process.pid, drainTimeoutMs }, 'gateway worker did not drain in time; killing it');
      worker.process.kill('SIGKILL');
      outcome = await exited;
    }
    if (wasServing && outcome.code !== 0) return `worker ${worker.process.pid} exited with code ${outcome.code}, signal ${outcome.signal}`;
    return undefined;
  };

  const stop = async (): Promise<void> => {
    stopping = true;
    for (const slot of slots) clearTimeout(slot.restart);
    const failures = (await Promise.all(slots.map(drain))).filter((f): f is string => f !== undefined);
    if (failures.length) throw new Error(`gateway workers did not drain cleanly: ${failures.join('; ')}`);
  };

  const start = async (env: Record<string, string> = {}): Promise<{ url: string; pids: number[] }> => {
    if (cluster.isWorker) throw new Error('a gateway worker cannot start workers of its own');
    workerEnv = env;
    for (let index = 0; index < deps.workers; index++) slots.push({ index, failures: 0 });
    try {
      const ready = await Promise.all(slots.map(fork));
      started = true;
      const url = ready[0]?.url ?? '';
      const pids = ready.map((r) => r.pid);
      logger.info({ url, workers: pids }, 'gateway workers ready');
      return { url, pids };
    } catch (error) {
      await stop().catch(() => undefined);
      throw error;
    }
  };

  return {
    isWorker: cluster.isWorker,
    start,
    stop,

    async startBeside(backend) {
      const { url } = await start(backendEnv(backend.urls)).catch(async (error: unknown) => {
        await backend.stop();
        throw error;
      });
      return { url, stop: () => stop().finally(() => backend.stop()) };
    },

    async serve() {
      if (!cluster.isWorker) throw new Error('serve() runs in a gateway worker');
      const { url, service } = await deps.startGateway();
      // Which process answered: for operators reading responses, and for the test that proves both serve.
      const pid = String(process.pid);
      service.httpServer.prependListener('request', (_req, res) => res.setHeader(WORKER_HEADER, pid));
      logger.info({ url }, 'gateway worker ready');
      process.send?.({ type: 'gateway-worker-ready', url } satisfies ReadyMessage);
      return { url, stop: () => service.stop() };
    },
  };
}

/**
 * The environment of gateway workers beside the embedded default's primary: its subgraphs at their URLs (over
 * HTTP and WebSocket, never in process: they are in another process) and its sandbox, whose identity provider
 * signs the tokens the workers verify.
 */
function backendEnv(urls: { sandbox: string; subgraphs: Record<string, string> }): Record<string, string> {
  const env: Record<string, string> = { SANDBOX_URL: urls.sandbox };
  for (const [name, url] of Object.entries(urls.subgraphs)) env[`${name.toUpperCase()}_URL`] = url;
  return env;
}
