import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/connection.js';
import { redisKeys } from '../redis/keys.js';
import { retryDelayMs } from '../backoff.js';
import { createEvent, type EventBackbone } from '../events.js';
import type { Logger } from '../logger.js';
import { isActiveCurrency } from '../money.js';
import { assertNever } from '../resilience.js';
import { masterChangeKey, type MasterChange, type MasterDataException, type MasterDataRejection, type MasterSnapshot, type MasterStockPolicy, type MasterVariant } from './model.js';
import type { MasterDataStore } from './store.js';

/**
 * THE PORT over the ERP's master-data change feed.
 *
 * Contract: `changesAfter` answers the changes with a sequence above `sequence`, ascending, at most `limit`, each
 * an upsert of the whole record, with the ERP's latest sequence; POSITION_LOST when the ERP no longer holds every
 * change after `sequence` (or never issued it) — the reader must start over from `snapshot`, which holds every
 * record as of its `sequence`, consistently. A failure to reach the ERP rejects (a SystemUnavailableError).
 */
export interface MasterDataSource {
  changesAfter(sequence: number, limit: number): Promise<{ ok: true; changes: MasterChange[]; latestSequence: number } | { ok: false; reason: 'POSITION_LOST' }>;
  snapshot(): Promise<MasterSnapshot>;
}

/**
 * Who may run the sync when several instances share one store: take or renew with `acquire` (false: another holder
 * has it), give it back with `release`. A holder that stops renewing loses it after the lease's time to live.
 */
export interface SyncLease {
  acquire(): Promise<boolean>;
  release(): Promise<void>;
}

export type SyncState =
  /** Started, first round not done. */
  | 'STARTING'
  /** The store's position is the ERP's latest as of the last poll. */
  | 'IN_SYNC'
  /** Behind the ERP's latest, reading batch after batch without waiting. */
  | 'CATCHING_UP'
  /** Replacing the whole model from a snapshot (never synced, or POSITION_LOST). */
  | 'RESYNCING'
  /** The ERP (or the store, or the lease) failed; waiting with backoff before the next try. */
  | 'BACKING_OFF'
  /** Another instance holds the lease; this one only watches (its store follows the shared one). */
  | 'STANDBY'
  | 'STOPPED';

export type SyncStatus = {
  state: SyncState;
  /** Consecutive failed rounds (0 after a success). */
  failures: number;
  /** The last failure's message while failing; null once a round succeeds. */
  lastError: string | null;
  /** When this instance last heard from the ERP. */
  lastPollAt: string | null;
  /** The ERP's latest sequence as of that poll. */
  latestSequence: number | null;
};

export interface MasterDataSyncOptions {
  /** The ERP's change feed (required). */
  source: MasterDataSource;
  /** The read models it keeps (required). */
  store: MasterDataStore;
  /** Where MASTER_DATA_REJECTED events go (required). */
  backbone: EventBackbone;
  /** One line per applied batch, snapshot and rejection (required). */
  logger: Logger;
  /** Which locations exist (the POS's stores and the WMS's warehouses), for UNKNOWN_LOCATION (required). */
  locations: { exists(ids: readonly string[]): Promise<boolean[]> };
  /**
   * With a store shared by several instances (Redis): only the holder syncs, the others are STANDBY.
   * @default none (this instance always syncs)
   */
  lease?: SyncLease;
  /**
   * How long to wait between polls once in sync, in ms.
   * @default 500
   */
  pollMs?: number;
  /**
   * Changes asked for per poll (1..5000).
   * @default 500
   */
  batchSize?: number;
  /**
   * Backoff while failing (full jitter, common/backoff.ts): the ceiling after the first failure, in ms.
   * @default 500
   */
  backoffBaseMs?: number;
  /**
   * The backoff's ceiling at most, in ms.
   * @default 30000
   */
  backoffCapMs?: number;
  /**
   * The clock that stamps exceptions and polls.
   * @default () => new Date()
   */
  now?: () => Date;
}

/** SKUs the graph accepts: what the checkout, the POS and the labels can carry. */
export const SKU_PATTERN = /^[A-Z0-9][A-Z0-9-]{2,63}$/;

type Verdict = { reason: MasterDataRejection; message: string } | null;

