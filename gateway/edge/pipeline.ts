import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  GraphQLScalarType,
  Kind,
  NoSchemaIntrospectionCustomRule,
  specifiedRules,
  validate,
  valueFromASTUntyped,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type OperationTypeNode,
  type SelectionNode,
} from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import type { Principal } from '../../common/auth/principal.js';
import { checkLimits, parseWithinLimits, type DocumentLimits } from './limits.js';
import type { OperationAuthorizer } from './operation-authorizer.js';
import type { RateLimiter, RateLimitRule } from '../../common/rate-limit.js';
import { resolveDocument, type TrustedDocuments } from './trusted-documents.js';

/*
 * The gateway's edge, transport-agnostic: everything that decides whether and how an operation runs, before any
 * subgraph is asked. HTTP (edge-http.ts) and WebSocket (subscriptions/ws-server.ts) are thin adapters over it, so
 * the same document gets the same answer over either.
 *
 * In order: the caller's rate limit → the document (text, or a persisted id) → trusted documents → parse under the
 * token limit → validation → the transport's rules (no mutation over GET, subscriptions over WebSocket) →
 * variables → depth, alias and cost limits → checkout's own rate limit → authorization (fields the caller may not
 * have are removed, and put back as located nulls by `patch`).
 */

/** One operation as a client sent it (a GraphQL-over-HTTP request body, a GET's parameters, a graphql-ws subscribe payload). */
export interface OperationRequest {
  query?: unknown;
  documentId?: unknown;
  extensions?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

/** Who is asking: the verified principal, and where from (the rate limit's key for anonymous callers). */
export interface Caller {
  principal: Principal;
  address: string | undefined;
}

export type Transport = 'GET' | 'POST' | 'WS';

export type Prepared =
  /** Refused before execution: answer `errors` with `status` (HTTP) and `headers`. */
  | { kind: 'refused'; status: number; errors: GraphQLError[]; headers?: Record<string, string> }
  /** Authorization refused every root field: `result` is the whole answer, nothing runs. */
  | { kind: 'answered'; operation: OperationTypeNode; operationName: string | undefined; document: DocumentNode; result: ExecutionResult }
  /** Run `query` (the client's, or with refused fields removed), then `patch` the result when given. */
  | {
      kind: 'ready';
      operation: OperationTypeNode;
      operationName: string | undefined;
      query: string;
      document: DocumentNode;
      variables: Record<string, unknown>;
      patch: ((result: ExecutionResult) => ExecutionResult) | undefined;
    };

export interface OperationPipelineOptions {
  /** The API schema. */
  schema: GraphQLSchema;
  authorizer: OperationAuthorizer;
  limits: DocumentLimits;
  /**
   * `enforce`: anonymous and shopper callers may send only the manifest's documents (by id or as text); staff
   * tools (store, agent, finance) may send any. `allow`: any document from anyone.
   * @default { mode: 'allow' }
   */
  trusted?: { mode: 'allow' | 'enforce'; documents?: TrustedDocuments | undefined } | undefined;
  /** Where the buckets live; without one nothing is rate limited. @default none */
  rateLimiter?: RateLimiter | undefined;
  /** Every caller's bucket (one token per operation). */
  rateLimit: RateLimitRule;
  /** Each caller's checkout bucket, on top: one token per `placeOrder`. */
  checkoutRateLimit: RateLimitRule;
  /** Production: introspection is refused at validation. @default false */
  production?: boolean | undefined;
  /** Parsed and validated documents kept, by text. @default 1000 */
  cacheSize?: number | undefined;
}

/** A document's text parsed once (the document, or why it cannot be), validated once it passed the limits. */
interface ParsedDocument {
  document?: DocumentNode;
  errors?: readonly GraphQLError[];
  validation?: readonly GraphQLError[];
}

const coded = (message: string, code: string, extensions: Record<string, unknown> = {}): GraphQLError => new GraphQLError(message, { extensions: { code, ...extensions } });

/** The caller's rate-limit key: whom the token names, else the client's address. */
export function rateKeyOf(caller: Caller): string {
  const { principal } = caller;
  return principal.kind === 'anonymous' ? `ip:${caller.address ?? 'unknown'}` : `${principal.kind}:${principal.subject}`;
}

export interface OperationPipeline {
  prepare(request: OperationRequest, caller: Caller, transport: Transport): Promise<Prepared>;
  /**
   * The caller's general bucket alone, for a request refused before any operation is read (a token that is not
   * good): a flood of bad tokens is held back like any other flood.
   */
  admit(caller: Caller): Promise<Extract<Prepared, { kind: 'refused' }> | undefined>;
}

export function createOperationPipeline(options: OperationPipelineOptions): OperationPipeline {
  const { schema, authorizer, limits } = options;
  checkScalarsAtTheEdge(schema);
  const trusted = options.trusted ?? { mode: 'allow' as const };
  const cacheSize = options.cacheSize ?? 1000;
  const rules = options.production ? [...specifiedRules, NoSchemaIntrospectionCustomRule] : specifiedRules;
  const documents = new Map<string, ParsedDocument>();

  const parsed = (query: string): ParsedDocument => {
    let entry = documents.get(query);
    if (!entry) {
      const document = parseWithinLimits(query, limits);
      entry = document instanceof GraphQLError ? { errors: [document] } : { document };
      // Clients choose the text: the bound keeps a misbehaving one from growing the cache without limit.
      if (documents.size >= cacheSize) documents.delete(documents.keys().next().value as string);
      documents.set(query, entry);
    }
    return entry;
  };
  // Validation is the dearest step for a document built to be expensive (about 10 ms for 300 aliases), so it runs
  // after the limits, which need no schema check to measure.
  const validated = (entry: ParsedDocument, document: DocumentNode): readonly GraphQLError[] => {
    entry.validation ??= validate(schema, document, rules).map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
    return entry.validation;
  };

  const take = async (caller: Caller, rule: RateLimitRule, cost = 1): Promise<Extract<Prepared, { kind: 'refused' }> | undefined> => {
    if (!options.rateLimiter) return undefined;
    const decision = await options.rateLimiter.take(rateKeyOf(caller), rule, cost);
    if (decision.allowed) return undefined;
    const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    return {
      kind: 'refused',
      status: 429,
      errors: [coded(`too many requests (${rule.name}); retry after ${seconds} s`, 'RATE_LIMITED', { retryAfterSeconds: seconds })],
      headers: { 'retry-after': String(seconds) },
    };
  };

  return {
    admit: (caller) => take(caller, options.rateLimit),
    async prepare(request, caller, transport) {
      const limited = await take(caller, options.rateLimit);
      if (limited) return limited;

      const resolved = resolveDocument(request, trusted.documents);
      if (resolved instanceof GraphQLError) {
        // Apollo's persisted-query link reads these two from a 200 and retries with the full text (or stops hashing).
        const apq = resolved.extensions.code === 'PERSISTED_QUERY_NOT_FOUND' || resolved.extensions.code === 'PERSISTED_QUERY_NOT_SUPPORTED';
        return { kind: 'refused', status: apq ? 200 : 400, errors: [resolved] };
      }
      const mustBeTrusted = trusted.mode === 'enforce' && (caller.principal.kind === 'anonymous' || caller.principal.kind === 'shopper');
      if (mustBeTrusted && !resolved.persisted && !(trusted.documents?.isTrusted(resolved.query) ?? false)) {
        return { kind: 'refused', status: 400, errors: [coded('this gateway runs only its persisted documents for this caller: send a documentId from its manifest', 'DOCUMENT_NOT_TRUSTED')] };
      }

      const entry = parsed(resolved.query);
      if (!entry.document) return { kind: 'refused', status: 400, errors: [...(entry.errors ?? [])] };
      const document = entry.document;
      if (request.operationName !== undefined && request.operationName !== null && typeof request.operationName !== 'string') {
        return { kind: 'refused', status: 400, errors: [coded('operationName must be a string', 'BAD_REQUEST')] };
      }
      const operationName = typeof request.operationName === 'string' && request.operationName !== '' ? request.operationName : undefined;
      const operation = getOperationAST(document, operationName);
      if (!operation) {
        return { kind: 'refused', status: 400, errors: [coded(operationName ? `the document has no operation named ${operationName}` : 'the document has several operations: name one with operationName', 'OPERATION_RESOLUTION_FAILURE')] };
      }
      const refusedByTransport = transportRule(operation, transport);
      if (refusedByTransport) return refusedByTransport;

      const rawVariables = request.variables ?? {};
      if (typeof rawVariables !== 'object' || rawVariables === null || Array.isArray(rawVariables)) {
        return { kind: 'refused', status: 400, errors: [coded('variables must be an object', 'BAD_REQUEST')] };
      }
      const overLimit = checkLimits(schema, document, operationName, rawVariables as Record<string, unknown>, limits);
      if (overLimit.length) return { kind: 'refused', status: 400, errors: overLimit };
      const invalid = validated(entry, document);
      if (invalid.length) return { kind: 'refused', status: 400, errors: [...invalid] };
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables as Record<string, unknown>, { maxErrors: 20 });
      if (coerced.errors) return { kind: 'refused', status: 400, errors: coerced.errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT' } })) };

      const checkouts = checkoutsOf(operation, document);
      if (checkouts > 0) {
        const checkoutLimited = await take(caller, options.checkoutRateLimit, checkouts);
        if (checkoutLimited) return checkoutLimited;
      }

      const decision = authorizer.authorize(`${operationName ?? ''}\n${resolved.query}`, document, operation, coerced.coerced, caller.principal);
      const base = { operation: operation.operation, operationName };
      switch (decision.kind) {
        case 'allowed':
          return { kind: 'ready', ...base, query: resolved.query, document, variables: coerced.coerced, patch: undefined };
        case 'filtered':
          return { kind: 'ready', ...base, query: decision.query, document: decision.document, variables: coerced.coerced, patch: decision.patch };
        case 'refused':
          return { kind: 'answered', ...base, document, result: decision.result };
        default: {
          const never: never = decision;
          throw new Error(`unexpected authorization outcome ${JSON.stringify(never)}`);
        }
      }
    },
  };
}

/** The custom scalars of the subgraphs, with the checks they apply (common/graphql-types.ts names the same resolver). */
const SUBGRAPH_SCALARS: Record<string, GraphQLScalarType> = { DateTime: DateTimeResolver };

/**
 * The API schema knows the subgraphs' custom scalars by name only, so any value passed the gateway's coercion and
 * the owning subgraph refused it: a `DateTime` of "2024-02-30" came back as DOWNSTREAM_SERVICE_ERROR (and, in
 * production, INTERNAL_SERVER_ERROR), which tells a client nothing about its input (found by the fuzz suite). The
 * subgraphs' own checks run here instead: a bad variable is BAD_USER_INPUT, a bad literal GRAPHQL_VALIDATION_FAILED,
 * both before planning. A good value passes unchanged, as the client wrote it, for the subgraph to parse.
 */
function checkScalarsAtTheEdge(schema: GraphQLSchema): void {
  for (const [name, checked] of Object.entries(SUBGRAPH_SCALARS)) {
    const type = schema.getType(name);
    if (!(type instanceof GraphQLScalarType) || type === checked) continue;
    type.parseValue = (value: unknown) => {
      checked.parseValue(value);
      return value;
    };
    type.parseLiteral = (node, variables) => {
      checked.parseLiteral(node, variables);
      return valueFromASTUntyped(node, variables);
    };
  }
}

/** Mutations never run over GET (a link or an image tag must not act); subscriptions need the socket. */
function transportRule(operation: OperationDefinitionNode, transport: Transport): Prepared | undefined {
  if (operation.operation === 'mutation' && transport === 'GET') {
    return { kind: 'refused', status: 405, errors: [coded('mutations are sent with POST, never GET', 'BAD_REQUEST')], headers: { allow: 'POST' } };
  }
  if (operation.operation === 'subscription' && transport !== 'WS') {
    return { kind: 'refused', status: 400, errors: [coded('subscriptions are served over WebSocket (graphql-transport-ws) on this same URL', 'BAD_REQUEST')] };
  }
  return undefined;
}

/**
 * How many orders the operation places: every `placeOrder` root field, aliased or inside fragments, is one checkout
 * (checkout has its own, tighter bucket, and one request must not buy thirty orders for the price of one).
 */
function checkoutsOf(operation: OperationDefinitionNode, document: DocumentNode): number {
  if (operation.operation !== 'mutation') return 0;
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const count = (selections: readonly SelectionNode[], seen: ReadonlySet<string>): number =>
    selections.reduce((n, s) => {
      switch (s.kind) {
        case Kind.FIELD:
          return n + (s.name.value === 'placeOrder' ? 1 : 0);
        case Kind.INLINE_FRAGMENT:
          return n + count(s.selectionSet.selections, seen);
        case Kind.FRAGMENT_SPREAD: {
          const fragment = fragments.get(s.name.value);
          return fragment && !seen.has(s.name.value) ? n + count(fragment.selectionSet.selections, new Set([...seen, s.name.value])) : n;
        }
        default:
          return n;
      }
    }, 0);
  return count(operation.selectionSet.selections, new Set());
}
