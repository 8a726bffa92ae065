import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/composition.js';
import { contractOperation, contractOperations } from '../../scripts/contract.js';
import { MANIFEST_PATH, renderManifest } from '../../scripts/documents.js';
import { buildManifest, resolveDocument, TrustedDocuments, type PersistedDocumentManifest } from './trusted-documents.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const checkedIn = readFileSync(resolve(ROOT, 'persisted-documents.json'), 'utf8');
const manifest = JSON.parse(checkedIn) as PersistedDocumentManifest;
const documents = TrustedDocuments.fromManifest(manifest);
const productPage = contractOperation('ProductPage');
const productPageId = sha256(productPage);

const codeOf = (result: unknown) => (result instanceof GraphQLError ? result.extensions.code : result);

describe('the manifest', () => {
  it('is checked in as renderManifest() writes it', () => {
    expect(MANIFEST_PATH).toBe(resolve(ROOT, 'persisted-documents.json'));
    expect(checkedIn, 'persisted-documents.json is stale: run `npm run documents`').toBe(renderManifest());
  });

  it("is in Apollo's format, sorted by name, each id the sha256 of its body", () => {
    expect(manifest.format).toBe('apollo-persisted-query-manifest');
    expect(manifest.version).toBe(1);
    const names = manifest.operations.map((o) => o.name);
    expect(names).toEqual([...names].sort());
    for (const op of manifest.operations) expect(op.id, op.name).toBe(sha256(op.body));
  });

  it('holds every contract operation once, with its kind and its printed text', () => {
    const contract = contractOperations();
    expect(manifest.operations).toHaveLength(contract.length);
    for (const op of contract) {
      const entries = manifest.operations.filter((o) => o.name === op.name);
      expect(entries, op.name).toHaveLength(1);
      expect(entries[0]).toMatchObject({ type: op.kind, body: op.document });
    }
    expect(documents.size).toBe(contract.length);
  });

  it('buildManifest prints what it is given and sorts by name', () => {
    const built = buildManifest([
      { name: 'B', kind: 'mutation', document: 'mutation B { ping }' },
      { name: 'A', kind: 'query', document: '# a comment\nquery A{version   }' },
    ]);
    expect(built.operations.map((o) => [o.name, o.type, o.body])).toEqual([
      ['A', 'query', 'query A {\n  version\n}'],
      ['B', 'mutation', 'mutation B {\n  ping\n}'],
    ]);
    expect(built.operations[0]?.id).toBe(sha256('query A {\n  version\n}'));
  });
});

describe('TrustedDocuments', () => {
  it('finds a body by `sha256:<hex>` and by bare hex, in either case', () => {
    expect(documents.byId(`sha256:${productPageId}`)).toBe(productPage);
    expect(documents.byId(productPageId)).toBe(productPage);
    expect(documents.byId(productPageId.toUpperCase())).toBe(productPage);
    expect(documents.byId(sha256('{ nope }'))).toBeUndefined();
    expect(documents.byId(`md5:${productPageId}`)).toBeUndefined();
    expect(documents.byId('ProductPage')).toBeUndefined();
  });

  it('trusts a contract document in any whitespace, with comments, and refuses a changed selection', () => {
    expect(documents.isTrusted(productPage)).toBe(true);
    const reformatted = `# the product page\n${productPage.replace(/\n\s*/g, ' ').replace(/\{ /g, '{\n\t,')}\n# end`;
    expect(reformatted).not.toBe(productPage);
    expect(documents.isTrusted(reformatted)).toBe(true);
    expect(documents.isTrusted(productPage.replace('brand', 'brand\n    category'))).toBe(false);
    expect(documents.isTrusted(productPage.replace('    brand\n', ''))).toBe(false);
    expect(documents.isTrusted(productPage.replace('ProductPage', 'ProductPage2'))).toBe(false);
    expect(documents.isTrusted(`${productPage}\nquery Extra { __typename }`)).toBe(false);
    expect(documents.isTrusted('{ not graphql')).toBe(false);
    // Longer than any trusted document: refused without parsing it all.
    expect(documents.isTrusted(`{ ${'a '.repeat(100_000)}}`)).toBe(false);
  });

  it('remembers a bounded number of answers', () => {
    const small = TrustedDocuments.fromManifest(manifest, { cacheSize: 2 });
    const cache = (small as unknown as { verdicts: Map<string, boolean> }).verdicts;
    expect(small.isTrusted(productPage)).toBe(true);
    expect(small.isTrusted('{ a }')).toBe(false);
    expect(small.isTrusted('{ b }')).toBe(false);
    expect([...cache.keys()]).toEqual(['{ a }', '{ b }']);
    expect(small.isTrusted(productPage)).toBe(true);
  });

  it('refuses a manifest whose id is not the sha256 of its body, or of the wrong shape', () => {
    const [first, ...rest] = manifest.operations;
    if (!first) throw new Error('empty manifest');
    const tampered = { ...first, body: first.body.replace('sku', 'sku\n      name') };
    expect(() => TrustedDocuments.fromManifest({ ...manifest, operations: [tampered, ...rest] })).toThrow(/is not the sha256 of its body/);
    const bad = (m: unknown) => () => TrustedDocuments.fromManifest(m as PersistedDocumentManifest);
    expect(bad(null)).toThrow(/JSON object/);
    expect(bad({ ...manifest, format: 'relay' })).toThrow(/format/);
    expect(bad({ ...manifest, version: 2 })).toThrow(/version/);
    expect(bad({ format: manifest.format, version: 1 })).toThrow(/operations/);
    expect(bad({ ...manifest, operations: [{ ...first, type: 'fragment' }] })).toThrow(/type/);
    expect(bad({ ...manifest, operations: [{ ...first, id: first.id.toUpperCase() }] })).toThrow(/id/);
    expect(bad({ ...manifest, operations: [{ id: sha256('{'), name: 'Broken', type: 'query', body: '{' }] })).toThrow(/does not parse/);
    expect(TrustedDocuments.fromManifest({ ...manifest, operations: [] }).size).toBe(0);
  });

  it('reads a manifest file', () => {
    expect(TrustedDocuments.fromFile(MANIFEST_PATH).size).toBe(manifest.operations.length);
    expect(() => TrustedDocuments.fromFile(resolve(ROOT, 'no-such-manifest.json'))).toThrow();
  });
});