function checkVariant(variant: MasterVariant, productKnown: (id: string) => boolean): Verdict {
  if (typeof variant.sku !== 'string' || !SKU_PATTERN.test(variant.sku)) return { reason: 'MALFORMED_SKU', message: `SKU ${JSON.stringify(variant.sku)} does not match ${SKU_PATTERN.source}` };
  const { minor, currency } = variant.price;
  if (!Number.isSafeInteger(minor) || minor <= 0) return { reason: 'NON_POSITIVE_PRICE', message: `list price ${minor} (minor units) of ${variant.sku} is not a positive amount` };
  if (typeof currency !== 'string' || !isActiveCurrency(currency)) return { reason: 'UNKNOWN_CURRENCY', message: `currency ${JSON.stringify(currency)} of ${variant.sku} is not an active ISO 4217 currency` };
  if (!productKnown(variant.productId)) return { reason: 'UNKNOWN_PRODUCT', message: `product ${variant.productId} of ${variant.sku} is not in the item master` };
  return null;
}

function checkPolicy(policy: MasterStockPolicy, locationKnown: (id: string) => boolean): Verdict {
  if (typeof policy.sku !== 'string' || !SKU_PATTERN.test(policy.sku)) return { reason: 'MALFORMED_SKU', message: `SKU ${JSON.stringify(policy.sku)} does not match ${SKU_PATTERN.source}` };
  for (const [field, value] of [
    ['safety stock', policy.safetyStock],
    ['incoming', policy.incoming],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) return { reason: 'NEGATIVE_QUANTITY', message: `${field} ${value} of ${policy.sku} at ${policy.locationId} is not a whole number of units ≥ 0` };
  }
  if (!locationKnown(policy.locationId)) return { reason: 'UNKNOWN_LOCATION', message: `location ${JSON.stringify(policy.locationId)} of the policy for ${policy.sku} does not exist` };
  return null;
}

function positiveInt(value: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw new RangeError(`${name} must be an integer from 1 to ${max}, got ${value}`);
  return value;
}

/**
 * The worker that keeps a {@link MasterDataStore} in step with the ERP's change feed.
 *
 * Each round: a never-synced store, or a feed that lost the store's position, is replaced from a snapshot
 * (RESYNCING) — never patched into a half-applied catalog; otherwise the changes after the store's position are
 * read (`batchSize` at a time, without waiting while behind) and applied in order, at most once each (the store
 * skips what it has, so a restart resumes from its position). Once in sync it polls every `pollMs`. While the
 * ERP (or the store) fails it backs off with full jitter from `backoffBaseMs` up to `backoffCapMs`, and catches up
 * after.
 *
 * Data quality at the boundary, per change before it is applied (and per record of a snapshot): a variant with a
 * price ≤ 0, a currency not in ISO 4217, a malformed SKU or a product the model does not know (unless the same
 * batch brings it), a policy with a malformed SKU, a negative quantity or a location that does not exist, is not
 * applied. It becomes an exception in the store with a MASTER_DATA_REJECTED event, the position moves past it and
 * the previous good version stays in service (a snapshot's bad record keeps the previous version, or is left out
 * on a first sync).
 *
 * With a lease, only its holder syncs; the others are STANDBY and take over when the lease lapses.
 */
export class MasterDataSync {
  private readonly source: MasterDataSource;
  private readonly store: MasterDataStore;
  private readonly backbone: EventBackbone;
  private readonly logger: Logger;
  private readonly locations: MasterDataSyncOptions['locations'];
  private readonly lease: SyncLease | undefined;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly backoffBaseMs: number;
  private readonly backoffCapMs: number;
  private readonly now: () => Date;

  private state: SyncState = 'STOPPED';
  private failures = 0;
  private lastError: string | null = null;
  private lastPollAt: string | null = null;
  private latestSequence: number | null = null;
  private holding = false;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private firstRound: Promise<void> | null = null;
  private firstRoundDone: (() => void) | null = null;
  /** Ends the current wait: `interrupt` always (stop), `poke` only an idle poll wait (not a backoff). */
  private interrupt: (() => void) | null = null;
  private poke: (() => void) | null = null;
  private readonly waiters = new Set<{ sequence: number; done: () => void }>();
  private waiterTimer: NodeJS.Timeout | null = null;
  /** The locations port's last answer per location, for when it cannot answer. */
  private readonly lastLocationAnswer = new Map<string, boolean>();

