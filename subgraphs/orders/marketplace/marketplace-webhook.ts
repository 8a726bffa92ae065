import { CORRELATION_HEADER, correlationIdFrom, runInScope } from '../../../common/correlation.js';
import { headerValue, HttpError, readBody, sendJson, type Route } from '../../../common/http.js';
import type { Logger } from '../../../common/logger.js';
import { SystemUnavailableError } from '../../../common/resilience.js';
import { MARKETPLACE_SIGNATURE_HEADER, verifyMarketplaceSignature } from '../../../common/systems/marketplace.js';
import { acceptNotification, notificationErrors, type MarketplaceIntakeDeps } from './marketplace-intake.js';


/** A notification is small: a few lines and an address. */
const MAX_NOTIFICATION_BYTES = 64 * 1024;

export interface MarketplaceWebhookOptions {
  intake: MarketplaceIntakeDeps;
  /** The secret notifications are signed with; without one the webhook takes nothing (503 MARKETPLACE_NOT_CONFIGURED). */
  secret: string | undefined;
  logger: Logger;
}

/**
 * `POST /webhooks/marketplace/orders`: one signed notification (`x-marketplace-signature: sha256=<hex HMAC of the
 * raw body>`). The signature is checked on the bytes received before anything is parsed: a bad or missing one is 401
 * and changes nothing. Then: 400 with every shape problem (INVALID_NOTIFICATION); 200 with the intake's answer
 * (ACCEPTED, REJECTED, CANCELLED, each `duplicate` when an earlier delivery decided); 409 BUSY with `Retry-After`
 * while another delivery of the same order runs; 503 with `Retry-After` when a system it needs is down (nothing
 * was accepted: the marketplace's redelivery runs it again). Anything but a 2xx is delivered again by the marketplace.
 */
export function marketplaceWebhook(options: MarketplaceWebhookOptions): Route {
  const { logger, secret } = options;
  return async (req, res) => {
    if (req.method !== 'POST') return sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'POST a signed notification' } }, { allow: 'POST' });
    const correlationId = correlationIdFrom(headerValue(req, CORRELATION_HEADER));
    const headers = { [CORRELATION_HEADER]: correlationId };
    if (!secret) return sendJson(res, 503, { error: { code: 'MARKETPLACE_NOT_CONFIGURED', message: 'no MARKETPLACE_WEBHOOK_SECRET is set: the webhook takes no notifications' } }, headers);
    let body: string;
    try {
      body = await readBody(req, MAX_NOTIFICATION_BYTES);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 400;
      return sendJson(res, status, { error: { code: status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', message: (error as Error).message } }, headers);
    }
    if (!verifyMarketplaceSignature(secret, body, headerValue(req, MARKETPLACE_SIGNATURE_HEADER))) {
      logger.warn({ correlationId, bytes: body.length }, 'marketplace: notification refused, bad or missing signature');
      return sendJson(res, 401, { error: { code: 'BAD_SIGNATURE', message: `${MARKETPLACE_SIGNATURE_HEADER} is not the HMAC-SHA256 of the body under the webhook secret` } }, headers);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return sendJson(res, 400, { error: { code: 'INVALID_NOTIFICATION', message: 'the body is not JSON' }, userErrors: [] }, headers);
    }
    const checked = notificationErrors(parsed);
    if ('errors' in checked) return sendJson(res, 400, { error: { code: 'INVALID_NOTIFICATION', message: 'the notification is malformed' }, userErrors: checked.errors }, headers);
    const { notification } = checked;
    const log = { correlationId, marketplace: notification.marketplace, externalOrderId: notification.externalOrderId, version: notification.version, status: notification.status };
    try {
      const answer = await runInScope({ correlationId }, () => acceptNotification(options.intake, notification, correlationId));
      logger.info({ ...log, answer: answer.status, duplicate: answer.duplicate, orderId: answer.orderId }, 'marketplace: notification taken');
      if (answer.status === 'BUSY') return sendJson(res, 409, answer, { ...headers, 'retry-after': '1' });
      return sendJson(res, 200, answer, headers);
    } catch (error) {
      const unavailable = error instanceof SystemUnavailableError;
      logger.warn({ ...log, err: error }, 'marketplace: notification not taken now; the marketplace delivers it again');
      return sendJson(
        res,
        503,
        { error: { code: unavailable ? (error.extensions.code as string) : 'INTERNAL_ERROR', message: 'the notification could not be taken now (a system it needs did not answer); deliver it again' } },
        { ...headers, 'retry-after': '2' },
      );
    }
  };
}
