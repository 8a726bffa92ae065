import { createHash } from 'node:crypto';
import type { Principal } from './auth/principal.js';
import { shortDigest } from './digest.js';

/**
 * Idempotency records, as the client contract states them: the same key with the same input returns the
 * original payload and creates nothing; the same key with another input is `IDEMPOTENCY_KEY_REUSED`; a second
 * call while the first still runs is `IDEMPOTENCY_KEY_IN_USE`. Keys are scoped by caller and kept at least 24 h.
 */
export type IdempotencyBegin =
  /** The caller now owns the key and must `complete` (or `abandon`) it. */
  | { kind: 'started' }
  /** Finished earlier with the same input: answer with this payload, do nothing else. */
  | { kind: 'replay'; response: unknown }
  /** Another call with this key is still running. */
  | { kind: 'in-use' }
  /** Finished or running with a different input. */
  | { kind: 'reused' };

/**
 * The idempotency store port. Implementations: {@link InMemoryIdempotencyStore} (embedded default) and, with
 * `REDIS_URL`, Redis (`SET NX PX`), which several instances share.
 *
 * Contract: `begin` is atomic per (scope, key): of concurrent calls exactly one gets `started`. A started key
 * that is neither completed nor abandoned within `lockTtlMs` (a crashed caller) may be started again. A
 * completed record is kept for `ttlMs` (at least 24 h).
 */
export interface IdempotencyStore {
  begin(scope: string, key: string, fingerprint: string): Promise<IdempotencyBegin>;
  complete(scope: string, key: string, fingerprint: string, response: unknown): Promise<void>;
  /** Give the key back (the operation failed before it changed anything), so that a retry can run. */
  abandon(scope: string, key: string): Promise<void>;
}

export interface IdempotencyOptions {
  /**
   * How long a completed record is kept, in ms, from the time it completed (across restarts too).
   * @default 86_400_000 (24 h)
   */
  ttlMs?: number;
  /** How long a started record blocks others before it counts as abandoned, in ms. Default 30 s. */
  lockTtlMs?: number;
  now?: () => number;
}

export const DAY_MS = 86_400_000;

/** Who is calling, as far as idempotency cares: keys are scoped by caller. */
export interface CallerScope {
  correlationId: string;
  /** The caller's credentials, if any. */
  authorization?: string | undefined;
  /** The verified caller, when the service has one. */
  principal?: Principal | undefined;
}

/**
 * The idempotency scope of a caller: who the verified token names (its role and subject), so that a retry with a
 * refreshed token of the same person is still the same caller; without a principal, a hash of the credentials
 * (never the credentials), or anonymous.
 */
/**
 * A reference a write carries to a system of record, derived from the caller and its idempotency key (and whatever
 * else names the write): the same request's retry gives the same reference, and the reference names no one.
 */
export function callerKeyDigest(scope: CallerScope, ...parts: string[]): string {
  return shortDigest([callerOf(scope), ...parts].join('\0'));
}

export function callerOf(scope: CallerScope): string {
  const principal = scope.principal;
  if (principal && principal.kind !== 'anonymous') return `${principal.kind}:${principal.subject}`;
  return scope.authorization ? `auth:${createHash('sha256').update(scope.authorization).digest('hex')}` : 'anonymous';
}

/** A stable digest of an operation and its input: key order in objects does not change it. */
export function fingerprintOf(operation: string, input: unknown): string {
  return createHash('sha256').update(operation).update('\0').update(canonicalJson(input)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

type Entry = { state: 'running'; fingerprint: string; until: number } | { state: 'done'; fingerprint: string; response: unknown; until: number; at: number };

/** A completed record with the time it completed (ISO 8601): what a durable store keeps and restores. */
export interface CompletedIdempotencyRecord {
  scope: string;
  key: string;
  fingerprint: string;
  response: unknown;
  at: string;
}

/** The embedded store: one process, records in memory (the DATA_DIR journal persists them, common/durable.ts). */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly lockTtlMs: number;
  readonly now: () => number;

  constructor(options: IdempotencyOptions = {}) {
    this.ttlMs = options.ttlMs ?? DAY_MS;
    this.lockTtlMs = options.lockTtlMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  async begin(scope: string, key: string, fingerprint: string): Promise<IdempotencyBegin> {
    const id = `${scope}\0${key}`;
    const now = this.now();
    const entry = this.entries.get(id);
    if (!entry || entry.until <= now) {
      this.entries.set(id, { state: 'running', fingerprint, until: now + this.lockTtlMs });
      this.sweep(now);
      return { kind: 'started' };
    }
    if (entry.fingerprint !== fingerprint) return { kind: 'reused' };
    return entry.state === 'running' ? { kind: 'in-use' } : { kind: 'replay', response: entry.response };
  }

  async complete(scope: string, key: string, fingerprint: string, response: unknown): Promise<void> {
    this.completeNow(scope, key, fingerprint, response);
  }

  /** `complete`, synchronously; answers the record with the time it completed at. */
  completeNow(scope: string, key: string, fingerprint: string, response: unknown): CompletedIdempotencyRecord {
    const at = this.now();
    this.entries.set(`${scope}\0${key}`, { state: 'done', fingerprint, response, until: at + this.ttlMs, at });
    return { scope, key, fingerprint, response, at: new Date(at).toISOString() };
  }

  async abandon(scope: string, key: string): Promise<void> {
    this.forget(scope, key);
  }

  /** `abandon`, synchronously. */
  forget(scope: string, key: string): void {
    this.entries.delete(`${scope}\0${key}`);
  }

  /**
   * A record completed at `record.at` (a restart): kept for what is left of its TTL from then, not a fresh one; an
   * expired one is dropped (and replaces whatever the key held).
   */
  restore(record: CompletedIdempotencyRecord): void {
    const id = `${record.scope}\0${record.key}`;
    const at = Date.parse(record.at);
    const until = (Number.isFinite(at) ? at : this.now()) + this.ttlMs;
    if (until <= this.now()) this.entries.delete(id);
    else this.entries.set(id, { state: 'done', fingerprint: record.fingerprint, response: record.response, until, at: until - this.ttlMs });
  }

  /** The completed records not yet expired (running keys are not: a restart abandons them). */
  completedRecords(): CompletedIdempotencyRecord[] {
    const now = this.now();
    const records: CompletedIdempotencyRecord[] = [];
    for (const [id, entry] of this.entries) {
      if (entry.state !== 'done' || entry.until <= now) continue;
      const split = id.indexOf('\0');
      records.push({ scope: id.slice(0, split), key: id.slice(split + 1), fingerprint: entry.fingerprint, response: entry.response, at: new Date(entry.at).toISOString() });
    }
    return records;
  }

  private lastSweep = 0;
  /** Drop expired records now and then, so the map does not grow for ever. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [id, entry] of this.entries) if (entry.until <= now) this.entries.delete(id);
  }
}
