import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CORRELATION_HEADER, correlationIdFrom, runInScope } from '../../common/correlation.js';
import { headerValue, readBody } from '../../common/http.js';
import type { Logger } from '../../common/logger.js';
import { TransportError } from '../../common/resilience.js';
import type { SandboxControl } from '../faults.js';
import type { ErpProduct, ErpVariant, InvoiceRecord, PostingRecord, StockPolicy } from '../../common/systems/records.js';
import type { ErpMasterChange, ErpMasterSnapshot } from '../../common/systems/erp.js';
import { MAX_CHANGE_BATCH, type SandboxErp } from '../erp.js';
import { conjoin, conjuncts, matches, mentions, ODataQueryError, parseCollectionQuery, parsePrefer, project, takeKeys, takeRange, type CollectionQuery, type FilterExpr, type Literal } from './query.js';

/*
 * The sandbox ERP's data over OData v4, as a real ERP's API gateway offers it: what the OData connector
 * (common/erp-odata) is tested against. Hand-written on node:http and small on purpose: the entity sets, query
 * options, paging, delta links, JSON $batch and the OAuth2 client-credentials token endpoint the connector needs.
 *
 * Every OData request (a `$batch` is one request) is one call to the ERP as the sandbox counts them: it goes through
 * the same SandboxControl as the in-process and RPC ERP (so `/sandbox/faults` for `erp` applies: down and errorRate
 * answer 503, rateLimitPerSecond 429 with Retry-After, latencyMs delays the answer) and is counted under the
 * sandbox ERP method it stands for (`getMasterDataChanges`, `postJournalBatch`, ...), so `/sandbox/calls` reads
 * the same whichever adapter the graph runs. The data itself is then read from the uninstrumented ERP.
 */

/** Where the service is mounted on the sandbox control server. */
export const SANDBOX_ODATA_PATH = '/sandbox/erp/odata';
/** The OAuth2 token endpoint (client credentials). */
export const SANDBOX_ODATA_TOKEN_PATH = '/sandbox/erp/oauth2/token';
/** The client the sandbox ERP knows: what `ERP_ADAPTER=odata` uses when no ERP_URL is set. */
export const SANDBOX_ODATA_CLIENT = { clientId: 'retail-graph', clientSecret: 'sandbox-erp-secret' } as const;

const DEFAULT_PAGE_SIZE = 5000;
const MAX_PAGE_SIZE = 10_000;
const TOKEN_TTL_SECONDS = 3600;
const MAX_BATCH_REQUESTS = 100;
/** Snapshots kept for their paging links (a new one is taken per full read at a new sequence). */
const SNAPSHOTS_KEPT = 3;

export interface ErpODataServiceOptions {
  /** The ERP as its own console reaches it: not counted, not faulted (the service counts and faults each request itself). */
  erp: SandboxErp;
  /** Faults and call counters of the sandbox. */
  control: SandboxControl;
  logger: Logger;
  /**
   * Clients allowed to take tokens.
   * @default [SANDBOX_ODATA_CLIENT]
   */
  clients?: readonly { clientId: string; clientSecret: string }[];
}

type Entity = Record<string, unknown>;
type ODataResponse = { status: number; headers?: Record<string, string>; body?: unknown };
type ODataRequest = { method: string; url: URL; headers: Record<string, string | undefined>; body: unknown };

class ODataFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const errorBody = (code: string, message: string) => ({ error: { code, message } });

const productEntity = (p: ErpProduct): Entity => ({ ID: p.id, Name: p.name, Description: p.description, Brand: p.brand, Category: p.category, SKUs: p.skus.slice() });
const variantEntity = (v: ErpVariant): Entity => ({ SKU: v.sku, ProductID: v.productId, Name: v.name, Color: v.color, Size: v.size, ListPriceMinor: v.priceMinor, Currency: v.currency, Status: v.status });
const policyEntity = (p: StockPolicy): Entity => ({ SKU: p.sku, LocationID: p.locationId, SafetyStock: p.safetyStock, Incoming: p.incoming });
const invoiceEntity = (i: InvoiceRecord): Entity => ({ ID: i.id, OrderID: i.orderId, Number: i.number, Status: i.status, TotalMinor: i.totalMinor, TaxMinor: i.taxMinor ?? null, Currency: i.currency, IssuedAt: i.issuedAt });
const postingEntity = (p: PostingRecord): Entity => ({
  ID: p.id,
  OrderID: p.orderId,
  Type: p.type,
  Status: p.status,
  Attempts: p.attempts,
  AmountMinor: p.amountMinor,
  TaxMinor: p.taxMinor ?? null,
  Currency: p.currency,
  DocumentNumber: p.erpDocumentNumber,
  LastError: p.lastError,
  PostedAt: p.postedAt,
  CreatedAt: p.createdAt,
});

