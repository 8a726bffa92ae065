import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Principal } from './auth/principal.js';

/**
 * The request-scoped values that must reach every log line and every system-of-record call without being
 * threaded through each function: the correlation id and the caller's authorization.
 */
export interface RequestScope {
  correlationId: string;
  authorization?: string | undefined;
  /** The verified caller, once the service that runs the request has checked `authorization`. */
  principal?: Principal | undefined;
}

const storage = new AsyncLocalStorage<RequestScope>();

export const CORRELATION_HEADER = 'x-correlation-id';

/** Accept a caller's id when it is sane (ids end up in logs and events), otherwise mint one. */
export function correlationIdFrom(header: string | null | undefined): string {
  if (header && /^[A-Za-z0-9._:-]{1,128}$/.test(header)) return header;
  return randomUUID();
}

export function runInScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

export function currentScope(): RequestScope | undefined {
  return storage.getStore();
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}
