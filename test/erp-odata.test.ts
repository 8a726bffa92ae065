import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ODataClient } from '../common/erp-odata/client.js';
import { ODataMasterDataSource } from '../common/erp-odata/master-data-source.js';
import { ResilienceRegistry, SystemUnavailableError } from '../common/resilience.js';
import { SANDBOX_ODATA_CLIENT, SANDBOX_ODATA_PATH, SANDBOX_ODATA_TOKEN_PATH } from '../sandbox/odata/service.js';
import { ODataJournal } from '../subgraphs/finance/adapters/odata-journal.js';
import { ODataLedger } from '../subgraphs/finance/adapters/odata-ledger.js';
import { JournalRejectedError, type JournalEntry } from '../subgraphs/finance/outbox/ports.js';
import { erpEnv } from './support/erp.js';
import { startTestStack, type TestStack } from './support/stack.js';

/*
 * The OData connector against the sandbox's OData v4 service, over real HTTP: the token flow, delta links and a
 * lost position, server-driven paging, $batch with a refused posting, and the transport's failures (timeout that
 * aborts, 429 with Retry-After, 5xx). The acceptance suites (master-data, erp-outbox, erp-protection, outages) run
 * the whole graph with this connector; these cases look at the protocol itself.
 */

let stack: TestStack;
let unique = 0;
const tag = () => `${process.pid}-${Date.now()}-${++unique}`;

/** A fresh client and resilience policy per case, so breakers and tokens do not leak between cases. */
function connector(options: { clientSecret?: string; timeoutMs?: number; pageSize?: number } = {}) {
  const base = stack.urls.sandbox;
  const client = new ODataClient({
    serviceUrl: `${base}${SANDBOX_ODATA_PATH}`,
    tokenUrl: `${base}${SANDBOX_ODATA_TOKEN_PATH}`,
    clientId: SANDBOX_ODATA_CLIENT.clientId,
    clientSecret: options.clientSecret ?? SANDBOX_ODATA_CLIENT.clientSecret,
    timeoutMs: options.timeoutMs ?? 1_000,
  });
  const resilience = new ResilienceRegistry({ timeoutMs: options.timeoutMs ?? 1_000, retries: 0, breakerFailures: 100, breakerResetMs: 100 });
  return {
    client,
    resilience,
    source: new ODataMasterDataSource(client, resilience, options.pageSize ? { pageSize: options.pageSize } : {}),
    ledger: new ODataLedger(client, resilience),
    journal: new ODataJournal(client, resilience),
  };
}

const stats = async () => (await stack.sandboxCall('GET', '/sandbox/erp/odata-stats')).body as { issued: number; refused: number; unauthorized: number; aborted: number };
const erpCalls = async () => ((await stack.sandboxCall('GET', '/sandbox/calls')).body.erp ?? {}) as Record<string, number>;

async function failure(promise: Promise<unknown>): Promise<SystemUnavailableError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SystemUnavailableError);
  return error as SystemUnavailableError;
}

const entry = (id: string, overrides: Partial<JournalEntry> = {}): JournalEntry => ({
  id,
  orderId: 'ord-w000001',
  type: 'SALE',
  amount: { minor: 1999, currency: 'EUR' },
  postingDate: new Date().toISOString(),
  attempt: 1,
  ...overrides,
});

beforeAll(async () => {
  stack = await startTestStack({}, erpEnv('odata'));
});
afterAll(async () => {
  await stack?.stop();
});
afterEach(async () => {
  await stack.sandboxCall('DELETE', '/sandbox/faults');
});

describe('OAuth2 client credentials', () => {
  it('refuses a request without a token with 401 in OData’s error format, and wrong credentials at the token endpoint', async () => {
    const response = await fetch(`${stack.urls.sandbox}${SANDBOX_ODATA_PATH}/Products?$top=1`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await response.json()).toEqual({ error: { code: 'Unauthorized', message: expect.any(String) } });

    const before = await stats();
    const error = await failure(connector({ clientSecret: 'wrong' }).ledger.getInvoicesByOrder(['ord-w000001']));
    expect(error.extensions.code).toBe('ERP_UNAVAILABLE');
    expect(String(error.extensions.reason)).toMatch(/refused the client credentials.*invalid_client/);
    expect((await stats()).refused).toBe(before.refused + 1);
  });

  it('takes one token for concurrent calls, and a new one when the service refuses it (expired or revoked)', async () => {
    const { ledger } = connector();
    const before = await stats();
    const ids = stack.sandbox.data.orders.slice(0, 3).map((o) => o.id);
    await Promise.all(ids.map((id) => ledger.getPostingsByOrder([id])));
    expect((await stats()).issued).toBe(before.issued + 1);

    await stack.sandboxCall('POST', '/sandbox/erp/oauth2/revoke');
    const invoices = await ledger.getInvoicesByOrder(ids);
    expect(invoices).toHaveLength(3);
    const after = await stats();
    expect(after.issued).toBe(before.issued + 2);
    expect(after.unauthorized).toBeGreaterThan(before.unauthorized);
  });
});