type MasterSet = 'Products' | 'Variants' | 'StockPolicies';
type SetName = MasterSet | 'Invoices' | 'JournalPostings';

/** Each entity set: its key and properties (the `$metadata` and `$select`/`$filter` checks read these). */
const SETS: Record<SetName, { type: string; key: string[]; properties: Record<string, string> }> = {
  Products: { type: 'Product', key: ['ID'], properties: { ID: 'Edm.String', Name: 'Edm.String', Description: 'Edm.String', Brand: 'Edm.String', Category: 'Edm.String', SKUs: 'Collection(Edm.String)' } },
  Variants: {
    type: 'Variant',
    key: ['SKU'],
    properties: { SKU: 'Edm.String', ProductID: 'Edm.String', Name: 'Edm.String', Color: 'Edm.String', Size: 'Edm.String', ListPriceMinor: 'Edm.Int64', Currency: 'Edm.String', Status: 'Edm.String' },
  },
  StockPolicies: { type: 'StockPolicy', key: ['SKU', 'LocationID'], properties: { SKU: 'Edm.String', LocationID: 'Edm.String', SafetyStock: 'Edm.Int32', Incoming: 'Edm.Int32' } },
  Invoices: { type: 'Invoice', key: ['ID'], properties: { ID: 'Edm.String', OrderID: 'Edm.String', Number: 'Edm.String', Status: 'Edm.String', TotalMinor: 'Edm.Int64', TaxMinor: 'Edm.Int64', Currency: 'Edm.String', IssuedAt: 'Edm.DateTimeOffset' } },
  JournalPostings: {
    type: 'JournalPosting',
    key: ['ID'],
    properties: {
      ID: 'Edm.String',
      OrderID: 'Edm.String',
      Type: 'Edm.String',
      Status: 'Edm.String',
      Attempts: 'Edm.Int32',
      AmountMinor: 'Edm.Int64',
      TaxMinor: 'Edm.Int64',
      Currency: 'Edm.String',
      DocumentNumber: 'Edm.String',
      LastError: 'Edm.String',
      PostedAt: 'Edm.DateTimeOffset',
      CreatedAt: 'Edm.DateTimeOffset',
      // Filterable only (a range with ge and lt): the business date the posting books.
      PostingDate: 'Edm.DateTimeOffset',
    },
  },
};

const MASTER_KIND: Record<MasterSet, ErpMasterChange['kind']> = { Products: 'PRODUCT', Variants: 'VARIANT', StockPolicies: 'STOCK_POLICY' };

function isSetName(name: string): name is SetName {
  return Object.prototype.hasOwnProperty.call(SETS, name);
}

const strings = (values: readonly Literal[], what: string): string[] =>
  values.map((v) => {
    if (v.kind !== 'string') throw new ODataQueryError(`${what} takes string literals`);
    return v.value;
  });

/** A full read's paging link: which snapshot (by sequence) and where in it. */
const snapshotToken = (sequence: number, offset: number) => `s${sequence}.${offset}`;
const SNAPSHOT_TOKEN = /^s(\d+)\.(\d+)$/;
const OFFSET_TOKEN = /^o(\d+)$/;

/** The per-request (or per-$batch) state: the requests of one $batch read one snapshot. */
interface Context {
  snapshot?: ErpMasterSnapshot;
}

