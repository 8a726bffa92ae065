import type { SandboxConfig } from '../common/config.js';
import { SandboxControl, instrument, replayWrite, type WriteHook } from './faults.js';
import { generateSeedData, type SeedData } from './seed.js';
import { createSystems, WRITE_METHODS, type SandboxErpOptions, type SandboxSystems } from './systems.js';

export type { SandboxSystems } from './systems.js';
export type { SeedData } from './seed.js';

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
}

export interface SandboxOptions {
  /** Writes made before this start (the DATA_DIR journal), applied in order before anyone can call. */
  replay?: readonly { system: keyof SandboxSystems; method: string; args: unknown[]; at: string }[];
  /** Told about every new write before its caller is answered. */
  onWrite?: WriteHook;
  /**
   * The control's clock, in ms (the rate-limit fault and the calls per second).
   * @default Date.now
   */
  now?: () => number;
  /**
   * The ERP's options (how many master-data changes it keeps).
   * @default {} (SandboxErp's own defaults)
   */
  erp?: SandboxErpOptions;
}

export function createSandbox(config: SandboxConfig, options: SandboxOptions = {}): Sandbox {
  const data = generateSeedData({ seed: config.seed, scale: config.scale });
  const raw = createSystems(data, options.erp ? { erp: options.erp } : {});
  for (const write of options.replay ?? []) replayWrite(raw[write.system], write);
  const control = new SandboxControl(options.now ? { now: options.now } : {});
  const wrap = <K extends keyof SandboxSystems>(name: K, by: SandboxControl | null) => instrument(name, raw[name], by, WRITE_METHODS[name], options.onWrite);
  const systems: SandboxSystems = { erp: wrap('erp', control), pos: wrap('pos', control), wms: wrap('wms', control), crm: wrap('crm', control), psp: wrap('psp', control), ecom: wrap('ecom', control) };
  const direct: SandboxSystems = { erp: wrap('erp', null), pos: wrap('pos', null), wms: wrap('wms', null), crm: wrap('crm', null), psp: wrap('psp', null), ecom: wrap('ecom', null) };
  return { data, systems, direct, control };
}