  constructor(options: MasterDataSyncOptions) {
    this.source = options.source;
    this.store = options.store;
    this.backbone = options.backbone;
    this.logger = options.logger;
    this.locations = options.locations;
    this.lease = options.lease;
    this.pollMs = positiveInt(options.pollMs ?? 500, 'pollMs');
    this.batchSize = positiveInt(options.batchSize ?? 500, 'batchSize', 5000);
    this.backoffBaseMs = positiveInt(options.backoffBaseMs ?? 500, 'backoffBaseMs');
    this.backoffCapMs = positiveInt(options.backoffCapMs ?? 30_000, 'backoffCapMs');
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Start the worker. Resolves after its first round (the first snapshot or poll, or standing by), successful or
   * not: with a reachable ERP the store is filled by then, and an ERP outage never holds up the start.
   */
  start(): Promise<void> {
    if (this.loop) return this.firstRound ?? Promise.resolve();
    this.stopping = false;
    this.state = 'STARTING';
    this.firstRound = new Promise<void>((resolve) => (this.firstRoundDone = resolve));
    this.loop = this.run();
    return this.firstRound;
  }

  /** Stop after the round in progress and give the lease back. */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    this.interrupt?.();
    await this.loop;
    this.loop = null;
    if (this.lease && this.holding) {
      this.holding = false;
      await this.lease.release().catch((error: unknown) => this.logger.warn({ err: error }, 'master-data sync lease not released'));
    }
    this.state = 'STOPPED';
    this.firstRoundDone?.();
  }

  status(): SyncStatus {
    return { state: this.state, failures: this.failures, lastError: this.lastError, lastPollAt: this.lastPollAt, latestSequence: this.latestSequence };
  }

