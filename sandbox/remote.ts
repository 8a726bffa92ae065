import { CORRELATION_HEADER, currentCorrelationId } from '../common/correlation.js';
import { currentCallSignal, retryAfterMs as retryAfterHeaderMs, TransportError, type SystemName } from '../common/resilience.js';
import type { SandboxSystems } from './index.js';

/** How long a 429 asks to wait, in ms: the body's exact figure, else the Retry-After seconds, else a second. */
function retryAfterOf(bodyMs: unknown, header: string | null): number {
  return typeof bodyMs === 'number' && Number.isFinite(bodyMs) && bodyMs > 0 ? Math.ceil(bodyMs) : retryAfterHeaderMs(header);
}

/**
 * The sandbox systems reached over HTTP (`SANDBOX_URL`), for subgraphs running in their own processes. It has
 * the same shape as the in-process systems, so the adapters do not know which one they talk to; faults and
 * call counters then live in the one sandbox process and apply to every subgraph alike. A call the sandbox
 * refused for rate (429) fails with a transient TransportError carrying `retryAfterMs`, as it would in process.
 */
export function remoteSystems(baseUrl: string): SandboxSystems {
  const base = baseUrl.replace(/\/$/, '');
  const client = (system: SystemName) =>
    new Proxy(
      {},
      {
        get(_target, method) {
          if (typeof method !== 'string' || method === 'then') return undefined;
          return async (...args: unknown[]) => {
            let response: Response;
            try {
              response = await fetch(`${base}/sandbox/rpc/${system}/${method}`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', [CORRELATION_HEADER]: currentCorrelationId() ?? '' },
                body: JSON.stringify({ args }),
                // The caller's attempt timed out: the request is cut, not left to land unseen.
                signal: currentCallSignal() ?? null,
              });
            } catch (error) {
              throw new TransportError(`${system} unreachable: ${(error as Error).message}`);
            }
            const body = (await response.json().catch(() => ({}))) as { result?: unknown; error?: string; retryAfterMs?: unknown };
            if (response.status === 429) {
              const retryAfterMs = retryAfterOf(body.retryAfterMs, response.headers.get('retry-after'));
              throw new TransportError(body.error ?? `${system} answered 429: retry after ${retryAfterMs} ms`, true, retryAfterMs);
            }
            if (!response.ok) throw new TransportError(`${system} answered ${response.status}: ${body.error ?? ''}`, response.status >= 500);
            return body.result;
          };
        },
      },
    );
  return {
    erp: client('erp'),
    pos: client('pos'),
    wms: client('wms'),
    crm: client('crm'),
    psp: client('psp'),
    ecom: client('ecom'),
    tax: client('tax'),
    marketplace: client('marketplace'),
  } as unknown as SandboxSystems;
}
