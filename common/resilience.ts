import { AsyncLocalStorage } from 'node:async_hooks';
import { GraphQLError } from 'graphql';
import type { AdapterConfig } from './config.js';
import { currentCorrelationId } from './correlation.js';
import type { Logger } from './logger.js';

/** The systems of record the graph reads and writes. */
export type SystemName = 'erp' | 'pos' | 'crm' | 'wms' | 'psp' | 'ecom';
export const SYSTEM_NAMES: readonly SystemName[] = ['erp', 'pos', 'crm', 'wms', 'psp', 'ecom'];

export function isSystemName(value: unknown): value is SystemName {
  return typeof value === 'string' && (SYSTEM_NAMES as readonly string[]).includes(value);
}

/**
 * A system of record could not answer. It is a GraphQLError so that a resolver can let it propagate: the
 * field that needed the system becomes null with a located error whose `extensions.code` names the system
 * (`ERP_UNAVAILABLE`), and the rest of the response is unaffected.
 */
export class SystemUnavailableError extends GraphQLError {
  readonly system: SystemName;
  /**
   * Set when the system refused the call for rate (it asked to be called again after this many ms; also in
   * `extensions.retryAfterMs`): the system is up, the caller is too fast. Undefined for every other failure.
   */
  readonly retryAfterMs: number | undefined;
  constructor(system: SystemName, reason: string, options: { retryAfterMs?: number | undefined } = {}) {
    const { retryAfterMs } = options;
    super(`${system.toUpperCase()} is unavailable: ${reason}`, {
      extensions: { code: `${system.toUpperCase()}_UNAVAILABLE`, system, reason, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
    });
    this.system = system;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A Retry-After header in ms: delta-seconds (fractions too) or an HTTP date; a second when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number {
  if (header) {
    if (/^\d+(\.\d+)?$/.test(header.trim())) return Math.max(1, Math.ceil(Number(header.trim()) * 1000));
    const at = Date.parse(header);
    if (Number.isFinite(at)) return Math.max(1, at - now);
  }
  return 1000;
}

/** Thrown by an adapter's transport when the call itself failed (refused, 5xx, injected fault). */
export class TransportError extends Error {
  constructor(
    message: string,
    /** False when retrying cannot help (the system said no for good). */
    readonly transient = true,
    /**
     * Set when the system refused the call for rate (HTTP 429): how long to wait, in ms, before asking again.
     * @default undefined (not a refusal for rate)
     */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export type BreakerState =
  | { kind: 'closed'; consecutiveFailures: number }
  | { kind: 'open'; openedAt: number }
  | { kind: 'half-open'; trialInFlight: boolean };

/**
 * One breaker per system and process. Closed: calls pass, consecutive failures are counted. Open: calls fail
 * fast until `resetMs` has passed. Half-open: a single trial call decides between closed and open again.
 */
export class CircuitBreaker {
  private state: BreakerState = { kind: 'closed', consecutiveFailures: 0 };

  constructor(
    private readonly failureThreshold: number,
    private readonly resetMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get current(): BreakerState {
    return this.state;
  }

  /** Whether a call may go to the system now; reserves the trial slot when half-open. */
  tryAcquire(): boolean {
    const state = this.state;
    switch (state.kind) {
      case 'closed':
        return true;
      case 'open':
        if (this.now() - state.openedAt < this.resetMs) return false;
        this.state = { kind: 'half-open', trialInFlight: true };
        return true;
      case 'half-open':
        if (state.trialInFlight) return false;
        this.state = { kind: 'half-open', trialInFlight: true };
        return true;
      default:
        return assertNever(state);
    }
  }

  onSuccess(): void {
    this.state = { kind: 'closed', consecutiveFailures: 0 };
  }

  /**
   * The call ended without saying whether the system is healthy (it refused the call for rate: it answers, but
   * not now). Counts as neither success nor failure; a half-open trial that ended so frees the trial slot, so
   * that the next call is the trial.
   */
  onInconclusive(): void {
    if (this.state.kind === 'half-open') this.state = { kind: 'half-open', trialInFlight: false };
  }

  onFailure(): void {
    const state = this.state;
    switch (state.kind) {
      case 'closed': {
        const failures = state.consecutiveFailures + 1;
        this.state = failures >= this.failureThreshold ? { kind: 'open', openedAt: this.now() } : { kind: 'closed', consecutiveFailures: failures };
        return;
      }
      case 'half-open':
      case 'open':
        this.state = { kind: 'open', openedAt: this.now() };
        return;
      default:
        assertNever(state);
    }
  }
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}

class TimeoutError extends Error {}

/** The signal of the system call running now (ambient, like the correlation id), for transports that can abort. */
const callSignals = new AsyncLocalStorage<AbortSignal>();

/**
 * The AbortSignal of the system-of-record call in progress: aborted when its attempt timed out (the caller has
 * given up on it). A transport passes it to `fetch`, so the request is cut rather than left running. A system may
 * still have applied a write it was cut from (its answer lost): that is what the idempotency references of writes
 * are for, not something an abort can rule out.
 */
export function currentCallSignal(): AbortSignal | undefined {
  return callSignals.getStore();
}

/** One attempt under a timeout that aborts it: `fn` gets the attempt's signal, also as {@link currentCallSignal}. */
function withTimeout<T>(fn: (signal: AbortSignal) => Promise<T>, ms: number): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new TimeoutError(`no answer within ${ms} ms`);
      controller.abort(error);
      reject(error);
    }, ms);
    callSignals.run(controller.signal, () => fn(controller.signal)).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full jitter: a random wait in [0, base * 2^attempt], so that retrying clients do not march in step. */
export function backoffMs(attempt: number, baseMs = 25, capMs = 1000): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}

export interface ResiliencePolicy {
  system: SystemName;
  config: AdapterConfig;
  breaker: CircuitBreaker;
  logger?: Logger | undefined;
}

/**
 * Run one call to a system of record under the policy: a timeout on every attempt that aborts it (its signal is
 * `fn`'s argument and {@link currentCallSignal}), retries with jitter for
 * reads that failed fast (a timed-out attempt already spent the caller's patience), breaker accounting.
 * Whatever goes wrong surfaces as a SystemUnavailableError naming the system.
 *
 * The breaker hears the call's outcome once, after its retries: a flaky system whose retries succeed is not
 * failing, and counting each failed attempt would let a few unlucky attempts of concurrent calls open the
 * circuit on a system that answers 97 % of calls. A half-open trial likewise includes its retries.
 *
 * A refusal for rate (a TransportError with `retryAfterMs`, the system's 429) ends the call at once: retrying
 * sooner than the system asked only earns more refusals, and a system that throttles is up, so the breaker does
 * not count it as a failure. It surfaces as a SystemUnavailableError carrying `retryAfterMs`, for the caller to
 * wait that long.
 */
export async function callSystem<T>(policy: ResiliencePolicy, method: string, fn: (signal: AbortSignal) => Promise<T>, options: { idempotent: boolean }): Promise<T> {
  const { system, config, breaker, logger } = policy;
  const attempts = options.idempotent ? 1 + Math.max(0, config.retries) : 1;
  let lastReason = 'unknown';
  if (!breaker.tryAcquire()) throw new SystemUnavailableError(system, 'circuit open');
  for (let attempt = 0; attempt < attempts; attempt++) {
    const started = performance.now();
    try {
      const result = await withTimeout(fn, config.timeoutMs);
      breaker.onSuccess();
      logger?.debug({ system, method, attempt, ms: Math.round(performance.now() - started) }, 'adapter call');
      return result;
    } catch (error) {
      lastReason = error instanceof Error ? error.message : String(error);
      logger?.debug({ system, method, attempt, err: lastReason, correlationId: currentCorrelationId() }, 'adapter call failed');
      if (error instanceof TransportError && error.retryAfterMs !== undefined) {
        breaker.onInconclusive();
        throw new SystemUnavailableError(system, lastReason, { retryAfterMs: error.retryAfterMs });
      }
      const retryable = !(error instanceof TimeoutError) && !(error instanceof TransportError && !error.transient);
      if (!retryable || attempt === attempts - 1) break;
      await sleep(backoffMs(attempt));
    }
  }
  breaker.onFailure();
  throw new SystemUnavailableError(system, lastReason);
}

type AsyncMethods<T> = { [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => Promise<R> : never };

/**
 * Wrap every method of a port implementation with {@link callSystem}. Methods listed in `writes` are not
 * retried (a write may have landed before the failure); everything else is a read.
 */
export function withResilience<T extends AsyncMethods<T>>(policy: ResiliencePolicy, target: T, writes: readonly (keyof T)[] = []): T {
  const cache = new Map<PropertyKey, unknown>();
  // A proxy rather than a copy of the methods: the target may itself be a proxy (the remote sandbox client)
  // whose methods only exist when asked for.
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const cached = cache.get(prop);
      if (cached) return cached;
      const member = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof member !== 'function' || typeof prop !== 'string') return member;
      const idempotent = !writes.includes(prop as keyof T);
      const wrapped = (...args: unknown[]) => callSystem(policy, prop, () => (member as (...a: unknown[]) => Promise<unknown>).apply(obj, args), { idempotent });
      cache.set(prop, wrapped);
      return wrapped;
    },
  });
}

