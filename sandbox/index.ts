import type { SandboxConfig } from '../common/config.js';
import { SandboxControl, instrument, replayWrite, type WriteHook } from './faults.js';
import { generateSeedData, type SeedData } from './seed.js';
import { createSystems, WRITE_METHODS, type SandboxSystems } from './systems.js';

export type { SandboxSystems } from './systems.js';
export type { SeedData } from './seed.js';

/** The sandbox systems of record with their seeded data and the control that injects faults and counts calls. */
export interface Sandbox {
  data: SeedData;
  /** The systems as adapters see them: every call counted and subject to faults. */
  systems: SandboxSystems;
  control: SandboxControl;
}

export interface SandboxOptions {
  /** Writes made before this start (the DATA_DIR journal), applied in order before anyone can call. */
  replay?: readonly { system: keyof SandboxSystems; method: string; args: unknown[]; at: string }[];
  /** Told about every new write before its caller is answered. */
  onWrite?: WriteHook;
}

export function createSandbox(config: SandboxConfig, options: SandboxOptions = {}): Sandbox {
  const data = generateSeedData({ seed: config.seed, scale: config.scale });
  const raw = createSystems(data);
  for (const write of options.replay ?? []) replayWrite(raw[write.system], write);
  const control = new SandboxControl();
  const wrap = <K extends keyof SandboxSystems>(name: K) => instrument(name, raw[name], control, WRITE_METHODS[name], options.onWrite);
  const systems: SandboxSystems = { erp: wrap('erp'), pos: wrap('pos'), wms: wrap('wms'), crm: wrap('crm'), psp: wrap('psp'), ecom: wrap('ecom') };
  return { data, systems, control };
}
