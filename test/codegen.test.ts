import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse, print, validate, buildSchema, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { apiSchemaSdl, driftOf, GENERATED_DIR, renderGenerated } from '../scripts/codegen.js';
import { ROOT } from '../scripts/composition.js';
import { contractOperations } from './support/contract.js';

/*
 * The typed documents in clients/generated/ (GraphQL Code Generator's client preset over the contract and the
 * supergraph's API schema) are checked in: they must be what a fresh `npm run codegen` writes.
 */
describe('typed operations (npm run codegen)', () => {
  it('the checked-in files match a fresh generation (run `npm run codegen`)', async () => {
    const files = await renderGenerated();
    const { changed, stale } = driftOf(files);
    expect(changed.map((f) => f.slice(ROOT.length + 1)), 'generated files that drifted').toEqual([]);
    expect(stale.map((f) => f.slice(ROOT.length + 1)), 'files no generation writes any more').toEqual([]);
  });

  it('notices drift: a changed file, a missing one and a stale one', async () => {
    const files = await renderGenerated();
    const graphqlTs = resolve(GENERATED_DIR, 'graphql.ts');
    const altered = new Map(files);
    altered.set(graphqlTs, `${files.get(graphqlTs)}// changed\n`);
    altered.set(resolve(GENERATED_DIR, 'missing.ts'), 'export {};\n');
    altered.delete(resolve(GENERATED_DIR, 'index.ts'));
    const { changed, stale } = driftOf(altered);
    expect(changed.sort()).toEqual([graphqlTs, resolve(GENERATED_DIR, 'missing.ts')].sort());
    expect(stale).toEqual([resolve(GENERATED_DIR, 'index.ts')]);
  });

  it('every contract operation has its typed document, equal to the contract as written', async () => {
    const module = (await import('../clients/generated/graphql.js')) as unknown as Record<string, DocumentNode>;
    const schema = buildSchema(readFileSync(resolve(GENERATED_DIR, 'schema.graphql'), 'utf8'));
    for (const op of contractOperations()) {
      const document = module[`${op.name}Document`];
      expect(document, `${op.name}Document`).toBeDefined();
      expect(print(document!), op.name).toBe(print(parse(op.document)));
      expect(validate(schema, document!).map((e) => e.message), op.name).toEqual([]);
    }
  });

  it('the schema it generates against is the API schema: no federation machinery, no authorization directives', () => {
    const sdl = apiSchemaSdl();
    expect(sdl).not.toMatch(/join__|link__|@authenticated|@requiresScopes|@policy|_Entity|_service/);
    expect(sdl).toMatch(/type Query \{/);
  });
});
