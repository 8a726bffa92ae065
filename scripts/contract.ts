import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kind, parse, print } from 'graphql';
import { ROOT } from './composition.js';

/**
 * The project's copy of the client contract (`contract/`), so that a clone anywhere tests itself; `CONTRACT_DIR`
 * overrides. A test keeps it identical to the workspace's `../shared/contract/` wherever that folder exists.
 */
export const CONTRACT_DIR = process.env.CONTRACT_DIR ?? resolve(ROOT, 'contract');
/** Where the contract is kept beside the repository in this workspace (the source of the copy). */
export const SHARED_CONTRACT_DIR = resolve(ROOT, '../shared/contract');
export const CONTRACT_FILES = ['storefront.graphql', 'store-app.graphql', 'service-console.graphql'] as const;

export interface ContractOperation {
  name: string;
  file: string;
  kind: 'query' | 'mutation' | 'subscription';
  /** The operation exactly as the contract file writes it (parsed and printed on its own). */
  document: string;
}

export function contractOperations(dir = CONTRACT_DIR): ContractOperation[] {
  const operations: ContractOperation[] = [];
  for (const file of CONTRACT_FILES) {
    for (const def of parse(readFileSync(resolve(dir, file), 'utf8')).definitions) {
      if (def.kind !== Kind.OPERATION_DEFINITION || !def.name) continue;
      operations.push({ name: def.name.value, file, kind: def.operation, document: print(def) });
    }
  }
  return operations;
}

export function contractOperation(name: string, dir = CONTRACT_DIR): string {
  const op = contractOperations(dir).find((o) => o.name === name);
  if (!op) throw new Error(`the contract has no operation ${name}`);
  return op.document;
}