describe('resolveDocument', () => {
  const apq = (sha256Hash: unknown, version: unknown = 1) => ({ persistedQuery: { version, sha256Hash } });

  it('uses the query of a plain request', () => {
    expect(resolveDocument({ query: '{ a }' }, documents)).toEqual({ query: '{ a }', persisted: false });
    expect(resolveDocument({ query: '{ a }' }, undefined)).toEqual({ query: '{ a }', persisted: false });
  });

  it('answers a request with no query, or a query that is not a string, with BAD_REQUEST', () => {
    for (const request of [{}, { query: '' }, { query: null }, { extensions: {} }]) {
      const error = resolveDocument(request, documents);
      expect(error).toBeInstanceOf(GraphQLError);
      expect((error as GraphQLError).message).toBe('the request has no query');
      expect(codeOf(error)).toBe('BAD_REQUEST');
    }
    expect(codeOf(resolveDocument({ query: 42 }, documents))).toBe('BAD_REQUEST');
    expect(codeOf(resolveDocument({ query: { kind: 'Document' } }, documents))).toBe('BAD_REQUEST');
    expect(codeOf(resolveDocument({ documentId: 7 }, documents))).toBe('BAD_REQUEST');
    expect(codeOf(resolveDocument({ query: '{ a }', extensions: 'x' }, documents))).toBe('BAD_REQUEST');
  });

  it("finds the manifest's body by documentId, and names an unknown one PERSISTED_DOCUMENT_NOT_FOUND", () => {
    expect(resolveDocument({ documentId: `sha256:${productPageId}` }, documents)).toEqual({ query: productPage, persisted: true });
    const missing = resolveDocument({ documentId: `sha256:${sha256('{ a }')}` }, documents);
    expect(codeOf(missing)).toBe('PERSISTED_DOCUMENT_NOT_FOUND');
    expect((missing as GraphQLError).message).toMatch(/no persisted document has the id sha256:/);
    expect(codeOf(resolveDocument({ documentId: 'custom:ProductPage' }, documents))).toBe('PERSISTED_DOCUMENT_NOT_FOUND');
  });

  it("finds the manifest's body by Apollo's persistedQuery hash, and answers an unknown one as Apollo Client expects", () => {
    expect(resolveDocument({ extensions: apq(productPageId) }, documents)).toEqual({ query: productPage, persisted: true });
    const missing = resolveDocument({ extensions: apq(sha256('{ a }')) }, documents);
    expect(missing).toBeInstanceOf(GraphQLError);
    expect((missing as GraphQLError).message).toBe('PersistedQueryNotFound');
    expect(codeOf(missing)).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('refuses a persistedQuery of another version, or without a hash', () => {
    expect((resolveDocument({ extensions: apq(productPageId, 2) }, documents) as GraphQLError).message).toBe('Unsupported persisted query version');
    expect(codeOf(resolveDocument({ extensions: apq(undefined) }, documents))).toBe('BAD_REQUEST');
    expect(codeOf(resolveDocument({ extensions: { persistedQuery: 'yes' } }, documents))).toBe('BAD_REQUEST');
  });

  it('uses a query sent with its hash only when the hash is its sha256', () => {
    expect(resolveDocument({ query: productPage, extensions: apq(productPageId) }, documents)).toEqual({ query: productPage, persisted: true });
    expect(resolveDocument({ query: productPage, documentId: `sha256:${productPageId}` }, documents)).toEqual({ query: productPage, persisted: true });
    expect(resolveDocument({ query: '{ a }', extensions: apq(sha256('{ a }')) }, documents)).toEqual({ query: '{ a }', persisted: false });
    const mismatch = resolveDocument({ query: '{ a }', extensions: apq(productPageId) }, documents);
    expect((mismatch as GraphQLError).message).toBe('provided sha does not match query');
    expect(codeOf(mismatch)).toBe('BAD_REQUEST');
    expect(codeOf(resolveDocument({ query: '{ a }', documentId: `sha256:${productPageId}` }, documents))).toBe('BAD_REQUEST');
    expect(codeOf(resolveDocument({ documentId: `sha256:${productPageId}`, extensions: apq(sha256('{ a }')) }, documents))).toBe('BAD_REQUEST');
  });

  it('without a manifest, answers an id alone with PERSISTED_QUERY_NOT_SUPPORTED', () => {
    const error = resolveDocument({ extensions: apq(productPageId) }, undefined);
    expect((error as GraphQLError).message).toBe('PersistedQueryNotSupported');
    expect(codeOf(error)).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
    expect(codeOf(resolveDocument({ documentId: `sha256:${productPageId}` }, undefined))).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
    expect(resolveDocument({ query: '{ a }', extensions: apq(sha256('{ a }')) }, undefined)).toEqual({ query: '{ a }', persisted: false });
  });
});
