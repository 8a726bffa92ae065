import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GraphQLError, Lexer, Source, TokenKind, parse, print } from 'graphql';

/**
 * The documents the gateway's own clients send, checked in (`persisted-documents.json`) in Apollo's persisted
 * query manifest format, which Apollo Client's persisted-query link, GraphOS and Apollo Router all read.
 */
export interface PersistedDocumentManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: PersistedOperation[];
}

export interface PersistedOperation {
  /** The sha256 of `body`, lowercase hex. */
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  /** The operation as graphql's `print` prints it. */
  body: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A manifest of `operations`, sorted by name (so that a change shows as a small diff), ids the sha256 of bodies. */
export function buildManifest(operations: readonly { name: string; kind: 'query' | 'mutation' | 'subscription'; document: string }[]): PersistedDocumentManifest {
  return {
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: [...operations]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((op) => {
        const body = print(parse(op.document));
        return { id: sha256(body), name: op.name, type: op.kind, body };
      }),
  };
}

const OPERATION_TYPES: ReadonlySet<string> = new Set(['query', 'mutation', 'subscription']);
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** The same document in the one form `print` gives it, or undefined when it does not parse within `maxTokens`. */
function normalise(text: string, maxTokens?: number): string | undefined {
  try {
    return print(parse(text, maxTokens === undefined ? { noLocation: true } : { noLocation: true, maxTokens }));
  } catch {
    return undefined;
  }
}

function tokenCount(text: string): number {
  const lexer = new Lexer(new Source(text));
  let count = 0;
  while (lexer.advance().kind !== TokenKind.EOF) count++;
  return count;
}

export interface TrustedDocumentsOptions {
  /**
   * How many distinct texts `isTrusted` remembers its answer for; clients choose the texts, so it is bounded.
   * @default 1000
   */
  cacheSize?: number;
}

/** The manifest's documents, by id and by normalised text. */
export class TrustedDocuments {
  private readonly bodies = new Map<string, string>();
  private readonly normalised = new Set<string>();
  /** `isTrusted` answers by exact text: clients send the same few texts over and over. */
  private readonly verdicts = new Map<string, boolean>();
  /**
   * No trusted document has more tokens than this (give or take the `query` keyword that `print` drops from an
   * anonymous query), so a longer text is refused without being parsed to the end.
   */
  private readonly maxTokens: number;
  /** The manifest's operation names: the label set of the gateway's request metrics. */
  readonly names: ReadonlySet<string>;

  private constructor(
    operations: readonly PersistedOperation[],
    private readonly cacheSize: number,
  ) {
    let maxTokens = 0;
    for (const op of operations) {
      this.bodies.set(op.id, op.body);
      const text = normalise(op.body);
      if (text === undefined) throw new Error(`persisted document ${op.name} (${op.id}) does not parse`);
      this.normalised.add(text);
      maxTokens = Math.max(maxTokens, tokenCount(text));
    }
    this.maxTokens = maxTokens + 1;
    this.names = new Set(operations.map((op) => op.name));
  }

  /**
   * Trust the documents of `manifest`, after checking its shape and that every id is the sha256 of its body
   * (a hand-edited body with a stale id would otherwise answer for a document nobody reviewed).
   */
  static fromManifest(manifest: PersistedDocumentManifest, options: TrustedDocumentsOptions = {}): TrustedDocuments {
    const m = manifest as unknown as Record<string, unknown> | null;
    if (!m || typeof m !== 'object') throw new Error('a persisted document manifest must be a JSON object');
    if (m.format !== 'apollo-persisted-query-manifest') throw new Error(`unknown manifest format ${JSON.stringify(m.format)}; expected "apollo-persisted-query-manifest"`);
    if (m.version !== 1) throw new Error(`unsupported manifest version ${JSON.stringify(m.version)}; expected 1`);
    if (!Array.isArray(m.operations)) throw new Error('the manifest has no operations array');
    const operations: PersistedOperation[] = m.operations.map((raw: unknown, index: number) => {
      const op = raw as Record<string, unknown> | null;
      const where = `manifest operation ${index}`;
      if (!op || typeof op !== 'object') throw new Error(`${where} is not an object`);
      const { id, name, type, body } = op;
      if (typeof id !== 'string' || !HEX_SHA256.test(id)) throw new Error(`${where}: id must be a lowercase hex sha256`);
      if (typeof name !== 'string' || name === '') throw new Error(`${where}: name must be a non-empty string`);
      if (typeof type !== 'string' || !OPERATION_TYPES.has(type)) throw new Error(`${where} (${name}): type must be query, mutation or subscription`);
      if (typeof body !== 'string') throw new Error(`${where} (${name}): body must be a string`);
      if (sha256(body) !== id) throw new Error(`${where} (${name}): id ${id} is not the sha256 of its body (${sha256(body)})`);
      return { id, name, type: type as PersistedOperation['type'], body };
    });
    return new TrustedDocuments(operations, Math.max(0, options.cacheSize ?? 1000));
  }

  /** Read a manifest file (normally `persisted-documents.json`); throws when it is missing or malformed. */
  static fromFile(path: string, options?: TrustedDocumentsOptions): TrustedDocuments {
    return TrustedDocuments.fromManifest(JSON.parse(readFileSync(path, 'utf8')) as PersistedDocumentManifest, options);
  }

