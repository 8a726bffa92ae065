import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../common/logger.js';
import { TransportError } from '../common/resilience.js';
import type { HttpService } from '../common/service.js';
import { parseFaultBody, SandboxControl } from './faults.js';
import { createSandbox, type Sandbox } from './index.js';
import { remoteSystems } from './remote.js';
import { createSandboxServer } from './server.js';

/*
 * The sandbox's ERP rate-limit fault: a fixed window per wall-clock second of the control's clock
 * (Math.floor(now / 1000)). In any one second at most N calls are accepted; the next is refused at once with a
 * TransportError whose retryAfterMs is the time to the start of the next second (at least 1 ms), and a new second
 * accepts N again. Over the RPC a refusal is a 429 with Retry-After that the remote client turns back into that
 * error. The per-system call rates (accepted, refused, peak per wall-clock second) go with it; the peak can never
 * exceed N. The clock is injected: nothing here sleeps or reads the wall clock.
 */

const CONFIG = { seed: 42, scale: 0.05 };
const silent = createLogger({ level: 'silent' });

/** A clock the test moves by hand, starting on a whole second. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms), set: (ms: number) => void (now = ms) };
}

async function refusal(call: Promise<unknown>): Promise<TransportError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof TransportError)) throw new Error(`expected a TransportError, got ${String(error)}`);
  return error;
}

describe('parseFaultBody', () => {
  it('takes rateLimitPerSecond as an integer >= 0 beside the other faults', () => {
    expect(parseFaultBody({ system: 'erp', rateLimitPerSecond: 20 })).toEqual({ system: 'erp', fault: { rateLimitPerSecond: 20 } });
    expect(parseFaultBody({ system: 'erp', rateLimitPerSecond: 0, latencyMs: 5 })).toEqual({ system: 'erp', fault: { rateLimitPerSecond: 0, latencyMs: 5 } });
    for (const bad of [-1, 1.5, '5', null, Number.POSITIVE_INFINITY]) expect(parseFaultBody({ system: 'erp', rateLimitPerSecond: bad })).toMatch(/rateLimitPerSecond must be an integer >= 0/);
  });
});

describe('the rate-limit fault', () => {
  let clock: ReturnType<typeof manualClock>;
  let sandbox: Sandbox;
  beforeEach(() => {
    clock = manualClock();
    sandbox = createSandbox(CONFIG, { now: clock.now });
  });

  it('accepts N calls in a wall-clock second, then fails at once with a transient TransportError whose retryAfterMs runs to the next second', async () => {
    sandbox.control.setFault('erp', { rateLimitPerSecond: 4 });
    const erp = sandbox.systems.erp;
    clock.set(10_000); // the start of second 10
    for (let i = 0; i < 4; i++) expect(await erp.getVariants(['SKU-0001-1'])).toHaveLength(1);
    const error = await refusal(erp.getVariants(['SKU-0001-1']));
    expect(error.transient).toBe(true);
    expect(error.retryAfterMs).toBe(1000);
    expect(error.message).toMatch(/^ERP rate limit: retry after 1000 ms \(sandbox fault: rateLimitPerSecond 4\)$/);
    // Later in the same second the window stays full, whatever the call; the wait is what is left of the second.
    clock.set(10_750);
    expect((await refusal(erp.getStockPolicies([{ sku: 'SKU-0001-1', locationId: 'wh-01' }]))).retryAfterMs).toBe(250);
    clock.set(10_999);
    expect((await refusal(erp.getProducts(['prod-0001']))).retryAfterMs).toBe(1);
    // Less than a millisecond left still asks for 1 ms.
    clock.set(10_999.5);
    expect((await refusal(erp.getProducts(['prod-0001']))).retryAfterMs).toBe(1);
    // Waiting what it said is enough: the next second accepts N again (the refusals took nothing from it), then refuses.
    clock.set(11_000);
    for (let i = 0; i < 4; i++) await erp.getProducts(['prod-0001']);
    expect((await refusal(erp.getProducts(['prod-0001']))).retryAfterMs).toBe(1000);
    // A quiet stretch banks nothing: a later second still takes N, no more.
    clock.set(15_600);
    for (let i = 0; i < 4; i++) await erp.getProducts(['prod-0001']);
    expect((await refusal(erp.getProducts(['prod-0001']))).retryAfterMs).toBe(400);
    expect(sandbox.control.callRates().erp).toEqual({ accepted: 12, refused: 6, peakPerSecond: 4 });
  });

  it('refuses writes as well, before they change anything', async () => {
    sandbox.control.setFault('erp', { rateLimitPerSecond: 1 });
    await sandbox.systems.erp.changeItem({ sku: 'SKU-0001-1', listPriceMinor: 100 });
    const error = await refusal(sandbox.systems.erp.changeItem({ sku: 'SKU-0001-1', listPriceMinor: 200 }));
    expect(error.retryAfterMs).toBe(1000);
    expect((await sandbox.direct?.erp.getVariants(['SKU-0001-1']))?.[0]).toMatchObject({ priceMinor: 100 });
  });

  it('limits only the system it is set on, and ends when set to 0 or cleared', async () => {
    sandbox.control.setFault('erp', { rateLimitPerSecond: 1 });
    clock.set(3_000_000);
    await sandbox.systems.erp.getProducts(['prod-0001']);
    await refusal(sandbox.systems.erp.getProducts(['prod-0001']));
    for (let i = 0; i < 5; i++) await sandbox.systems.pos.listStores();
    sandbox.control.setFault('erp', { rateLimitPerSecond: 0 });
    for (let i = 0; i < 5; i++) await sandbox.systems.erp.getProducts(['prod-0001']);
    sandbox.control.setFault('erp', { rateLimitPerSecond: 2 });
    // A new limit counts the calls already accepted in this second, those let through without a limit too.
    expect((await refusal(sandbox.systems.erp.getProducts(['prod-0001']))).retryAfterMs).toBe(1000);
    clock.set(3_001_000);
    await sandbox.systems.erp.getProducts(['prod-0001']);
    await sandbox.systems.erp.getProducts(['prod-0001']);
    await refusal(sandbox.systems.erp.getProducts(['prod-0001']));
    // Another fault set later keeps the limit (and the second's count).
    sandbox.control.setFault('erp', { latencyMs: 0 });
    await refusal(sandbox.systems.erp.getProducts(['prod-0001']));
    sandbox.control.clearFaults();
    for (let i = 0; i < 5; i++) await sandbox.systems.erp.getProducts(['prod-0001']);
    expect(sandbox.control.fault('erp')).toEqual({ latencyMs: 0, errorRate: 0, down: false, rateLimitPerSecond: 0 });
    expect(sandbox.control.callRates()).toMatchObject({ erp: { accepted: 13, refused: 4 }, pos: { accepted: 5, refused: 0 } });
  });

  it('counts refused calls in the call counters, and keeps accepted, refused and the peak per wall-clock second', async () => {
    sandbox.control.setFault('erp', { rateLimitPerSecond: 3 });
    const erp = sandbox.systems.erp;
    clock.set(5_000_000); // second 5000
    for (let i = 0; i < 3; i++) await erp.getVariants(['SKU-0001-1']);
    await refusal(erp.getVariants(['SKU-0001-1']));
    await refusal(erp.getVariants(['SKU-0001-1']));
    clock.set(5_001_500); // second 5001: a new window of 3
    for (let i = 0; i < 3; i++) await erp.getVariants(['SKU-0001-1']);
    expect((await refusal(erp.getVariants(['SKU-0001-1']))).retryAfterMs).toBe(500);
    expect(sandbox.control.calls().erp).toEqual({ getVariants: 9 });
    expect(sandbox.control.callRates()).toMatchObject({
      erp: { accepted: 6, refused: 3, peakPerSecond: 3 },
      pos: { accepted: 0, refused: 0, peakPerSecond: 0 },
    });
    expect(Object.keys(sandbox.control.callRates()).sort()).toEqual(['crm', 'ecom', 'erp', 'marketplace', 'pos', 'psp', 'tax', 'wms']);
    sandbox.control.resetCalls();
    expect(sandbox.control.calls()).toEqual({});
    expect(sandbox.control.callRates().erp).toEqual({ accepted: 0, refused: 0, peakPerSecond: 0 });
  });

  it('counts calls per second without a limit too, and a failing call it let through as accepted', async () => {
    const control = new SandboxControl({ now: clock.now });
    clock.set(7_000_000);
    for (let i = 0; i < 4; i++) {
      await control.before('wms', 'getStock');
      clock.advance(200);
    }
    // 7000.0, .2, .4, .6 in second 7000; .8 as well, then 7001.0 in the next.
    await control.before('wms', 'getStock');
    clock.advance(200);
    await control.before('wms', 'getStock');
    control.setFault('wms', { down: true });
    await expect(control.before('wms', 'getStock')).rejects.toThrow(/sandbox fault: down/);
    expect(control.callRates().wms).toEqual({ accepted: 7, refused: 0, peakPerSecond: 5 });
  });

  it('is a fixed window per wall-clock second: never more than N in one second, even at the limit across a boundary', async () => {
    sandbox.control.setFault('erp', { rateLimitPerSecond: 5 });
    const erp = sandbox.systems.erp;
    // N at the very end of a second and N at the very start of the next: both windows are full, neither overflows.
    clock.set(9_000_999);
    for (let i = 0; i < 5; i++) await erp.getProducts(['prod-0001']);
    expect((await refusal(erp.getProducts(['prod-0001']))).retryAfterMs).toBe(1);
    clock.set(9_001_000);
    for (let i = 0; i < 5; i++) await erp.getProducts(['prod-0001']);
    expect((await refusal(erp.getProducts(['prod-0001']))).retryAfterMs).toBe(1000);
    expect(sandbox.control.callRates().erp).toEqual({ accepted: 10, refused: 2, peakPerSecond: 5 });
  });

  it('gives a caller that calls every 10 ms and waits what each refusal says exactly N per second', async () => {
    sandbox.control.setFault('erp', { rateLimitPerSecond: 5 });
    const erp = sandbox.systems.erp;
    const acceptedAt: number[] = [];
    const waits: number[] = [];
    clock.set(9_000_600);
    while (clock.now() < 9_003_000) {
      const at = clock.now();
      const error = await erp.getProducts(['prod-0001']).then(
        () => null,
        (e: unknown) => e,
      );
      if (error === null) {
        acceptedAt.push(at);
        clock.advance(10);
      } else {
        if (!(error instanceof TransportError) || error.retryAfterMs === undefined) throw error;
        waits.push(error.retryAfterMs);
        clock.advance(error.retryAfterMs);
      }
    }
    // Second 9000 from .600, then 9001 and 9002 from their starts; each refusal waits to the next second.
    expect(acceptedAt).toEqual([
      9_000_600, 9_000_610, 9_000_620, 9_000_630, 9_000_640,
      9_001_000, 9_001_010, 9_001_020, 9_001_030, 9_001_040,
      9_002_000, 9_002_010, 9_002_020, 9_002_030, 9_002_040,
    ]);
    expect(waits).toEqual([350, 950, 950]);
    // Ten calls fall within 440 ms across the boundary, but no wall-clock second takes more than N.
    expect(sandbox.control.callRates().erp).toEqual({ accepted: 15, refused: 3, peakPerSecond: 5 });
  });
});

describe('over the RPC (SANDBOX_URL)', () => {
  let clock: ReturnType<typeof manualClock>;
  let sandbox: Sandbox;
  let server: HttpService;
  let base: string;

  beforeAll(async () => {
    clock = manualClock();
    sandbox = createSandbox(CONFIG, { now: clock.now });
    server = createSandboxServer(sandbox, silent);
    base = await server.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await server.stop();
  });
  beforeEach(async () => {
    await fetch(`${base}/sandbox/faults`, { method: 'DELETE' });
    await fetch(`${base}/sandbox/calls`, { method: 'DELETE' });
  });

  const setFault = async (body: unknown) => {
    const response = await fetch(`${base}/sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as unknown };
  };
  const rpc = (method: string, args: unknown[]) => fetch(`${base}/sandbox/rpc/erp/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ args }) });

  it('sets the fault with POST /sandbox/faults and lists it with GET', async () => {
    expect(await setFault({ system: 'erp', rateLimitPerSecond: 2 })).toEqual({ status: 200, body: { system: 'erp', latencyMs: 0, errorRate: 0, down: false, rateLimitPerSecond: 2 } });
    expect(await setFault({ system: 'erp', rateLimitPerSecond: -2 })).toEqual({ status: 400, body: { error: expect.stringMatching(/rateLimitPerSecond/) } });
    const faults = (await (await fetch(`${base}/sandbox/faults`)).json()) as Record<string, { rateLimitPerSecond: number }>;
    expect(faults.erp?.rateLimitPerSecond).toBe(2);
    expect(faults.pos?.rateLimitPerSecond).toBe(0);
  });

  it('answers a refused call 429 with Retry-After in whole seconds (rounded up) and the exact wait in the body', async () => {
    await setFault({ system: 'erp', rateLimitPerSecond: 2 });
    clock.set(10_750);
    expect((await rpc('getProducts', [['prod-0001']])).status).toBe(200);
    expect((await rpc('getProducts', [['prod-0001']])).status).toBe(200);
    const refused = await rpc('getProducts', [['prod-0001']]);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/^ERP rate limit: retry after 250 ms/), retryAfterMs: 250 });
    clock.set(11_000);
    expect((await rpc('getProducts', [['prod-0001']])).status).toBe(200);
  });

  it('remoteSystems turns the 429 back into that TransportError with retryAfterMs', async () => {
    await setFault({ system: 'erp', rateLimitPerSecond: 2 });
    const erp = remoteSystems(base).erp;
    clock.set(20_000);
    await erp.getProducts(['prod-0001']);
    await erp.getVariants(['SKU-0001-1']);
    const error = await refusal(erp.getVariants(['SKU-0001-1']));
    expect(error).toMatchObject({ transient: true, retryAfterMs: 1000, message: expect.stringMatching(/^ERP rate limit: retry after 1000 ms/) });
    clock.set(20_600);
    const refusedWrite = await refusal(erp.postJournalBatch([{ id: 'pst-throttled', orderId: 'ord-w1', type: 'SALE', amountMinor: 1, currency: 'EUR' }]));
    expect(refusedWrite.retryAfterMs).toBe(400);
    // Other failures keep their shapes: a 503 for a fault, no retryAfterMs.
    await setFault({ system: 'erp', rateLimitPerSecond: 0, down: true });
    const down = await refusal(erp.getProducts(['prod-0001']));
    expect(down).toMatchObject({ transient: true, message: expect.stringMatching(/answered 503/) });
    expect(down.retryAfterMs).toBeUndefined();
  });

  it('GET /sandbox/calls/rates answers accepted, refused and the peak per system; DELETE /sandbox/calls resets them', async () => {
    await setFault({ system: 'erp', rateLimitPerSecond: 3 });
    clock.set(2_000_000); // second 2000: 3 accepted, 2 refused
    for (let i = 0; i < 5; i++) await rpc('getProducts', [['prod-0001']]);
    clock.set(2_001_000); // second 2001: a new window
    await rpc('getProducts', [['prod-0001']]);
    const rates = (await (await fetch(`${base}/sandbox/calls/rates`)).json()) as Record<string, unknown>;
    expect(rates).toMatchObject({ erp: { accepted: 4, refused: 2, peakPerSecond: 3 }, psp: { accepted: 0, refused: 0, peakPerSecond: 0 } });
    expect(((await (await fetch(`${base}/sandbox/calls`)).json()) as Record<string, unknown>).erp).toEqual({ getProducts: 6 });
    await fetch(`${base}/sandbox/calls`, { method: 'DELETE' });
    expect(((await (await fetch(`${base}/sandbox/calls/rates`)).json()) as Record<string, unknown>).erp).toEqual({ accepted: 0, refused: 0, peakPerSecond: 0 });
  });
});

describe('remoteSystems and a 429 from elsewhere', () => {
  let server: Server;
  let base: string;
  const answers: { headers: Record<string, string>; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((_req, res) => {
      const answer = answers.shift() ?? { headers: {}, body: '{}' };
      res.writeHead(429, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('takes the wait from Retry-After when the body has none, else waits a second', async () => {
    const erp = remoteSystems(base).erp;
    answers.push({ headers: { 'retry-after': '3' }, body: '{"error":"slow down"}' });
    expect(await refusal(erp.getProducts([]))).toMatchObject({ message: 'slow down', transient: true, retryAfterMs: 3000 });
    answers.push({ headers: {}, body: 'not json' });
    expect(await refusal(erp.getProducts([]))).toMatchObject({ transient: true, retryAfterMs: 1000, message: expect.stringMatching(/erp answered 429/) });
  });
});
