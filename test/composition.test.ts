import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { composeSupergraph, printSubgraphs, readSupergraphConfig, ROOT } from '../scripts/composition.js';
import { CONTRACT_DIR, CONTRACT_FILES, SHARED_CONTRACT_DIR } from '../scripts/contract.js';
import { contractOperations } from './support/contract.js';

describe('composition', () => {
  it('supergraph.yaml lists the six subgraphs with their routing URLs', async () => {
    const entries = await readSupergraphConfig();
    expect(entries.map((e) => e.name)).toEqual(['catalog', 'inventory', 'orders', 'customers', 'finance', 'nodes']);
    expect(entries.map((e) => e.routingUrl)).toEqual([4001, 4002, 4003, 4004, 4005, 4006].map((p) => `http://localhost:${p}/graphql`));
  });

  it('the checked-in subgraph SDLs and supergraph.graphql match a fresh composition (run `npm run compose`)', async () => {
    const entries = await readSupergraphConfig();
    const sdls = await printSubgraphs(entries);
    for (const entry of entries) expect(await readFile(entry.schemaFile, 'utf8'), `${entry.name} SDL drifted`).toBe(sdls.get(entry.name));
    const outcome = composeSupergraph(entries, sdls);
    expect(outcome.ok ? [] : outcome.errors).toEqual([]);
    expect(outcome.ok && outcome.supergraphSdl).toBe(await readFile(resolve(ROOT, 'supergraph.graphql'), 'utf8'));
  });

  it('reports composition errors instead of writing a broken supergraph', () => {
    const outcome = composeSupergraph(
      [
        { name: 'a', routingUrl: 'http://a', schemaFile: '' },
        { name: 'b', routingUrl: 'http://b', schemaFile: '' },
      ],
      new Map([
        ['a', 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { x: Int } type T @key(fields: "id") { id: ID! n: Int }'],
        ['b', 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { y: Int } type T @key(fields: "id") { id: ID! n: String }'],
      ]),
    );
    expect(outcome.ok).toBe(false);
  });

  it('every contract operation validates against the composed API schema as written', async () => {
    const entries = await readSupergraphConfig();
    const sdls = await printSubgraphs(entries);
    const result = composeServices(entries.map((e) => ({ name: e.name, url: e.routingUrl, typeDefs: parse(sdls.get(e.name)!) })));
    expect(result.errors ?? []).toEqual([]);
    const apiSchema = result.schema!.toAPISchema().toGraphQLJSSchema();
    const operations = contractOperations();
    // Every operation of every contract file, none skipped: a contract operation that does not validate fails here.
    const named = CONTRACT_FILES.flatMap((file) => [...readFileSync(resolve(CONTRACT_DIR, file), 'utf8').matchAll(/^(?:query|mutation|subscription)\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]));
    expect(operations.map((o) => o.name).sort()).toEqual(named.sort());
    expect(operations.length).toBeGreaterThanOrEqual(19);
    for (const op of operations) expect(validate(apiSchema, parse(op.document)).map((e) => e.message), op.name).toEqual([]);
  });
});

describe('the contract copy', () => {
  // The project reads contract/ so that a clone anywhere tests itself; where the workspace's shared contract
  // exists beside the repository, the copy must be identical to it, file for file.
  it.skipIf(!existsSync(SHARED_CONTRACT_DIR))('contract/ is identical to ../shared/contract/', () => {
    const shared = readdirSync(SHARED_CONTRACT_DIR).sort();
    const ours = readdirSync(resolve(ROOT, 'contract')).sort();
    expect(ours).toEqual(shared);
    for (const file of shared) expect(readFileSync(resolve(ROOT, 'contract', file), 'utf8'), `contract/${file} differs from ../shared/contract/${file}`).toBe(readFileSync(resolve(SHARED_CONTRACT_DIR, file), 'utf8'));
  });

  it('tests read the project copy unless CONTRACT_DIR says otherwise', () => {
    expect(CONTRACT_DIR).toBe(process.env.CONTRACT_DIR ?? resolve(ROOT, 'contract'));
  });
});
