import { assertNever } from './assert-never.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  fullJitterGenerator,
  handleWhen,
  retry,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  wrap,
  type CircuitBreakerPolicy,
  type IDefaultPolicyContext,
  type IPolicy,
  type IRetryContext,
} from 'cockatiel';
import { GraphQLError } from 'graphql';
import type { AdapterConfig } from './config.js';
import { currentCorrelationId } from './correlation.js';
import type { Logger } from './logger.js';
import { BREAKER_STATE_VALUES, type Metrics } from './telemetry/metrics.js';
import { inSpan, SpanKind } from './telemetry/tracing.js';
import { WRITE_METHODS } from './systems/writes.js';

/** The systems of record the graph reads and writes. */
export type SystemName = 'erp' | 'pos' | 'crm' | 'wms' | 'psp' | 'ecom' | 'tax' | 'marketplace';
export const SYSTEM_NAMES: readonly SystemName[] = ['erp', 'pos', 'crm', 'wms', 'psp', 'ecom', 'tax', 'marketplace'];

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
  /** What failed underneath, for `retail_system_calls_total` (never in a response). */
  readonly failure: SystemFailure;
  constructor(system: SystemName, reason: string, options: { retryAfterMs?: number | undefined; cause?: unknown } = {}) {
    const { retryAfterMs } = options;
    super(`${system.toUpperCase()} is unavailable: ${reason}`, {
      extensions: { code: `${system.toUpperCase()}_UNAVAILABLE`, system, reason, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
    });
    this.system = system;
    this.retryAfterMs = retryAfterMs;
    this.failure = outcomeOf(options.cause);
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
  | { kind: 'half-open' };

/** A refusal for rate (the system's 429): the system is up, the caller too fast. */
function isRateRefusal(error: unknown): boolean {
  return error instanceof TransportError && error.retryAfterMs !== undefined;
}

/**
 * One breaker per system and process, a cockatiel circuit breaker with a consecutive-failure count. Closed: calls
 * pass, consecutive failed calls are counted. Open: calls fail fast until `resetMs` has passed. Half-open: the first
 * call after that is the trial; its outcome decides between closed and open again.
 *
 * A refusal for rate is not a failure the breaker handles (`handleWhen`): it counts as neither success nor failure
 * while closed, so failures around it stay consecutive. A half-open trial refused so closes the circuit (cockatiel
 * takes an error it does not handle as an answer) without clearing the count, so the next failed call reopens it at
 * once and the next successful one clears it: the next call decides, as with a trial, but other calls pass meanwhile.
 */
export class CircuitBreaker {
  private readonly consecutive: ConsecutiveBreaker;
  /** The cockatiel policy, for {@link callSystem}; shared by every call to the system. */
  readonly policy: CircuitBreakerPolicy;
  private openedAt = 0;

  constructor(failureThreshold: number, resetMs: number) {
    this.consecutive = new ConsecutiveBreaker(failureThreshold);
    this.policy = circuitBreaker(
      handleWhen((error) => !isRateRefusal(error)),
      { halfOpenAfter: resetMs, breaker: this.consecutive },
    );
    // cockatiel keeps the time it opened to itself; the health view says since when.
    this.policy.onBreak(() => (this.openedAt = Date.now()));
  }

  get current(): BreakerState {
    switch (this.policy.state) {
      case CircuitState.Closed:
        return { kind: 'closed', consecutiveFailures: this.consecutive.state };
      case CircuitState.HalfOpen:
        return { kind: 'half-open' };
      case CircuitState.Open:
      case CircuitState.Isolated:
        return { kind: 'open', openedAt: this.openedAt };
      default:
        return assertNever(this.policy.state);
    }
  }
}

export { assertNever };

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

/**
 * Full jitter, a random wait in [0, min(1000, 25 · 2^n)) before the n-th retry (n from 0), so that retrying
 * clients do not march in step: the schedule of common/backoff.ts (`retryDelayMs(n + 1, 25, 1000)`) in cockatiel's
 * terms, which its retry policy takes.
 */
export const RETRY_BACKOFF = new ExponentialBackoff({ generator: fullJitterGenerator, initialDelay: 25, maxDelay: 1000, exponent: 2 });

/** Whether another attempt can help: not after a timeout (it spent the caller's patience), a refusal for good or for rate. */
function isRetryable(error: unknown): boolean {
  return !(error instanceof TaskCancelledError) && !(error instanceof TransportError && !error.transient) && !isRateRefusal(error);
}

/**
 * The policies of one call: the system's breaker outermost (it hears the call's outcome once, after its retries),
 * then retries for a read, then each attempt's timeout. Timeout and retry hold no state across calls.
 */
function callPolicy(config: AdapterConfig, breaker: CircuitBreaker, idempotent: boolean): IPolicy<IDefaultPolicyContext & Partial<IRetryContext>> {
  // Aggressive rather than cooperative: both hand the attempt an AbortSignal and abort it at the deadline (what a
  // transport passes to fetch), but a callee that cannot hear it (an in-process system) would keep a cooperative
  // timeout waiting for its answer; aggressive stops waiting too. Not aborted on return: only a timed-out attempt is cut.
  const attemptTimeout = timeout(Math.max(1, config.timeoutMs), { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
  if (!idempotent) return wrap(breaker.policy, attemptTimeout);
  return wrap(breaker.policy, retry(handleWhen(isRetryable), { maxAttempts: Math.max(0, config.retries), backoff: RETRY_BACKOFF }), attemptTimeout);
}

export interface ResiliencePolicy {
  system: SystemName;
  config: AdapterConfig;
  breaker: CircuitBreaker;
  logger?: Logger | undefined;
  /** Where calls are counted and timed. @default none */
  metrics?: Pick<Metrics, 'systemCalls' | 'systemDuration' | 'systemRetries'> | undefined;
}

export type SystemFailure = 'error' | 'timeout' | 'circuit_open' | 'rate_limited';

/** How a call failed, for `retail_system_calls_total`'s `outcome`. */
function outcomeOf(error: unknown): SystemFailure {
  if (error instanceof BrokenCircuitError) return 'circuit_open';
  if (error instanceof TaskCancelledError) return 'timeout';
  if (isRateRefusal(error)) return 'rate_limited';
  return 'error';
}

/**
 * Run one call to a system of record under the policy (cockatiel's, composed breaker → retry → timeout): a timeout
 * on every attempt that aborts it (its signal is `fn`'s argument and {@link currentCallSignal}), retries with
 * jitter for reads that failed fast (a timed-out attempt already spent the caller's patience), breaker accounting.
 * Whatever goes wrong surfaces as a SystemUnavailableError naming the system.
 *
 * The breaker hears the call's outcome once, after its retries: a flaky system whose retries succeed is not
 * failing, and counting each failed attempt would let a few unlucky attempts of concurrent calls open the
 * circuit on a system that answers 97 % of calls. A half-open trial likewise includes its retries, and while it
 * runs other calls fail fast (cockatiel would hold them until the trial ends).
 *
 * A refusal for rate (a TransportError with `retryAfterMs`, the system's 429) ends the call at once: retrying
 * sooner than the system asked only earns more refusals, and a system that throttles is up, so the breaker does
 * not count it as a failure. It surfaces as a SystemUnavailableError carrying `retryAfterMs`, for the caller to
 * wait that long (the ERP outbox does).
 */
export async function callSystem<T>(policy: ResiliencePolicy, method: string, fn: (signal: AbortSignal) => Promise<T>, options: { idempotent: boolean }): Promise<T> {
  const { system, metrics } = policy;
  return inSpan(`${system}.${method}`, { kind: SpanKind.CLIENT, attributes: { 'retail.system': system, 'retail.method': method } }, async () => {
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await callOnce(policy, method, fn, options);
    } catch (error) {
      outcome = error instanceof SystemUnavailableError ? error.failure : 'error';
      throw error;
    } finally {
      metrics?.systemCalls.inc({ system, method, outcome });
      metrics?.systemDuration.observe({ system, method }, (performance.now() - started) / 1000);
    }
  });
}

async function callOnce<T>(policy: ResiliencePolicy, method: string, fn: (signal: AbortSignal) => Promise<T>, options: { idempotent: boolean }): Promise<T> {
  const { system, config, breaker, logger, metrics } = policy;
  if (breaker.policy.state === CircuitState.HalfOpen) throw new SystemUnavailableError(system, 'circuit open', { cause: new BrokenCircuitError() });
  try {
    return await callPolicy(config, breaker, options.idempotent).execute(async ({ signal, attempt = 0 }) => {
      if (attempt > 0) metrics?.systemRetries.inc({ system, method });
      const started = performance.now();
      try {
        const result = await callSignals.run(signal, () => fn(signal));
        logger?.debug({ system, method, attempt, ms: Math.round(performance.now() - started) }, 'adapter call');
        return result;
      } catch (error) {
        logger?.debug({ system, method, attempt, err: reasonOf(error, config), correlationId: currentCorrelationId() }, 'adapter call failed');
        throw error;
      }
      // A signal of the call's own: without one, cockatiel derives every attempt's timeout signal from one shared
      // never-aborted signal, whose listeners then pile up with the calls in flight (Node's MaxListeners warning).
    }, new AbortController().signal);
  } catch (error) {
    const reason = reasonOf(error, config);
    // Also the line for a timeout or a fast failure, which no attempt reports (a timed-out attempt is left behind).
    logger?.debug({ system, method, err: reason, correlationId: currentCorrelationId() }, 'adapter call unavailable');
    if (isRateRefusal(error)) throw new SystemUnavailableError(system, reason, { retryAfterMs: (error as TransportError).retryAfterMs, cause: error });
    throw new SystemUnavailableError(system, reason, { cause: error });
  }
}

function reasonOf(error: unknown, config: AdapterConfig): string {
  if (error instanceof BrokenCircuitError) return 'circuit open';
  // Only the attempt's timeout cancels a task here (no caller signal is passed in).
  if (error instanceof TaskCancelledError) return `no answer within ${config.timeoutMs} ms`;
  return error instanceof Error ? error.message : String(error);
}

// String keys only, as the proxy wraps: a symbol-keyed member (a system's state export) passes through unwrapped.
type AsyncMethods<T> = { [K in keyof T]: K extends string ? (T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => Promise<R> : never) : T[K] };

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
    /** Calls counted and timed, breakers' states read at scrape time. @default none */
    private readonly metrics?: Metrics,
  ) {
    metrics?.read(metrics.breakerState, (gauge) => {
      for (const [system, breaker] of this.breakers) gauge.set({ system }, BREAKER_STATE_VALUES[breaker.current.kind]);
    });
  }

  policy(system: SystemName): ResiliencePolicy {
    let breaker = this.breakers.get(system);
    if (!breaker) {
      breaker = new CircuitBreaker(this.config.breakerFailures, this.config.breakerResetMs);
      this.breakers.set(system, breaker);
    }
    return { system, config: this.config, breaker, logger: this.logger, metrics: this.metrics };
  }

  /**
   * Wrap a system client so every call runs under this system's policy. `writes` are the target's methods that must
   * not be retried; the system's own writes (WRITE_METHODS) never are, whether listed or not.
   */
  wrap<T extends AsyncMethods<T>>(system: SystemName, target: T, writes: readonly (keyof T)[] = []): T {
    return withResilience(this.policy(system), target, [...writes, ...(WRITE_METHODS[system] as readonly PropertyKey[] as readonly (keyof T)[])]);
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
