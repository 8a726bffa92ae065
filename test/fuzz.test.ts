import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger } from '../common/logger.js';
import { formatFuzzReport, runFuzzCampaign } from './support/fuzz/runner.js';
import { FINANCE, startTestStack, type TestStack } from './support/stack.js';

/*
 * The fuzz campaign (test/support/fuzz/) against the real stack: a seeded corpus from the API schema, the contract
 * and the transports (HTTP POST and GET, graphql-ws), FUZZ_CASES cases (10 000 by default), FUZZ_SEED. For every
 * case: the stack keeps answering /health, every HTTP answer is a success or a coded error with a sensible status,
 * every WebSocket close a documented code, and no rejected mutation writes to a system of record or changes what
 * the graph shows. `npm run fuzz` runs longer campaigns and prints the table.
 */

const CASES = Number(process.env.FUZZ_CASES ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 12);
const logger = createLogger({ level: 'info' });

let stack: TestStack;
const crashes: unknown[] = [];
const onCrash = (error: unknown) => crashes.push(error);

beforeAll(async () => {
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  // Warn and above only: a line per request of ten thousand would cost more than the requests; a 500 is still
  // logged ("request failed" is an error) and checked below.
  stack = await startTestStack({}, { LOG_LEVEL: 'warn' });
});
afterAll(async () => {
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
  await stack?.stop();
});

describe('fuzzing the gateway', () => {
  it(`answers ${CASES} seeded bad requests with coded errors, crashes nothing and changes nothing`, { timeout: 400_000 }, async () => {
    const report = await runFuzzCampaign(
      { graphql: stack.urls.gateway, sandbox: stack.urls.sandbox, bearer: (caller) => stack.bearer(caller) },
      { cases: CASES, seed: SEED, concurrency: 16 },
    );
    logger.info({ seed: report.seed, cases: report.cases, elapsedMs: Math.round(report.elapsedMs), violations: report.violations.length, counts: report.counts }, 'fuzz campaign');
    logger.info(formatFuzzReport(report));
    expect(report.cases).toBe(CASES);
    // The stack's own view: no request failed inside the gateway (a 500 is logged as "request failed").
    const failed = stack.logs.filter((l) => l.msg === 'request failed' || l.msg === 'route failed');
    expect(failed.map((l) => l.err)).toEqual([]);
    expect(crashes).toEqual([]);
    expect(report.health.failed).toBe(0);
    expect(report.violations).toEqual([]);
    const ready = await fetch(new URL('/ready', stack.urls.gateway));
    expect(ready.status).toBe(200);
  });
});

/** A raw HTTP/1.1 exchange: what Node's parser refuses never reaches a route, so fetch cannot send it. */
function raw(url: string, request: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
  });
}

/** The close code of a graphql-ws session that sends `frames` after its connection_init was acknowledged. */
function closeAfter(url: string, frames: (string | Buffer)[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), ['graphql-transport-ws']);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
    socket.on('message', (data: Buffer) => {
      if ((JSON.parse(data.toString('utf8')) as { type: string }).type === 'connection_ack') for (const frame of frames) socket.send(frame);
    });
    socket.on('close', (code) => resolve(code));
    socket.on('error', reject);
  });
}

describe('what the fuzz campaign found, kept as regression cases', () => {
  it('refuses a fragment bomb (2^n fields from a few hundred bytes) with TOO_MANY_FIELDS before planning it', async () => {
    // It used to be planned: 12 s for 18 levels, doubling with each, the gateway's event loop blocked throughout.
    const n = 40;
    const fragments = Array.from({ length: n }, (_, i) => `fragment F${i} on Product { ${i === n - 1 ? 'id' : `...F${i + 1} ...F${i + 1}`} }`);
    const { status, body } = await stack.query(`{ product(id: "prod-0001") { ...F0 } } ${fragments.join(' ')}`);
    expect(status).toBe(400);
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['TOO_MANY_FIELDS']);
  });

  it('refuses list brackets nested 1,900 deep with QUERY_TOO_DEEP, where the parser overflowed its stack (a 500)', async () => {
    const { status, body } = await stack.query(`{ product(id: ${'['.repeat(1900)}"x"${']'.repeat(1900)}) { id } }`);
    expect(status).toBe(400);
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_DEEP']);
  });

  it("answers what Node's HTTP parser refuses (an unknown method, headers too large) with a coded JSON body", async () => {
    const method = await raw(stack.urls.gateway, 'FROB /graphql HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(method.status).toBe(400);
    expect(JSON.parse(method.body)).toEqual({ errors: [{ message: 'the request is not well-formed HTTP', extensions: { code: 'BAD_REQUEST' } }] });
    const headers = await raw(stack.urls.gateway, `GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(headers.status).toBe(431);
    expect(JSON.parse(headers.body).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('refuses a DateTime that is no date at the edge (BAD_USER_INPUT), not as a subgraph failure', async () => {
    const query = 'query R($from: DateTime!, $to: DateTime!) { reconciliation(from: $from, to: $to) { pendingPostings } }';
    for (const from of ['2024-02-30T00:00:00Z', '0000-00-00T00:00:00Z', 'not a date']) {
      const { status, body } = await stack.queryAs(FINANCE, query, { from, to: '2024-03-01T00:00:00Z' });
      expect(status, from).toBe(400);
      expect(body.errors?.map((e) => e.extensions?.code), from).toEqual(['BAD_USER_INPUT']);
    }
    const literal = await stack.queryAs(FINANCE, '{ reconciliation(from: "2024-02-30T00:00:00Z", to: "2024-03-01T00:00:00Z") { pendingPostings } }');
    expect(literal.status).toBe(400);
    expect(literal.body.errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const good = await stack.queryAs(FINANCE, query, { from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00.000+01:00' });
    expect(good.body.errors ?? []).toEqual([]);
    expect(typeof good.body.data?.reconciliation?.pendingPostings).toBe('number');
  });

  it('closes a socket that sends a server-only message (next, error, connection_ack) with 4400, not 4500', async () => {
    for (const type of ['next', 'error', 'connection_ack']) {
      expect(await closeAfter(stack.urls.gateway, [JSON.stringify({ id: '1', type, payload: type === 'error' ? [] : {} })]), type).toBe(4400);
    }
    // A frame over ws's maxPayload is ws's own 1009, and no longer graphql-ws's console.error.
    expect(await closeAfter(stack.urls.gateway, [Buffer.alloc(1_100_000, 0x7b)])).toBe(1009);
  });
});
