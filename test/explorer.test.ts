import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { EXPLORER_ASSETS_DIR, EXPLORER_CSP, explorerFor } from '../gateway/explorer.js';
import { createGateway } from '../gateway/gateway.js';
import { launchBrowser, openPage } from './support/browser.js';
import { CONTRACT_DIR, contractOperation, contractOperations } from './support/contract.js';
import { pollUntil } from './support/poll.js';
import { AGENT, startTestStack, store, type TestStack } from './support/stack.js';

/*
 * The explorer at GET /graphql (gateway/explorer.ts, web/explorer): GraphiQL from the gateway's own origin, with the
 * client contract's operations and a field for a bearer token. It needs `npm run build` (the bundle in dist/web/).
 */

const SUPERGRAPH = process.env.SUPERGRAPH_PATH ?? 'supergraph.graphql';
/** What Chromium sends when it navigates to a page. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('the explorer at GET /graphql', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const origin = () => new URL(stack.urls.gateway).origin;

  describe('over HTTP', () => {
    it('a browser asking for HTML gets the page, its CSP and the contract embedded', async () => {
      const response = await fetch(stack.urls.gateway, { headers: { accept: BROWSER_ACCEPT } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toBe(EXPLORER_CSP);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toMatch(/https?:|\*/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const html = await response.text();
      expect(html).toContain('<div id="root"></div>');
      expect(html).toContain('<link rel="stylesheet" href="/explorer/main.css">');
      expect(html).toContain('<script type="module" src="/explorer/main.js"></script>');
      // Nothing the page names is off its own origin.
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
      const embedded = /<script type="application\/json" id="explorer-contract">(.*?)<\/script>/s.exec(html)?.[1];
      const { operations } = JSON.parse(embedded ?? '{}') as { operations: { name: string; kind: string; document: string; variables?: string }[] };
      expect(operations.map((o) => o.name)).toEqual(contractOperations().map((o) => o.name));
      const lookup = operations.find((o) => o.name === 'CustomerLookup');
      expect(lookup?.kind).toBe('query');
      expect(JSON.parse(lookup?.variables ?? 'null')).toEqual({ query: '' });
      expect(JSON.parse(operations.find((o) => o.name === 'ProductListing')?.variables ?? 'null')).toEqual({ query: null, category: null, first: 20, after: null });
      expect(operations.find((o) => o.name === 'PickupStores')?.variables).toBeUndefined();
    });

    it('every other GET and POST is GraphQL over HTTP as before', async () => {
      // A GET with an operation in it, even from a browser, is a query.
      const query = await fetch(`${stack.urls.gateway}?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: BROWSER_ACCEPT } });
      expect(query.status).toBe(200);
      expect(query.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await query.json()).toEqual({ data: { __typename: 'Query' } });
      // A GraphQL client's GET without one is refused as before, in JSON, not given the page.
      const empty = await fetch(stack.urls.gateway, { headers: { accept: 'application/graphql-response+json, application/json' } });
      expect(empty.headers.get('content-type')).toMatch(/^application\/json/);
      expect(empty.headers.get('content-security-policy')).toBeNull();
      expect(((await empty.json()) as { errors?: unknown[] }).errors?.length).toBeGreaterThan(0);
      const posted = await stack.query('{ __typename }');
      expect(posted.body).toEqual({ data: { __typename: 'Query' } });
    });

    it('serves the bundle with its content types, revalidation by ETag and gzip', async () => {
      for (const [path, type] of [
        ['/explorer/main.js', 'text/javascript; charset=utf-8'],
        ['/explorer/main.css', 'text/css; charset=utf-8'],
      ] as const) {
        const plain = await fetch(`${origin()}${path}`, { headers: { 'accept-encoding': 'identity' } });
        expect(plain.status, path).toBe(200);
        expect(plain.headers.get('content-type'), path).toBe(type);
        expect(plain.headers.get('cache-control'), path).toBe('no-cache');
        expect(plain.headers.get('x-content-type-options'), path).toBe('nosniff');
        expect(plain.headers.get('content-encoding'), path).toBeNull();
        const body = await plain.text();
        expect(body.length, path).toBeGreaterThan(10_000);
        const etag = plain.headers.get('etag') ?? '';
        expect(etag, path).toMatch(/^"[\w-]+"$/);
        const again = await fetch(`${origin()}${path}`, { headers: { 'accept-encoding': 'identity', 'if-none-match': etag } });
        expect(again.status, path).toBe(304);
        // fetch undoes the gzip: the same text, in fewer bytes on the wire (the CSS is mostly base64 fonts: less so).
        const gzipped = await fetch(`${origin()}${path}`, { headers: { 'accept-encoding': 'gzip' } });
        expect(gzipped.headers.get('content-encoding'), path).toBe('gzip');
        expect(gzipped.headers.get('etag'), path).not.toBe(etag);
        expect(Number(gzipped.headers.get('content-length')), path).toBeLessThan(Buffer.byteLength(body) * (path.endsWith('.js') ? 0.4 : 0.8));
        expect(await gzipped.text(), path).toBe(body);
      }
    });
  });

  describe('in Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
    });

    /** The text of the CodeMirror editor under `selector` (GraphiQL's editors are CodeMirror 5). */
    const editorValue = (page: Page, selector: string) => page.$eval(selector, (el) => (el as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());
    const setEditorValue = (page: Page, selector: string, value: string) =>
      page.$eval(selector, (el, text) => (el as unknown as { CodeMirror: { setValue(v: string): void } }).CodeMirror.setValue(text), value);
    const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
    const VARIABLES_EDITOR = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';
    const RESPONSE = '.result-window .CodeMirror';

    /** Run what the editors hold with the run button; the response pane's JSON. */
    const run = async (page: Page): Promise<{ data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] }> => {
      const before = await editorValue(page, RESPONSE);
      await page.getByRole('button', { name: /Execute query/ }).click();
      await page.waitForFunction(
        ([selector, previous]) => {
          const value = (document.querySelector(selector as string) as unknown as { CodeMirror: { getValue(): string } } | null)?.CodeMirror.getValue() ?? '';
          return value !== '' && value !== previous;
        },
        [RESPONSE, before] as const,
      );
      return JSON.parse(await editorValue(page, RESPONSE)) as never;
    };

    it('loads from loopback only, lists the contract, and runs a contract query as the token pasted', async () => {
      const { page, requests, problems, close } = await openPage(browser);
      try {
        await page.goto(stack.urls.gateway, { waitUntil: 'load' });
        // The contract panel is open from the start, with every operation of the contract.
        const buttons = page.locator('button.explorer-operation');
        await buttons.first().waitFor();
        expect(await buttons.evaluateAll((els) => els.map((el) => el.getAttribute('data-operation')))).toEqual(contractOperations().map((o) => o.name));

        const customer = stack.sandbox.data.customers[0]!;
        await page.locator('button.explorer-operation[data-operation="CustomerLookup"]').click();
        expect(await editorValue(page, QUERY_EDITOR)).toContain('query CustomerLookup($query: String!)');
        expect(JSON.parse(await editorValue(page, VARIABLES_EDITOR))).toEqual({ query: '' });
        await setEditorValue(page, VARIABLES_EDITOR, JSON.stringify({ query: customer.email }));

        // Without a token the caller is anonymous, whom the contract does not let search customers.
        const anonymous = await run(page);
        expect(anonymous.errors?.map((e) => e.extensions?.code)).toContain('UNAUTHENTICATED');

        await page.locator('#explorer-token').fill(await stack.token(AGENT));
        const signedIn = await run(page);
        expect(signedIn.errors).toBeUndefined();
        const found = (signedIn.data?.searchCustomers ?? []) as { email: string }[];
        expect(found.map((c) => c.email)).toContain(customer.email);
        // The token is kept for the tab's session, and sent as Authorization on every request.
        expect(await page.evaluate(() => sessionStorage.getItem('explorer.token'))).toBe(await stack.token(AGENT));

        // GraphiQL had the schema by introspection through the same edge: its docs show the root types.
        await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
        await page.locator('.graphiql-doc-explorer-content a', { hasText: /^Query$/ }).first().waitFor();

        // Same-origin only, and the page followed its own CSP: no violation, no uncaught error.
        requests.assertLoopbackOnly();
        expect(requests.urls.some((url) => url.endsWith('/explorer/main.js'))).toBe(true);
        expect(requests.urls.some((url) => url.endsWith('/explorer/main.css'))).toBe(true);
        expect(requests.urls.every((url) => url.startsWith(origin()) || url.startsWith(origin().replace(/^http/, 'ws')) || /^(data|blob|about):/.test(url))).toBe(true);
        expect(problems).toEqual([]);
      } finally {
        await close();
      }
    });

    it('runs a contract subscription over the same origin\'s WebSocket, signed in with the token', async () => {
      const { page, requests, problems, close } = await openPage(browser);
      try {
        const location = stack.sandbox.data.stores[0]!;
        const sku = stack.sandbox.data.variants[30]!.sku;
        await page.goto(stack.urls.gateway, { waitUntil: 'load' });
        await page.locator('#explorer-token').fill(await stack.token(store(location.id)));
        await page.locator('button.explorer-operation[data-operation="StoreInventory"]').click();
        await setEditorValue(page, VARIABLES_EDITOR, JSON.stringify({ locationId: location.id, skus: [sku] }));
        const started = stack.logs.filter((l) => l.msg === 'graphql subscription started').length;
        await page.getByRole('button', { name: /Execute query/ }).click();
        // Listening: the gateway has the subscriber, and the subgraph's source stream is open.
        await pollUntil(async () => stack.gateway.subscriptionStats().subscribers, (n) => n >= 1, 'the explorer to subscribe');
        await pollUntil(async () => stack.logs.filter((l) => l.msg === 'graphql subscription started').length, (n) => n > started, 'the subgraph subscription');
        const { body } = await stack.queryAs(store(location.id), contractOperation('AdjustStock'), { input: { idempotencyKey: `explorer-${Date.now()}`, locationId: location.id, sku, reason: 'RECEIPT', delta: 2 } });
        expect(body.errors).toBeUndefined();
        await page.waitForFunction((selector) => /inventoryChanged/.test((document.querySelector(selector) as unknown as { CodeMirror: { getValue(): string } } | null)?.CodeMirror.getValue() ?? ''), RESPONSE);
        const event = JSON.parse(await editorValue(page, RESPONSE)) as { data?: { inventoryChanged?: { sku: string; delta: number } }; errors?: unknown };
        expect(event.errors).toBeUndefined();
        expect(event.data?.inventoryChanged).toMatchObject({ sku, delta: 2 });
        await page.getByRole('button', { name: /Stop query/ }).click();
        expect(requests.urls).toContain(`${origin().replace(/^http/, 'ws')}/graphql`);
        requests.assertLoopbackOnly();
        expect(problems).toEqual([]);
      } finally {
        await close();
      }
    });
  });

  it('is not served in production (introspection is off there): a browser GET is plain GraphQL over HTTP', async () => {
    expect(explorerFor({ production: true, contractDir: CONTRACT_DIR })).toBeUndefined();
    expect(explorerFor({ production: false, contractDir: CONTRACT_DIR })).toEqual({ contractDir: CONTRACT_DIR, assetsDir: EXPLORER_ASSETS_DIR });
    const config = loadConfig({ RATE_LIMIT_RPS: '100000', RATE_LIMIT_BURST: '100000' });
    // Even handed the explorer's options, a production gateway leaves it out.
    const prod = await createGateway({
      supergraphSdl: await readFile(SUPERGRAPH, 'utf8'),
      subgraphUrls: stack.urls.subgraphs,
      production: true,
      explorer: { contractDir: config.contractDir, assetsDir: EXPLORER_ASSETS_DIR },
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const url = await prod.listen(0, '127.0.0.1');
      const page = await fetch(url, { headers: { accept: BROWSER_ACCEPT } });
      expect(page.headers.get('content-type')).toMatch(/^application\/json/);
      expect(page.headers.get('content-security-policy')).toBeNull();
      expect(await page.text()).not.toContain('<div id="root">');
      for (const path of ['/explorer/main.js', '/explorer/main.css']) expect((await fetch(new URL(path, url))).status, path).toBe(404);
    } finally {
      await prod.stop();
    }
  });
});