export interface ErpODataService {
  /** Answers the request when its path is the service's (or its token endpoint's); false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
}

/** The sandbox ERP's OData v4 service and its OAuth2 token endpoint (see the module comment). */
export function createErpODataService(options: ErpODataServiceOptions): ErpODataService {
  const { erp, control, logger } = options;
  const clients = options.clients ?? [SANDBOX_ODATA_CLIENT];
  const tokens = new Map<string, number>();
  let tokenTtlSeconds = TOKEN_TTL_SECONDS;
  const stats = { issued: 0, refused: 0, unauthorized: 0, aborted: 0 };
  const snapshots = new Map<number, ErpMasterSnapshot>();

  const rootOf = (url: URL) => `${url.origin}${SANDBOX_ODATA_PATH}`;

  async function snapshotFor(ctx: Context, sequence?: number): Promise<ErpMasterSnapshot> {
    if (sequence === undefined) {
      ctx.snapshot ??= await erp.getMasterDataSnapshot();
      const snapshot = ctx.snapshot;
      if (!snapshots.has(snapshot.sequence)) {
        snapshots.set(snapshot.sequence, snapshot);
        while (snapshots.size > SNAPSHOTS_KEPT) snapshots.delete(snapshots.keys().next().value as number);
      }
      return snapshot;
    }
    const kept = snapshots.get(sequence);
    if (kept) return kept;
    // The state as of a sequence is the same whenever it is read: a snapshot of the current one needs no keeping.
    const now = await erp.getMasterDataSnapshot();
    if (now.sequence === sequence) return now;
    throw new ODataFailure(410, 'Gone', `the snapshot at sequence ${sequence} this link pages through is gone: start the read again`);
  }

  function pageSizeOf(req: ODataRequest): number {
    return Math.min(MAX_PAGE_SIZE, parsePrefer(req.headers.prefer).maxPageSize ?? DEFAULT_PAGE_SIZE);
  }

  function collection(req: ODataRequest, set: SetName, all: Entity[], q: CollectionQuery, offset: number, link: (offset: number) => string, extra: Record<string, unknown> = {}): ODataResponse {
    const filtered = q.filter ? all.filter((e) => matches(e, q.filter as FilterExpr)) : all;
    const limited = q.top !== null ? filtered.slice(0, q.top) : filtered;
    const pageSize = pageSizeOf(req);
    const page = limited.slice(offset, offset + pageSize);
    const body: Record<string, unknown> = { '@odata.context': `${rootOf(req.url)}/$metadata#${set}`, ...(q.count ? { '@odata.count': limited.length } : {}) };
    body.value = page.map((e) => project(e, q.select, SETS[set].key));
    const more = offset + pageSize < limited.length;
    if (more) body['@odata.nextLink'] = link(offset + pageSize);
    Object.assign(body, more ? {} : extra);
    const prefer = parsePrefer(req.headers.prefer);
    const applied = [prefer.maxPageSize ? `odata.maxpagesize=${pageSize}` : '', prefer.trackChanges && 'odata.deltaLink' in extra ? 'odata.track-changes' : ''].filter(Boolean).join(', ');
    return { status: 200, headers: applied ? { 'preference-applied': applied } : {}, body };
  }

  /** `?$deltatoken=N`: the changes to the set after sequence N, each the record as of its change, oldest first. */
  async function delta(req: ODataRequest, set: MasterSet, token: string, q: CollectionQuery): Promise<ODataResponse> {
    if (!/^\d+$/.test(token)) throw new ODataFailure(410, 'Gone', `delta token ${JSON.stringify(token)} is not one this service issued`);
    if (q.filter) throw new ODataQueryError('$filter is not supported on a delta request', 501, 'NotImplemented');
    const pageSize = pageSizeOf(req);
    const kind = MASTER_KIND[set];
    const found: Entity[] = [];
    let after = Number(token);
    let latest = after;
    let next: number | null = null;
    for (;;) {
      const batch = await erp.getMasterDataChanges(after, MAX_CHANGE_BATCH);
      if (!batch.ok) throw new ODataFailure(410, 'Gone', `delta token ${token} is too old (the oldest change held is ${batch.oldestSequence}, the latest ${batch.latestSequence}): read the set in full again`);
      latest = batch.latestSequence;
      for (const change of batch.changes) {
        if (change.kind !== kind) continue;
        const record = change.kind === 'PRODUCT' ? productEntity(change.product) : change.kind === 'VARIANT' ? variantEntity(change.variant) : policyEntity(change.policy);
        found.push({ ...project(record, q.select, SETS[set].key), ChangeSequence: change.sequence, ChangedAt: change.at });
        if (found.length === pageSize) {
          next = change.sequence;
          break;
        }
      }
      if (next !== null || batch.changes.length < MAX_CHANGE_BATCH) break;
      after = batch.changes.at(-1)!.sequence;
    }
    const root = rootOf(req.url);
    const body: Record<string, unknown> = { '@odata.context': `${root}/$metadata#${set}/$delta`, value: found };
    if (next !== null) body['@odata.nextLink'] = `${root}/${set}?$deltatoken=${next}`;
    else body['@odata.deltaLink'] = `${root}/${set}?$deltatoken=${latest}`;
    return { status: 200, body };
  }

  async function readMaster(req: ODataRequest, set: MasterSet, q: CollectionQuery, ctx: Context): Promise<ODataResponse> {
    if (q.deltatoken !== null) return delta(req, set, q.deltatoken, q);
    const root = rootOf(req.url);
    const tracked = parsePrefer(req.headers.prefer).trackChanges;
    const snapshotPage = q.skiptoken ? SNAPSHOT_TOKEN.exec(q.skiptoken) : null;
    if (tracked || snapshotPage) {
      // A full read that tracks changes: pages of one snapshot, the last with the delta link from its sequence.
      if (q.filter || q.top !== null) throw new ODataQueryError('change tracking is offered on the whole set only (no $filter, no $top)', 501, 'NotImplemented');
      const snapshot = await snapshotFor(ctx, snapshotPage ? Number(snapshotPage[1]) : undefined);
      const all = set === 'Products' ? snapshot.products.map(productEntity) : set === 'Variants' ? snapshot.variants.map(variantEntity) : snapshot.policies.map(policyEntity);
      const keep = q.select ? `&$select=${q.select.join(',')}` : '';
      return collection(req, set, all, q, snapshotPage ? Number(snapshotPage[2]) : 0, (offset) => `${root}/${set}?$skiptoken=${snapshotToken(snapshot.sequence, offset)}${keep}`, {
        '@odata.deltaLink': `${root}/${set}?$deltatoken=${snapshot.sequence}`,
      });
    }
    let all: Entity[];
    const parts = q.filter ? conjuncts(q.filter) : [];
    const byKey = set === 'StockPolicies' ? null : takeKeys(parts, set === 'Products' ? 'ID' : 'SKU');
    const byProduct = set === 'Variants' ? takeKeys(parts, 'ProductID') : null;
    if (byKey) {
      const ids = strings(byKey.values, 'the key');
      const found = set === 'Products' ? (await erp.getProducts(ids)).map((p) => p && productEntity(p)) : (await erp.getVariants(ids)).map((v) => v && variantEntity(v));
      all = found.filter((e): e is Entity => e !== null);
    } else if (byProduct) {
      all = (await erp.getVariantsByProduct(strings(byProduct.values, 'ProductID'))).flat().map(variantEntity);
    } else {
      const snapshot = await snapshotFor(ctx);
      all = set === 'Products' ? snapshot.products.map(productEntity) : set === 'Variants' ? snapshot.variants.map(variantEntity) : snapshot.policies.map(policyEntity);
    }
    return offsetCollection(req, set, all, q);
  }

  function offsetCollection(req: ODataRequest, set: SetName, all: Entity[], q: CollectionQuery): ODataResponse {
    const match = q.skiptoken ? OFFSET_TOKEN.exec(q.skiptoken) : null;
    if (q.skiptoken && !match) throw new ODataFailure(410, 'Gone', `$skiptoken ${q.skiptoken} is not one this service issued`);
    const params = new URLSearchParams(req.url.search);
    return collection(req, set, all, q, match ? Number(match[1]) : 0, (offset) => {
      params.set('$skiptoken', `o${offset}`);
      return `${rootOf(req.url)}/${set}?${params.toString().replace(/%24/g, '$')}`;
    });
  }

  async function readInvoices(req: ODataRequest, q: CollectionQuery): Promise<ODataResponse> {
    const byOrder = q.filter ? takeKeys(conjuncts(q.filter), 'OrderID') : null;
    if (!byOrder) throw new ODataQueryError("Invoices are read by order: $filter=OrderID in ('...')", 501, 'NotImplemented');
    const all = (await erp.getInvoicesByOrder(strings(byOrder.values, 'OrderID'))).flat().map(invoiceEntity);
    return offsetCollection(req, 'Invoices', all, { ...q, filter: conjoin(byOrder.rest) });
  }

  async function readPostings(req: ODataRequest, q: CollectionQuery): Promise<ODataResponse> {
    const parts = q.filter ? conjuncts(q.filter) : [];
    const byId = takeKeys(parts, 'ID');
    const byOrder = byId ? null : takeKeys(parts, 'OrderID');
    const byDate = byId || byOrder ? null : takeRange(parts, 'PostingDate');
    let all: Entity[];
    let rest: FilterExpr[];
    if (byId) {
      all = (await erp.getPostings(strings(byId.values, 'ID'))).flatMap((p) => (p ? [postingEntity(p)] : []));
      rest = byId.rest;
    } else if (byOrder) {
      all = (await erp.getPostingsByOrder(strings(byOrder.values, 'OrderID'))).flat().map(postingEntity);
      rest = byOrder.rest;
    } else if (byDate) {
      if (byDate.from.kind !== 'date' || byDate.to.kind !== 'date') throw new ODataQueryError('PostingDate is compared with date/time literals (2026-01-01T00:00:00Z)');
      all = (await erp.getPostingsByDate(byDate.from.value, byDate.to.value)).map(postingEntity);
      rest = byDate.rest;
    } else {
      throw new ODataQueryError("JournalPostings are read by ID in (...), by OrderID in (...) or by a PostingDate range (PostingDate ge ... and PostingDate lt ...)", 501, 'NotImplemented');
    }
    const remaining = conjoin(rest);
    if (remaining && mentions(remaining, 'PostingDate')) throw new ODataQueryError('PostingDate is filterable as one range (ge ... and lt ...) only', 501, 'NotImplemented');
    return offsetCollection(req, 'JournalPostings', all, { ...q, filter: remaining });
  }

  const rejected = (error: unknown): ODataFailure | null => {
    const message = error instanceof Error ? error.message : String(error);
    return /ERP rejected/.test(message) ? new ODataFailure(400, 'Rejected', message) : null;
  };

  const text = (body: Record<string, unknown>, name: string, required = true): string | undefined => {
    const value = body[name];
    if (value === undefined || value === null) {
      if (required) throw new ODataFailure(400, 'BadRequest', `${name} is required`);
      return undefined;
    }
    if (typeof value !== 'string') throw new ODataFailure(400, 'BadRequest', `${name} must be a string`);
    return value;
  };
  const integer = (body: Record<string, unknown>, name: string, required = true): number | undefined => {
    const value = body[name];
    if (value === undefined || value === null) {
      if (required) throw new ODataFailure(400, 'BadRequest', `${name} is required`);
      return undefined;
    }
    if (!Number.isSafeInteger(value)) throw new ODataFailure(400, 'BadRequest', `${name} must be an integer`);
    return value as number;
  };
  const objectBody = (body: unknown): Record<string, unknown> => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ODataFailure(400, 'BadRequest', 'the body must be a JSON object');
    return body as Record<string, unknown>;
  };

