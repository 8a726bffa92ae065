import { currentCorrelationId } from '../common/correlation.js';
import { atTime } from './clock.js';
import { isSystemName, SYSTEM_NAMES, TransportError, type SystemName } from '../common/resilience.js';
import { isWriteMethod, type SystemWrite, type WriteMethod } from '../common/systems/writes.js';

/** A fault set on one system, in the spirit of a Toxiproxy toxic. */
export interface Fault {
  /** Added to every call, in ms. Default 0. */
  latencyMs: number;
  /** Share of calls that fail with a transient error, 0..1. Default 0. */
  errorRate: number;
  /** Every call fails at once, as if the connection were refused. Default false. */
  down: boolean;
  /**
   * Calls the system takes per wall-clock second (a fixed window, as API gateways count); above it a call fails at once
   * with a TransportError carrying `retryAfterMs` (over RPC: 429 with Retry-After). 0: no limit. Default 0.
   */
  rateLimitPerSecond: number;
}

/** Per system: calls let through and refused by the rate limit, and the most let through in one wall-clock second. */
export interface CallRates {
  accepted: number;
  refused: number;
  peakPerSecond: number;
}

export interface SandboxControlOptions {
  /**
   * The clock, in ms, of the rate-limit fault and of the per-second call rates. Injected by tests to move time
   * without sleeping.
   * @default Date.now
   */
  now?: () => number;
}

export interface CallRecord {
  system: SystemName;
  method: string;
  correlationId: string | null;
  at: string;
}

const NO_FAULT: Fault = { latencyMs: 0, errorRate: 0, down: false, rateLimitPerSecond: 0 };
const RECENT_LIMIT = 2000;

/**
 * Faults and call counters for every sandbox system. Counters count calls as the system sees them (one batch
 * call is one call), which is what the N+1 tests measure. Every call counts, a refused one too; the call rates
 * split them into those the rate limit let through (accepted, whatever happens to them next) and those it
 * refused, so that accepted + refused is the system's count.
 */
export class SandboxControl {
  private readonly faults = new Map<SystemName, Fault>();
  private counters: Record<string, Record<string, number>> = {};
  private recent: CallRecord[] = [];
  private readonly now: () => number;
  private rates = new Map<SystemName, CallRates & { second: number; inSecond: number }>();

  constructor(options: SandboxControlOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  setFault(system: SystemName, fault: Partial<Fault>): Fault {
    const merged = { ...(this.faults.get(system) ?? NO_FAULT), ...fault };
    this.faults.set(system, merged);
    return merged;
  }

  clearFaults(): void {
    this.faults.clear();
  }

  fault(system: SystemName): Fault {
    return this.faults.get(system) ?? NO_FAULT;
  }

  allFaults(): Record<string, Fault> {
    return Object.fromEntries(SYSTEM_NAMES.map((s) => [s, this.fault(s)]));
  }

  calls(): Record<string, Record<string, number>> {
    return structuredClone(this.counters);
  }

  /** Every system's call rates since the last reset. */
  callRates(): Record<string, CallRates> {
    return Object.fromEntries(
      SYSTEM_NAMES.map((s) => {
        const r = this.rates.get(s);
        return [s, { accepted: r?.accepted ?? 0, refused: r?.refused ?? 0, peakPerSecond: r?.peakPerSecond ?? 0 }];
      }),
    );
  }

  recentCalls(): CallRecord[] {
    return this.recent.slice();
  }

  resetCalls(): void {
    this.counters = {};
    this.recent = [];
    this.rates = new Map();
  }

  /** Count the call, then play the system's fault: the rate limit first (it stands in front of the system), then the rest. */
  async before(system: SystemName, method: string): Promise<void> {
    const perSystem = (this.counters[system] ??= {});
    perSystem[method] = (perSystem[method] ?? 0) + 1;
    this.recent.push({ system, method, correlationId: currentCorrelationId() ?? null, at: new Date().toISOString() });
    if (this.recent.length > RECENT_LIMIT) this.recent.splice(0, this.recent.length - RECENT_LIMIT);
    const fault = this.fault(system);
    const rates = this.ratesOf(system);
    if (fault.rateLimitPerSecond > 0) {
      // A fixed window per wall-clock second, as ERPs' API gateways count: never more than N accepted in any second
      // (a token bucket of N would let a full burst and its refill, nearly 2N, into one second).
      const now = this.now();
      const second = Math.floor(now / 1000);
      const accepted = rates.second === second ? rates.inSecond : 0;
      if (accepted >= fault.rateLimitPerSecond) {
        rates.refused++;
        const retryAfterMs = Math.max(1, (second + 1) * 1000 - now);
        throw new TransportError(`${system.toUpperCase()} rate limit: retry after ${retryAfterMs} ms (sandbox fault: rateLimitPerSecond ${fault.rateLimitPerSecond})`, true, retryAfterMs);
      }
    }
    this.countAccepted(rates);
    if (fault.down) throw new TransportError(`${system} refused the connection (sandbox fault: down)`);
    if (fault.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    if (fault.errorRate > 0 && Math.random() < fault.errorRate) throw new TransportError(`${system} answered 503 (sandbox fault: errorRate)`);
  }

  private ratesOf(system: SystemName): CallRates & { second: number; inSecond: number } {
    let rates = this.rates.get(system);
    if (!rates) this.rates.set(system, (rates = { accepted: 0, refused: 0, peakPerSecond: 0, second: Number.NaN, inSecond: 0 }));
    return rates;
  }

  private countAccepted(rates: CallRates & { second: number; inSecond: number }): void {
    const second = Math.floor(this.now() / 1000);
    if (second !== rates.second) {
      rates.second = second;
      rates.inSecond = 0;
    }
    rates.accepted++;
    rates.inSecond++;
    rates.peakPerSecond = Math.max(rates.peakPerSecond, rates.inSecond);
  }
}

/** Told about every successful write before its caller gets the answer (the DATA_DIR journal). */
export type WriteHook = (write: SystemWrite) => Promise<void>;

/**
 * Wrap a system so that every method call goes through {@link SandboxControl.before}, and every write (one of
 * `writes`) runs at a fixed {@link callTime} and is reported to `onWrite` before it returns. With a null control
 * the calls are neither counted nor faulted (the system's own console), and writes are still reported.
 */
export function instrument<S extends SystemName, T extends object>(system: S, target: T, control: SandboxControl | null, writes: readonly WriteMethod<S>[] = [], onWrite?: WriteHook): T {
  const isWriteOf = (prop: string): prop is WriteMethod<S> => (writes as readonly string[]).includes(prop);
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const isWrite = isWriteOf(prop);
      return async (...args: unknown[]) => {
        if (control) await control.before(system, prop);
        if (!isWrite) return (value as (...a: unknown[]) => unknown).apply(obj, args);
        const at = new Date();
        const result = await atTime(at, () => (value as (...a: unknown[]) => unknown).apply(obj, args));
        // The mapped union cannot be narrowed by a generic S; system and method are S's by construction.
        if (onWrite) await onWrite({ system, method: prop, args, at: at.toISOString() } as SystemWrite);
        return result;
      };
    },
  });
}

