import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { CORRELATION_HEADER, correlationIdFrom, runInScope } from '../common/correlation.js';
import { headerValue, HttpError, readBody, sendJson } from '../common/http.js';
import type { Logger } from '../common/logger.js';
import { currencyExponent } from '../common/money.js';
import { assertNever, isSystemName, TransportError } from '../common/resilience.js';
import { closeServer, listenOn, type HttpService } from '../common/service.js';
import { parseFaultBody } from './faults.js';
import type { SandboxIdentityProvider } from './identity-provider.js';
import { createErpODataService } from './odata/service.js';
import type { Sandbox } from './index.js';
import type { ItemChangeRequest, NewProductRequest, NewVariantRequest, StockPolicyRequest } from '../common/systems/erp.js';
import type { SandboxSystems } from './index.js';

/** Methods a client may call over RPC: the systems' own public methods, nothing inherited from Object. */
function callableMethod(target: object, method: string): ((...args: unknown[]) => Promise<unknown>) | undefined {
  if (!/^[a-z][A-Za-z]*$/.test(method)) return undefined;
  let proto = Object.getPrototypeOf(target) as object | null;
  while (proto && proto !== Object.prototype) {
    if (Object.prototype.hasOwnProperty.call(proto, method)) {
      const value = (target as Record<string, unknown>)[method];
      return typeof value === 'function' ? (value as (...args: unknown[]) => Promise<unknown>).bind(target) : undefined;
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return undefined;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  try {
    return text ? JSON.parse(text) : undefined;
  } catch (error) {
    throw new HttpError(400, `malformed JSON: ${(error as Error).message}`);
  }
}

/** The currency of a new variant that names none: the sandbox's own. */
const DEFAULT_CURRENCY = 'EUR';

/**
 * A decimal string (`^-?\d+(\.\d+)?$`, so no exponent, no `+`, no spaces) as integer minor units of a currency
 * with `exponent` decimals; an error message when it is not one, has more (non-zero) decimals than the
 * currency, or is too large to be exact.
 */
export function decimalToMinor(text: unknown, exponent: number): number | string {
  if (typeof text !== 'string') return 'must be a decimal string such as "24.99"';
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return `must be a decimal string such as "24.99", got ${JSON.stringify(text)}`;
  const [, sign, whole, fraction = ''] = match as unknown as [string, string, string, string | undefined];
  if (/[^0]/.test(fraction.slice(exponent))) return `has more than ${exponent} decimals: ${text}`;
  const minor = Number(whole + fraction.slice(0, exponent).padEnd(exponent, '0'));
  if (!Number.isSafeInteger(minor)) return `is too large: ${text}`;
  return sign && minor !== 0 ? -minor : minor;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string';
const isName = (value: unknown): value is string => typeof value === 'string' && value !== '';

/**
 * `POST /sandbox/erp/items`: the shape only (nonsense values pass), then what the ERP holds (an unknown SKU,
 * a product id or SKU it has already), so that every refusal is a 400 before anything is written.
 */
async function parseItemBody(body: unknown, erp: SandboxSystems['erp']): Promise<Parsed<{ kind: 'item'; request: ItemChangeRequest } | { kind: 'product'; request: NewProductRequest }>> {
  if (!isRecord(body)) return { ok: false, error: 'body must be a JSON object' };
  if (body.product !== undefined) {
    if (body.sku !== undefined) return { ok: false, error: 'give either sku (a change) or product (a new product), not both' };
    return parseNewProduct(body.product, erp);
  }
  if (!isName(body.sku)) return { ok: false, error: 'sku must be a non-empty string (or give product)' };
  if (body.listPrice === undefined && body.status === undefined) return { ok: false, error: 'give listPrice, status or both' };
  if (body.currencyCode !== undefined && body.listPrice === undefined) return { ok: false, error: 'currencyCode comes only with listPrice' };
  if (body.currencyCode !== undefined && !isName(body.currencyCode)) return { ok: false, error: 'currencyCode must be a non-empty string' };
  if (body.status !== undefined && body.status !== 'ACTIVE' && body.status !== 'DISCONTINUED') return { ok: false, error: 'status must be ACTIVE or DISCONTINUED' };
  const [variant] = await erp.getVariants([body.sku]);
  if (!variant) return { ok: false, error: `no variant ${body.sku}` };
  const request: ItemChangeRequest = { sku: body.sku };
  if (body.status !== undefined) request.status = body.status;
  if (body.listPrice !== undefined) {
    const currency = isText(body.currencyCode) ? body.currencyCode : variant.currency;
    const minor = decimalToMinor(body.listPrice, currencyExponent(currency));
    if (typeof minor === 'string') return { ok: false, error: `listPrice ${minor}` };
    request.listPriceMinor = minor;
    if (body.currencyCode !== undefined) request.currency = currency;
  }
  return { ok: true, value: { kind: 'item', request } };
}

async function parseNewProduct(product: unknown, erp: SandboxSystems['erp']): Promise<Parsed<{ kind: 'product'; request: NewProductRequest }>> {
  if (!isRecord(product)) return { ok: false, error: 'product must be a JSON object' };
  if (!isName(product.id)) return { ok: false, error: 'product.id must be a non-empty string' };
  for (const field of ['name', 'brand', 'category'] as const) {
    if (!isText(product[field])) return { ok: false, error: `product.${field} must be a string` };
  }
  if (product.description !== undefined && !isText(product.description)) return { ok: false, error: 'product.description must be a string' };
  if (!Array.isArray(product.variants)) return { ok: false, error: 'product.variants must be a list' };
  const variants: NewVariantRequest[] = [];
  for (const [i, v] of (product.variants as unknown[]).entries()) {
    const at = `product.variants[${i}]`;
    if (!isRecord(v)) return { ok: false, error: `${at} must be a JSON object` };
    if (!isName(v.sku)) return { ok: false, error: `${at}.sku must be a non-empty string` };
    if (!isText(v.name)) return { ok: false, error: `${at}.name must be a string` };
    for (const field of ['color', 'size'] as const) {
      if (v[field] !== undefined && !isText(v[field])) return { ok: false, error: `${at}.${field} must be a string` };
    }
    if (v.currencyCode !== undefined && !isName(v.currencyCode)) return { ok: false, error: `${at}.currencyCode must be a non-empty string` };
    const currency = isText(v.currencyCode) ? v.currencyCode : DEFAULT_CURRENCY;
    const minor = decimalToMinor(v.listPrice, currencyExponent(currency));
    if (typeof minor === 'string') return { ok: false, error: `${at}.listPrice ${minor}` };
    if (variants.some((earlier) => earlier.sku === v.sku)) return { ok: false, error: `${at}.sku ${v.sku} comes twice` };
    variants.push({ sku: v.sku, name: v.name, color: v.color as string | undefined, size: v.size as string | undefined, listPriceMinor: minor, currency });
  }
  const [existing] = await erp.getProducts([product.id]);
  if (existing) return { ok: false, error: `product ${product.id} exists` };
  const held = (await erp.getVariants(variants.map((v) => v.sku))).find((v) => v !== null);
  if (held) return { ok: false, error: `variant ${held.sku} exists` };
  const request: NewProductRequest = { id: product.id, name: product.name as string, brand: product.brand as string, category: product.category as string, variants };
  if (product.description !== undefined) request.description = product.description as string;
  return { ok: true, value: { kind: 'product', request } };
}

/** `POST /sandbox/erp/stock-policies`: the shape, then a SKU the ERP holds and a location of the POS or WMS. */
async function parseStockPolicyBody(body: unknown, sandbox: Sandbox, erp: SandboxSystems['erp']): Promise<Parsed<StockPolicyRequest>> {
  if (!isRecord(body)) return { ok: false, error: 'body must be a JSON object' };
  if (!isName(body.sku)) return { ok: false, error: 'sku must be a non-empty string' };
  if (!isName(body.locationId)) return { ok: false, error: 'locationId must be a non-empty string' };
  if (!Number.isSafeInteger(body.safetyStock)) return { ok: false, error: 'safetyStock must be an integer' };
  if (body.incoming !== undefined && !Number.isSafeInteger(body.incoming)) return { ok: false, error: 'incoming must be an integer' };
  const [variant] = await erp.getVariants([body.sku]);
  if (!variant) return { ok: false, error: `no variant ${body.sku}` };
  const locationId = body.locationId;
  if (![...sandbox.data.stores, ...sandbox.data.warehouses].some((site) => site.id === locationId)) return { ok: false, error: `no location ${locationId}` };
  const request: StockPolicyRequest = { sku: body.sku, locationId, safetyStock: body.safetyStock as number };
  if (body.incoming !== undefined) request.incoming = body.incoming as number;
  return { ok: true, value: request };
}

const TOKENS_PATH = '/sandbox/tokens';
const JWKS_PATH = '/sandbox/.well-known/jwks.json';
const ROTATE_PATH = '/sandbox/keys/rotate';

/**
 * Sandbox control, a development tool in the spirit of Toxiproxy (only in sandbox mode):
 * - `POST /sandbox/faults` `{"system","latencyMs","errorRate","down"}` sets a fault; `DELETE` clears all; `GET` lists;
 * - `GET /sandbox/calls` call counters per system and method; `DELETE` resets (the rates too); `GET /sandbox/calls/recent`
 *   the last calls with their correlation ids; `GET /sandbox/calls/rates` per system the calls the rate-limit fault
 *   accepted and refused and the most it accepted in one wall-clock second;
 * - the merchandiser at the ERP's own console (not counted, not faulted, journaled), each answering `{"sequence"}`
 *   of the ERP's change feed or 400 `{"error"}`: `POST /sandbox/erp/items` `{"sku","listPrice":"24.99"}` (a decimal
 *   string in the variant's currency, or in `currencyCode` given with it), `{"sku","status":"DISCONTINUED"}`, or
 *   `{"product":{"id","name","brand","category","description","variants":[{"sku","name","color","size","listPrice",
 *   "currencyCode"}]}}` (a new product; a variant's currency defaults to EUR); `POST /sandbox/erp/stock-policies`
 *   `{"sku","locationId","safetyStock"}` (+ `"incoming"`); `POST /sandbox/erp/changes/trim` `{"keep"}` answers
 *   `{"oldestSequence"}`;
 * - `POST /sandbox/rpc/<system>/<method>` `{"args":[...]}`: the systems themselves, for subgraphs running in
 *   other processes (SANDBOX_URL); a call the rate-limit fault refuses answers 429 with `Retry-After` (seconds) and
 *   `{"error","retryAfterMs"}`, any other transport fault 503;
 * - the ERP's data over OData v4 under `/sandbox/erp/odata/` with its OAuth2 token endpoint `POST /sandbox/erp/oauth2/token`
 *   (sandbox/odata/service.ts): every request counted and faulted as one ERP call;
 * - the marketplace's own console (not counted, not faulted, journaled): `POST /sandbox/marketplace/orders`
 *   `{"lines":[{"sku","quantity"}],"shippingAddress":{…}}` (+ `"externalOrderId"`) places a buyer's order and answers
 *   its notification (which sandbox/marketplace-webhook.ts delivers to the seller); `POST
 *   /sandbox/marketplace/orders/<id>/cancel` the buyer's cancellation (the next version); `GET
 *   /sandbox/marketplace/orders/<id>` the order with every update we sent; `GET /sandbox/marketplace/listings?sku=a,b`
 *   the stock we published;
 * - with an identity provider (else these answer 404): `POST /sandbox/tokens` `{"role":"shopper","customerId":"cust-00042"}`
 *   (or store with `locationId`, agent, finance; optional `expiresInSeconds`, `subject`) answers
 *   `{"token","expiresAt"}`; `GET /sandbox/.well-known/jwks.json` its public keys; `POST /sandbox/keys/rotate` signs
 *   with a new key from then on (`{"kid"}`), the old one staying published.
 */
export function createSandboxServer(sandbox: Sandbox, logger: Logger, identity?: SandboxIdentityProvider): HttpService {
  const { control, systems } = sandbox;
  const operatorSystems = sandbox.direct ?? systems;
  // The ERP's data over OData v4 (sandbox/odata): each request counted and faulted by the control, served by the ERP itself.
  const odata = createErpODataService({ erp: operatorSystems.erp, control, logger: logger.child({ component: 'erp-odata' }) });

  async function handleIdentity(provider: SandboxIdentityProvider, req: IncomingMessage, res: ServerResponse, path: string, method: string): Promise<void> {
    if (path === TOKENS_PATH) {
      if (method !== 'POST') return sendJson(res, 405, { error: `${method} not allowed` });
      const body = await readJson(req);
      const issued = await provider.issue(body);
      if ('error' in issued) return sendJson(res, 400, { error: issued.error });
      // The body passed validation, so these are the grant's own fields; the token itself is never logged.
      const { role, customerId, locationId, subject } = body as Record<string, unknown>;
      logger.info({ role, customerId, locationId, subject, expiresAt: issued.expiresAt }, 'sandbox token issued');
      return sendJson(res, 200, issued);
    }
    if (path === JWKS_PATH) {
      if (method !== 'GET') return sendJson(res, 405, { error: `${method} not allowed` });
      return sendJson(res, 200, provider.jwks(), { 'cache-control': 'public, max-age=300' });
    }
    if (method !== 'POST') return sendJson(res, 405, { error: `${method} not allowed` });
    const rotated = await provider.rotate();
    logger.info({ kid: rotated.kid }, 'sandbox signing key rotated');
    return sendJson(res, 200, rotated);
  }

  async function handleErp(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const body = await readJson(req);
    if (path === '/sandbox/erp/changes/trim') {
      const keep = (body as { keep?: unknown } | undefined)?.keep;
      if (!isRecord(body) || !Number.isSafeInteger(keep) || (keep as number) < 0) return sendJson(res, 400, { error: 'body must be {"keep": N} with an integer N >= 0' });
      const trimmed = await operatorSystems.erp.trimMasterDataChanges(keep as number);
      logger.info({ keep, oldestSequence: trimmed.oldestSequence }, 'sandbox ERP changes trimmed');
      return sendJson(res, 200, { oldestSequence: trimmed.oldestSequence });
    }
    if (path === '/sandbox/erp/stock-policies') {
      const parsed = await parseStockPolicyBody(body, sandbox, operatorSystems.erp);
      if (!parsed.ok) return sendJson(res, 400, { error: parsed.error });
      const { sequence } = await operatorSystems.erp.setStockPolicy(parsed.value);
      logger.info({ ...parsed.value, sequence }, 'sandbox ERP stock policy set');
      return sendJson(res, 200, { sequence });
    }
    const parsed = await parseItemBody(body, operatorSystems.erp);
    if (!parsed.ok) return sendJson(res, 400, { error: parsed.error });
    const change = parsed.value;
    switch (change.kind) {
      case 'item': {
        const { sequence } = await operatorSystems.erp.changeItem(change.request);
        logger.info({ ...change.request, sequence }, 'sandbox ERP item changed');
        return sendJson(res, 200, { sequence });
      }
      case 'product': {
        const { sequence } = await operatorSystems.erp.addProduct(change.request);
        logger.info({ productId: change.request.id, skus: change.request.variants.map((v) => v.sku), sequence }, 'sandbox ERP product added');
        return sendJson(res, 200, { sequence });
      }
      default:
        return assertNever(change);
    }
  }

  /** The marketplace's own console: its buyers' orders and what we told it, our listings (not counted, not faulted). */
  async function handleMarketplace(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    const marketplace = operatorSystems.marketplace;
    const path = url.pathname;
    if (path === '/sandbox/marketplace/orders' && method === 'POST') {
      const body = (await readJson(req)) as { lines?: unknown; shippingAddress?: unknown; externalOrderId?: unknown } | undefined;
      const lines = body?.lines;
      const address = body?.shippingAddress as Record<string, unknown> | undefined;
      if (!Array.isArray(lines) || lines.length === 0 || !lines.every((l) => isRecord(l) && typeof l.sku === 'string' && Number.isSafeInteger(l.quantity))) {
        return sendJson(res, 400, { error: 'body must be {"lines":[{"sku","quantity"}],"shippingAddress":{"country","postalCode","city","line1"}} (+ "externalOrderId")' });
      }
      if (!isRecord(address) || !['country', 'postalCode', 'city', 'line1'].every((k) => typeof address[k] === 'string')) return sendJson(res, 400, { error: 'shippingAddress must be {"country","postalCode","city","line1"}' });
      const externalOrderId = typeof body?.externalOrderId === 'string' ? body.externalOrderId : undefined;
      const notification = await marketplace.placeBuyerOrder({
        lines: lines as { sku: string; quantity: number }[],
        shippingAddress: address as { country: string; postalCode: string; city: string; line1: string },
        ...(externalOrderId ? { externalOrderId } : {}),
      });
      logger.info({ externalOrderId: notification.externalOrderId }, 'sandbox marketplace: buyer order placed');
      return sendJson(res, 200, notification);
    }
    const order = /^\/sandbox\/marketplace\/orders\/([^/]+)(\/cancel)?$/.exec(path);
    if (order) {
      const id = decodeURIComponent(order[1]!);
      if (order[2] && method === 'POST') {
        const cancelled = await marketplace.cancelBuyerOrder(id);
        return cancelled ? sendJson(res, 200, cancelled) : sendJson(res, 404, { error: `no marketplace order ${id}` });
      }
      if (!order[2] && method === 'GET') {
        const [record] = await marketplace.getOrders([id]);
        return record ? sendJson(res, 200, record) : sendJson(res, 404, { error: `no marketplace order ${id}` });
      }
    }
    if (path === '/sandbox/marketplace/listings' && method === 'GET') {
      const skus = (url.searchParams.get('sku') ?? '').split(',').filter(Boolean);
      return sendJson(res, 200, await marketplace.listInventory(skus));
    }
    return sendJson(res, 404, { error: `no route for ${method} ${path}` });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/health') return sendJson(res, 200, { status: 'ok', service: 'sandbox' });
    if (path.startsWith('/sandbox/erp/odata') || path.startsWith('/sandbox/erp/oauth2/')) {
      if (await odata.handle(req, res, url)) return;
    }
    if (path === '/sandbox/faults') {
      if (method === 'GET') return sendJson(res, 200, control.allFaults());
      if (method === 'DELETE') {
        control.clearFaults();
        logger.info('sandbox faults cleared');
        return sendJson(res, 200, control.allFaults());
      }
      if (method === 'POST') {
        const parsed = parseFaultBody(await readJson(req));
        if (typeof parsed === 'string') return sendJson(res, 400, { error: parsed });
        const fault = control.setFault(parsed.system, parsed.fault);
        logger.info({ system: parsed.system, fault }, 'sandbox fault set');
        return sendJson(res, 200, { system: parsed.system, ...fault });
      }
      return sendJson(res, 405, { error: `${method} not allowed` });
    }
    if (path === '/sandbox/calls') {
      if (method === 'GET') return sendJson(res, 200, control.calls());
      if (method === 'DELETE') {
        control.resetCalls();
        return sendJson(res, 200, {});
      }
      return sendJson(res, 405, { error: `${method} not allowed` });
    }
    if (path === '/sandbox/calls/recent' && method === 'GET') return sendJson(res, 200, control.recentCalls());
    if (path === '/sandbox/calls/rates' && method === 'GET') return sendJson(res, 200, control.callRates());
    if (path === '/sandbox/erp/items' || path === '/sandbox/erp/stock-policies' || path === '/sandbox/erp/changes/trim') {
      if (method !== 'POST') return sendJson(res, 405, { error: `${method} not allowed` });
      return handleErp(req, res, path);
    }
    if (path.startsWith('/sandbox/marketplace/')) return handleMarketplace(req, res, url, method);
    if (path === TOKENS_PATH || path === JWKS_PATH || path === ROTATE_PATH) {
      if (!identity) return sendJson(res, 404, { error: 'no identity provider' });
      return handleIdentity(identity, req, res, path, method);
    }
    const rpc = /^\/sandbox\/rpc\/([a-z]+)\/([A-Za-z]+)$/.exec(path);
    if (rpc && method === 'POST') {
      const [, systemName, methodName] = rpc as unknown as [string, string, string];
      if (!isSystemName(systemName)) return sendJson(res, 404, { error: `no system ${systemName}` });
      const fn = callableMethod(systems[systemName], methodName);
      if (!fn) return sendJson(res, 404, { error: `${systemName} has no method ${methodName}` });
      const body = await readJson(req);
      const args = (body as { args?: unknown } | undefined)?.args;
      if (!Array.isArray(args)) return sendJson(res, 400, { error: 'body must be {"args": [...]}' });
      const correlationId = correlationIdFrom(headerValue(req, CORRELATION_HEADER));
      try {
        const result = await runInScope({ correlationId }, () => fn(...args));
        return sendJson(res, 200, { result });
      } catch (error) {
        if (error instanceof TransportError && error.retryAfterMs !== undefined) {
          const retryAfterSeconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
          return sendJson(res, 429, { error: error.message, retryAfterMs: error.retryAfterMs }, { 'retry-after': String(retryAfterSeconds) });
        }
        const status = error instanceof TransportError ? 503 : 500;
        return sendJson(res, status, { error: (error as Error).message });
      }
    }
    return sendJson(res, 404, { error: `no route for ${method} ${path}` });
  }

  const httpServer = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (status === 500) logger.error({ err: error }, 'sandbox request failed');
      if (!res.headersSent) sendJson(res, status, { error: (error as Error).message });
      else res.end();
    });
  });

  return {
    name: 'sandbox',
    httpServer,
    async listen(port, host) {
      const bound = await listenOn(httpServer, port, host);
      const shownHost = !host || host === '0.0.0.0' ? '127.0.0.1' : host;
      return `http://${shownHost}:${bound}`;
    },
    stop: () => closeServer(httpServer),
  };
}
