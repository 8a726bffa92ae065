import type { AppConfig } from '../../../common/config.js';

/** How the ERP outbox retries. Every value is configurable; tests use small ones. */
export interface OutboxSettings {
  /** Base of the exponential backoff, in ms: the n-th retry waits a random time in [0, min(cap, base·2^(n−1))]. */
  baseMs: number;
  /** Largest wait between two attempts, in ms. */
  capMs: number;
  /** Failed attempts after which a posting is DEAD_LETTER (a POSTING_FAILED event) until someone replays it. */
  maxAttempts: number;
  /** How often the worker looks for due postings, in ms (new postings are tried at once). */
  pollMs: number;
  /** Postings the worker takes per look. */
  batchSize: number;
}

export const DEFAULT_OUTBOX_SETTINGS: OutboxSettings = {
  baseMs: 5_000,
  capMs: 15 * 60_000,
  maxAttempts: 8,
  pollMs: 1_000,
  batchSize: 100,
};

/**
 * The configuration the finance subgraph reads: the application's, with an optional `erpOutbox` section.
 * (AppConfig has no such section yet: until it does, tests pass it as an override of the stack's config.)
 */
export type FinanceConfig = AppConfig & { erpOutbox?: Partial<OutboxSettings> | undefined };

/** The settings with defaults filled in; throws on a value that is not a positive integer (maxAttempts ≥ 1). */
export function outboxSettings(partial: Partial<OutboxSettings> | undefined = {}): OutboxSettings {
  const settings = { ...DEFAULT_OUTBOX_SETTINGS, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as OutboxSettings;
  for (const [key, value] of Object.entries(settings)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`erpOutbox.${key} must be a whole number of at least 1, got ${String(value)}`);
  }
  if (settings.capMs < settings.baseMs) throw new Error(`erpOutbox.capMs (${settings.capMs}) must not be below baseMs (${settings.baseMs})`);
  return settings;
}
