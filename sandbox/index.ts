import type { SandboxConfig } from '../common/config.js';
import type { JournaledSystems } from '../common/durable.js';
import { JournalError } from '../common/journal.js';
import type { SystemName } from '../common/resilience.js';
import type { StockBook } from '../common/systems/stock-book.js';
import { isStockWrite, WRITE_METHODS, type SystemWrite, type WriteMethod } from '../common/systems/writes.js';
import { SandboxCrm } from './crm.js';
import { SandboxEcom } from './ecom.js';
import { SandboxErp, type SandboxErpOptions } from './erp.js';
import { SandboxControl, instrument, replayWrite, type WriteHook } from './faults.js';
import { SandboxPos } from './pos.js';
import { SandboxPsp } from './psp.js';
import { generateSeedData, type SeedData } from './seed.js';
import { EXPORT_STATE, flattenState, IMPORT_STATE, StateCollector, type StateHolder, type StateRecord } from './state.js';
import { SandboxMarketplace } from './marketplace.js';
import { SandboxTax } from './tax.js';
import { SandboxWms } from './wms.js';

export type { SeedData } from './seed.js';

/** The sandbox systems of record, one object per system (see sandbox/shared.ts). */
export interface SandboxSystems {
  erp: SandboxErp;
  pos: SandboxPos;
  wms: SandboxWms;
  crm: SandboxCrm;
  psp: SandboxPsp;
  ecom: SandboxEcom;
  tax: SandboxTax;
  marketplace: SandboxMarketplace;
}

// Every name in the one list of writes must be a method of its system: a typo or a renamed method fails here.
WRITE_METHODS satisfies { readonly [S in keyof SandboxSystems]: readonly (keyof SandboxSystems[S])[] };

export interface SystemsOptions {
  /**
   * The ERP's options (how many master-data changes it keeps).
   * @default {} (SandboxErp's own defaults)
   */
  erp?: SandboxErpOptions;
  /**
   * The stock book the POS and the WMS both keep their stock in (Redis's, shared by several instances).
   * @default each its own, in memory, seeded with its sites' counts
   */
  stock?: StockBook;
}

export function createSystems(data: SeedData, options: SystemsOptions = {}): SandboxSystems {
  return {
    erp: new SandboxErp(data, options.erp),
    pos: new SandboxPos(data, options.stock),
    wms: new SandboxWms(data, options.stock),
    crm: new SandboxCrm(data),
    psp: new SandboxPsp(data),
    ecom: new SandboxEcom(data),
    tax: new SandboxTax(),
    marketplace: new SandboxMarketplace(),
  };
}

/** The sandbox systems of record with their seeded data and the control that injects faults and counts calls. */
export interface Sandbox {
  data: SeedData;
  /** The systems as adapters see them: every call counted and subject to faults. */
  systems: SandboxSystems;
  /**
   * The same systems as their own operators reach them (the merchandiser's console behind the sandbox control's
   * `/sandbox/erp/...`): not counted, not faulted, writes journaled like any other. Absent: the control uses `systems`.
   */
  direct?: SandboxSystems;
  control: SandboxControl;
  /**
   * The systems' state for the DATA_DIR journal (common/durable.ts `JournaledWrites`): a snapshot of their state,
   * restoring one, and applying a write of an earlier run. With a shared stock book, stock is left out of all three.
   */
  journaled: JournaledSystems;
}

export interface SandboxOptions extends SystemsOptions {
  /**
   * Writes made before this start (the DATA_DIR journal), applied in order before anyone can call. With `stock`,
   * stock writes are skipped: the shared book keeps its own state.
   */
  replay?: readonly SystemWrite[];
  /** Told about every new write before its caller is answered; with `stock`, not about stock writes. */
  onWrite?: WriteHook;
  /**
   * The control's clock, in ms (the rate-limit fault and the calls per second).
   * @default Date.now
   */
  now?: () => number;
  /**
   * The seeded data, when the caller has generated it already (it must be the data of `config`'s seed and scale).
   * @default generated from `config`
   */
  data?: SeedData;
}

export function createSandbox(config: SandboxConfig, options: SandboxOptions = {}): Sandbox {
  const data = options.data ?? generateSeedData({ seed: config.seed, scale: config.scale });
  const { stock } = options;
  const raw = createSystems(data, { ...(options.erp ? { erp: options.erp } : {}), ...(stock ? { stock } : {}) });
  // A shared stock book (Redis) is durable on its own: its writes are neither journaled here nor replayed into it.
  const journaled = <K extends keyof SandboxSystems>(name: K): readonly WriteMethod<K>[] =>
    stock && (name === 'pos' || name === 'wms') ? (WRITE_METHODS[name] as readonly WriteMethod<K>[]).filter((m) => !isStockWrite(m)) : WRITE_METHODS[name];
  const journaledSystems = journaledFor(raw, config, stock !== undefined);
  for (const write of options.replay ?? []) journaledSystems.replay(write);
  const control = new SandboxControl(options.now ? { now: options.now } : {});
  const wrap = <K extends keyof SandboxSystems>(name: K, by: SandboxControl | null) => instrument(name, raw[name], by, journaled(name), options.onWrite);
  const systems: SandboxSystems = { erp: wrap('erp', control), pos: wrap('pos', control), wms: wrap('wms', control), crm: wrap('crm', control), psp: wrap('psp', control), ecom: wrap('ecom', control), tax: wrap('tax', control), marketplace: wrap('marketplace', control) };
  const direct: SandboxSystems = { erp: wrap('erp', null), pos: wrap('pos', null), wms: wrap('wms', null), crm: wrap('crm', null), psp: wrap('psp', null), ecom: wrap('ecom', null), tax: wrap('tax', null), marketplace: wrap('marketplace', null) };
  return { data, systems, direct, control, journaled: journaledSystems };
}