  async function postPosting(req: ODataRequest): Promise<ODataResponse> {
    const body = objectBody(req.body);
    const request = {
      id: text(body, 'ID')!,
      orderId: text(body, 'OrderID')!,
      type: text(body, 'Type') as PostingRecord['type'],
      amountMinor: integer(body, 'AmountMinor')!,
      taxMinor: integer(body, 'TaxMinor', false) ?? null,
      currency: text(body, 'Currency')!,
      postingDate: text(body, 'PostingDate', false) ?? null,
      attempt: integer(body, 'Attempt', false) ?? null,
    };
    try {
      const record = await erp.postJournal(request);
      return { status: 201, headers: { location: `${rootOf(req.url)}/JournalPostings('${encodeURIComponent(record.id)}')` }, body: { '@odata.context': `${rootOf(req.url)}/$metadata#JournalPostings/$entity`, ...postingEntity(record) } };
    } catch (error) {
      throw rejected(error) ?? error;
    }
  }

  async function issueInvoice(req: ODataRequest): Promise<ODataResponse> {
    const body = objectBody(req.body);
    const request = { id: text(body, 'ID')!, orderId: text(body, 'OrderID')!, totalMinor: integer(body, 'TotalMinor')!, taxMinor: integer(body, 'TaxMinor', false) ?? null, currency: text(body, 'Currency')! };
    try {
      const record = await erp.issueInvoice(request);
      return { status: 200, body: { '@odata.context': `${rootOf(req.url)}/$metadata#Invoices/$entity`, ...invoiceEntity(record) } };
    } catch (error) {
      throw rejected(error) ?? error;
    }
  }

