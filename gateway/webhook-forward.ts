import { CORRELATION_HEADER, correlationIdFrom } from '../common/correlation.js';
import { headerValue, HttpError, readBody, sendJson, type Route } from '../common/http.js';
import type { Logger } from '../common/logger.js';
import { MARKETPLACE_SIGNATURE_HEADER } from '../common/systems/marketplace.js';

/** The request headers a webhook's owner needs, passed on as they came: the signature is over the body, untouched. */
const PASSED_ON = ['content-type', MARKETPLACE_SIGNATURE_HEADER] as const;

/**
 * A webhook on the gateway's public address, answered by the subgraph that owns it (the marketplace's order
 * notifications: the orders subgraph). The raw body goes through byte for byte, so the owner checks its signature;
 * the owner's status, body and `Retry-After` come back as they are. The owner unreachable is 503 with `Retry-After`:
 * the sender delivers again.
 */
export function forwardWebhook(options: { target: string; limitBytes: number; logger: Logger; timeoutMs?: number | undefined }): Route {
  return async (req, res) => {
    const correlationId = correlationIdFrom(headerValue(req, CORRELATION_HEADER));
    if (req.method !== 'POST') return sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'POST a signed notification' } }, { allow: 'POST' });
    let body: string;
    try {
      body = await readBody(req, options.limitBytes);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 400;
      return sendJson(res, status, { error: { code: status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', message: (error as Error).message } });
    }
    const headers: Record<string, string> = { [CORRELATION_HEADER]: correlationId };
    for (const name of PASSED_ON) {
      const value = headerValue(req, name);
      if (value !== undefined) headers[name] = value;
    }
    try {
      const answer = await fetch(options.target, { method: 'POST', headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
      const text = await answer.text();
      const back: Record<string, string> = { 'content-type': answer.headers.get('content-type') ?? 'application/json', [CORRELATION_HEADER]: correlationId };
      const retryAfter = answer.headers.get('retry-after');
      if (retryAfter) back['retry-after'] = retryAfter;
      res.writeHead(answer.status, back).end(text);
    } catch (error) {
      options.logger.warn({ err: error, correlationId, target: options.target }, 'webhook: its owner did not answer; the sender delivers again');
      sendJson(res, 503, { error: { code: 'UPSTREAM_UNAVAILABLE', message: 'the service that takes this webhook did not answer; deliver it again' } }, { 'retry-after': '2', [CORRELATION_HEADER]: correlationId });
    }
  };
}
