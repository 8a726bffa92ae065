import { lstatSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, parse, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../common/config.js';
import { journalHolders } from '../common/journal.js';
import { ROOT } from './composition.js';

/** What the embedded default writes to DATA_DIR: its journals (`*.ndjson`) and their locks (`*.ndjson.lock`). */
const OURS = /\.ndjson(\.lock)?$/;

export interface RemovedEntry {
  name: string;
  /** Bytes of a file; a directory (only removed with `force`) counts 0. */
  bytes: number;
}

export type ResetOutcome =
  | { ok: true; dir: string; removed: RemovedEntry[] }
  | { ok: false; code: 'DATA_DIR_IN_USE' | 'DATA_DIR_UNSAFE' | 'DATA_DIR_FOREIGN'; message: string };

export interface ResetOptions {
  /**
   * Also remove entries the stack did not write (a DATA_DIR pointed at the wrong folder is refused without it).
   * @default false
   */
  force?: boolean;
}

/**
 * Empty `dataDir` (the embedded default's journals), refusing while a running process holds one of its journals
 * open, and refusing a directory whose emptying would destroy more than demo data: the filesystem root, the home
 * directory, the repository or any folder above it. Only the directory's own entries are removed; a symbolic link
 * in it is removed as a link, never followed.
 */
export function resetDataDir(dataDir: string, options: ResetOptions = {}): ResetOutcome {
  const dir = resolve(dataDir);
  let real: string;
  try {
    real = realpathSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, dir, removed: [] };
    throw error;
  }
  if (!statSync(real).isDirectory()) return { ok: false, code: 'DATA_DIR_UNSAFE', message: `DATA_DIR ${dataDir} is not a directory` };
  const guarded = [parse(real).root, homedir(), ROOT, process.cwd()].map((p) => safeRealpath(p));
  for (const place of guarded) {
    if (place === real || place.startsWith(real.endsWith(sep) ? real : real + sep)) {
      return { ok: false, code: 'DATA_DIR_UNSAFE', message: `DATA_DIR ${dataDir} is ${place === real ? '' : 'above '}${place}: refusing to empty it` };
    }
  }
  const running = journalHolders(real).filter((h) => h.running);
  if (running.length > 0) {
    const [first] = running as [(typeof running)[number]];
    return {
      ok: false,
      code: 'DATA_DIR_IN_USE',
      message: `DATA_DIR ${dataDir} is in use by process ${running.map((h) => h.pid).join(', ')} (${running.map((h) => h.lock).join(', ')}): stop the stack first; if no stack runs, remove ${join(dataDir, first.lock)}`,
    };
  }
  const entries = readdirSync(real, { withFileTypes: true });
  const foreign = entries.filter((e) => !(OURS.test(e.name) && (e.isFile() || e.isSymbolicLink())));
  if (foreign.length > 0 && !options.force) {
    const names = foreign.slice(0, 5).map((e) => (e.isDirectory() ? `${e.name}/` : e.name));
    return {
      ok: false,
      code: 'DATA_DIR_FOREIGN',
      message: `DATA_DIR ${dataDir} holds what the stack did not write (${names.join(', ')}${foreign.length > 5 ? ', …' : ''}): nothing removed; \`npm run reset -- --force\` empties it anyway`,
    };
  }
  const removed: RemovedEntry[] = [];
  for (const entry of entries) {
    const path = join(real, entry.name);
    const stat = lstatSync(path);
    // rmSync lstat()s: a link is unlinked, and `recursive` only descends real directories inside DATA_DIR.
    rmSync(path, { recursive: true, force: true });
    removed.push({ name: entry.isDirectory() ? `${entry.name}/` : entry.name, bytes: stat.isFile() ? stat.size : 0 });
  }
  return { ok: true, dir, removed };
}

function safeRealpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * `npm run reset`: empty DATA_DIR (from the environment, as the stack reads it), so the next `npm start` begins
 * from the seeded demo data. `--force` also removes what the stack did not write there.
 */
function main(argv: readonly string[]): number {
  const { dataDir } = loadConfig();
  const fromHere = relative(process.cwd(), resolve(dataDir));
  const shown = fromHere.startsWith('..') ? resolve(dataDir) : fromHere || '.';
  const outcome = resetDataDir(dataDir, { force: argv.includes('--force') });
  if (!outcome.ok) {
    process.stderr.write(`${outcome.code}: ${outcome.message}\n`);
    return 1;
  }
  if (outcome.removed.length === 0) {
    process.stdout.write(`${shown}: nothing to remove; the next start begins from the seeded demo data\n`);
    return 0;
  }
  for (const entry of outcome.removed) process.stdout.write(`removed ${join(shown, entry.name)}${entry.bytes ? ` (${entry.bytes} bytes)` : ''}\n`);
  process.stdout.write(`${shown}: emptied; the next start begins from the seeded demo data\n`);
  return 0;
}

// Importable (the test calls resetDataDir) without running the command.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
