import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readFile } from 'node:fs/promises';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { createGateway } from '../gateway/gateway.js';
import { tokenVerifierFor } from '../stack.js';
import { contractOperation } from './support/contract.js';
import { AGENT, shopper, startTestStack, type TestStack } from './support/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ subgraphDispatch: 'http' });
});
afterAll(async () => {
  await stack?.stop();
});

describe('gateway', () => {
  it('takes the caller’s correlation id and carries it to subgraphs, adapter calls and every log line', async () => {
    const correlationId = `test-${Date.now()}`;
    // A signed-in shopper browsing: the storefront sends its token with every request.
    const authorization = await stack.bearer(shopper('cust-00042'));
    await stack.sandboxCall('DELETE', '/sandbox/calls');
    const { status, headers, body } = await stack.query(contractOperation('ProductPage'), { id: 'prod-0002' }, { 'x-correlation-id': correlationId, authorization });
    expect(status).toBe(200);
    expect(body.errors ?? []).toEqual([]);
    expect(headers.get('x-correlation-id')).toBe(correlationId);

    const recent = (await stack.sandboxCall('GET', '/sandbox/calls/recent')).body as { system: string; correlationId: string }[];
    expect(recent.length).toBeGreaterThan(0);
    expect(new Set(recent.map((c) => c.correlationId))).toEqual(new Set([correlationId]));
    // Names and prices come from the catalog's read models of ERP master data (no ERP call); availability asks the
    // POS and WMS, whose calls carry the caller's id.
    expect(new Set(recent.map((c) => c.system))).toEqual(new Set(['pos', 'wms']));

    // pino writes asynchronously: wait for the three request lines (gateway, catalog, inventory) to arrive.
    const lines = await vi.waitFor(() => {
      const found = stack.logs.filter((l) => l.correlationId === correlationId && l.msg === 'graphql request');
      expect(new Set(found.map((l) => l.service))).toEqual(new Set(['gateway', 'catalog', 'inventory']));
      return found;
    });
    const gatewayLine = lines.find((l) => l.service === 'gateway');
    expect(gatewayLine).toMatchObject({ operationName: 'ProductPage', status: 200, errors: 0, path: '/graphql' });
    expect(typeof gatewayLine?.durationMs).toBe('number');
    const subgraphLines = lines.filter((l) => l.service !== 'gateway');
    expect(new Set(subgraphLines.map((l) => l.service))).toEqual(new Set(['catalog', 'inventory']));
    // Authorization reaches the subgraphs (its value is never logged).
    for (const line of lines) expect(line.authorization).toBe('present');
    const token = authorization.slice('Bearer '.length);
    expect(JSON.stringify(stack.logs)).not.toContain(token);

    // A token that is there but not good is refused whole (401), and it is not logged either.
    const forged = await stack.query(contractOperation('ProductPage'), { id: 'prod-0002' }, { authorization: 'Bearer abc' });
    expect(forged.status).toBe(401);
    expect(forged.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(JSON.stringify(stack.logs)).not.toContain('Bearer abc');
  });

  it('mints a correlation id when the caller sends none (or a malformed one)', async () => {
    const first = await stack.query('{ __typename }');
    expect(first.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    const second = await stack.query('{ __typename }', {}, { 'x-correlation-id': 'bad id with spaces' });
    expect(second.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers /health and /ready', async () => {
    const base = stack.urls.gateway.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as any;
    expect(body.subgraphs).toEqual({ catalog: 'up', inventory: 'up', orders: 'up', customers: 'up', finance: 'up', nodes: 'up' });
  });

  it('is not ready while a subgraph does not answer, and still serves the other subgraphs', async () => {
    const supergraphSdl = await readFile('supergraph.graphql', 'utf8');
    // This gateway verifies tokens as the stack's does: against the sandbox identity provider's keys.
    const verifier = tokenVerifierFor(loadConfig({}), stack.urls.sandbox);
    const gateway = await createGateway({
      supergraphSdl,
      subgraphUrls: { ...stack.urls.subgraphs, finance: 'http://127.0.0.1:9/graphql' },
      authenticate: (authorization) => verifier.authenticate(authorization),
      logger: createLogger({ level: 'silent' }),
      readinessTimeoutMs: 300,
    });
    const url = await gateway.listen(0, '127.0.0.1');
    try {
      const ready = await fetch(url.replace(/graphql$/, 'ready'));
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as any).subgraphs.finance).not.toBe('up');
      const order = stack.sandbox.data.orders[0]!;
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: await stack.bearer(AGENT) },
        body: JSON.stringify({ query: contractOperation('OrderTimeline'), variables: { orderId: order.id } }),
      });
      const body = (await response.json()) as any;
      expect(body.data.order.number).toBe(order.number);
      expect(body.data.order.payments).toBeNull();
      expect(body.errors.length).toBeGreaterThan(0);
    } finally {
      await gateway.stop();
    }
  });
});
