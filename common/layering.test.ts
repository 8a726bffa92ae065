import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * `common/` is what every service shares, production ones included; the sandbox is a development tool. So no
 * production file under common/ may import from sandbox/ (not even a type): the records and contracts both sides
 * need live in common/systems/, and the adapters over the sandbox live with the wiring (subgraphs/). Tests may
 * start a sandbox. A static `import`/`export ... from` and a dynamic `import()` both count.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sandboxDir = join(root, 'sandbox');

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every module specifier a file names: `from '...'` and `import('...')`. */
function specifiers(text: string): string[] {
  return [...text.matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2]) as string);
}

const intoSandbox = (file: string, specifier: string): boolean => {
  if (!specifier.startsWith('.')) return false;
  const target = resolve(dirname(file), specifier);
  return target === sandboxDir || target.startsWith(sandboxDir + sep);
};

describe('common/ does not depend on the sandbox', () => {
  it('no production file under common/ imports from sandbox/', () => {
    const files = sourcesUnder(join(root, 'common'));
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.flatMap((file) => specifiers(readFileSync(file, 'utf8')).filter((s) => intoSandbox(file, s)).map((s) => `${relative(root, file)} imports ${s}`));
    expect(offenders).toEqual([]);
  });

  it('the check sees an import into sandbox/, static or dynamic', () => {
    const file = join(root, 'common', 'redis', 'x.ts');
    const found = specifiers(`import type { A } from '../../sandbox/model.js';\nexport { B } from "../x.js";\nconst c = await import('../../sandbox/index.js');`);
    expect(found).toEqual(['../../sandbox/model.js', '../x.js', '../../sandbox/index.js']);
    expect(found.map((s) => intoSandbox(file, s))).toEqual([true, false, true]);
  });
});
