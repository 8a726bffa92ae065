import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';

/*
 * `npm run build`'s second step: the browser apps under web/, bundled by esbuild. Every directory `web/<name>/` with a
 * `main.tsx` (or `main.ts`) is one app, written to `dist/web/<name>/main.js` and, when it imports CSS, `main.css`; a new
 * app needs no list to be kept here. Everything comes from node_modules into the bundle: the pages load nothing but
 * their own origin's files, so they work offline and behind a strict Content-Security-Policy.
 */

/** The repository root, whether this runs from source (vitest) or from dist/ (as tsc's scripts/compose.js does). */
const ROOT = (() => {
  const parent = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  return basename(parent) === 'dist' ? resolve(parent, '..') : parent;
})();

export const WEB_DIR = resolve(ROOT, 'web');
export const WEB_OUT_DIR = resolve(ROOT, 'dist/web');

export interface WebEntry {
  /** The app's directory name under web/, and under dist/web/. */
  name: string;
  /** Its `main.tsx` or `main.ts`. */
  entry: string;
}

/** One app per directory of web/ that has a main.tsx or main.ts, sorted by name. */
export function webEntries(webDir = WEB_DIR): WebEntry[] {
  if (!existsSync(webDir)) return [];
  return readdirSync(webDir, { withFileTypes: true })
    .filter((dirent) => dirent.isDirectory())
    .flatMap((dirent) => {
      const entry = ['main.tsx', 'main.ts'].map((file) => join(webDir, dirent.name, file)).find((file) => existsSync(file));
      return entry ? [{ name: dirent.name, entry }] : [];
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface BuildWebOptions {
  /** @default WEB_DIR (web/) */
  webDir?: string | undefined;
  /** @default WEB_OUT_DIR (dist/web/) */
  outDir?: string | undefined;
}

export interface BuiltFile {
  path: string;
  bytes: number;
}

/** Bundle every app; the files written, with their sizes. */
export async function buildWeb(options: BuildWebOptions = {}): Promise<BuiltFile[]> {
  const webDir = options.webDir ?? WEB_DIR;
  const outDir = options.outDir ?? WEB_OUT_DIR;
  const written: BuiltFile[] = [];
  for (const { name, entry } of webEntries(webDir)) {
    const appOut = join(outDir, name);
    // A file an earlier build wrote (a main.css the app no longer imports) must not be served as if current.
    rmSync(appOut, { recursive: true, force: true });
    const result = await build({ ...BROWSER_BUILD, absWorkingDir: ROOT, entryPoints: { main: entry }, outdir: appOut });
    written.push(...outputsOf(result.metafile));
  }
  return written;
}

/** What every app is built with. */
const BROWSER_BUILD: BuildOptions = {
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  jsx: 'automatic',
  // React and friends drop their development checks; nothing reads the rest of process.env in a browser.
  define: { 'process.env.NODE_ENV': '"production"' },
  // Fonts and icons inline: one JS and one CSS file per app, no further requests to allow or to miss offline.
  loader: { '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl', '.eot': 'dataurl', '.svg': 'dataurl', '.png': 'dataurl', '.gif': 'dataurl' },
  // The third-party licence notices travel with the code that is served (a linked file would not be).
  legalComments: 'eof',
  sourcemap: false,
  metafile: true,
  logLevel: 'warning',
};

function outputsOf(metafile: Metafile | undefined): BuiltFile[] {
  return Object.keys(metafile?.outputs ?? {}).map((path) => {
    const absolute = resolve(ROOT, path);
    return { path: absolute, bytes: statSync(absolute).size };
  });
}

async function main(): Promise<number> {
  const files = await buildWeb();
  for (const file of files) process.stdout.write(`${relative(process.cwd(), file.path) || file.path}: ${file.bytes} bytes\n`);
  if (files.length === 0) process.stdout.write('web/: no apps to bundle\n');
  return 0;
}

// Importable (a test may build into a folder of its own) without running the command.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`web build failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
