import type { SandboxConfig } from '../common/config.js';
import { SandboxControl, instrument } from './faults.js';
import { generateSeedData, type SeedData } from './seed.js';
import { createSystems, type SandboxSystems } from './systems.js';

export type { SandboxSystems } from './systems.js';
export type { SeedData } from './seed.js';

/** The sandbox systems of record with their seeded data and the control that injects faults and counts calls. */
export interface Sandbox {
  data: SeedData;
  /** The systems as adapters see them: every call counted and subject to faults. */
  systems: SandboxSystems;
  control: SandboxControl;
}

export function createSandbox(config: SandboxConfig): Sandbox {
  const data = generateSeedData({ seed: config.seed, scale: config.scale });
  const raw = createSystems(data);
  const control = new SandboxControl();
  const systems: SandboxSystems = {
    erp: instrument('erp', raw.erp, control),
    pos: instrument('pos', raw.pos, control),
    wms: instrument('wms', raw.wms, control),
    crm: instrument('crm', raw.crm, control),
    psp: instrument('psp', raw.psp, control),
    ecom: instrument('ecom', raw.ecom, control),
  };
  return { data, systems, control };
}