describe('master data: paging, delta links, a lost position', () => {
  it('a snapshot read in pages of 700 ($skiptoken next links, one $batch per round of pages) is the ERP’s whole master data as of one sequence', async () => {
    const erp = await stack.sandbox.systems.erp.getMasterDataSnapshot();
    await stack.sandboxCall('DELETE', '/sandbox/calls');
    const snapshot = await connector({ pageSize: 700 }).source.snapshot();
    expect(snapshot.sequence).toBe(erp.sequence);
    expect(snapshot.products.map((p) => p.id)).toEqual(erp.products.map((p) => p.id));
    expect(snapshot.variants).toHaveLength(erp.variants.length);
    expect(snapshot.policies).toHaveLength(erp.policies.length);
    expect(snapshot.variants[5]).toEqual({ sku: erp.variants[5]!.sku, productId: erp.variants[5]!.productId, name: erp.variants[5]!.name, color: erp.variants[5]!.color, size: erp.variants[5]!.size, price: { minor: erp.variants[5]!.priceMinor, currency: erp.variants[5]!.currency }, status: erp.variants[5]!.status });
    // The policies are the longest set: ceil(n / 700) rounds of pages, each one call.
    expect((await erpCalls()).getMasterDataSnapshot).toBe(Math.ceil(erp.policies.length / 700));

    const raw = await connector().client.get('Variants?$top=3&$select=SKU,Status&$count=true', { prefer: 'odata.maxpagesize=2' });
    expect(raw.body['@odata.count']).toBe(3);
    expect(raw.body.value).toEqual([{ SKU: erp.variants[0]!.sku, Status: 'ACTIVE' }, { SKU: erp.variants[1]!.sku, Status: 'ACTIVE' }]);
    expect(raw.body['@odata.nextLink']).toMatch(/\$skiptoken=o2/);
    const next = await connector().client.get(raw.body['@odata.nextLink'] as string, { prefer: 'odata.maxpagesize=2' });
    expect(next.body.value).toEqual([{ SKU: erp.variants[2]!.sku, Status: 'ACTIVE' }]);
    expect(next.body['@odata.nextLink']).toBeUndefined();
  });

  it('follows delta links: the changes after a sequence in order, across the three sets, in one call; a trimmed change log is 410 Gone → POSITION_LOST', async () => {
    const { source } = connector();
    const { sequence: from } = await stack.sandbox.systems.erp.getMasterDataSnapshot();
    const sku = stack.sandbox.data.variants[3]!.sku;
    const first = await stack.sandboxCall('POST', '/sandbox/erp/items', { sku, listPrice: '31.40' });
    const second = await stack.sandboxCall('POST', '/sandbox/erp/stock-policies', { sku, locationId: 'store-002', safetyStock: 6 });
    await stack.sandboxCall('DELETE', '/sandbox/calls');
    const batch = await source.changesAfter(from, 500);
    expect((await erpCalls()).getMasterDataChanges).toBe(1);
    expect(batch).toEqual({
      ok: true,
      latestSequence: second.body.sequence,
      changes: [
        expect.objectContaining({ sequence: first.body.sequence, kind: 'VARIANT', variant: expect.objectContaining({ sku, price: { minor: 3140, currency: 'EUR' } }) }),
        expect.objectContaining({ sequence: second.body.sequence, kind: 'STOCK_POLICY', policy: expect.objectContaining({ sku, locationId: 'store-002', safetyStock: 6 }) }),
      ],
    });
    // A limit of one: the first change only, and the ERP's latest still known.
    expect(await source.changesAfter(from, 1)).toMatchObject({ ok: true, changes: [{ sequence: first.body.sequence }] });

    await stack.sandboxCall('POST', '/sandbox/erp/changes/trim', { keep: 0 });
    await stack.sandboxCall('POST', '/sandbox/erp/items', { sku, listPrice: '31.50' });
    expect(await source.changesAfter(from, 500)).toEqual({ ok: false, reason: 'POSITION_LOST' });
    const gone = await connector().client.get(`Products?$deltatoken=${from}`);
    expect(gone.status).toBe(410);
    expect(gone.body.error.code).toBe('Gone');
  });
});