/**
 * The resilience policies of one process: one circuit breaker per system, shared by every adapter that talks
 * to it, so that an ERP outage seen by catalog also fails fast for finance.
 */
export class ResilienceRegistry {
  private readonly breakers = new Map<SystemName, CircuitBreaker>();
  constructor(
    private readonly config: AdapterConfig,
    private readonly logger?: Logger,
  ) {}

  policy(system: SystemName): ResiliencePolicy {
    let breaker = this.breakers.get(system);
    if (!breaker) {
      breaker = new CircuitBreaker(this.config.breakerFailures, this.config.breakerResetMs);
      this.breakers.set(system, breaker);
    }
    return { system, config: this.config, breaker, logger: this.logger };
  }

  /** Wrap a system client so every call runs under this system's policy. */
  wrap<T extends AsyncMethods<T>>(system: SystemName, target: T, writes: readonly (keyof T)[] = []): T {
    return withResilience(this.policy(system), target, writes);
  }

  /**
   * Every system as this process's breakers see it: DOWN while its circuit is open, DEGRADED while calls are failing
   * or a trial call is deciding, UP otherwise (a system no adapter has called yet counts as UP).
   */
  health(): { system: SystemName; state: 'UP' | 'DEGRADED' | 'DOWN'; detail: string | null }[] {
    return SYSTEM_NAMES.map((system) => {
      const state = this.breakers.get(system)?.current ?? { kind: 'closed', consecutiveFailures: 0 };
      switch (state.kind) {
        case 'open':
          return { system, state: 'DOWN' as const, detail: `circuit open since ${new Date(state.openedAt).toISOString()}: calls fail fast` };
        case 'half-open':
          return { system, state: 'DEGRADED' as const, detail: 'circuit half-open: a trial call decides' };
        case 'closed':
          return state.consecutiveFailures > 0
            ? { system, state: 'DEGRADED' as const, detail: `${state.consecutiveFailures} call(s) failed in a row` }
            : { system, state: 'UP' as const, detail: null };
        default:
          return assertNever(state);
      }
    });
  }
}
