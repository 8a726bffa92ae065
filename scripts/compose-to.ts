import { writeFile } from 'node:fs/promises';
import { composeSupergraph, printSubgraphs, readSupergraphConfig } from './composition.js';

/**
 * `node dist/scripts/compose-to.js <file>`: compose the current code into <file> without touching the checked-in
 * SDL files, to try a schema change (`SUPERGRAPH_PATH=<file> npx vitest run ...`) before `npm run compose`.
 */
const target = process.argv[2];
if (!target) throw new Error('usage: compose-to.js <output file>');
const entries = await readSupergraphConfig();
const outcome = composeSupergraph(entries, await printSubgraphs(entries));
if (!outcome.ok) {
  process.stderr.write(`${outcome.errors.join('\n')}\n`);
  process.exitCode = 1;
} else {
  await writeFile(target, outcome.supergraphSdl);
}
