import { readFile, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { createLogger } from '../common/logger.js';
import { composeSupergraph, printSubgraphs, readSupergraphConfig, ROOT } from './composition.js';

/**
 * `npm run compose`: print every subgraph's SDL to its schema file and compose supergraph.graphql.
 * `npm run compose -- --check`: write nothing; exit 1 when a checked-in file differs from a fresh build.
 */
const check = process.argv.includes('--check');
const logger = createLogger({ name: 'compose' });
const entries = await readSupergraphConfig();
const sdls = await printSubgraphs(entries);
const outcome = composeSupergraph(entries, sdls);
if (!outcome.ok) {
  for (const error of outcome.errors) logger.error({ error }, 'composition error');
  logger.flush();
  process.exitCode = 1;
} else {
  const files = new Map<string, string>(entries.map((e) => [e.schemaFile, sdls.get(e.name) ?? '']));
  files.set(resolve(ROOT, 'supergraph.graphql'), outcome.supergraphSdl);
  let drift = 0;
  for (const [file, text] of files) {
    const current = await readFile(file, 'utf8').catch(() => null);
    if (current === text) continue;
    drift++;
    if (check) logger.error({ file: relative(ROOT, file) }, 'checked-in file differs from a fresh composition');
    else await writeFile(file, text);
  }
  logger.info({ files: files.size, changed: drift, hints: outcome.hints.length, check }, check ? 'composition checked' : 'supergraph composed');
  logger.flush();
  if (check && drift > 0) process.exitCode = 1;
}
