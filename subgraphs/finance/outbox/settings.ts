import type { AppConfig } from '../../../common/config.js';

/** How the ERP outbox retries and how hard it may press the ERP. Every value is configurable; tests use small ones. */
export interface OutboxSettings {
  /**
   * Base of the exponential backoff, in ms: the n-th retry waits a random time in [0, min(cap, base·2^(n−1))].
   * @default 5000
   */
  baseMs: number;
  /**
   * Largest wait between two attempts, in ms.
   * @default 900000
   */
  capMs: number;
  /**
   * Failed attempts after which a posting is DEAD_LETTER (a POSTING_FAILED event) until someone replays it.
   * @default 8
   */
  maxAttempts: number;
  /**
   * How often the worker looks for due postings, in ms (new postings are tried at once).
   * @default 1000
   */
  pollMs: number;
  /**
   * Postings booked per ERP call (`ERP_POSTING_BATCH_SIZE`): the worker takes this many due postings per look and
   * books them in one batch call.
   * @default 20
   */
  batchSize: number;
  /**
   * ERP calls per second that the outbox makes at most (`ERP_MAX_CALLS_PER_SECOND`), every finance instance together
   * when they share Redis: a token bucket of this rate and burst, one token per call (a batch is one call).
   * @default 20
   */
  maxCallsPerSecond: number;
}

export const DEFAULT_OUTBOX_SETTINGS: OutboxSettings = {
  baseMs: 5_000,
  capMs: 15 * 60_000,
  maxAttempts: 8,
  pollMs: 1_000,
  batchSize: 20,
  maxCallsPerSecond: 20,
};

/**
 * The most postings one batch call may carry: a bound on the size of one ERP request, and on how long a worker
 * holds the postings it claimed before their outcome is saved.
 */
export const MAX_POSTING_BATCH_SIZE = 500;

/**
 * The configuration the finance subgraph reads: the application's, whose optional `erpOutbox` section holds
 * overrides of {@link OutboxSettings} (unset values keep the defaults).
 */
export type FinanceConfig = AppConfig & { erpOutbox?: Partial<OutboxSettings> | undefined };

/** The settings with defaults filled in; throws on a value that is not a positive integer (maxAttempts ≥ 1). */
export function outboxSettings(partial: Partial<OutboxSettings> | undefined = {}): OutboxSettings {
  const settings = { ...DEFAULT_OUTBOX_SETTINGS, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as OutboxSettings;
  for (const [key, value] of Object.entries(settings)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`erpOutbox.${key} must be a whole number of at least 1, got ${String(value)}`);
  }
  if (settings.capMs < settings.baseMs) throw new Error(`erpOutbox.capMs (${settings.capMs}) must not be below baseMs (${settings.baseMs})`);
  if (settings.batchSize > MAX_POSTING_BATCH_SIZE) throw new Error(`erpOutbox.batchSize (ERP_POSTING_BATCH_SIZE) must be at most ${MAX_POSTING_BATCH_SIZE}, got ${settings.batchSize}`);
  return settings;
}
