import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Role } from '../auth/principal.js';
import { headerValue, sendAuthenticationFailure, sendGraphQLError, type Authenticate, type Route } from '../http.js';
import type { Metrics } from './metrics.js';

/** Which registry answered: the all-in-one process serves one registry on every port, and a reader counts it once. */
export const METRICS_INSTANCE_HEADER = 'x-metrics-instance';

export interface MetricsAccess {
  /** Verifies a caller's token: an `ops` principal may read the metrics. */
  authenticate: Authenticate;
  /**
   * A static bearer token Prometheus scrapes with (`METRICS_TOKEN`): operators' scrapers rarely hold a user's JWT.
   * @default none: only an ops-role token reads the metrics
   */
  scrapeToken?: string | undefined;
}

const bearer = (authorization: string | undefined): string | undefined => /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim();

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether this request may read operational data: the scrape token, or a verified token of one of `roles`. Answers
 * the refusal itself (401 without or with a bad token, 403 for another role) and returns false then.
 * @param roles Who besides the scrape token may read it: `/metrics` is for ops alone; the operations console
 * (gateway/ops-console.ts) is also for service agents and finance. @default ['ops']
 */
export async function authorizeOps(req: IncomingMessage, res: Parameters<Route>[1], access: MetricsAccess, roles: readonly Role[] = ['ops']): Promise<boolean> {
  const authorization = headerValue(req, 'authorization');
  const token = bearer(authorization);
  if (access.scrapeToken && token !== undefined && sameToken(token, access.scrapeToken)) return true;
  const named = roles.length > 1 ? `${roles.slice(0, -1).join(', ')} or ${roles.at(-1)}` : roles.join('');
  if (!authorization) {
    sendGraphQLError(res, 401, `operational data needs a token of the ${named} role`, 'UNAUTHENTICATED', { 'www-authenticate': 'Bearer' });
    return false;
  }
  const authentication = await access.authenticate(authorization);
  if (!authentication.ok) {
    sendAuthenticationFailure(res, authentication);
    return false;
  }
  const { kind } = authentication.principal;
  if (kind === 'anonymous' || !roles.includes(kind)) {
    sendGraphQLError(res, 403, `operational data is for the ${named} role`, 'FORBIDDEN');
    return false;
  }
  return true;
}

/** `GET /metrics`: the registry in Prometheus's text format, for the scrape token or an ops-role token. */
export function metricsRoute(metrics: Metrics, access: MetricsAccess): Route {
  return async (req, res) => {
    if (!(await authorizeOps(req, res, access))) return;
    const { contentType, body } = await metrics.exposition();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store', [METRICS_INSTANCE_HEADER]: metrics.instance });
    res.end(body);
  };
}