/**
 * What a sandbox snapshot starts with: its format and the seed its state grew from. Format 1 is the first with
 * the systems' state (before it, the snapshot held the writes, which `JournaledWrites` still replays).
 */
export const SANDBOX_SNAPSHOT_FORMAT = 1;
interface SnapshotHeader {
  k: 'sandbox-state';
  format: number;
  seed: number;
  scale: number;
}
/** One record of a system's state in a sandbox snapshot. */
export type SandboxStateRecord = { s: SystemName } & StateRecord;

function journaledFor(raw: SandboxSystems, config: SandboxConfig, sharedStock: boolean): JournaledSystems {
  const holders: [SystemName, StateHolder][] = [
    ['erp', raw.erp],
    ['pos', raw.pos],
    ['wms', raw.wms],
    ['psp', raw.psp],
    ['ecom', raw.ecom],
    ['crm', raw.crm],
    ['marketplace', raw.marketplace],
  ];
  // Snapshots written before the CRM kept a loyalty ledger (or before the marketplace) hold no state of theirs: they start empty.
  const optional: ReadonlySet<SystemName> = new Set<SystemName>(['crm', 'marketplace']);
  const header: SnapshotHeader = { k: 'sandbox-state', format: SANDBOX_SNAPSHOT_FORMAT, seed: config.seed, scale: config.scale };
  return {
    replay(write) {
      // A shared stock book (Redis) is durable on its own: its writes are neither journaled here nor replayed into it.
      if (sharedStock && (write.system === 'pos' || write.system === 'wms') && isStockWrite(write.method)) return;
      replayWrite(raw[write.system], write);
    },
    snapshot() {
      const records: (SnapshotHeader | SandboxStateRecord)[] = [header];
      for (const [s, holder] of holders) for (const record of flattenState(holder[EXPORT_STATE]())) records.push({ s, ...record });
      return records;
    },
    restore(records) {
      const first = records[0] as Partial<SnapshotHeader> | undefined;
      if (first?.k !== 'sandbox-state') throw new JournalError('JOURNAL_SNAPSHOT_CORRUPT', 'the sandbox snapshot does not start with its header');
      if (first.format !== SANDBOX_SNAPSHOT_FORMAT) {
        throw new JournalError('JOURNAL_SNAPSHOT_INCOMPATIBLE', `the sandbox snapshot has format ${String(first.format)}, this version reads ${SANDBOX_SNAPSHOT_FORMAT} (and the writes of older snapshots); start the version that wrote it, or reset DATA_DIR (npm run reset)`);
      }
      if (first.seed !== config.seed || first.scale !== config.scale) {
        throw new JournalError(
          'JOURNAL_SNAPSHOT_INCOMPATIBLE',
          `the sandbox snapshot grew from seed ${String(first.seed)} at scale ${String(first.scale)}, this start has seed ${config.seed} at scale ${config.scale} (SANDBOX_SEED, SANDBOX_SCALE): start with those, or reset DATA_DIR (npm run reset)`,
        );
      }
      const collectors = new Map<SystemName, StateCollector>();
      for (let n = 1; n < records.length; n++) {
        const record = records[n] as SandboxStateRecord;
        let collector = collectors.get(record.s);
        if (!collector) collectors.set(record.s, (collector = new StateCollector()));
        collector.add(record);
      }
      for (const [s, holder] of holders) {
        const collector = collectors.get(s) ?? (optional.has(s) ? emptyState(s) : undefined);
        if (!collector) throw new JournalError('JOURNAL_SNAPSHOT_CORRUPT', `the sandbox snapshot holds no state of the ${s.toUpperCase()}`);
        try {
          holder[IMPORT_STATE](collector.get());
        } catch (error) {
          throw new JournalError('JOURNAL_SNAPSHOT_CORRUPT', (error as Error).message);
        }
      }
    },
  };
}

/** The state of a system whose snapshot predates its state: what it holds when it never wrote (the CRM: no ledger). */
function emptyState(system: SystemName): StateCollector | undefined {
  const collector = new StateCollector();
  switch (system) {
    case 'crm':
      collector.add({ p: 'loyalty', l: [] });
      return collector;
    case 'marketplace':
      collector.add({ p: 'orders', l: [] });
      collector.add({ p: 'listings', l: [] });
      collector.add({ p: 'sequence', v: 0 });
      return collector;
    default:
      return undefined;
  }
}
