import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@apollo/composition';
import { printSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { parse as parseYaml } from 'yaml';
import { isSubgraphName } from '../common/config.js';
import { SUBGRAPHS } from '../subgraphs/registry.js';

/** The repository root, whether this runs from source (vitest) or from dist/. */
export const ROOT = (() => {
  const parent = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  return basename(parent) === 'dist' ? resolve(parent, '..') : parent;
})();

export interface SupergraphConfigEntry {
  name: string;
  routingUrl: string;
  schemaFile: string;
}

/** Read `supergraph.yaml` (Rover's format): `subgraphs.<name>.routing_url` and `subgraphs.<name>.schema.file`. */
export async function readSupergraphConfig(path = resolve(ROOT, 'supergraph.yaml')): Promise<SupergraphConfigEntry[]> {
  const doc = parseYaml(await readFile(path, 'utf8')) as { subgraphs?: Record<string, { routing_url?: string; schema?: { file?: string } }> };
  return Object.entries(doc.subgraphs ?? {}).map(([name, entry]) => {
    if (!entry.routing_url || !entry.schema?.file) throw new Error(`supergraph.yaml: subgraph ${name} needs routing_url and schema.file`);
    return { name, routingUrl: entry.routing_url, schemaFile: resolve(dirname(path), entry.schema.file) };
  });
}

/** Each subgraph's SDL as its code builds it now. */
export async function printSubgraphs(entries: SupergraphConfigEntry[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of entries) {
    if (!isSubgraphName(entry.name)) throw new Error(`supergraph.yaml names unknown subgraph ${entry.name}`);
    out.set(entry.name, `${printSubgraphSchema(await SUBGRAPHS[entry.name].buildSchema())}\n`);
  }
  return out;
}

export type CompositionOutcome = { ok: true; supergraphSdl: string; hints: string[] } | { ok: false; errors: string[] };

export function composeSupergraph(entries: SupergraphConfigEntry[], sdls: Map<string, string>): CompositionOutcome {
  const result = composeServices(
    entries.map((entry) => ({ name: entry.name, url: entry.routingUrl, typeDefs: parse(sdls.get(entry.name) ?? '') })),
  );
  if (result.errors) return { ok: false, errors: result.errors.map((e) => e.message) };
  return { ok: true, supergraphSdl: `${result.supergraphSdl}\n`, hints: result.hints.map((h) => h.toString()) };
}