  function metadata(): ODataResponse {
    const schema: Record<string, unknown> = {};
    const container: Record<string, unknown> = { $Kind: 'EntityContainer', IssueInvoice: { $Action: 'ERP.IssueInvoice' } };
    for (const [set, def] of Object.entries(SETS)) {
      const type: Record<string, unknown> = { $Kind: 'EntityType', $Key: def.key };
      for (const [name, edm] of Object.entries(def.properties)) {
        const collectionOf = /^Collection\((.+)\)$/.exec(edm);
        type[name] = collectionOf ? { $Collection: true, $Type: collectionOf[1], $Nullable: true } : { $Type: edm, $Nullable: !def.key.includes(name) };
      }
      schema[def.type] = type;
      container[set] = { $Collection: true, $Type: `ERP.${def.type}` };
    }
    schema.IssueInvoice = [{ $Kind: 'Action', $Parameter: [{ $Name: 'ID' }, { $Name: 'OrderID' }, { $Name: 'TotalMinor', $Type: 'Edm.Int64' }, { $Name: 'TaxMinor', $Type: 'Edm.Int64', $Nullable: true }, { $Name: 'Currency' }], $ReturnType: { $Type: 'ERP.Invoice' } }];
    schema.Container = container;
    return { status: 200, body: { $Version: '4.01', $EntityContainer: 'ERP.Container', ERP: schema } };
  }

