import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kind, parse, print } from 'graphql';

/*
 * The client contract's reader, in common/ so that production code (the gateway's explorer) can read the contract
 * without importing scripts/ (whose composition pulls in every subgraph). scripts/contract.ts re-exports it with the
 * repository's default folder.
 */

/** The contract's files, in the order their operations are listed. */
export const CONTRACT_FILES = ['storefront.graphql', 'store-app.graphql', 'service-console.graphql'] as const;

export interface ContractOperation {
  name: string;
  file: string;
  kind: 'query' | 'mutation' | 'subscription';
  /** The operation exactly as the contract file writes it (parsed and printed on its own). */
  document: string;
  /** The `#` comment lines right above the operation, without the `#`: what the contract says it is for. */
  description?: string | undefined;
}

/** Every named operation of the contract in `dir`, file by file, in the order written. */
export function readContractOperations(dir: string): ContractOperation[] {
  const operations: ContractOperation[] = [];
  for (const file of CONTRACT_FILES) {
    const source = readFileSync(resolve(dir, file), 'utf8');
    for (const def of parse(source).definitions) {
      if (def.kind !== Kind.OPERATION_DEFINITION || !def.name) continue;
      const description = def.loc ? commentAbove(source, def.loc.start) : undefined;
      operations.push({ name: def.name.value, file, kind: def.operation, document: print(def), ...(description ? { description } : {}) });
    }
  }
  return operations;
}

/** The block of comment lines that ends on the line before `offset` (a blank line ends the block). */
function commentAbove(source: string, offset: number): string | undefined {
  const lines = source.slice(0, offset).split('\n');
  lines.pop(); // the operation's own line, up to its first token
  const block: string[] = [];
  for (let line = lines.pop(); line !== undefined && /^\s*#/.test(line); line = lines.pop()) block.unshift(line.replace(/^\s*#\s?/, '').trimEnd());
  return block.length ? block.join('\n') : undefined;
}