/**
 * Apply a journaled write again (at its original time) to a system that is not instrumented. Sandbox writes
 * change state synchronously (their bodies never await), so the state is applied when this returns. A journal line
 * naming anything but one of the system's writes (common/systems/writes.ts) is refused: replaying a read is
 * harmless, but such a line was never written by this code.
 */
export function replayWrite(target: object, write: { system: SystemName; method: string; args: unknown[]; at: string }): void {
  if (!isWriteMethod(write.system, write.method)) throw new Error(`journal names ${write.system}.${write.method}, which is not a write of ${write.system}`);
  const fn = (target as Record<string, unknown>)[write.method];
  if (typeof fn !== 'function') throw new Error(`journal names unknown method ${write.method}`);
  const result = atTime(new Date(write.at), () => (fn as (...a: unknown[]) => unknown).apply(target, write.args));
  if (result instanceof Promise) result.catch(() => undefined);
}

/** Validate a `POST /sandbox/faults` body; returns an error message or the parsed fault. */
export function parseFaultBody(body: unknown): { system: SystemName; fault: Partial<Fault> } | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (!isSystemName(b.system)) return `system must be one of ${SYSTEM_NAMES.join(', ')}`;
  const fault: Partial<Fault> = {};
  if (b.latencyMs !== undefined) {
    if (typeof b.latencyMs !== 'number' || !Number.isFinite(b.latencyMs) || b.latencyMs < 0 || b.latencyMs > 600_000) return 'latencyMs must be a number from 0 to 600000';
    fault.latencyMs = b.latencyMs;
  }
  if (b.errorRate !== undefined) {
    if (typeof b.errorRate !== 'number' || !(b.errorRate >= 0 && b.errorRate <= 1)) return 'errorRate must be a number from 0 to 1';
    fault.errorRate = b.errorRate;
  }
  if (b.down !== undefined) {
    if (typeof b.down !== 'boolean') return 'down must be true or false';
    fault.down = b.down;
  }
  if (b.rateLimitPerSecond !== undefined) {
    if (!Number.isSafeInteger(b.rateLimitPerSecond) || (b.rateLimitPerSecond as number) < 0) return 'rateLimitPerSecond must be an integer >= 0 (0: no limit)';
    fault.rateLimitPerSecond = b.rateLimitPerSecond as number;
  }
  return { system: b.system, fault };
}