  /** The sandbox ERP method a request stands for, under which it is counted (and faulted). */
  function callName(req: ODataRequest): string {
    const segment = req.url.pathname.slice(SANDBOX_ODATA_PATH.length).replace(/^\//, '');
    const params = req.url.searchParams;
    if (req.method === 'POST' && segment === 'JournalPostings') return 'postJournal';
    if (req.method === 'POST' && segment === 'IssueInvoice') return 'issueInvoice';
    if (segment === 'Products' || segment === 'Variants' || segment === 'StockPolicies') {
      if (params.has('$deltatoken')) return 'getMasterDataChanges';
      if (parsePrefer(req.headers.prefer).trackChanges || SNAPSHOT_TOKEN.test(params.get('$skiptoken') ?? '')) return 'getMasterDataSnapshot';
      return segment === 'Products' ? 'getProducts' : segment === 'Variants' ? 'getVariants' : 'getStockPolicies';
    }
    if (segment === 'Invoices') return 'getInvoicesByOrder';
    if (segment === 'JournalPostings') {
      const filter = params.get('$filter') ?? '';
      return /\bID\s+(eq|in)\b/.test(filter) && !/OrderID\s+(eq|in)/.test(filter) ? 'getPostings' : /OrderID/.test(filter) ? 'getPostingsByOrder' : 'getPostingsByDate';
    }
    return '$metadata';
  }

  /** Serve one request (top-level or inside a $batch) against the ERP; errors become OData error responses. */
  async function execute(req: ODataRequest, ctx: Context): Promise<ODataResponse> {
    try {
      const segment = req.url.pathname.slice(SANDBOX_ODATA_PATH.length).replace(/^\//, '');
      if (segment === '' && req.method === 'GET') {
        return { status: 200, body: { '@odata.context': `${rootOf(req.url)}/$metadata`, value: Object.keys(SETS).map((name) => ({ name, kind: 'EntitySet', url: name })) } };
      }
      if (segment === '$metadata' && req.method === 'GET') return metadata();
      if (segment === 'JournalPostings' && req.method === 'POST') return await postPosting(req);
      if (segment === 'IssueInvoice' && req.method === 'POST') return await issueInvoice(req);
      if (!isSetName(segment)) throw new ODataFailure(404, 'NotFound', `no resource ${segment || '/'}${req.method === 'GET' ? '' : ` for ${req.method}`}`);
      if (req.method !== 'GET') throw new ODataFailure(405, 'MethodNotAllowed', `${req.method} ${segment} is not supported`);
      const q = parseCollectionQuery(req.url.searchParams, Object.keys(SETS[segment].properties));
      if (segment === 'Invoices') return await readInvoices(req, q);
      if (segment === 'JournalPostings') return await readPostings(req, q);
      if (q.filter && mentions(q.filter, 'PostingDate')) throw new ODataQueryError('PostingDate is not a property of this set');
      return await readMaster(req, segment, q, ctx);
    } catch (error) {
      if (error instanceof ODataFailure) return { status: error.status, headers: error.headers, body: errorBody(error.code, error.message) };
      if (error instanceof ODataQueryError) return { status: error.status, body: errorBody(error.code, error.message) };
      if (error instanceof RangeError) return { status: 400, body: errorBody('BadRequest', error.message) };
      logger.error({ err: error }, 'sandbox ERP OData request failed');
      return { status: 500, body: errorBody('InternalError', error instanceof Error ? error.message : String(error)) };
    }
  }

  /** Count the call and play the ERP's fault, as every other way into the sandbox ERP does. */
  async function admit(name: string): Promise<ODataResponse | null> {
    try {
      await control.before('erp', name);
      return null;
    } catch (error) {
      if (error instanceof TransportError && error.retryAfterMs !== undefined) {
        return { status: 429, headers: { 'retry-after': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) }, body: errorBody('TooManyRequests', error.message) };
      }
      return { status: 503, headers: { 'retry-after': '1' }, body: errorBody('ServiceUnavailable', error instanceof Error ? error.message : String(error)) };
    }
  }

  function authorized(req: IncomingMessage): boolean {
    const header = headerValue(req, 'authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return false;
    const expires = tokens.get(match[1]!);
    if (expires === undefined) return false;
    if (expires <= Date.now()) {
      tokens.delete(match[1]!);
      return false;
    }
    return true;
  }

  const safeEqual = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
      res.end(text);
    };
    if (req.method !== 'POST') return send(405, { error: 'invalid_request', error_description: 'POST only' });
    const form = new URLSearchParams(await readBody(req, 10_000));
    let clientId = form.get('client_id');
    let clientSecret = form.get('client_secret');
    const basic = /^Basic\s+(\S+)$/i.exec(headerValue(req, 'authorization') ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        clientId = decodeURIComponent(decoded.slice(0, colon));
        clientSecret = decodeURIComponent(decoded.slice(colon + 1));
      }
    }
    if (form.get('grant_type') !== 'client_credentials') return send(400, { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' });
    const client = clients.find((c) => c.clientId === clientId && clientSecret !== null && safeEqual(c.clientSecret, clientSecret));
    if (!client) {
      stats.refused++;
      logger.warn({ clientId }, 'sandbox ERP token refused');
      return send(401, { error: 'invalid_client', error_description: 'unknown client or wrong secret' }, { 'www-authenticate': 'Basic realm="sandbox-erp"' });
    }
    const issued = randomBytes(24).toString('base64url');
    tokens.set(issued, Date.now() + tokenTtlSeconds * 1000);
    stats.issued++;
    const scope = form.get('scope');
    return send(200, { access_token: issued, token_type: 'Bearer', expires_in: tokenTtlSeconds, ...(scope ? { scope } : {}) });
  }

  async function readJsonBody(req: IncomingMessage): Promise<unknown> {
    const text = await readBody(req);
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ODataFailure(400, 'BadRequest', `malformed JSON: ${(error as Error).message}`);
    }
  }