  /**
   * Resolves once the store's position is at least `sequence` (for a Redis store, also when another instance's
   * sync got it there); rejects after `timeoutMs`. An idle worker polls at once rather than at its next tick.
   * @param timeoutMs @default 10000
   */
  caughtUp(sequence: number, timeoutMs = 10_000): Promise<void> {
    if (this.reached(sequence)) return Promise.resolve();
    this.poke?.();
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        sequence,
        done: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`master data not at sequence ${sequence} within ${timeoutMs} ms (at ${String(this.store.position().sequence)}; sync ${this.state})`));
      }, timeoutMs);
      this.waiters.add(waiter);
      // The store may move without this worker (a replica following another instance's sync): look now and then.
      if (!this.waiterTimer) {
        this.waiterTimer = setInterval(() => this.settleWaiters(), 20);
        this.waiterTimer.unref();
      }
    });
  }

  private reached(sequence: number): boolean {
    const at = this.store.position().sequence;
    return at !== null && at >= sequence;
  }

  private settleWaiters(): void {
    for (const waiter of this.waiters) if (this.reached(waiter.sequence)) waiter.done();
    if (!this.waiters.size && this.waiterTimer) {
      clearInterval(this.waiterTimer);
      this.waiterTimer = null;
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let waitMs: number;
      let idle = false;
      try {
        if (this.lease && !(await this.lease.acquire())) {
          if (this.holding) this.logger.info('master-data sync: another instance holds the lease');
          this.holding = false;
          this.state = 'STANDBY';
          waitMs = this.pollMs;
        } else {
          if (this.lease && !this.holding) this.logger.info('master-data sync: lease taken');
          this.holding = this.lease !== undefined;
          const more = await this.round();
          this.failures = 0;
          this.lastError = null;
          waitMs = more ? 0 : this.pollMs;
          idle = !more;
        }
      } catch (error) {
        this.failures++;
        this.lastError = error instanceof Error ? error.message : String(error);
        this.state = 'BACKING_OFF';
        waitMs = retryDelayMs(this.failures, this.backoffBaseMs, this.backoffCapMs);
        this.logger.warn({ err: this.lastError, failures: this.failures, retryInMs: waitMs }, 'master-data sync failed; backing off');
      }
      this.settleWaiters();
      this.firstRoundDone?.();
      this.firstRoundDone = null;
      if (waitMs > 0 && !this.stopping) await this.wait(waitMs, idle);
    }
  }

  private wait(ms: number, pokeable: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.interrupt = null;
        this.poke = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.interrupt = done;
      if (pokeable) this.poke = done;
    });
  }

  /** One poll (or resync); answers whether there is more to read at once. */
  private async round(): Promise<boolean> {
    const position = this.store.position().sequence;
    if (position === null) {
      await this.resync('never synced');
      return true;
    }
    if (this.state !== 'IN_SYNC') this.state = 'CATCHING_UP';
    const batch = await this.source.changesAfter(position, this.batchSize);
    this.lastPollAt = this.now().toISOString();
    if (!batch.ok) {
      this.logger.warn({ position }, 'master-data sync: the ERP lost our position; resyncing from a snapshot');
      await this.resync('position lost');
      return true;
    }
    this.latestSequence = batch.latestSequence;
    if (batch.changes.length) await this.applyBatch(batch.changes);
    const now = this.store.position().sequence ?? position;
    const behind = now < batch.latestSequence;
    this.state = behind ? 'CATCHING_UP' : 'IN_SYNC';
    return behind && now > position;
  }

  private async applyBatch(changes: readonly MasterChange[]): Promise<void> {
    const position = this.store.position().sequence;
    const fresh = position === null ? changes : changes.filter((c) => c.sequence > position);
    if (!fresh.length) return;
    const bringsProduct = new Set(fresh.flatMap((c) => (c.kind === 'PRODUCT' ? [c.product.id] : [])));
    const productKnown = (id: string) => bringsProduct.has(id) || this.store.getProducts([id])[0] !== null;
    const locationKnown = await this.locationCheck(fresh.flatMap((c) => (c.kind === 'STOCK_POLICY' ? [c.policy.locationId] : [])));
    const accepted: MasterChange[] = [];
    const refused: { change: MasterChange; verdict: NonNullable<Verdict> }[] = [];
    for (const change of fresh) {
      const verdict = this.check(change, productKnown, locationKnown);
      if (verdict) refused.push({ change, verdict });
      else accepted.push(change);
    }
    // Refusals first: should the process die before the apply, the batch comes again and meets the same
    // exceptions (idempotent by id) rather than a position that moved past them unrecorded.
    for (const { change, verdict } of refused) await this.reject(change, verdict, `md-${change.sequence}`);
    if (accepted.length) {
      await this.store.apply(accepted);
      this.logger.info({ count: accepted.length, from: accepted[0]!.sequence, to: accepted.at(-1)!.sequence, refused: refused.length }, 'master-data batch applied');
    }
    const last = fresh.at(-1)!;
    const at = this.store.position().sequence;
    if (at === null || at < last.sequence) await this.store.skip(last.sequence, last.at);
  }

  private async resync(why: string): Promise<void> {
    this.state = 'RESYNCING';
    const snapshot = await this.source.snapshot();
    this.lastPollAt = this.now().toISOString();
    this.latestSequence = Math.max(this.latestSequence ?? 0, snapshot.sequence);
    const productIds = new Set(snapshot.products.map((p) => p.id));
    const locationKnown = await this.locationCheck(snapshot.policies.map((p) => p.locationId));
    const refused: { change: MasterChange; verdict: NonNullable<Verdict>; id: string }[] = [];
    const variants: MasterVariant[] = [];
    for (const variant of snapshot.variants) {
      const verdict = checkVariant(variant, (id) => productIds.has(id));
      if (!verdict) {
        variants.push(variant);
        continue;
      }
      refused.push({ change: { sequence: snapshot.sequence, at: snapshot.at, kind: 'VARIANT', variant }, verdict, id: `md-s${snapshot.sequence}-VARIANT-${variant.sku}` });
      const previous = this.store.getVariants([variant.sku])[0];
      if (previous) variants.push(previous);
    }
    const policies: MasterStockPolicy[] = [];
    for (const policy of snapshot.policies) {
      const verdict = checkPolicy(policy, locationKnown);
      if (!verdict) {
        policies.push(policy);
        continue;
      }
      refused.push({ change: { sequence: snapshot.sequence, at: snapshot.at, kind: 'STOCK_POLICY', policy }, verdict, id: `md-s${snapshot.sequence}-STOCK_POLICY-${policy.sku}@${policy.locationId}` });
      const previous = this.store.getStockPolicies([policy])[0];
      if (previous) policies.push(previous);
    }
    for (const { change, verdict, id } of refused) await this.reject(change, verdict, id);
    await this.store.replace({ sequence: snapshot.sequence, at: snapshot.at, products: snapshot.products, variants, policies });
    this.logger.info(
      { why, sequence: snapshot.sequence, products: snapshot.products.length, variants: variants.length, policies: policies.length, refused: refused.length },
      'master data replaced from a snapshot',
    );
  }

  private check(change: MasterChange, productKnown: (id: string) => boolean, locationKnown: (id: string) => boolean): Verdict {
    switch (change.kind) {
      case 'PRODUCT':
        return null;
      case 'VARIANT':
        return checkVariant(change.variant, productKnown);
      case 'STOCK_POLICY':
        return checkPolicy(change.policy, locationKnown);
      default:
        return assertNever(change);
    }
  }

  /**
   * Ask the locations port about every location the records name (one call): a site closed since the last batch
   * must not take new policies. While the port cannot answer, the last answer for each location stands, so that a
   * POS or WMS outage does not stall the ERP's feed; a location never asked about before fails the round.
   */
  private async locationCheck(ids: readonly string[]): Promise<(id: string) => boolean> {
    const distinct = [...new Set(ids)];
    if (!distinct.length) return () => false;
    let answers: boolean[];
    try {
      answers = await this.locations.exists(distinct);
    } catch (error) {
      if (!distinct.every((id) => this.lastLocationAnswer.has(id))) throw error;
      this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'master-data sync: locations unavailable; using their last known answer');
      return (id) => this.lastLocationAnswer.get(id) === true;
    }
    distinct.forEach((id, i) => this.lastLocationAnswer.set(id, answers[i] === true));
    const exists = new Set(distinct.filter((_, i) => answers[i] === true));
    return (id) => exists.has(id);
  }

  /** Record the refusal (idempotent by `id`) and publish it as a canonical event (idempotent by event id). */
  private async reject(change: MasterChange, verdict: NonNullable<Verdict>, id: string): Promise<void> {
    const exception: MasterDataException = { id, sequence: change.sequence, at: change.at, kind: change.kind, key: masterChangeKey(change), reason: verdict.reason, message: verdict.message, recordedAt: this.now().toISOString() };
    await this.store.recordException(exception);
    const record = change.kind === 'VARIANT' ? { sku: change.variant.sku } : change.kind === 'STOCK_POLICY' ? { sku: change.policy.sku, locationId: change.policy.locationId } : {};
    const event = createEvent('MASTER_DATA_REJECTED', { ...exception }, { id: `evt-${exception.id}`, occurredAt: exception.recordedAt, source: 'ERP', correlationId: `master-data-${exception.sequence}`, ...record });
    await this.backbone.publish(event);
    this.logger.warn({ sequence: exception.sequence, kind: exception.kind, key: exception.key, reason: exception.reason }, `master-data change refused: ${exception.message}`);
  }
}

