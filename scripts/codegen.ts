import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Supergraph } from '@apollo/federation-internals';
import { generate } from '@graphql-codegen/cli';
import type { Types } from '@graphql-codegen/plugin-helpers';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { withoutSecurityFeatures } from '../gateway/edge/security-features.js';
import { ROOT } from './composition.js';
import { CONTRACT_DIR, CONTRACT_FILES } from './contract.js';

/** Where the typed documents are checked in (the client preset's output folder). */
export const GENERATED_DIR = resolve(ROOT, 'clients/generated');

/**
 * The schema clients see: the checked-in supergraph's API schema, as the gateway serves it (join and link
 * machinery removed; the authorization directives are the edge's, so they are stripped first, as the gateway's
 * planner does). Printed sorted, so that a reordering inside the supergraph does not churn the generated files.
 */
export function apiSchemaSdl(supergraphSdl = readFileSync(resolve(ROOT, 'supergraph.graphql'), 'utf8')): string {
  const apiSchema = Supergraph.build(withoutSecurityFeatures(supergraphSdl)).apiSchema().toGraphQLJSSchema();
  return `${printSchema(lexicographicSortSchema(apiSchema))}\n`;
}

/** The client preset over the contract's operations, against the API schema. */
function codegenConfig(schemaSdl: string): Types.Config & { cwd: string } {
  return {
    cwd: ROOT,
    schema: schemaSdl,
    documents: CONTRACT_FILES.map((file) => resolve(CONTRACT_DIR, file)),
    // A contract operation that does not validate is an error here, not a file with holes.
    ignoreNoDocuments: false,
    silent: true,
    generates: {
      [`${relative(ROOT, GENERATED_DIR)}/`]: {
        preset: 'client',
        presetConfig: {
          // The contract has no fragments; with masking, a client would have to unmask every result for nothing.
          fragmentMasking: false,
        },
        config: {
          // The project is NodeNext ESM: relative imports need their extension, and type-only imports stay so.
          importExtension: '.js',
          useTypeImports: true,
          // Over JSON a DateTime is its RFC 3339 string.
          scalars: { DateTime: { input: 'string', output: 'string' } },
          strictScalars: true,
          enumsAsTypes: true,
          // Parsed DocumentNode objects (not strings): Apollo Client, urql and graphql-ws take them as they are.
          documentMode: 'documentNode',
        },
      },
    },
  };
}

/** Every generated file as a fresh run writes it: path (absolute) and text. Nothing is written. */
export async function renderGenerated(schemaSdl = apiSchemaSdl()): Promise<Map<string, string>> {
  const outputs = (await generate(codegenConfig(schemaSdl), false)) as Types.FileOutput[];
  const files = new Map<string, string>();
  files.set(resolve(GENERATED_DIR, 'schema.graphql'), schemaSdl);
  for (const output of outputs) files.set(resolve(ROOT, output.filename), output.content.endsWith('\n') ? output.content : `${output.content}\n`);
  return files;
}

/** What differs between the checked-in folder and `files`: changed or missing files, and files no run produces. */
export function driftOf(files: Map<string, string>, dir = GENERATED_DIR): { changed: string[]; stale: string[] } {
  const changed: string[] = [];
  for (const [file, text] of files) {
    let current: string | null = null;
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // A missing file is drift like any other.
    }
    if (current !== text) changed.push(file);
  }
  let present: string[] = [];
  try {
    present = readdirSync(dir).map((name) => resolve(dir, name));
  } catch {
    // No folder yet: every file is missing, already counted above.
  }
  return { changed, stale: present.filter((file) => !files.has(file)) };
}

/**
 * `npm run codegen`: write the typed documents of the contract's operations to clients/generated/.
 * `npm run codegen:check`: write nothing; exit 1 when the checked-in files differ from a fresh generation.
 */
async function main(argv: readonly string[]): Promise<number> {
  const check = argv.includes('--check');
  const files = await renderGenerated();
  const { changed, stale } = driftOf(files);
  const shown = (file: string) => relative(process.cwd(), file) || file;
  if (check) {
    if (changed.length === 0 && stale.length === 0) {
      process.stdout.write(`${shown(GENERATED_DIR)} matches the contract and the supergraph\n`);
      return 0;
    }
    for (const file of changed) process.stderr.write(`${shown(file)} differs from a fresh generation\n`);
    for (const file of stale) process.stderr.write(`${shown(file)} is not generated any more\n`);
    process.stderr.write('run `npm run codegen`\n');
    return 1;
  }
  for (const file of changed) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, files.get(file)!);
  }
  for (const file of stale) rmSync(file, { recursive: true, force: true });
  process.stdout.write(`${shown(GENERATED_DIR)}: ${files.size} files, ${changed.length} written, ${stale.length} removed\n`);
  return 0;
}

// Importable (the drift test calls renderGenerated) without running the command.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      // Codegen's own errors (an operation that does not validate) name the document and the field.
      process.stderr.write(`codegen failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