  /** The OData 4.01 JSON batch format: `{"requests":[{"id","method","url","headers","body"}]}`, answered in order. */
  async function batch(url: URL, body: unknown): Promise<ODataResponse> {
    const requests = (body as { requests?: unknown } | undefined)?.requests;
    if (!Array.isArray(requests) || requests.length === 0) throw new ODataFailure(400, 'BadRequest', 'a batch is {"requests": [...]} with at least one request');
    if (requests.length > MAX_BATCH_REQUESTS) throw new ODataFailure(400, 'BadRequest', `a batch holds at most ${MAX_BATCH_REQUESTS} requests`);
    const parsed: (ODataRequest & { id: string })[] = requests.map((r: unknown, i) => {
      const item = objectBody(r);
      const method = typeof item.method === 'string' ? item.method.toUpperCase() : '';
      if (method !== 'GET' && method !== 'POST') throw new ODataFailure(400, 'BadRequest', `requests[${i}].method must be GET or POST`);
      if (typeof item.url !== 'string') throw new ODataFailure(400, 'BadRequest', `requests[${i}].url is required`);
      const target = new URL(item.url.startsWith('/') || /^https?:/.test(item.url) ? item.url : `${SANDBOX_ODATA_PATH}/${item.url}`, url.origin);
      if (!target.pathname.startsWith(SANDBOX_ODATA_PATH) || target.pathname.endsWith('$batch')) throw new ODataFailure(400, 'BadRequest', `requests[${i}].url must name a resource of this service`);
      const headers = Object.fromEntries(Object.entries((item.headers ?? {}) as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), typeof v === 'string' ? v : undefined]));
      return { id: typeof item.id === 'string' ? item.id : String(i + 1), method, url: target, headers, body: item.body };
    });
    const names = [...new Set(parsed.map(callName))];
    // One batch is one call to the ERP: a batch of postings is what the ERP's batch posting call is.
    const name = names.length === 1 ? (names[0] === 'postJournal' ? 'postJournalBatch' : names[0]!) : '$batch';
    const refused = await admit(name);
    if (refused) return refused;
    const ctx: Context = {};
    const responses = [];
    for (const inner of parsed) {
      const answer = await execute(inner, ctx);
      responses.push({ id: inner.id, status: answer.status, headers: { 'content-type': 'application/json', ...(answer.headers ?? {}) }, body: answer.body });
    }
    return { status: 200, body: { responses } };
  }

  function send(res: ServerResponse, answer: ODataResponse): void {
    const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': 'application/json;odata.metadata=minimal;charset=utf-8', 'odata-version': '4.0', 'content-length': Buffer.byteLength(text), ...(answer.headers ?? {}) });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, mounted: URL): Promise<boolean> {
    const path = mounted.pathname;
    // Links the service hands out (next pages, delta links) name the host the client reached it by.
    const url = new URL(`${mounted.pathname}${mounted.search}`, `http://${headerValue(req, 'host') ?? 'localhost'}`);
    if (path === SANDBOX_ODATA_TOKEN_PATH) {
      await token(req, res);
      return true;
    }
    if (path === '/sandbox/erp/oauth2/revoke' && req.method === 'POST') {
      // Development control: every token issued so far expires now (what a token expiring mid-flight looks like).
      tokens.clear();
      send(res, { status: 200, body: { revoked: true } });
      return true;
    }
    if (path === '/sandbox/erp/oauth2/settings' && req.method === 'POST') {
      const body = objectBody(await readJsonBody(req));
      if (body.tokenTtlSeconds !== undefined) {
        if (!Number.isSafeInteger(body.tokenTtlSeconds) || (body.tokenTtlSeconds as number) < 1) return (send(res, { status: 400, body: errorBody('BadRequest', 'tokenTtlSeconds must be an integer >= 1') }), true);
        tokenTtlSeconds = body.tokenTtlSeconds as number;
      }
      send(res, { status: 200, body: { tokenTtlSeconds } });
      return true;
    }
    if (path === '/sandbox/erp/odata-stats' && req.method === 'GET') {
      send(res, { status: 200, body: { ...stats, tokenTtlSeconds } });
      return true;
    }
    if (path !== SANDBOX_ODATA_PATH && !path.startsWith(`${SANDBOX_ODATA_PATH}/`)) return false;
    if (!authorized(req)) {
      stats.unauthorized++;
      send(res, { status: 401, headers: { 'www-authenticate': 'Bearer realm="sandbox-erp", error="invalid_token"' }, body: errorBody('Unauthorized', 'a valid bearer token from the token endpoint is required') });
      return true;
    }
    // A client that gave up (its timeout aborted the request) closes the connection before the answer is written.
    res.on('close', () => {
      if (!res.writableFinished) stats.aborted++;
    });
    const correlationId = correlationIdFrom(headerValue(req, CORRELATION_HEADER));
    await runInScope({ correlationId }, async () => {
      try {
        const method = (req.method ?? 'GET').toUpperCase();
        const body = method === 'POST' ? await readJsonBody(req) : undefined;
        if (path === `${SANDBOX_ODATA_PATH}/$batch`) {
          if (method !== 'POST') return send(res, { status: 405, body: errorBody('MethodNotAllowed', '$batch takes POST') });
          return send(res, await batch(url, body));
        }
        const request: ODataRequest = { method, url, headers: { prefer: headerValue(req, 'prefer') }, body };
        const refused = await admit(callName(request));
        if (refused) return send(res, refused);
        return send(res, await execute(request, {}));
      } catch (error) {
        if (error instanceof ODataFailure) return send(res, { status: error.status, body: errorBody(error.code, error.message) });
        throw error;
      }
    });
    return true;
  }

  return { handle };
}