// Take or renew in one step, so that two instances never both hold it. KEYS: the lease. ARGV: holder, TTL (ms).
const ACQUIRE_LUA = `
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

// Give it back only if it is still ours (it may have lapsed and gone to another). KEYS: the lease. ARGV: holder.
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export interface RedisSyncLeaseOptions {
  /** The shared client (required). The lease never closes it: its creator does (see `quitAll`). */
  redis: RedisClient;
  /** Namespace of every key (required); the lease is `${prefix}:md:sync-lease`. */
  prefix: string;
  /**
   * How long the lease outlives its holder's last renewal, in ms: longer than a sync round (the worker renews
   * before each). A holder backing off for longer lets it lapse, and another instance may take over.
   * @default 10000
   */
  ttlMs?: number;
  /**
   * This holder's id.
   * @default a random UUID
   */
  holder?: string;
}

/** The sync's lease in Redis: `SET NX PX`-like take, renewal and release by holder id, each one Lua script. */
export class RedisSyncLease implements SyncLease {
  private readonly redis: RedisClient;
  private readonly key: string;
  private readonly ttlMs: number;
  readonly holder: string;

  constructor(options: RedisSyncLeaseOptions) {
    this.redis = options.redis;
    this.key = redisKeys(options.prefix).syncLease;
    this.ttlMs = positiveInt(options.ttlMs ?? 10_000, 'ttlMs');
    this.holder = options.holder ?? randomUUID();
  }

  async acquire(): Promise<boolean> {
    return (await this.redis.eval(ACQUIRE_LUA, 1, this.key, this.holder, this.ttlMs)) === 1;
  }

  async release(): Promise<void> {
    await this.redis.eval(RELEASE_LUA, 1, this.key, this.holder);
  }
}
