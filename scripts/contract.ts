import { resolve } from 'node:path';
import { readContractOperations, type ContractOperation } from '../common/contract.js';
import { ROOT } from './composition.js';

export { CONTRACT_FILES, type ContractOperation } from '../common/contract.js';

/**
 * The project's copy of the client contract (`contract/`), so that a clone anywhere tests itself; `CONTRACT_DIR`
 * overrides. A test keeps it identical to the workspace's `../shared/contract/` wherever that folder exists.
 */
export const CONTRACT_DIR = process.env.CONTRACT_DIR ?? resolve(ROOT, 'contract');
/** Where the contract is kept beside the repository in this workspace (the source of the copy). */
export const SHARED_CONTRACT_DIR = resolve(ROOT, '../shared/contract');

export function contractOperations(dir = CONTRACT_DIR): ContractOperation[] {
  return readContractOperations(dir);
}

export function contractOperation(name: string, dir = CONTRACT_DIR): string {
  const op = contractOperations(dir).find((o) => o.name === name);
  if (!op) throw new Error(`the contract has no operation ${name}`);
  return op.document;
}