  /** How many distinct documents the manifest holds. */
  get size(): number {
    return this.bodies.size;
  }

  /** `sha256:<hex>` (GraphQL over HTTP persisted documents) or a bare hex hash (Apollo's persistedQuery extension). */
  byId(id: string): string | undefined {
    const hex = hexOf(id);
    return hex === undefined ? undefined : this.bodies.get(hex);
  }

  /**
   * Whether a full document text is one of the manifest's, compared after normalising with `print(parse())`
   * (so whitespace and comments do not matter). Answers are remembered by text, the oldest forgotten first.
   */
  isTrusted(query: string): boolean {
    const known = this.verdicts.get(query);
    if (known !== undefined) return known;
    const text = normalise(query, this.maxTokens);
    const verdict = text !== undefined && this.normalised.has(text);
    if (this.cacheSize === 0) return verdict;
    if (this.verdicts.size >= this.cacheSize) {
      const oldest = this.verdicts.keys().next();
      if (!oldest.done) this.verdicts.delete(oldest.value);
    }
    this.verdicts.set(query, verdict);
    return verdict;
  }
}

export type DocumentRequest = { query?: unknown; documentId?: unknown; extensions?: unknown };

const badRequest = (message: string): GraphQLError => new GraphQLError(message, { extensions: { code: 'BAD_REQUEST' } });

/**
 * The document a request means: its `query`, or the manifest's body for its `documentId` (GraphQL over HTTP,
 * `sha256:<hex>`) or `extensions.persistedQuery.sha256Hash` (Apollo, version 1). When a request sends both a
 * query and an id, the query is used only if the id is its sha256 (Apollo Client sends both after a miss).
 * `persisted` says whether the text is the manifest's.
 *
 * An id the manifest does not know is `PERSISTED_QUERY_NOT_FOUND` "PersistedQueryNotFound" for Apollo's
 * extension (the code and message its persisted-query link retries on, with the full query) and
 * `PERSISTED_DOCUMENT_NOT_FOUND` for `documentId`. Without a manifest, an id alone is
 * `PERSISTED_QUERY_NOT_SUPPORTED` "PersistedQueryNotSupported", on which that link stops sending ids.
 */
export function resolveDocument(request: DocumentRequest, documents: TrustedDocuments | undefined): { query: string; persisted: boolean } | GraphQLError {
  const { query, documentId } = request;
  if (query !== undefined && query !== null && typeof query !== 'string') return badRequest('the request\'s "query" must be a string');
  if (documentId !== undefined && documentId !== null && typeof documentId !== 'string') return badRequest('the request\'s "documentId" must be a string');
  const apq = persistedQueryOf(request.extensions);
  if (apq instanceof GraphQLError) return apq;
  const text = typeof query === 'string' && query !== '' ? query : undefined;
  const docId = typeof documentId === 'string' && documentId !== '' ? documentId : undefined;
  if (docId === undefined && apq === undefined) return text === undefined ? badRequest('the request has no query') : { query: text, persisted: false };

  const hash = docId !== undefined ? hexOf(docId) : apq;
  if (docId !== undefined && apq !== undefined && hash !== apq) return badRequest('"documentId" and extensions.persistedQuery name different documents');
  if (text !== undefined) {
    if (hash === undefined || sha256(text) !== hash) return badRequest('provided sha does not match query');
    return { query: text, persisted: documents?.byId(hash) !== undefined };
  }
  if (!documents) {
    return new GraphQLError('PersistedQueryNotSupported', { extensions: { code: 'PERSISTED_QUERY_NOT_SUPPORTED' } });
  }
  const body = hash === undefined ? undefined : documents.byId(hash);
  if (body !== undefined) return { query: body, persisted: true };
  if (docId !== undefined) {
    return new GraphQLError(`no persisted document has the id ${docId}; send a documentId from this gateway's manifest`, {
      extensions: { code: 'PERSISTED_DOCUMENT_NOT_FOUND' },
    });
  }
  return new GraphQLError('PersistedQueryNotFound', { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } });
}

/** The hex hash of an id: `sha256:<hex>`, or bare hex; undefined for any other kind of id. */
function hexOf(documentId: string): string | undefined {
  const hex = (documentId.startsWith('sha256:') ? documentId.slice('sha256:'.length) : documentId).toLowerCase();
  return HEX_SHA256.test(hex) ? hex : undefined;
}

/** `extensions.persistedQuery.sha256Hash`, lowercased; undefined when the request has no persistedQuery. */
function persistedQueryOf(extensions: unknown): string | undefined | GraphQLError {
  if (extensions === undefined || extensions === null) return undefined;
  if (typeof extensions !== 'object') return badRequest('the request\'s "extensions" must be an object');
  const pq = (extensions as { persistedQuery?: unknown }).persistedQuery;
  if (pq === undefined || pq === null) return undefined;
  if (typeof pq !== 'object') return badRequest('extensions.persistedQuery must be an object');
  const { version, sha256Hash } = pq as { version?: unknown; sha256Hash?: unknown };
  if (version !== 1) return badRequest('Unsupported persisted query version');
  if (typeof sha256Hash !== 'string' || sha256Hash === '') return badRequest('extensions.persistedQuery.sha256Hash must be a string');
  return sha256Hash.toLowerCase();
}
