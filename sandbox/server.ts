import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { CORRELATION_HEADER, correlationIdFrom, runInScope } from '../common/correlation.js';
import { headerValue, HttpError, readBody, sendJson } from '../common/http.js';
import type { Logger } from '../common/logger.js';
import { isSystemName, TransportError } from '../common/resilience.js';
import { closeServer, listenOn, type HttpService } from '../common/service.js';
import { parseFaultBody } from './faults.js';
import type { SandboxIdentityProvider } from './identity-provider.js';
import type { Sandbox } from './index.js';

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

const TOKENS_PATH = '/sandbox/tokens';
const JWKS_PATH = '/sandbox/.well-known/jwks.json';
const ROTATE_PATH = '/sandbox/keys/rotate';

/**
 * Sandbox control, a development tool in the spirit of Toxiproxy (only in sandbox mode):
 * - `POST /sandbox/faults` `{"system","latencyMs","errorRate","down"}` sets a fault; `DELETE` clears all; `GET` lists;
 * - `GET /sandbox/calls` call counters per system and method; `DELETE` resets; `GET /sandbox/calls/recent` the last calls
 *   with their correlation ids;
 * - `POST /sandbox/rpc/<system>/<method>` `{"args":[...]}`: the systems themselves, for subgraphs running in
 *   other processes (SANDBOX_URL);
 * - with an identity provider (else these answer 404): `POST /sandbox/tokens` `{"role":"shopper","customerId":"cust-00042"}`
 *   (or store with `locationId`, agent, finance; optional `expiresInSeconds`, `subject`) answers
 *   `{"token","expiresAt"}`; `GET /sandbox/.well-known/jwks.json` its public keys; `POST /sandbox/keys/rotate` signs
 *   with a new key from then on (`{"kid"}`), the old one staying published.
 */
export function createSandboxServer(sandbox: Sandbox, logger: Logger, identity?: SandboxIdentityProvider): HttpService {
  const { control, systems } = sandbox;

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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/health') return sendJson(res, 200, { status: 'ok', service: 'sandbox' });
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
