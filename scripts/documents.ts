import { readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildManifest } from '../gateway/edge/trusted-documents.js';
import { ROOT } from './composition.js';
import { contractOperations } from './contract.js';

/** The checked-in manifest of trusted documents: the client contract, in Apollo's persisted query manifest format. */
export const MANIFEST_PATH = resolve(ROOT, 'persisted-documents.json');

/** `persisted-documents.json` as it should read now: the contract's operations, pretty JSON, trailing newline. */
export function renderManifest(): string {
  return `${JSON.stringify(buildManifest(contractOperations()), null, 2)}\n`;
}

/**
 * `npm run documents`: write persisted-documents.json from the contract.
 * `npm run documents -- --check`: write nothing; exit 1 when the checked-in file differs.
 */
function main(argv: readonly string[]): number {
  const file = relative(process.cwd(), MANIFEST_PATH) || MANIFEST_PATH;
  const text = renderManifest();
  let current: string | null = null;
  try {
    current = readFileSync(MANIFEST_PATH, 'utf8');
  } catch {
    // A missing file is drift like any other.
  }
  if (argv.includes('--check')) {
    if (current === text) {
      process.stdout.write(`${file} matches the contract\n`);
      return 0;
    }
    process.stderr.write(`${file} differs from the contract's operations; run \`npm run documents\`\n`);
    return 1;
  }
  if (current !== text) writeFileSync(MANIFEST_PATH, text);
  process.stdout.write(`${file}: ${current === text ? 'unchanged' : 'written'}\n`);
  return 0;
}

// Importable (the drift test calls renderManifest) without running the command.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
