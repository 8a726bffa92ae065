import type { EventEmitter } from '../../../common/outbox/event-outbox.js';
import type { Logger } from '../../../common/logger.js';
import type { LocationKind, StockPolicy, StockPolicyPort } from '../ports.js';
import { locationKindOf } from '../stock.js';
import { eventsOfWrite } from './events.js';
import type { StockWriterPort, UnannouncedStockWrite } from './ports.js';

/*
 * How a stock write's events reach the outbox. The system of record keeps what a write's events need in the same
 * step as the write (UnannouncedStockWrite), so a state change is never without its events: the writer hands them
 * over right after the write and then lets the system forget them; a writer that died in between leaves them
 * there, and recovery hands them over later. Both build them with the same ids (events.ts), so they are
 * delivered once whoever does it, even both.
 */

/** How long a write may stay unannounced before recovery takes it for a writer's that died, in ms. @default 15_000 */
export const DEFAULT_ANNOUNCE_STALE_MS = 15_000;
/** Writes handed over per system and round: a backlog is worked off over several rounds. */
const BATCH = 200;
const KINDS: readonly LocationKind[] = ['STORE', 'WAREHOUSE'];

export interface AnnounceDeps {
  writers: Record<LocationKind, Pick<StockWriterPort, 'announced' | 'unannounced'>>;
  events: EventEmitter;
  logger?: Logger | undefined;
}

/**
 * Hand over the events of `writes`, then mark them announced. A failed mark is only logged: the events are in the
 * outbox, and recovery handing them over again is harmless (same ids).
 * @param policyOf the stock policy of an adjusted SKU at its location (for the event's `available`).
 */
export async function announce(deps: AnnounceDeps, writes: readonly UnannouncedStockWrite[], policyOf: (write: UnannouncedStockWrite) => StockPolicy | null = () => null): Promise<void> {
  if (!writes.length) return;
  const byLocation = new Map<string, UnannouncedStockWrite[]>();
  for (const write of writes) byLocation.set(write.locationId, [...(byLocation.get(write.locationId) ?? []), write]);
  for (const [locationId, atLocation] of byLocation) {
    await deps.events.emit(atLocation.flatMap((write) => eventsOfWrite(write, policyOf(write))));
    const ids = atLocation.map((w) => w.id);
    await deps.writers[locationKindOf(locationId)].announced(locationId, ids).catch((error: unknown) => {
      deps.logger?.warn({ err: error, locationId, writes: ids }, 'stock write events handed over but not marked announced: recovery hands them over again (same ids, delivered once)');
    });
  }
}

/**
 * Hand over the events of writes left unannounced for `staleMs` or more (their writer died between the write and
 * its events), oldest first.
 * @returns how many writes were announced.
 */
export async function announceLeftovers(deps: AnnounceDeps & { policies: StockPolicyPort; now?: (() => Date) | undefined }, staleMs = DEFAULT_ANNOUNCE_STALE_MS): Promise<number> {
  const now = (deps.now ?? (() => new Date()))();
  const before = new Date(now.getTime() - staleMs).toISOString();
  let announced = 0;
  for (const kind of KINDS) {
    const writes = await deps.writers[kind].unannounced(before, BATCH);
    if (!writes.length) continue;
    const adjusted = writes.flatMap((w) => (w.kind === 'ADJUSTED' ? [w] : []));
    const policies = adjusted.length ? await deps.policies.getStockPolicies(adjusted.map((w) => ({ sku: w.sku, locationId: w.locationId }))) : [];
    const policyByWrite = new Map<UnannouncedStockWrite, StockPolicy | null>(adjusted.map((w, i) => [w, policies[i] ?? null]));
    await announce(deps, writes, (write) => policyByWrite.get(write) ?? null);
    announced += writes.length;
    deps.logger?.warn({ kind, writes: writes.map((w) => w.id) }, 'stock writes whose writer died before their events were handed over: announced by recovery');
  }
  return announced;
}