describe('finance: ledger reads and journal writes', () => {
  it('reads postings by order, by id and by date with one call per batch of ids', async () => {
    const { ledger } = connector();
    const orders = stack.sandbox.data.orders.slice(0, 40).map((o) => o.id);
    await stack.sandboxCall('DELETE', '/sandbox/calls');
    const byOrder = await ledger.getPostingsByOrder(orders);
    const ids = byOrder.flat().map((p) => p.id);
    expect((await ledger.getPostings([...ids, 'pst-nope'])).map((p) => p?.id ?? null)).toEqual([...ids, null]);
    expect(await erpCalls()).toMatchObject({ getPostingsByOrder: 1, getPostings: 1 });
    expect(byOrder).toEqual(await stack.sandbox.systems.erp.getPostingsByOrder(orders).then((lists) => lists.map((l) => l.map((p) => expect.objectContaining({ id: p.id, orderId: p.orderId, status: p.status })))));
    const one = stack.sandbox.data.postings[0]!;
    const day = new Date(one.createdAt);
    const from = new Date(day.getTime() - 3_600_000).toISOString();
    const to = new Date(day.getTime() + 3_600_000).toISOString();
    expect((await ledger.getPostingsByDate(from, to)).map((p) => p.id)).toEqual((await stack.sandbox.systems.erp.getPostingsByDate(from, to)).map((p) => p.id));
  });

  it('posts a batch as one $batch call: a refused posting is its own outcome, the others are booked, and posting again books nothing twice', async () => {
    const { journal } = connector();
    const ids = [`odata-a-${tag()}`, `odata-bad-${tag()}`, `odata-b-${tag()}`];
    await stack.sandboxCall('DELETE', '/sandbox/calls');
    const outcomes = await journal.postBatch([entry(ids[0]!), entry(ids[1]!, { amount: { minor: 100, currency: 'eur' } }), entry(ids[2]!)]);
    expect(outcomes[0]).toMatchObject({ documentNumber: expect.stringMatching(/^FI-\d{8}$/), amount: { minor: 1999, currency: 'EUR' } });
    expect(outcomes[1]).toBeInstanceOf(JournalRejectedError);
    expect((outcomes[1] as Error).message).toMatch(/currency/);
    expect(outcomes[2]).toMatchObject({ documentNumber: expect.stringMatching(/^FI-\d{8}$/) });
    expect(await erpCalls()).toEqual({ postJournalBatch: 1 });

    const again = await journal.postBatch([entry(ids[0]!, { attempt: 2 }), entry(ids[2]!, { attempt: 2 })]);
    expect(again.map((o) => (o as { documentNumber: string }).documentNumber)).toEqual([outcomes[0], outcomes[2]].map((o) => (o as { documentNumber: string }).documentNumber));
    const held = await stack.sandbox.systems.erp.getPostings(ids);
    expect(held.map((p) => p?.status ?? null)).toEqual(['POSTED', null, 'POSTED']);

    const invoiceId = `inv-odata-${tag()}`;
    const invoice = await journal.issueInvoice({ id: invoiceId, orderId: 'ord-w000001', total: { minor: 1999, currency: 'EUR' } });
    expect(await journal.issueInvoice({ id: invoiceId, orderId: 'ord-w000001', total: { minor: 1999, currency: 'EUR' } })).toEqual(invoice);
    await expect(journal.post(entry(`odata-neg-${tag()}`, { amount: { minor: -5, currency: 'EUR' } }))).rejects.toBeInstanceOf(JournalRejectedError);
  });
});

describe('the transport’s failures', () => {
  it('a latency beyond the timeout aborts the request (the service sees the connection closed) and is ERP_UNAVAILABLE', async () => {
    const before = (await stats()).aborted;
    await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', latencyMs: 2_000 });
    const error = await failure(connector({ timeoutMs: 200 }).ledger.getInvoicesByOrder(['ord-w000001']));
    expect(error.extensions.code).toBe('ERP_UNAVAILABLE');
    expect(error.retryAfterMs).toBeUndefined();
    await vi.waitFor(async () => expect((await stats()).aborted).toBeGreaterThan(before), { timeout: 5_000, interval: 50 });
  });

  it('429 with Retry-After is the retry-after error (no breaker failure); 5xx is ERP_UNAVAILABLE', async () => {
    const { ledger, resilience } = connector();
    await ledger.getInvoicesByOrder(['ord-w000001']);
    await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', rateLimitPerSecond: 1 });
    // Within one wall-clock second at most one call is accepted: of three in a row at least one is refused.
    const outcomes = await Promise.all([1, 2, 3].map(() => ledger.getInvoicesByOrder(['ord-w000001']).then(() => null, (e: unknown) => e as SystemUnavailableError)));
    const throttled = outcomes.filter((e): e is SystemUnavailableError => e !== null);
    expect(throttled.length).toBeGreaterThan(0);
    for (const e of throttled) {
      expect(e.extensions.code).toBe('ERP_UNAVAILABLE');
      expect(e.retryAfterMs).toBeGreaterThanOrEqual(1000);
      expect(String(e.extensions.reason)).toMatch(/429/);
    }
    expect(resilience.health().find((h) => h.system === 'erp')?.state).toBe('UP');

    await stack.sandboxCall('POST', '/sandbox/faults', { system: 'erp', rateLimitPerSecond: 0, down: true });
    const down = await failure(ledger.getPostings(['pst-x']));
    expect(down.extensions.code).toBe('ERP_UNAVAILABLE');
    expect(String(down.extensions.reason)).toMatch(/answered 503/);
    expect(down.retryAfterMs).toBeUndefined();
  });
});
