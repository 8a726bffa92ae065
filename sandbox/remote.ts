import { CORRELATION_HEADER, currentCorrelationId } from '../common/correlation.js';
import { TransportError, type SystemName } from '../common/resilience.js';
import type { SandboxSystems } from './systems.js';

/**
 * The sandbox systems reached over HTTP (`SANDBOX_URL`), for subgraphs running in their own processes. It has
 * the same shape as the in-process systems, so the adapters do not know which one they talk to; faults and
 * call counters then live in the one sandbox process and apply to every subgraph alike.
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
              });
            } catch (error) {
              throw new TransportError(`${system} unreachable: ${(error as Error).message}`);
            }
            const body = (await response.json().catch(() => ({}))) as { result?: unknown; error?: string };
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
  } as unknown as SandboxSystems;
}
