import { currentCorrelationId } from '../common/correlation.js';
import { atTime } from './clock.js';
import { isSystemName, SYSTEM_NAMES, TransportError, type SystemName } from '../common/resilience.js';

/** A fault set on one system, in the spirit of a Toxiproxy toxic. */
export interface Fault {
  /** Added to every call, in ms. Default 0. */
  latencyMs: number;
  /** Share of calls that fail with a transient error, 0..1. Default 0. */
  errorRate: number;
  /** Every call fails at once, as if the connection were refused. Default false. */
  down: boolean;
}

export interface CallRecord {
  system: SystemName;
  method: string;
  correlationId: string | null;
  at: string;
}

const NO_FAULT: Fault = { latencyMs: 0, errorRate: 0, down: false };
const RECENT_LIMIT = 2000;

/**
 * Faults and call counters for every sandbox system. Counters count calls as the system sees them (one batch
 * call is one call), which is what the N+1 tests measure.
 */
export class SandboxControl {
  private readonly faults = new Map<SystemName, Fault>();
  private counters: Record<string, Record<string, number>> = {};
  private recent: CallRecord[] = [];

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

  recentCalls(): CallRecord[] {
    return this.recent.slice();
  }

  resetCalls(): void {
    this.counters = {};
    this.recent = [];
  }

  /** Count the call, then play the system's fault. */
  async before(system: SystemName, method: string): Promise<void> {
    const perSystem = (this.counters[system] ??= {});
    perSystem[method] = (perSystem[method] ?? 0) + 1;
    this.recent.push({ system, method, correlationId: currentCorrelationId() ?? null, at: new Date().toISOString() });
    if (this.recent.length > RECENT_LIMIT) this.recent.splice(0, this.recent.length - RECENT_LIMIT);
    const fault = this.fault(system);
    if (fault.down) throw new TransportError(`${system} refused the connection (sandbox fault: down)`);
    if (fault.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    if (fault.errorRate > 0 && Math.random() < fault.errorRate) throw new TransportError(`${system} answered 503 (sandbox fault: errorRate)`);
  }
}

/** Told about every successful write before its caller gets the answer (the DATA_DIR journal). */
export type WriteHook = (write: { system: SystemName; method: string; args: unknown[]; at: string }) => Promise<void>;

/**
 * Wrap a system so that every method call goes through {@link SandboxControl.before}, and every write (one of
 * `writes`) runs at a fixed {@link callTime} and is reported to `onWrite` before it returns.
 */
export function instrument<T extends object>(system: SystemName, target: T, control: SandboxControl, writes: readonly string[] = [], onWrite?: WriteHook): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const isWrite = writes.includes(prop);
      return async (...args: unknown[]) => {
        await control.before(system, prop);
        if (!isWrite) return (value as (...a: unknown[]) => unknown).apply(obj, args);
        const at = new Date();
        const result = await atTime(at, () => (value as (...a: unknown[]) => unknown).apply(obj, args));
        if (onWrite) await onWrite({ system, method: prop, args, at: at.toISOString() });
        return result;
      };
    },
  });
}

/**
 * Apply a journaled write again (at its original time) to a system that is not instrumented. Sandbox writes
 * change state synchronously (their bodies never await), so the state is applied when this returns.
 */
export function replayWrite(target: object, write: { method: string; args: unknown[]; at: string }): void {
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
  return { system: b.system, fault };
}
