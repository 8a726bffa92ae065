import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/*
 * A real browser for the tests of the pages the gateway serves (the explorer, the operations console): Debian's
 * chromium, driven by playwright-core (which downloads no browser of its own). Each test gets a fresh profile, and a
 * log of every request its pages made: these pages must work offline, so a request to anything but loopback fails
 * the test (and is aborted, so it never leaves the machine either).
 */

/** Chromium's switches for a test: headless, and none of its own traffic (updates, sync, metrics, QUIC probes). */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Chromium at `CHROMIUM_PATH` (default `/usr/bin/chromium`). Playwright gives every `browser.newContext()` a fresh,
 * temporary profile, so no state (storage, cache, cookies) passes from one test to the next.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}

export interface RequestLog {
  /** Every URL requested (documents, scripts, styles, fetches, WebSockets), in order. */
  readonly urls: readonly string[];
  /** The requests that went (or tried to go) anywhere but loopback. */
  offLoopback(): string[];
  /** Throws, naming them, if any request left loopback. */
  assertLoopbackOnly(): void;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Whether a URL stays on this machine: loopback hosts, and URLs that are not fetched from a network at all. */
export function isLoopback(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (['data:', 'blob:', 'about:', 'chrome:', 'chrome-extension:', 'devtools:'].includes(parsed.protocol)) return true;
  return LOOPBACK_HOSTS.has(parsed.hostname) || /^127\.\d+\.\d+\.\d+$/.test(parsed.hostname);
}

/**
 * Record every request of `context`'s pages, and abort those that leave loopback (they still count as offenders):
 * call before the first `page.goto`.
 */
export async function recordRequests(context: BrowserContext): Promise<RequestLog> {
  const urls: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    urls.push(url);
    if (isLoopback(url)) await route.fallback();
    else await route.abort('blockedbyclient');
  });
  // Routing does not see WebSockets; every page of the context reports its own.
  const watch = (page: Page) => page.on('websocket', (socket) => urls.push(socket.url()));
  context.pages().forEach(watch);
  context.on('page', watch);
  const offLoopback = () => urls.filter((url) => !isLoopback(url));
  return {
    urls,
    offLoopback,
    assertLoopbackOnly() {
      const offenders = offLoopback();
      if (offenders.length) throw new Error(`the page made requests off loopback:\n${offenders.join('\n')}`);
    },
  };
}

export interface BrowserPage {
  context: BrowserContext;
  page: Page;
  requests: RequestLog;
  /** Uncaught exceptions, console errors and Content-Security-Policy violations, as text. */
  problems: string[];
  close(): Promise<void>;
}

/** A fresh context (its own profile) and one page in it, with its requests recorded and its problems collected. */
export async function openPage(browser: Browser): Promise<BrowserPage> {
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const requests = await recordRequests(context);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  return { context, page, requests, problems, close: () => context.close() };
}
